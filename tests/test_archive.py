"""The archive (issue 11, part 9): offices browse archived reports and take them away as one handover ZIP.

The reports are filled, submitted, approved, certified and archived through
the engine with real uploads; the package is built by the job (in-process,
and once by a real RQ worker) and read back: the manifest's checksums, the
summary PDF's text, the frozen answers, masked ID numbers and the photos'
bytes.
"""
import hashlib
import io
import json
import re
import zipfile
from datetime import date

import pdfplumber
import pytest
from PIL import Image
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage
from werkzeug.security import generate_password_hash

from forms.answers import to_json, validate
from forms.idcard import check_character
from tests.conftest import PASSWORD
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.documents.archive import selection
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.filling import uploads
from workflows.filling.personal_data import protect
from workflows.filling.submissions import pinned_workflow, summarise
from workflows.models import FormVersion, JobRun, Role, RoleGrant, StoredFile, Submission, Unit, User
from workflows.org.operations import create_unit, create_user

URL = "/documents/archive/"
PACKAGE = "/documents/archive/package"


def id_number(serial):
    first17 = f"34120119850612{serial:03d}"
    return first17 + check_character(first17)


def jpeg(shade):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 90, 140)).save(out, "JPEG", quality=85)
    return out.getvalue()


# Units (code, name, parent) and people (name, unit, roles).
UNITS = [("CITY", "市文明办", None, "office"), ("DA", "A区文明办", "CITY", "office"),
         ("DB", "B区文明办", "CITY", "office"), ("DA-1", "A区第一单位", "DA", "civilized_unit"),
         ("DA-2", "A区清河社区", "DA", "community"), ("DB-1", "B区第一单位", "DB", "civilized_unit")]
PEOPLE = [("filler.a1", "DA-1", ["filler"]), ("filler.a2", "DA-2", ["filler"]), ("filler.b1", "DB-1", ["filler"]),
          ("reviewer.a", "DA", ["reviewer"]), ("reviewer.b", "DB", ["reviewer"]),
          ("certifier.a", "DA", ["certifier"]), ("certifier.b", "DB", ["certifier"]),
          ("office.a", "DA", ["office"]), ("office.b", "DB", ["office"]), ("admin.b", "DB", ["admin"]),
          ("city.office", "CITY", ["office"])]
ARCHIVE = ["submit", "approve", "certify", "archive"]
# name: (unit, held on, theme, title, photos, roster serials, last action)
REPORTS = {
    "march": ("DA-1", "2017-03-05", "leifeng", "A1学雷锋志愿服务活动", 2, (101, 102), "publish"),
    "april": ("DA-2", "2017-04-04", "qingming", "A2清明文明祭扫活动", 1, (103,), "archive"),
    "old": ("DA-1", "2016-03-05", "leifeng", "A1往年学雷锋活动", 1, (104,), "archive"),
    "other": ("DB-1", "2017-03-05", "leifeng", "B1学雷锋志愿服务活动", 1, (105,), "archive"),
    "pending": ("DA-1", "2017-05-30", "dragon_boat", "A1端午节未归档活动", 1, (106,), "certify"),
}


class World:
    def __init__(self, app):
        self.app, self.units, self.users, self.reports, self.photos, self._clients = app, {}, {}, {}, {}, {}

    def client(self, person):
        if person not in self._clients:
            client = self.app.test_client()
            assert client.post("/login", data={"username": person, "password": PASSWORD}).status_code == 302
            self._clients[person] = client
        return self._clients[person]

    def user(self, name):
        return db.session.get(User, self.users[name])


def _file(world, unit, filler, shade, name):
    form = _form()
    stored = uploads.store(FileStorage(io.BytesIO(jpeg(shade)), filename=name), form.spec.field("photos"),
                           db.session.get(Unit, world.units[unit]), world.user(filler))
    return stored.reference()


def _form():
    return db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                              .order_by(FormVersion.version.desc())).scalars().first()


