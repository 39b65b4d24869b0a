"""The unit directory: requested on its page, built by a real RQ worker, read back."""
import io

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests import gbt9704
from workflows.extensions import db
from workflows.models import JobRun

@pytest.fixture
def district_admin(rq_app, city, create_user, create_unit):
    # Enough units for a second page, so page numbers alternate sides.
    for n in range(40):
        create_unit(city["a"], name=f"A区第{n + 1}社区志愿服务队", code=f"DA-T{n:02d}", kind="team")
    create_user("admin.a", city["a"], "admin")
    client = rq_app.test_client()
    client.post("/login", data={"username": "admin.a", "password": "correct-horse-1"})
    return client


def _request(client, unit_id, fmt):
    response = client.post("/documents/directory/", data={"unit_id": unit_id, "fmt": fmt})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def _build(rq_app, run_worker, client, unit_id, fmt):
    run_id = _request(client, unit_id, fmt)
    assert client.get(f"/jobs/{run_id}.json").get_json()["state"] == "queued"
    output = run_worker().communicate(timeout=300)[0].decode()
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done", output + str(status)
    assert "进行中" not in client.get(f"/jobs/{run_id}").get_data(as_text=True)
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")
    return run_id, download.data


def test_directory_pdf_follows_the_official_page(rq_app, run_worker, district_admin, city):
    _, data = _build(rq_app, run_worker, district_admin, city["a"], "pdf")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 2
        first_text = pdf.pages[0].extract_text()
        assert "A区文明办单位名录" in first_text.replace("\n", "")
        assert "A区单位1" in first_text
        gbt9704.check_fonts(pdf)
        numbers = gbt9704.check_page_layout(pdf)  # A4, text in the text area, "— N —" right on odd pages, left on even
        assert 2 in numbers
        red = [c for c in pdf.pages[0].chars if gbt9704.is_red(c["non_stroking_color"])]
        assert red and abs(min(c["top"] for c in red) - (gbt9704.TOP + 35 * gbt9704.MM)) < 6 * gbt9704.MM


def test_directory_xlsx_lists_the_subtree_and_nothing_else(rq_app, run_worker, district_admin, city):
    run_id, data = _build(rq_app, run_worker, district_admin, city["a"], "xlsx")
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    codes = {row[1] for row in rows[3:]}
    with rq_app.app_context():
        from workflows.models import Unit
        a = db.session.get(Unit, city["a"])
        expected = set(db.session.execute(select(Unit.code).where(Unit.in_subtree(a.path))).scalars())
        assert db.session.get(JobRun, run_id).result_sha256
    assert codes == expected
    assert {"DB", "DB-1", "CITY"}.isdisjoint(codes)


def test_directory_is_refused_outside_the_admins_offices(rq_app, district_admin, city):
    response = district_admin.post("/documents/directory/", data={"unit_id": city["b"], "fmt": "pdf"})
    assert response.status_code == 200
    assert "只能生成您所管理的文明办的名录" in response.get_data(as_text=True)
    with rq_app.app_context():
        assert db.session.query(JobRun).count() == 0


def test_other_people_cannot_see_a_job(rq_app, district_admin, city, create_user):
    run_id = _request(district_admin, city["a"], "pdf")
    create_user("admin.b", city["b"], "admin")
    other = rq_app.test_client()
    other.post("/login", data={"username": "admin.b", "password": "correct-horse-1"})
    assert other.get(f"/jobs/{run_id}.json").status_code == 404
    assert other.get(f"/jobs/{run_id}/download").status_code == 404


def test_redis_down_when_requested_changes_nothing(rq_app, district_admin, city):
    rq_app.extensions["wenming_jobs"].redis_url = "redis://127.0.0.1:1/0"  # Redis has gone away
    response = district_admin.post("/documents/directory/", data={"unit_id": city["a"], "fmt": "pdf"},
                                   follow_redirects=True)
    assert "任务队列暂时无法连接" in response.get_data(as_text=True)
    with rq_app.app_context():
        assert db.session.query(JobRun).count() == 0


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_in_process_directory_without_redis(app, city, create_user, client, login, fmt):
    from datetime import date
    create_user("admin.a", city["a"], "admin")
    login("admin.a")
    run_id = _request(client, city["a"], fmt)
    with app.app_context():
        app.extensions["wenming_jobs"].wait_idle()
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done", status
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    # The file itself: district A's directory, its three units in tree order, nothing of district B.
    if fmt == "xlsx":
        rows = list(load_workbook(io.BytesIO(download.data), read_only=True).active.iter_rows(values_only=True))
        assert rows[0][0] == "A区文明办单位名录" and rows[1][0] == date.today().isoformat()
        assert list(rows[2]) == ["序号", "单位代码", "单位", "类别", "上级单位"]
        assert [row[:2] for row in rows[3:]] == [(1, "DA"), (2, "DA-1"), (3, "DA-2")]
        assert [row[2].strip("\u3000") for row in rows[3:]] == ["A区文明办", "A区单位1", "A区单位2"]
        assert [row[4] or "" for row in rows[3:]] == ["", "A区文明办", "A区文明办"]
    else:
        assert download.data.startswith(b"%PDF")
        with pdfplumber.open(io.BytesIO(download.data)) as pdf:
            text = "".join(page.extract_text() for page in pdf.pages).replace("\n", "")
        assert "A区文明办单位名录" in text
        assert "DA-1" in text and "A区单位1" in text and "DA-2" in text and "A区单位2" in text
        assert "B区" not in text and "DB" not in text


def test_same_input_gives_the_same_documents(app, city, tmp_path):
    """Jobs are idempotent: rebuilding a directory yields byte-identical files."""
    import hashlib
    import time
    from datetime import date

    from workflows import pdf
    from workflows.documents.directory import directory_html, directory_rows, write_xlsx
    from workflows.models import Unit
    digests = []
    with app.test_request_context():
        root = db.session.get(Unit, city["a"])
        rows = directory_rows(root)
        for attempt in range(2):
            xlsx, pdf_path = tmp_path / f"d{attempt}.xlsx", tmp_path / f"d{attempt}.pdf"
            write_xlsx(xlsx, root, rows, date(2017, 3, 5), "zh_CN")
            pdf.render_pdf(directory_html(root, rows, date(2017, 3, 5), "zh_CN"), pdf_path)
            digests.append((hashlib.sha256(xlsx.read_bytes()).hexdigest(),
                            hashlib.sha256(pdf_path.read_bytes()).hexdigest()))
            time.sleep(2.1)  # zip timestamps have a 2-second resolution
    assert digests[0] == digests[1]
    assert load_workbook(tmp_path / "d0.xlsx").active.cell(row=4, column=2).value == "DA"
