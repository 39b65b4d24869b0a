"""The records-handover package (归档移交) of one district's year, against bare WeasyPrint on the same summaries.

Seeds ``seed_scale`` (12,000 reports at full scale, 240 at small scale; no
volunteers: the package reads the frozen answers, not the ledger), then gives
some of the district's archived reports real JPEG photos (the generated
reports have none): three each, stored as uploads store them, referenced
from their snapshots. The package job runs as the web process would run it
without Redis; the comparison renders the same summaries' HTML with bare
WeasyPrint, one font lookup each, no ZIP and no database.
"""
import io
import json
import random
import time
import zipfile

import pytest
from flask_babel import get_locale
from PIL import Image
from sqlalchemy import select
from weasyprint import HTML
from werkzeug.datastructures import FileStorage
from werkzeug.security import generate_password_hash

from tests.bench.conftest import scale
from workflows.demo.scale import seed_scale
from workflows.documents.archive import package, selection
from workflows.documents.archive.summary import summary_html
from workflows.extensions import db
from workflows.filling import uploads
from workflows.jobs import result_path
from workflows.models import FormVersion, JobRun, Snapshot, Submission, Unit, User

YEAR = 2017
DISTRICT = "YZ"
PHOTOS_EACH = 3


@pytest.fixture
def cheap_passwords(monkeypatch):
    """The demo's ~90 accounts hashed cheaply: this test times the package, not the seed."""
    def cheap(password):
        return generate_password_hash(password, method="pbkdf2:sha256:1000")
    monkeypatch.setattr("workflows.models.users.generate_password_hash", cheap)
    monkeypatch.setattr("workflows.demo.scale.generate_password_hash", cheap)


def _photo(rng):
    """A camera-like JPEG: a gradient with noise, 1600×1200, as a phone would send it."""
    size = (1600, 1200)
    base = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, rng.randint(20, 60))
    image = Image.merge("RGB", (base, noise, Image.blend(base, noise, 0.5)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _add_photos(district, count):
    """Three stored JPEGs on each of ``count`` archived reports of the district's year; returns the photos."""
    rng = random.Random(3)
    form = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                              .order_by(FormVersion.version.desc())).scalars().first()
    field = form.spec.field("photos")
    rows = db.session.execute(select(Submission).join(Unit, Unit.id == Submission.unit_id).where(
        Submission.form_key == "activity_report", Submission.state.in_(selection.STATES),
        Submission.period.like(f"{YEAR}-%"), Unit.in_subtree(district.path)).order_by(Submission.id)
        .limit(count)).scalars().all()
    uploader = db.session.execute(select(User).where(User.username == "city.office")).scalar_one()
    added = 0
    for submission in rows:
        refs, files = [], []
        for n in range(PHOTOS_EACH):
            stored = uploads.store(FileStorage(io.BytesIO(_photo(rng)), filename=f"活动照片{n + 1}.jpg"), field,
                                   submission.unit, uploader)
            stored.submission_id = submission.id
            refs.append(stored.reference())
            files.append({"id": stored.token, "name": stored.original_name, "sha256": stored.sha256,
                          "size": stored.size})
        snapshot = db.session.execute(select(Snapshot).where(Snapshot.submission_id == submission.id)
                                      .order_by(Snapshot.id.desc()).limit(1)).scalar_one()
        snapshot.answers = dict(snapshot.answers, photos=refs)
        snapshot.files = files
        added += len(refs)
    db.session.commit()
    return added


def test_archive_package_of_a_districts_year(app, backend, report, cheap_passwords):
    if backend != "sqlite":
        pytest.skip("rendering dominates and does not depend on the database; measured once, on SQLite")
    with app.test_request_context():
        seed_scale(size=scale(0.02, 1.0), volunteers=False)
        district = db.session.execute(select(Unit).where(Unit.code == DISTRICT)).scalar_one()
        photos = _add_photos(district, scale(5, 40))
        office = db.session.execute(select(User).where(User.username == "city.office")).scalar_one()
        lang = str(get_locale())
        paths = selection.archive_paths(office)
        filters = selection.Filters(district=district.id, year=YEAR)
        HTML(string="<p>warm-up 预热</p>").write_pdf(io.BytesIO())

        run = package.request_package(office, paths, filters, lang)
        run_id = run.id
        started = time.perf_counter()
        db.session.commit()
        app.extensions["wenming_jobs"].wait_idle()
        ours_s = time.perf_counter() - started
        db.session.expire_all()
        run = db.session.get(JobRun, run_id)
        assert run.state == "done", (run.state, run.error)
        data = result_path(run).read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        reports = manifest["count"]
        packed_photos = sum(1 for f in manifest["files"] if "/photos/" in f["path"])
        assert packed_photos == photos and not manifest["missing"]

        # Bare: WeasyPrint alone on the very same summaries' HTML (built here, untimed).
        book = package._Book(lang, run.params["upto"])
        ids = [r["id"] for r in manifest["reports"]][:scale(10 ** 6, 200)]
        htmls = []
        for start in range(0, len(ids), package.CHUNK):
            for item in book.reports(ids[start:start + package.CHUNK]):
                _, files, _ = book.files_of(item, "")
                htmls.append(summary_html(book.facts(item), item["spec"], book.answers_of(item, files), files, lang))
        started = time.perf_counter()
        for html in htmls:
            HTML(string=html).write_pdf(io.BytesIO())
        bare_s = (time.perf_counter() - started) * reports / len(htmls)
    megabytes = len(data) / 1e6
    pdf_mb = sum(f["size"] for f in manifest["files"] if f["path"].endswith(".pdf")) / 1e6
    report(f"archive package of {DISTRICT}'s {YEAR} ({reports} reports, {photos} photos)",
           ["measure", "reports", "photos", "MB", "seconds", "MB/s", "reports/s"],
           [("package job (ZIP: summaries, answers, photos, manifest)", reports, packed_photos, f"{megabytes:.1f}",
             f"{ours_s:.2f}", f"{megabytes / ours_s:.2f}", f"{reports / ours_s:.1f}"),
            (f"bare WeasyPrint, the same summaries{'' if len(htmls) == reports else ' (scaled from %d)' % len(htmls)}",
             reports, "—", f"{pdf_mb:.1f}", f"{bare_s:.2f}", f"{pdf_mb / bare_s:.2f}", f"{reports / bare_s:.1f}")])