def _report(world, key):
    unit, held_on, theme, title, photos, serials, last = REPORTS[key]
    filler = {"DA-1": "filler.a1", "DA-2": "filler.a2", "DB-1": "filler.b1"}[unit]
    district = "a" if unit.startswith("DA") else "b"
    form = _form()
    refs = [_file(world, unit, filler, 50 * n + 9 * len(world.reports), f"{key}照片{n}.jpg") for n in range(photos)]
    raw = {"theme": theme, "title": title, "held_on": held_on, "place": "社区广场", "beneficiaries": "辖区老人 20 人",
           "content": "志愿者为辖区老人打扫卫生、测量血压、讲解防范电信诈骗知识，并陪老人聊天。" * 2, "has_media": "0",
           "roster": [{"name": f"志愿者{s}", "id_number": id_number(s), "hours": "2.5"} for s in serials],
           "photos": refs, "person_in_charge": "王主任", "contact_phone": "13800138000", "recorder": "李记录"}
    outcome = validate(form.spec, raw, today=date(2017, 12, 31))
    assert outcome.ok, outcome.errors
    answers = protect(form.spec, to_json(outcome.values))
    submission = Submission(definition=form, form_key=form.key, form_version=form.version, form_sha256=form.sha256,
                            unit_id=world.units[unit], created_by_id=world.users[filler],
                            workflow=pinned_workflow(form.key), state="draft", answers=answers, row_version=1)
    summarise(submission, form.spec, outcome.values)
    db.session.add(submission)
    db.session.flush()
    uploads.attach(submission, answers, form.spec)
    db.session.commit()
    actors = {"submit": filler, "approve": f"reviewer.{district}", "certify": f"certifier.{district}",
              "archive": f"office.{district}", "publish": f"office.{district}"}
    steps = ARCHIVE + ["publish"]
    for action in steps[:steps.index(last) + 1]:
        perform(submission.id, action, world.user(actors[action]))
    world.reports[key] = submission.id
    world.photos[key] = [ref["id"] for ref in refs]


def build(app, monkeypatch):
    monkeypatch.setattr("workflows.models.users.generate_password_hash",
                        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))
    world = World(app)
    with app.test_request_context():
        install_builtin_forms()
        install_builtin_workflows()
        for code, name, parent, kind in UNITS:
            parent_unit = db.session.get(Unit, world.units[parent]) if parent else None
            world.units[code] = create_unit(parent_unit, kind, code, name).id
        for name, unit, roles in PEOPLE:
            person = create_user(name, name, PASSWORD, db.session.get(Unit, world.units[unit]))
            db.session.flush()
            world.users[name] = person.id
            for role in roles:
                db.session.add(RoleGrant(user_id=person.id, unit_id=world.units[unit], role=Role(role).value))
        db.session.commit()
        for key in REPORTS:
            _report(world, key)
    return world


@pytest.fixture
def world(app, monkeypatch):
    return build(app, monkeypatch)


