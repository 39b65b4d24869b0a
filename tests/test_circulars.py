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
