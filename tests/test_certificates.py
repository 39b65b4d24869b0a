"""Certificates of volunteer service (issue 9): the PDF, its QR code, the same bytes again, the public check."""
import hashlib
import io
import re

import pdfplumber
import pytest
import segno
from pypdf import PdfReader
from sqlalchemy import func, select

from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import JobRun, ServiceRecord, Volunteer
from workflows.models.volunteers import Certificate
from workflows.volunteers import corrections

from tests.test_volunteers import A, B, approved_report, people, user  # noqa: F401  (people: a fixture)

FORM = {"period_from": "2017-01-01", "period_to": "2017-12-31", "person_in_charge": "周主任",
        "officer": "吴经办", "contact": "0558-1234567", "remarks": "仅用于评优"}


@pytest.fixture
def certified(app, people):
    """张三 certified for 3 hours (2017-03-05) and 2 hours (2017-04-10); 李四 for 4 hours."""
    first = approved_report(app, people, [("张三", A, 3), ("李四", B, 4)])
    second = approved_report(app, people, [("张三", A, 2)], held_on="2017-04-10")
    with app.test_request_context():
        for report in (first, second):
            perform(report, "certify", user("certifier.a"))
    with app.app_context():
        volunteer = db.session.execute(select(Volunteer).where(Volunteer.name == "张三")).scalar_one()
        return {"number": volunteer.number, "id": volunteer.id, "reports": (first, second)}


def _signed_in(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "correct-horse-1"}).status_code == 302
    return client


