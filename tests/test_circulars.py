"""Circulars (通报): composed from the month's facts, checked and signed on the engine, numbered per office
and year, rendered by a worker in the GB/T 9704 page, published on /notices/."""
import hashlib
import io
import re
import threading
import xml.etree.ElementTree as ET
from datetime import date

import pdfplumber
import pytest
from sqlalchemy import func, select, update

from tests import gbt9704
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.engine.perform import ActionError, perform
from workflows.extensions import db
from workflows.models import (AuditEvent, Circular, CircularSequence, FormVersion, JobRun, Submission, Unit, User,
                              WorkflowVersion)

PERIOD = "2026-11"
YEAR = date.today().year
HOSTILE_URL = "http://127.0.0.1:9/x.png"
HOSTILE = f"<img src={HOSTILE_URL}>{{{{ 7*7 }}}}"

REPORT = {"theme": "leifeng", "title": "测试活动", "held_on": "2026-11-05", "place": "A区",
          "beneficiaries": "老人", "content": "为辖区老人打扫卫生、理发、测量血压，开展防诈骗宣传。" * 3,
          "has_media": "0", "roster": [{"name": "张三", "id_number": "341201199003071232", "hours": "3"}],
          "photos": [{"id": "t", "name": "a.jpg"}], "person_in_charge": "王", "contact_phone": "13800138000",
          "recorder": "李"}


# --- the world ------------------------------------------------------------------------------------

def user(name):
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


def add_row(city, form_key, unit, state, title, period=PERIOD, image_count=0):
    """A submission of ``form_key`` already at ``state`` (as its workflow would have left it)."""
    from forms.answers import to_json, validate
    from workflows.filling.personal_data import protect
    form = db.session.execute(select(FormVersion).where(FormVersion.key == form_key)
                              .order_by(FormVersion.version.desc())).scalars().first()
    workflow = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.form_key == form_key)
                                  .order_by(WorkflowVersion.version.desc())).scalars().first()
    answers = {}
    if form_key == "activity_report":
        outcome = validate(form.spec, dict(REPORT, title=title), today=date(2026, 12, 31))
        assert outcome.ok, outcome.errors
        answers = protect(form.spec, to_json(outcome.values))
    submission = Submission(definition=form, form_key=form.key, form_version=form.version, form_sha256=form.sha256,
                            unit_id=city[unit], created_by_id=user("filler.a1").id, workflow=workflow, state=state,
                            row_version=1, title=title, period=period, answers=answers, image_count=image_count)
    db.session.add(submission)
    db.session.flush()
    return submission.id


def make_world(app, city, create_user):
    from workflows.documents.circulars.numbering import set_prefix
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    create_user("office2", city["city"], "office")
    create_user("checker", city["city"], "reviewer")
    create_user("head", city["city"], "signer", "office")
    create_user("filler.a1", city["a1"], "filler")
    ids = {}
    with app.app_context():
        set_prefix(db.session.get(Unit, city["city"]), "阜文明办")
        ids["r1"] = add_row(city, "activity_report", "a1", "archived", "A区单位1敬老活动", image_count=3)
        ids["r2"] = add_row(city, "activity_report", "b1", "archived", "B区单位1清洁家园")
        ids["spare"] = add_row(city, "activity_report", "a2", "certified", "A区单位2读书会")
        ids["n1"] = add_row(city, "exemplar_nomination", "a1", "selected", "最美志愿者张三")
        db.session.commit()
    return ids


@pytest.fixture
def world(app, city, create_user):
    return make_world(app, city, create_user)


def compose(app, city, kind="monthly", period=PERIOD):
    from workflows.documents.circulars import composing
    with app.test_request_context():
        circular = composing.compose(db.session.get(Unit, city["city"]), kind, period, user("office2"))
        db.session.commit()
        return circular.id, circular.submission_id


def to_signing(app, sid):
    with app.test_request_context():
        perform(sid, "submit", user("office2"))
        perform(sid, "check", user("checker"))


def circular(app, cid):
    with app.app_context():
        db.session.expire_all()
        row = db.session.get(Circular, cid)
        db.session.expunge(row)
        return row


def pdf_text(data_or_path):
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    with pdfplumber.open(source) as pdf:
        return "".join(page.extract_text() or "" for page in pdf.pages).replace("\n", "").replace(" ", "")


# --- 1. each kind, rendered from its facts ---------------------------------------------------------