def listed(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return {int(i) for i in re.findall(r'href="/submissions/(\d+)"', response.get_data(as_text=True))}


def ids(world, *keys):
    return {world.reports[k] for k in keys}


# --- who sees what -----------------------------------------------------------------------------------------

def test_a_district_office_sees_its_own_archive_only(world):
    page = world.client("office.a").get(URL)
    assert listed(page) == ids(world, "march", "april", "old")
    assert "B1学雷锋" not in page.get_data(as_text=True)
    assert listed(world.client("office.b").get(URL)) == ids(world, "other")
    # An administrator of a district reads it too; the city office reads every district.
    assert listed(world.client("admin.b").get(URL)) == ids(world, "other")
    assert listed(world.client("city.office").get(URL)) == ids(world, "march", "april", "old", "other")
    # Another district's report stays out of reach, on its own page as well.
    assert world.client("office.a").get(f"/submissions/{world.reports['other']}").status_code == 404
    assert listed(world.client("office.a").get(URL, query_string={"district": world.units["DB"]})) == set()


@pytest.mark.parametrize("person", ["filler.a1", "reviewer.a", "certifier.a"])
def test_people_without_the_office_role_are_refused(world, person):
    client = world.client(person)
    assert client.get(URL).status_code == 403
    assert client.post(PACKAGE, data={"year": "2017"}).status_code == 403
    with world.app.app_context():
        assert db.session.query(JobRun).count() == 0


def test_signed_out_visitors_are_sent_to_sign_in(world):
    assert world.app.test_client().get(URL).status_code == 302


# --- filters -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    ({"year": "2017"}, ("march", "april", "other")),
    ({"year": "2016"}, ("old",)),
    ({"campaign": "qingming"}, ("april",)),
    ({"district": "DA"}, ("march", "april", "old")),
    ({"district": "DB"}, ("other",)),
    ({"unit": "清河"}, ("april",)),
    ({"unit": "db-1"}, ("other",)),
    ({"state": "published"}, ("march",)),
    ({"state": "archived"}, ("april", "old", "other")),
    ({"q": "清明"}, ("april",)),
    ({"q": "学雷锋", "year": "2017", "district": "DA"}, ("march",)),
    ({"q": "100%_"}, ()),
])
def test_each_filter_narrows_the_list(world, args, expected):
    if "district" in args:
        args = dict(args, district=world.units[args["district"]])
    page = world.client("city.office").get(URL, query_string=args)
    assert listed(page) == ids(world, *expected)
    assert f"{len(expected)} " in page.get_data(as_text=True)


def test_a_bad_filter_is_named_and_the_rest_still_applies(world):
    page = world.client("city.office").get(URL, query_string={"year": "17", "campaign": "qingming"})
    text = page.get_data(as_text=True)
    assert "年份请填写四位数字" in text
    assert listed(page) == ids(world, "april")


def test_pages_follow_by_keyset_without_gaps_or_repeats(world):
    with world.app.test_request_context():
        paths = [db.session.get(Unit, world.units["CITY"]).path]
        seen, before = [], None
        while True:
            rows, before = selection.page(paths, selection.Filters(), before=before, limit=1)
            seen += [r.id for r in rows]
            if before is None:
                break
    assert seen == sorted(ids(world, "march", "april", "old", "other"), reverse=True)


def test_the_list_never_reads_the_answers(world):
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)
    client = world.client("city.office")
    with world.app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert listed(client.get(URL, query_string={"year": "2017"}))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    reading = [s for s in statements if re.search(r"\bsubmission\.answers\b|\bsnapshot\.answers\b", s)]
    assert statements and reading == []


# --- the package -------------------------------------------------------------------------------------------

