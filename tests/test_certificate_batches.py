"""A whole unit's certificates as one ZIP (issue 9): one job, one PDF per volunteer, the same bytes again."""
import hashlib
import io
import re
import zipfile

import pdfplumber
from sqlalchemy import func, select

from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import JobRun
from workflows.models.volunteers import Certificate, CertificateBatch

from tests.test_certificates import FORM, _signed_in
from tests.test_volunteers import A, B, C, approved_report, people, user  # noqa: F401  (people: a fixture)

URL = "/volunteers/certificates/batch"


def _certified(app, people):
    """At 单位1: 张三 3 h + 2 h, 李四 4 h, 王五 1 h (2017); 王五 also 6 h in 2016 (outside the period)."""
    reports = [approved_report(app, people, [("张三", A, 3), ("李四", B, 4), ("王五", C, 1)]),
               approved_report(app, people, [("张三", A, 2)], held_on="2017-04-10"),
               approved_report(app, people, [("王五", C, 6)], held_on="2016-11-11")]
    with app.test_request_context():
        for report in reports:
            perform(report, "certify", user("certifier.a"))
    return reports


def _wait(app):
    with app.app_context():
        app.extensions["wenming_jobs"].wait_idle()


def _ask(app, client, unit_id, **overrides):
    response = client.post(URL, data=dict(FORM, unit_id=unit_id, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    _wait(app)
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done" and status["progress"] == 100, status
    download = client.get(status["download_url"])
    assert download.status_code == 200
    return run_id, download.data


def _texts(data):
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            body = archive.read(info)
            with pdfplumber.open(io.BytesIO(body)) as document:
                out[info.filename] = (re.sub(r"\s+", "", "".join(p.extract_text() for p in document.pages)),
                                      hashlib.sha256(body).hexdigest(), info.date_time)
    return out


def test_one_job_makes_one_certificate_per_volunteer_with_service_in_the_period(app, people):
    _certified(app, people)
    client = _signed_in(app, "certifier.a")
    page = client.get(URL)
    assert page.status_code == 200 and "A区单位1" in page.get_data(as_text=True)
    run_id, data = _ask(app, client, people["city"]["a1"])
    entries = _texts(data)
    with app.app_context():
        batch = db.session.execute(select(CertificateBatch).where(CertificateBatch.job_run_id == run_id)).scalar_one()
        certificates = db.session.execute(select(Certificate).where(Certificate.batch_id == batch.id)
                                          .order_by(Certificate.number)).scalars().all()
        run = db.session.get(JobRun, run_id)
        assert run.result_name.endswith(".zip") and run.result_mimetype == "application/zip"
        by_file = {f"{c.number}.pdf": c for c in certificates}
        names = {c.number: c.volunteer.name for c in certificates}
    assert batch.count == 3 and sorted(entries) == sorted(by_file)
    # Consecutive numbers of the unit's own sequence; each entry dated the issue day.
    assert [c.number[-5:] for c in certificates] == ["00001", "00002", "00003"]
    hours = {"张三": "共计5小时", "李四": "共计4小时", "王五": "共计1小时"}
    for filename, (text, digest, stamp) in entries.items():
        certificate = by_file[filename]
        name = names[certificate.number]
        assert name in text and hours[name] in text and certificate.code in text, (filename, text)
        assert digest == certificate.sha256
        assert stamp[:3] == (certificate.issued_on.year, certificate.issued_on.month, certificate.issued_on.day)
        assert A not in text and B not in text and C not in text
        # Nobody else's name on someone's certificate.
        assert not [other for other in names.values() if other != name and other in text]
    # The 2016 activity is outside the period.
    assert "2016-11-11" not in "".join(t for t, _d, _s in entries.values())


def test_the_same_batch_renders_into_the_same_bytes(app, people, tmp_path):
    from workflows import jobs
    from workflows.volunteers.certificate_batches import build_batch
    _certified(app, people)
    client = _signed_in(app, "certifier.a")
    run_id, data = _ask(app, client, people["city"]["a1"])
    with app.test_request_context():
        run = db.session.get(JobRun, run_id)
        again = jobs.JobContext(JobRun(id=run_id + 1000, kind=run.kind, params=run.params))
        app.config["RESULT_DIR"] = str(tmp_path)
        build_batch(again, **run.params)
        second = (tmp_path / str(run_id + 1000) / "result").read_bytes()
    assert hashlib.sha256(second).hexdigest() == hashlib.sha256(data).hexdigest()


def test_only_a_certifier_of_the_unit_may_ask_and_a_bad_request_starts_nothing(app, people):
    _certified(app, people)
    unit = people["city"]["a1"]
    assert _signed_in(app, "filler.a1").get(URL).status_code == 403
    outsider = _signed_in(app, "certifier.b")
    refused = outsider.post(URL, data=dict(FORM, unit_id=unit))
    assert refused.status_code == 403 and "只能为您认证的单位" in refused.get_data(as_text=True)
    certifier = _signed_in(app, "certifier.a")
    empty = certifier.post(URL, data=dict(FORM, unit_id=unit, period_from="2015-01-01", period_to="2015-12-31"))
    assert empty.status_code == 422 and "没有经认证的志愿服务" in empty.get_data(as_text=True)
    backwards = certifier.post(URL, data=dict(FORM, unit_id=unit, period_from="2017-12-31", period_to="2017-01-01"))
    assert backwards.status_code == 422
    missing = certifier.post(URL, data=dict(FORM, unit_id=unit, officer=""))
    assert missing.status_code == 422
    # What was typed stays in the form.
    assert "周主任" in missing.get_data(as_text=True) and "0558-1234567" in missing.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Certificate)).scalar() == 0
        assert db.session.execute(select(func.count()).select_from(CertificateBatch)).scalar() == 0
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar() == 0