@pytest.mark.parametrize("kind,names", [
    ("monthly", ["A区单位1", "B区单位1", "A区单位2", "B区单位2"]),
    ("commendation", ["最美志愿者张三", "A区单位1"]),
    ("criticism", ["A区单位2", "B区单位2"]),
])
def test_each_kind_renders_in_the_official_page(app, city, create_user, tmp_path, kind, names):
    from workflows.documents.circulars import facts as facts_module, rendering
    from workflows.documents.circulars.composing import default_answers
    from workflows.documents.circulars.kinds import kind_of
    make_world(app, city, create_user)
    digests = []
    with app.test_request_context():
        facts = facts_module.gather(db.session.get(Unit, city["city"]), PERIOD)
        answers = default_answers(kind_of(kind), facts)
        for attempt in range(2):
            target = tmp_path / f"{kind}{attempt}.pdf"
            rendering.render_pdf(kind, facts, answers, "市文明办", target, doc_number="阜文明办〔2026〕12号",
                                 issued_on=date(2026, 12, 1))
            digests.append(hashlib.sha256(target.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    with pdfplumber.open(tmp_path / f"{kind}0.pdf") as pdf:
        text = gbt9704.check(pdf, answers["title"])
    assert "阜文明办〔2026〕12号" in text
    assert answers["title"] in text
    assert "2026年12月1日" in text
    for name in names:
        assert name in text, name
    if kind == "criticism":  # the units that did report are not criticised
        assert "A区单位1" not in text.split("现予以通报批评")[-1].split("被通报单位")[0]


def test_the_checks_catch_a_leading_zero():
    with pytest.raises(AssertionError):
        gbt9704.check_numbers_and_dates("阜文明办〔2026〕012号")
    with pytest.raises(AssertionError):
        gbt9704.check_numbers_and_dates("2026年01月1日")
    gbt9704.check_numbers_and_dates("阜文明办〔2026〕12号2026年12月1日")


# --- 2. the whole flow through the pages -----------------------------------------------------------

def signed_in(app, name):
    client = app.test_client()
    response = client.post("/login", data={"username": name, "password": "correct-horse-1"})
    assert response.status_code == 302
    return client


def row_version(app, sid):
    with app.app_context():
        return db.session.get(Submission, sid).row_version


def act(app, client, sid, action, comment=""):
    return client.post(f"/submissions/{sid}/actions/{action}",
                       data={"expected_version": row_version(app, sid), "comment": comment})


def state_of(app, sid):
    with app.app_context():
        return db.session.get(Submission, sid).state


def wait_for_jobs(app):
    with app.app_context():
        app.extensions["wenming_jobs"].wait_idle()


def test_compose_edit_check_sign_publishes_and_renders(app, world, city):
    clerk = signed_in(app, "office2")
    response = clerk.post("/documents/circulars/new", data={"office": city["city"], "kind": "monthly",
                                                            "period": PERIOD})
    assert response.status_code == 302, response.get_data(as_text=True)
    sid = int(re.search(r"/submissions/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        cid = db.session.execute(select(Circular.id).where(Circular.submission_id == sid)).scalar_one()
        answers = dict(db.session.get(Submission, sid).answers)
    page = clerk.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "A区文明办" in page and f"/documents/circulars/{cid}/refresh" in page  # the facts panel
    answers["opening"] = "经办人改写的开头：十一月全市志愿服务情况如下。"
    edited = clerk.post(f"/submissions/{sid}/edit", data=dict(answers, action="save",
                                                               row_version=row_version(app, sid)))
    assert edited.status_code == 302, edited.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.get(Submission, sid).answers["opening"] == answers["opening"]
    assert act(app, clerk, sid, "submit").status_code == 302
    assert act(app, clerk, sid, "check").status_code == 302  # the clerk may not check her own draft
    assert state_of(app, sid) == "checking"
    assert act(app, signed_in(app, "checker"), sid, "check").status_code == 302
    assert state_of(app, sid) == "signing"
    assert act(app, signed_in(app, "head"), sid, "sign").status_code == 302
    assert state_of(app, sid) == "signed"
    for report in ("r1", "r2"):
        assert state_of(app, world[report]) == "published"
        with app.app_context():
            assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.submission_id == world[report], AuditEvent.action == "publish")).scalar() == 1
    assert state_of(app, world["spare"]) == "certified"
    wait_for_jobs(app)
    signed = circular(app, cid)
    assert signed.doc_number == f"阜文明办〔{YEAR}〕1号" and signed.published_at is not None
    with app.app_context():
        from workflows.documents.circulars import render_jobs
        data = render_jobs.path_of(signed).read_bytes()
        run = db.session.execute(select(JobRun).where(JobRun.kind == "circular_pdf")).scalar_one()
        assert run.state == "done", run.error
    assert signed.pdf_sha256 == hashlib.sha256(data).hexdigest()
    text = pdf_text(data)
    assert signed.doc_number in text and "经办人改写的开头" in text
    public = app.test_client().get(f"/notices/{cid}.pdf")
    assert public.status_code == 200 and public.data == data


# --- 4. a covered report that has moved on ---------------------------------------------------------

def test_signing_is_refused_when_a_covered_report_is_no_longer_archived(app, world, city):
    cid, sid = compose(app, city)
    to_signing(app, sid)
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == world["r2"]).values(state="certified"))
        db.session.commit()
    head = signed_in(app, "head")
    refused = act(app, head, sid, "sign")
    assert refused.status_code == 302
    page = head.get(refused.headers["Location"]).get_data(as_text=True)
    assert f"#{world['r2']}" in page and "B区单位1清洁家园" in page
    with app.test_request_context():
        with pytest.raises(ActionError) as caught:
            perform(sid, "sign", user("head"))
        assert f"#{world['r2']}" in caught.value.message
    assert state_of(app, sid) == "signing"
    unsigned = circular(app, cid)
    assert unsigned.published_at is None and unsigned.doc_number is None and unsigned.sequence is None
    assert state_of(app, world["r1"]) == "archived"
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(CircularSequence).where(
            CircularSequence.last_value > 0)).scalar() == 0
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar() == 0
        db.session.execute(update(Submission).where(Submission.id == world["r2"]).values(state="archived"))
        db.session.commit()
    assert act(app, head, sid, "sign").status_code == 302
    assert state_of(app, sid) == "signed"
    assert circular(app, cid).doc_number == f"阜文明办〔{YEAR}〕1号"
    wait_for_jobs(app)


