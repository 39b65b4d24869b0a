"""Rosters link to people (issue 9): while a unit fills a roster, its own registered volunteers show as such.

A row whose ID number is a volunteer registered *with the filling unit*
shows the registered name and volunteer number; any other valid number is
"not registered yet" — also when the person is registered with another
unit, which the page must not reveal. The page asks as a number is typed
(``POST /volunteers/lookup``), and a saved draft or a refused submit shows
the same marks from the server.
"""
import re

import pytest

from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import Submission

from .test_volunteers import A, B, C, approved_report, people, report_answers, user, volunteer  # noqa: F401

NOT_YET = "未登记（认证时登记）"


@pytest.fixture
def registered(app, people):
    """张三 (A) is registered with unit a1 by a certification there; 李四 (B) with unit a2."""
    first = approved_report(app, people, [("张三", A, 3)])
    second = approved_report(app, people, [("李四", B, 2)], unit="a2")
    with app.test_request_context():
        perform(first, "certify", user("certifier.a"))
        perform(second, "certify", user("certifier.a"))
    with app.app_context():
        return {"a": volunteer(A).number, "b": volunteer(B).number}


def _draft(app, people, unit, roster):
    """A saved draft of ``unit``'s filler with ``roster`` rows (name, number, hours)."""
    from workflows.models import FormVersion, WorkflowVersion
    from sqlalchemy import select
    creator = people["filler"] if unit == "a1" else people["filler_a2"]
    with app.test_request_context():
        form = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                   .order_by(FormVersion.version.desc())).scalars().first()
        workflow = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.form_key == "activity_report")
                                      ).scalars().first()
        submission = Submission(definition=form, form_key=form.key, form_version=form.version,
                                form_sha256=form.sha256, unit_id=people["city"][unit], created_by_id=creator,
                                workflow=workflow, state="draft", answers=report_answers(form, roster),
                                row_version=1, title="测试")
        db.session.add(submission)
        db.session.commit()
        return submission.id


def _marks(text):
    text = re.sub(r"<template.*?</template>", "", text, flags=re.S)  # the blank row new rows are made from
    return [re.sub(r"\s+", " ", m).strip() for m in
            re.findall(r'<span class="person-mark small" data-person-mark aria-live="polite">(.*?)</span>\s*(?:<p|</td)',
                       text, re.S)]


def test_the_draft_marks_the_units_own_volunteers_and_no_one_elses(app, people, registered, client, login):
    draft = _draft(app, people, "a1", [("张三", A, 2), ("李四", B, 2), ("王五", C, 1)])
    login("filler.a1")
    text = client.get(f"/submissions/{draft}/edit").get_data(as_text=True)
    marks = _marks(text)
    assert len(marks) == 3, marks
    assert "已登记" in marks[0] and "张三" in marks[0] and registered["a"] in marks[0]
    # 李四 is registered with unit a2, not with a1: a1 learns nothing about that.
    assert NOT_YET in marks[1] and registered["b"] not in text
    assert NOT_YET in marks[2]
    assert 'data-person-lookup="/volunteers/lookup"' in text


def test_a_refused_submit_keeps_the_marks(app, people, registered, client, login):
    login("filler.a1")
    page = client.post("/forms/activity_report/new", data={
        "action": "submit", "title": "缺少日期的活动", "roster-0-name": "张三", "roster-0-id_number": A.lower(),
        "roster-0-hours": "2", "roster-1-name": "某人", "roster-1-id_number": "341201199003071230",
        "roster-1-hours": "1"})
    assert page.status_code == 422
    marks = _marks(page.get_data(as_text=True))
    assert registered["a"] in marks[0]
    assert marks[1] == ""  # a number that does not validate is neither registered nor not


def _lookup(client, unit, number):
    return client.post("/volunteers/lookup", json={"unit": unit, "number": number})


def test_the_lookup_answers_for_the_filling_unit_only(app, people, registered, client, login):
    city = people["city"]
    login("filler.a1")
    found = _lookup(client, city["a1"], A)
    assert found.status_code == 200
    assert found.get_json() == {"valid": True, "registered": True, "name": "张三", "number": registered["a"]}
    assert A not in found.get_data(as_text=True) and found.headers["Cache-Control"] == "private, no-store"
    # Registered elsewhere is "not yet" here.
    assert _lookup(client, city["a1"], B).get_json() == {"valid": True, "registered": False}
    assert _lookup(client, city["a1"], A[:17] + ("0" if A[17] != "0" else "1")).get_json() == {"valid": False}
    assert _lookup(client, city["a1"], "x" * 40).status_code == 400
    # Another unit's register is not this filler's to ask.
    assert _lookup(client, city["a2"], B).status_code == 404
    assert _lookup(client, 999999, A).status_code == 404
    assert client.post("/volunteers/lookup", data={"unit": "a1"}).status_code == 404


def test_the_lookup_needs_a_signed_in_person(app, people, registered):
    anyone = app.test_client()
    response = anyone.post("/volunteers/lookup", json={"unit": people["city"]["a1"], "number": A})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
