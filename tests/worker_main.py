"""Starts a real RQ worker for the tests, with the test-only job kinds registered."""
import sys

from tests import job_kinds  # noqa: F401 - registers the kinds the tests enqueue
from workflows import create_app
from workflows.worker import run_worker

if __name__ == "__main__":
    run_worker(create_app(), burst="--burst" in sys.argv)