# --- 6. the public pages ---------------------------------------------------------------------------

class CountingFetcher:
    """Counts every URL WeasyPrint asks the app's fetcher for, and every one that is not data: or static."""

    def __init__(self, monkeypatch):
        from workflows import pdf
        self.urls = []
        original = pdf.url_fetcher_for

        def counting(app):
            fetcher = original(app)
            fetch = fetcher.fetch

            def recorded(url, *args, **kwargs):
                self.urls.append(url)
                return fetch(url, *args, **kwargs)
            fetcher.fetch = recorded
            return fetcher
        monkeypatch.setattr(pdf, "url_fetcher_for", counting)

    @property
    def outside(self):
        return [u for u in self.urls if not u.startswith("data:") and "/static/" not in u]


def test_public_pages_show_only_published_circulars_with_their_pdf(app, world, city, monkeypatch):
    fetches = CountingFetcher(monkeypatch)
    with app.app_context():
        db.session.get(Unit, city["a1"]).name = f"A区单位1{HOSTILE}"
        db.session.commit()
    cid, sid = compose(app, city)
    draft_cid, _draft_sid = compose(app, city, kind="criticism")
    checking_cid, checking_sid = compose(app, city, kind="commendation")
    with app.test_request_context():
        perform(checking_sid, "submit", user("office2"))
        submission = db.session.get(Submission, sid)
        submission.answers = dict(submission.answers, title=f"关于通报的通报{HOSTILE}",
                                  opening=f"开头{HOSTILE}结束")
        db.session.commit()
    to_signing(app, sid)
    public = app.test_client()
    with app.test_request_context():
        perform(sid, "sign", user("head"))
    # Signed, but its PDF not yet recorded: not public.
    assert public.get(f"/notices/{cid}").status_code == 404
    wait_for_jobs(app)
    assert circular(app, cid).pdf_sha256
    listing = public.get("/notices/").get_data(as_text=True)
    assert f"/notices/{cid}" in listing
    for other in (draft_cid, checking_cid, 9999):
        assert f"/notices/{other}\"" not in listing
        assert public.get(f"/notices/{other}").status_code == 404
        assert public.get(f"/notices/{other}.pdf").status_code == 404
    page = public.get(f"/notices/{cid}").get_data(as_text=True)
    assert "<img src=http" not in page and "&lt;img src=http://127.0.0.1:9/x.png&gt;" in page
    # The page shows the PDF's SHA-256, which may hold a "49" of its own.
    assert "{{ 7*7 }}" in page and "49" not in page.replace(circular(app, cid).pdf_sha256, "")
    feed = public.get("/notices/feed.atom")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.data)
    atom = "{http://www.w3.org/2005/Atom}"
    entries = root.findall(f"{atom}entry")
    assert len(entries) == 1
    assert any(f"/notices/{cid}" in (link.get("href") or "") for link in entries[0].iter(f"{atom}link"))
    text = pdf_text(public.get(f"/notices/{cid}.pdf").data)
    assert HOSTILE.replace(" ", "") in text  # the title, the opening and the unit's name, as typed
    assert text.count(HOSTILE.replace(" ", "")) >= 2
    assert fetches.urls and fetches.outside == [], fetches.urls  # the fetcher was in use, for fonts or charts
    assert HOSTILE_URL not in " ".join(fetches.urls)
    with app.app_context():
        assert HOSTILE in str(db.session.get(Circular, cid).facts)