def _package(world, person, data):
    client = world.client(person)
    response = client.post(PACKAGE, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    world.app.extensions["wenming_jobs"].wait_idle()
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done", status
    download = client.get(status["download_url"])
    assert download.status_code == 200
    return run_id, download.data


def _entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def test_the_package_holds_the_frozen_record_masked_with_photos_and_checksums(world):
    march, april = world.reports["march"], world.reports["april"]
    with world.app.app_context():
        # A change after archiving (a repair by hand, say) must not reach the package.
        submission = db.session.get(Submission, march)
        submission.answers = dict(submission.answers, title="归档后改过的标题", place="别处")
        db.session.commit()
        stored = {token: uploads.path_of(db.session.execute(select(StoredFile).where(
            StoredFile.token == token)).scalar_one()).read_bytes() for token in world.photos["march"]}
    run_id, data = _package(world, "office.a", {"year": "2017"})
    entries = _entries(data)
    names = [info.filename for info, _ in entries]
    assert names[-1] == "manifest.json"
    assert names[:-1] == [f"DA-1/{march}/answers.json", f"DA-1/{march}/photos/01.jpg",
                          f"DA-1/{march}/photos/02.jpg", f"DA-1/{march}/summary.pdf",
                          f"DA-2/{april}/answers.json", f"DA-2/{april}/photos/01.jpg", f"DA-2/{april}/summary.pdf"]
    by_name = {info.filename: body for info, body in entries}
    manifest = json.loads(by_name["manifest.json"])
    assert manifest["count"] == 2 and manifest["filters"] == {"year": 2017} and manifest["scope"] == ["DA"]
    assert manifest["missing"] == []
    assert [f["path"] for f in manifest["files"]] == names[:-1]
    for described in manifest["files"]:
        body = by_name[described["path"]]
        assert described["size"] == len(body) and described["sha256"] == hashlib.sha256(body).hexdigest()
    assert len({info.date_time for info, _ in entries}) == 1
    # The photos are the stored bytes.
    assert [by_name[f"DA-1/{march}/photos/0{n}.jpg"] for n in (1, 2)] == [stored[t] for t in world.photos["march"]]
    # The frozen answers, not the later change; ID numbers as their last four digits only.
    record = json.loads(by_name[f"DA-1/{march}/answers.json"])
    assert record["answers"]["title"] == "A1学雷锋志愿服务活动" and record["answers"]["place"] == "社区广场"
    assert record["state"] == "published" and record["unit"]["code"] == "DA-1"
    assert [row["id_number"] for row in record["answers"]["roster"]] == \
        ["*" * 14 + id_number(101)[-4:], "*" * 14 + id_number(102)[-4:]]
    assert [p["path"] for p in record["answers"]["photos"]] == ["photos/01.jpg", "photos/02.jpg"]
    assert all("id" not in p for p in record["answers"]["photos"])  # the stored files' tokens stay inside
    # The summary opens and shows the frozen title, the unit and the masked roster.
    with pdfplumber.open(io.BytesIO(by_name[f"DA-1/{march}/summary.pdf"])) as document:
        assert 1 <= len(document.pages) <= 2
        text = "".join(page.extract_text() for page in document.pages).replace("\n", "")
    assert "A1学雷锋志愿服务活动" in text and "A区第一单位" in text and "归档后改过的标题" not in text
    assert "*" * 14 + id_number(101)[-4:] in text and "学雷锋纪念日" in text
    # No clear ID number, readable head of one, or stored envelope anywhere in the package.
    texts = [body.decode("utf-8") for name, body in by_name.items() if name.endswith(".json")] + [text]
    for serial in (101, 102, 103):
        assert not any(id_number(serial) in t or id_number(serial)[:6] + "*" in t for t in texts)
    assert not any('"enc"' in t or '"hash"' in t for t in texts)
    with world.app.app_context():
        run = db.session.get(JobRun, run_id)
        assert run.result_sha256 == hashlib.sha256(data).hexdigest() and run.result_name == "DA-archive-2017.zip"
        assert run.progress == 100


def test_the_same_filters_give_the_same_bytes(world):
    _, first = _package(world, "city.office", {"district": world.units["DA"], "year": "2017"})
    _, second = _package(world, "city.office", {"district": world.units["DA"], "year": "2017"})
    assert first == second
    manifest = json.loads(dict((i.filename, b) for i, b in _entries(first))["manifest.json"])
    assert manifest["count"] == 2 and manifest["filters"] == {"district": world.units["DA"], "year": 2017}
    assert manifest["district"] == {"code": "DA", "name": "A区文明办"} and manifest["scope"] == ["CITY"]
    _, other = _package(world, "city.office", {"year": "2017"})
    assert other != first
    assert json.loads(dict((i.filename, b) for i, b in _entries(other))["manifest.json"])["count"] == 3


def test_a_photo_changed_on_disk_is_left_out_and_named(world):
    with world.app.app_context():
        stored = db.session.execute(select(StoredFile).where(
            StoredFile.token == world.photos["april"][0])).scalar_one()
        uploads.path_of(stored).write_bytes(jpeg(250))
    _, data = _package(world, "office.a", {"campaign": "qingming"})
    by_name = {info.filename: body for info, body in _entries(data)}
    april = world.reports["april"]
    assert f"DA-2/{april}/photos/01.jpg" not in by_name
    manifest = json.loads(by_name["manifest.json"])
    assert manifest["missing"] == [{"path": f"DA-2/{april}/photos/01.jpg", "reason": "changed",
                                    "sha256": stored.sha256}]
    assert json.loads(by_name[f"DA-2/{april}/answers.json"])["answers"]["photos"][0]["missing"] == "changed"


def test_a_package_of_nothing_or_of_another_district_is_refused(world):
    client = world.client("office.a")
    nothing = client.post(PACKAGE, data={"year": "2015"})
    assert nothing.status_code == 302 and "/documents/archive/" in nothing.headers["Location"]
    assert "没有符合条件的归档报送，未开始生成" in client.get(nothing.headers["Location"]).get_data(as_text=True)
    elsewhere = client.post(PACKAGE, data={"district": world.units["DB"], "year": "2017"})
    assert elsewhere.status_code == 422
    bad = client.post(PACKAGE, data={"year": "twenty"})
    assert bad.status_code == 422
    with world.app.app_context():
        assert db.session.query(JobRun).count() == 0


def test_a_package_larger_than_the_limit_is_refused_with_the_numbers(world, monkeypatch):
    monkeypatch.setattr("workflows.documents.archive.package.MAX_REPORTS", 2)
    client = world.client("office.a")
    refused = client.post(PACKAGE, data={})
    assert refused.status_code == 302
    assert "筛选出 3 份报送" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert client.post(PACKAGE, data={"year": "2017"}).status_code == 302
    world.app.extensions["wenming_jobs"].wait_idle()
    with world.app.app_context():
        assert [run.params["filters"] for run in db.session.query(JobRun)] == [{"year": 2017}]


def test_a_report_archived_after_the_request_is_not_in_it(world):
    """The request fixes the selection: the job run again later (a retry) packs what was frozen when asked."""
    from workflows.documents.archive.package import JOB_KIND
    from workflows.jobs import enqueue, result_path
    run_id, first = _package(world, "office.a", {"year": "2017"})
    with world.app.test_request_context():
        perform(world.reports["pending"], "archive", world.user("office.a"))
        again = enqueue(JOB_KIND, db.session.get(JobRun, run_id).params, requested_by=world.user("office.a"))
        db.session.commit()
        again_id = again.id
    world.app.extensions["wenming_jobs"].wait_idle()
    with world.app.app_context():
        run = db.session.get(JobRun, again_id)
        assert run.state == "done", run.error
        assert result_path(run).read_bytes() == first
    _, later = _package(world, "office.a", {"year": "2017"})
    assert json.loads(dict((i.filename, b) for i, b in _entries(later))["manifest.json"])["count"] == 3


# --- a real worker -----------------------------------------------------------------------------------------

@pytest.fixture
def rq_world(rq_app, monkeypatch):
    return build(rq_app, monkeypatch)


def test_a_real_worker_builds_the_package_with_progress(rq_world, run_worker):
    client = rq_world.client("city.office")
    response = client.post(PACKAGE, data={"state": "archived"})
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert client.get(f"/jobs/{run_id}.json").get_json()["state"] == "queued"
    worker = run_worker(burst=True)
    output, _ = worker.communicate(timeout=300)
    assert worker.returncode == 0, output.decode(errors="replace")
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done" and status["progress"] == 100, (status, output.decode(errors="replace"))
    data = client.get(status["download_url"]).data
    by_name = {info.filename: body for info, body in _entries(data)}
    manifest = json.loads(by_name["manifest.json"])
    assert manifest["count"] == 3 and {r["id"] for r in manifest["reports"]} == ids(rq_world, "april", "old", "other")
    other = rq_world.reports["other"]
    with pdfplumber.open(io.BytesIO(by_name[f"DB-1/{other}/summary.pdf"])) as document:
        assert "B1学雷锋志愿服务活动" in document.pages[0].extract_text().replace("\n", "")
