"""The whole unit's certificates built by a real RQ worker (burst mode), progress on the job's row."""
import pytest

from tests.test_certificate_batches import URL, _certified, _texts
from tests.test_certificates import FORM, _signed_in
from tests.test_volunteers import people  # noqa: F401  (a fixture)


@pytest.fixture
def app(rq_app):
    """Every fixture of this module (city, people) works on the app whose jobs go to Redis."""
    return rq_app


def test_a_real_worker_builds_the_zip(app, people, run_worker):
    _certified(app, people)
    client = _signed_in(app, "certifier.a")
    response = client.post(URL, data=dict(FORM, unit_id=people["city"]["a1"]))
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert client.get(f"/jobs/{run_id}.json").get_json()["state"] == "queued"
    worker = run_worker(burst=True)
    output, _ = worker.communicate(timeout=180)
    assert worker.returncode == 0, output.decode(errors="replace")
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done" and status["progress"] == 100, (status, output.decode(errors="replace"))
    assert len(_texts(client.get(status["download_url"]).data)) == 3