# --- 7. refreshing the facts -----------------------------------------------------------------------

def test_refresh_takes_the_facts_again_and_says_what_changed(app, world, city):
    cid, sid = compose(app, city)
    before = circular(app, cid)
    clerk = signed_in(app, "office2")
    assert "B区单位2" not in clerk.get(f"/submissions/{sid}").get_data(as_text=True)
    with app.app_context():
        late = add_row(city, "activity_report", "b2", "archived", "B区单位2补报的活动")
        db.session.commit()
    assert circular(app, cid).facts == before.facts  # the snapshot waits for a refresh
    response = clerk.post(f"/documents/circulars/{cid}/refresh", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "B区单位2" in page and "0 → 1" in page, page
    after = circular(app, cid)
    assert after.facts != before.facts and after.facts_sha256 != before.facts_sha256
    assert late in after.facts["covered"] and late not in before.facts["covered"]
    assert after.facts["totals"]["reports"] == before.facts["totals"]["reports"] + 1
    assert row_version(app, sid) == 2  # a reviewer who read the old facts is caught
    again = clerk.post(f"/documents/circulars/{cid}/refresh", follow_redirects=True).get_data(as_text=True)
    assert "B区单位2" not in again
    assert circular(app, cid).facts_sha256 == after.facts_sha256


# --- 8. the command line ---------------------------------------------------------------------------

def test_cli_previews_a_draft_and_sets_a_prefix(app, world, city, tmp_path):
    out = tmp_path / "preview.pdf"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["circulars", "preview", "monthly", "--period", PERIOD, "--out", str(out),
                                 "--office", "CITY"])
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    assert "草稿" in text and "A区单位1" in text
    result = runner.invoke(args=["circulars", "prefix", "DA", "阜A文明办"])
    assert result.exit_code == 0, result.output
    assert "阜A文明办〔YYYY〕N号" in result.output
    with app.app_context():
        from workflows.documents.circulars.numbering import prefix_of
        assert prefix_of(db.session.get(Unit, city["a"])) == "阜A文明办"
    bad = runner.invoke(args=["circulars", "prefix", "DA", "阜〔A〕"])
    assert bad.exit_code != 0
    bad = runner.invoke(args=["circulars", "preview", "monthly", "--period", "2026-13", "--out", str(out)])
    assert bad.exit_code != 0


# --- 9. who may ------------------------------------------------------------------------------------

def test_fillers_and_other_offices_are_kept_out(app, world, city, create_user):
    cid, sid = compose(app, city)
    filler = signed_in(app, "filler.a1")
    assert filler.get("/documents/circulars/new").status_code == 403
    assert filler.post("/documents/circulars/new", data={"office": city["city"], "kind": "monthly",
                                                          "period": PERIOD}).status_code == 403
    create_user("office.b", city["b"], "office")
    other = signed_in(app, "office.b")
    assert other.get("/documents/circulars/new").status_code == 200
    assert other.post("/documents/circulars/new", data={"office": city["city"], "kind": "monthly",
                                                         "period": PERIOD}).status_code == 422
    for path in (f"/documents/circulars/{cid}/refresh", f"/documents/circulars/{cid}/preview"):
        assert other.post(path).status_code == 404, path
        assert filler.post(path).status_code == 404, path
    assert other.get(f"/documents/circulars/{cid}/pdf").status_code == 404
    assert other.get(f"/submissions/{sid}").status_code == 404
    assert other.get(f"/submissions/{sid}/edit").status_code == 404
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Circular)).scalar() == 1


# --- 3. numbers under concurrent signing -----------------------------------------------------------

SIGNINGS = 50