def _issue(app, client, number, **overrides):
    response = client.post(f"/volunteers/{number}/certificates", data=dict(FORM, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    with app.app_context():
        app.extensions["wenming_jobs"].wait_idle()
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done", status
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    with app.app_context():
        certificate = db.session.execute(select(Certificate).where(Certificate.job_run_id == run_id)).scalar_one()
        return download.data, {"id": certificate.id, "code": certificate.code, "number": certificate.number,
                               "sha256": certificate.sha256, "lang": db.session.get(JobRun, run_id).params["lang"]}


def _qr_modules(image, size, border=4):
    """The dark/light modules of a QR symbol drawn ``size`` modules wide plus ``border`` on each side."""
    image = image.convert("L")
    scale = image.width / (size + 2 * border)
    return [[image.getpixel((int((c + border + 0.5) * scale), int((r + border + 0.5) * scale))) < 128
             for c in range(size)] for r in range(size)]


def test_the_certificate_carries_what_the_measures_require_and_no_id_number(app, certified):
    client = _signed_in(app, "certifier.a")
    data, cert = _issue(app, client, certified["number"])
    assert hashlib.sha256(data).hexdigest() == cert["sha256"]
    with pdfplumber.open(io.BytesIO(data)) as document:
        text = "".join(page.extract_text() for page in document.pages)
    flat = re.sub(r"\s+", "", text)
    for expected in ("志愿服务记录证明", "张三", "居民身份证", "*" * 14 + A[-4:], certified["number"],
                     "2017年1月1日至2017年12月31日", "共计5小时", "学雷锋志愿服务活动", "2017-03-05", "2017-04-10",
                     "A区单位1", "出具单位", "周主任", "吴经办", "0558-1234567", "仅用于评优", cert["number"],
                     cert["code"], "出具日期"):
        assert expected in flat, expected
    assert re.fullmatch(r"DA-1-\d{4}-00001", cert["number"])
    # No raw ID number, nor its readable head, anywhere in the text or the file; nobody else's records.
    assert A not in flat and A[:6] not in flat and A.encode() not in data
    assert "李四" not in flat
    # The QR code is the check page's address.
    url = f"http://localhost/verify/{cert['code']}"
    assert url in flat
    images = [image for page in PdfReader(io.BytesIO(data)).pages for image in page.images]
    assert len(images) == 1
    expected = segno.make(url, error="m", micro=False)
    want = [[bool(bit) for bit in row] for row in expected.matrix]
    assert _qr_modules(images[0].image, len(want)) == want
    other = segno.make(url + "x", error="m", micro=False)
    assert _qr_modules(images[0].image, len(want)) != [[bool(b) for b in row] for row in other.matrix]


def test_rendering_again_gives_the_same_bytes(app, certified, tmp_path):
    from workflows import pdf
    from workflows.volunteers.certificates import certificate_html
    client = _signed_in(app, "certifier.a")
    data, cert = _issue(app, client, certified["number"])
    digests = []
    with app.test_request_context():
        certificate = db.session.get(Certificate, cert["id"])
        for attempt in range(2):
            target = tmp_path / f"c{attempt}.pdf"
            pdf.render_pdf(certificate_html(certificate, f"http://localhost/verify/{cert['code']}", cert["lang"]),
                           target)
            digests.append(hashlib.sha256(target.read_bytes()).hexdigest())
    assert digests[0] == digests[1] == cert["sha256"] == hashlib.sha256(data).hexdigest()
    # A second certificate of the same unit and year gets the next number and its own code.
    _, second = _issue(app, client, certified["number"])
    assert second["number"].endswith("-00002") and second["code"] != cert["code"]


def test_the_public_check_shows_the_masked_name_until_a_record_is_corrected(app, people, certified):
    _, cert = _issue(app, _signed_in(app, "certifier.a"), certified["number"])
    anyone = app.test_client()
    page = anyone.get(f"/verify/{cert['code']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "张*" in text and "张三" not in text and A[-4:] not in text
    assert "有效" in text and "失效" not in text
    assert "5" in text and "A区单位1" in text and "2017-01-01" in text and cert["number"] in text
    with app.test_request_context():
        key = db.session.execute(select(ServiceRecord.record_key).where(
            ServiceRecord.volunteer_id == certified["id"], ServiceRecord.is_current.is_(True))
            .order_by(ServiceRecord.held_on)).scalars().first()
        corrections.request_correction(key, user("filler.a1"), people["city"]["a1"], "实际 2 小时", hours="2")
    assert "有效" in anyone.get(f"/verify/{cert['code']}").get_data(as_text=True)  # only asked, nothing changed
    with app.test_request_context():
        corrections.amend(key, user("certifier.a"), "2", "核实为 2 小时")
    text = anyone.get(f"/verify/{cert['code']}").get_data(as_text=True)
    assert "已被更正，失效" in text


def test_an_unknown_or_malformed_code_is_not_found(app, certified):
    anyone = app.test_client()
    for code in ("A" * 24, "short", "bad%20code%3Cscript%3E", "x" * 80):
        response = anyone.get(f"/verify/{code}")
        assert response.status_code == 404, code
        assert "有效" not in response.get_data(as_text=True)


def test_the_public_check_is_rate_limited_per_address(app, certified):
    _, cert = _issue(app, _signed_in(app, "certifier.a"), certified["number"])
    app.config["VERIFY_MAX_PER_MINUTE"] = 3
    anyone = app.test_client()
    assert [anyone.get(f"/verify/{cert['code']}").status_code for _ in range(3)] == [200, 200, 200]
    refused = anyone.get(f"/verify/{cert['code']}")
    assert refused.status_code == 429
    assert "请稍后" in refused.get_data(as_text=True)
    assert anyone.get("/verify/" + "B" * 24).status_code == 429  # guessing counts too
    other = anyone.get(f"/verify/{cert['code']}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_only_a_certifier_of_the_volunteers_unit_may_ask_and_a_bad_request_starts_nothing(app, certified):
    outsider = _signed_in(app, "certifier.b")
    assert outsider.post(f"/volunteers/{certified['number']}/certificates", data=FORM).status_code == 403
    filler = _signed_in(app, "filler.a1")
    assert filler.post(f"/volunteers/{certified['number']}/certificates", data=FORM).status_code == 403
    certifier = _signed_in(app, "certifier.a")
    assert certifier.post("/volunteers/FY99999999/certificates", data=FORM).status_code == 404
    empty = certifier.post(f"/volunteers/{certified['number']}/certificates",
                           data=dict(FORM, period_from="2016-01-01", period_to="2016-12-31"))
    assert empty.status_code == 422 and "没有经认证的志愿服务" in empty.get_data(as_text=True)
    backwards = certifier.post(f"/volunteers/{certified['number']}/certificates",
                               data=dict(FORM, period_from="2017-12-31", period_to="2017-01-01"))
    assert backwards.status_code == 422
    missing = certifier.post(f"/volunteers/{certified['number']}/certificates", data=dict(FORM, officer=""))
    assert missing.status_code == 422
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Certificate)).scalar() == 0
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar() == 0
