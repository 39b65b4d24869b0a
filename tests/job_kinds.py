"""Job kinds only the tests use: ones that hold until killed, sleep, or fail."""
import time

from workflows.jobs import NOTHING_TO_BUILD, JobError, job_kind


@job_kind("test_hold_then_finish", retries=1, timeout=120)
def hold_then_finish(ctx, seconds):
    """The first attempt waits long enough to be killed; the retry finishes at once."""
    if ctx.run.attempts == 1:
        ctx.progress(5)
        time.sleep(seconds)


@job_kind("test_hold_once", retries=0, timeout=120)
def hold_once(ctx, seconds):
    ctx.progress(5)
    time.sleep(seconds)


@job_kind("test_fail", retries=1, timeout=30)
def always_fail(ctx):
    raise RuntimeError("this job always fails")


@job_kind("test_sleep", retries=0, timeout=60)
def sleep_then_finish(ctx, seconds):
    ctx.progress(5)
    time.sleep(seconds)


@job_kind("test_user_error", retries=0, timeout=30)
def refuse_for_the_user(ctx):
    raise JobError(NOTHING_TO_BUILD, "unit 42 has no rows")
