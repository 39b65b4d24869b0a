"""A real gunicorn, started as bin/serve starts it, for the tests and the serving benchmark.

``serving(env, log_path)`` runs ``python -m gunicorn -c deploy/gunicorn.conf.py
wsgi:app`` (bin/serve without the .venv lookup, so it runs under the
interpreter running the tests) on a free loopback port, with the app's
settings in ``env`` on top of the tests' environment, waits until it answers
and yields its base URL. At the end it sends SIGTERM (gunicorn's graceful
stop), waits, and kills the process group if anything of it is left.
"""
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 40  # above the config's graceful_timeout (30 s)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_environment(app):
    """What a gunicorn serving ``app``'s database needs to be the same app: its database, folders and keys."""
    config = app.config
    return {
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": config["SECRET_KEY"],
        "DATA_KEY": config["DATA_KEY"],
        "AUDIT_KEY": config["AUDIT_KEY"],
        "UPLOAD_DIR": config["UPLOAD_DIR"],
        "RESULT_DIR": config["RESULT_DIR"],
    }


def start(env, log_path, port=None):
    """Start gunicorn; returns (Popen, base URL). The caller must ``stop`` it."""
    port = port or free_port()
    full_env = dict(os.environ)
    full_env.pop("REDIS_URL", None)
    full_env.update({"WENMING_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)})
    full_env.update(env)
    log = open(log_path, "ab")
    try:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "wsgi:app"],
                                   cwd=str(ROOT), env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()  # the child has its own copy
    return process, f"http://127.0.0.1:{port}"


def wait_until_answering(process, base_url, log_path, timeout=START_TIMEOUT_S):
    host, port = base_url.removeprefix("http://").split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log_path)}")
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            connection.request("GET", "/login")
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{tail(log_path)}")


def stop(process):
    """Graceful stop; then nothing of the process group may be left."""
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # Workers outliving their master (they should not) go with it.
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def serving(env, log_path):
    process, base_url = start(env, log_path)
    try:
        wait_until_answering(process, base_url, log_path)
        yield base_url
    finally:
        stop(process)


def tail(log_path, lines=40):
    try:
        return "\n".join(Path(log_path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