def test_concurrent_signings_get_consecutive_distinct_numbers(rq_app, backend, city, create_user):
    """On PostgreSQL, 50 signings at once: the counter row's lock hands out 1..50, each once.

    With rq_app the render jobs only go to a Redis queue no worker reads, so the test times the signings."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers on the whole database; the row lock is PostgreSQL's")
    app = rq_app
    make_world(app, city, create_user)
    sids = []
    from workflows.documents.circulars import composing
    with app.test_request_context():
        office, clerk, checker = db.session.get(Unit, city["city"]), user("office2"), user("checker")
        for _n in range(SIGNINGS):
            made = composing.compose(office, "criticism", PERIOD, clerk)
            db.session.commit()
            perform(made.submission_id, "submit", clerk)
            perform(made.submission_id, "check", checker)
            sids.append(made.submission_id)
    start, errors = threading.Barrier(SIGNINGS), []

    def sign(sid):
        with app.test_request_context():
            try:
                start.wait(timeout=60)
                perform(sid, "sign", user("head"))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append((sid, repr(exc)))
            finally:
                db.session.remove()
    threads = [threading.Thread(target=sign, args=(sid,)) for sid in sids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors[:3]
    with app.app_context():
        rows = db.session.execute(select(Circular.sequence, Circular.doc_number, Circular.number_year)).all()
        assert sorted(r.sequence for r in rows) == list(range(1, SIGNINGS + 1))
        assert len({r.doc_number for r in rows}) == SIGNINGS
        assert {r.number_year for r in rows} == {YEAR}
        assert db.session.execute(select(CircularSequence.last_value)).scalar_one() == SIGNINGS
        assert db.session.execute(select(func.count()).select_from(JobRun).where(
            JobRun.kind == "circular_pdf")).scalar() == SIGNINGS
        assert db.session.execute(select(func.count()).select_from(Submission).where(
            Submission.id.in_(sids), Submission.state == "signed")).scalar() == SIGNINGS


# --- 5. a worker killed while it renders ------------------------------------------------------------

def test_a_worker_killed_mid_render_is_retried_and_nothing_is_public_meanwhile(rq_app, run_worker, city,
                                                                                create_user, create_unit):
    import os
    import signal
    import time

    from workflows import jobs
    app = rq_app
    for n in range(60):  # a longer document: the render outlasts the kill
        create_unit(city["a"], name=f"A区第{n + 1}社区", code=f"DA-C{n:02d}", kind="community")
    world = make_world(app, city, create_user)
    cid, sid = compose(app, city)
    to_signing(app, sid)
    with app.test_request_context():
        perform(sid, "sign", user("head"))
    with app.app_context():
        run_id = db.session.execute(select(JobRun.id).where(JobRun.kind == "circular_pdf")).scalar_one()
    public = app.test_client()
    worker = run_worker()
    try:
        deadline, running = time.monotonic() + 120, None
        while time.monotonic() < deadline and running is None:
            with app.app_context():
                run = db.session.get(JobRun, run_id)
                if run.state == "running" and run.worker_pid:
                    running = run.worker_pid
            time.sleep(0.05)
        assert running and running != worker.pid, "the job never started"
        assert public.get(f"/notices/{cid}").status_code == 404  # still rendering: not public
        os.kill(running, signal.SIGKILL)
        # The row settles once the retry has run; a burst worker whose horse was killed lingers about a
        # minute before it exits, so the test stops it itself once the row says the work is over.
        deadline, settled = time.monotonic() + 120, None
        while time.monotonic() < deadline and settled is None:
            with app.app_context():
                run = db.session.get(JobRun, run_id)
                if run.state in ("done", "failed"):
                    settled = run.state
            time.sleep(0.1)
    finally:
        if worker.poll() is None:
            worker.kill()
        output = worker.communicate(timeout=30)[0].decode()
    with app.app_context():
        assert jobs.reap() == 0  # nothing left for the sweep: the row is settled
        run = db.session.get(JobRun, run_id)
        assert run.state in ("done", "failed"), (run.state, output)
        assert run.attempts == 2, (run.attempts, output)  # the killed attempt counted; one more ran
        signed = db.session.get(Circular, cid)
        if run.state == "done":
            from workflows.documents.circulars import render_jobs
            assert signed.pdf_sha256 == hashlib.sha256(render_jobs.path_of(signed).read_bytes()).hexdigest()
            assert public.get(f"/notices/{cid}").status_code == 200
            assert [p.name for p in render_jobs.folder().iterdir()] == [signed.pdf_name]  # no half file beside it
        else:
            assert signed.pdf_sha256 is None
            assert public.get(f"/notices/{cid}").status_code == 404
    assert state_of(app, world["r1"]) == "published"
