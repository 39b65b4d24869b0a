"""Hardening of the review engine (issue 7): bulk titles, ID-number masks, concurrent idempotency keys,
a keyed audit chain that also vouches for each submission's state, and quorum votes that never reject on a yes.
"""
import hashlib
import json
import os
import re
import stat
import threading

import pytest
from sqlalchemy import select, update

from forms.definition import DefinitionError
from forms.idcard import check_character
from workflows.api import issue_token
from workflows.config import load_config
from workflows.engine import audit
from workflows.engine.definition import load_workflow
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import AuditEvent, FormVersion, Submission, WorkflowVersion

from .test_workflow_engine import FORM, WF_HEAD, new_report, people, user  # noqa: F401 - fixtures and factories shared

FETCH = {"X-Requested-With": "fetch"}


def bearer(plain, **extra):
    return {"Authorization": f"Bearer {plain}", **extra}


def token_for(app, username):
    with app.app_context():
        _token, plain = issue_token(user(username), "script")
        db.session.commit()
        return plain


def set_title(app, submission_id, title):
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == submission_id).values(title=title))
        db.session.commit()


def bulk_rows(html):
    """The result table of /review/bulk as {id: (title, text)}."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[int(cells[0])] = (cells[1], " ".join(cells[2].split()))
    return rows


# --- finding 2: bulk shows no title of an item one may not act on -------------------------------------

def test_bulk_answers_items_one_may_not_act_on_as_missing_without_their_title(app, people, client, login,
                                                                                create_user):
    city = people["city"]
    create_user("filler.b1", city["b1"], "filler")
    create_user("reviewer2.a", city["a"], "reviewer")
    mine = new_report(app, people)
    draft = new_report(app, people, state_after="draft")
    other = new_report(app, people)
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == other).values(unit_id=city["b1"]))
        db.session.commit()
    taken = new_report(app, people)
    for sid, title in ((mine, "甲单位的报送"), (draft, "甲单位的草稿"), (other, "乙区的报送"), (taken, "已被他人处理")):
        set_title(app, sid, title)
    with app.test_request_context():
        perform(taken, "approve", user("reviewer2.a"))
    missing = 999999

    login("filler.b1")
    html = client.post("/review/bulk", data={"ids": [mine, draft, other, taken, missing]}).get_data(as_text=True)
    for title in ("甲单位的报送", "甲单位的草稿", "乙区的报送", "已被他人处理"):
        assert title not in html
    rows = bulk_rows(html)
    assert {rows[i] for i in (mine, draft, other, taken, missing)} == {("", "✗ 没有这份填报。")}
    client.post("/logout")

    login("reviewer.a")
    html = client.post("/review/bulk", data={"ids": [mine, draft, other, taken, missing], f"v{taken}": 2}) \
        .get_data(as_text=True)
    rows = bulk_rows(html)
    assert rows[mine][0] == "甲单位的报送" and rows[mine][1].startswith("✓")
    assert rows[draft] == rows[other] == rows[missing] == ("", "✗ 没有这份填报。")
    assert "甲单位的草稿" not in html and "乙区的报送" not in html
    # Someone else decided first: the reviewer may act on it, so is told who, with its title.
    assert rows[taken][0] == "已被他人处理" and "Reviewer2.A" in rows[taken][1]


# --- finding 6: ID numbers show only their last four digits and the birth year -------------------------

def id_number(serial=123):
    base = f"34120119900307{serial:03d}"
    return base + check_character(base)


REGISTRATION = {"name": "张三", "sex": "male", "id_number": id_number(), "phone": "13800138000",
                "data_consent": True}


def test_a_reviewer_sees_last_four_digits_and_birth_year_only(app, people, client, create_user):
    city = people["city"]
    create_user("certifier.a1", city["a"], "certifier")
    number = id_number()
    filler = token_for(app, "filler.a1")
    created = client.post("/api/v1/submissions", headers=bearer(filler),
                          json={"form": "volunteer_registration", "unit": city["a1"], "answers": REGISTRATION})
    assert created.status_code == 201, created.get_json()
    sid = created.get_json()["id"]
    # The submitting unit keeps what it typed in view.
    assert created.get_json()["answers"]["birth"] == "1990-03-07"
    assert client.post(f"/api/v1/submissions/{sid}/submit", headers=bearer(filler)).status_code == 200

    secret = [number[:4], number[4:8], number[6:14], "1990-03-07", "03-07", "0307"]
    for name in ("reviewer.a", "certifier.a1", "office"):
        answers = client.get(f"/api/v1/submissions/{sid}", headers=bearer(token_for(app, name))).get_json()["answers"]
        assert answers["id_number"] == "*" * 14 + number[-4:]
        assert answers["birth"] == "1990"
        text = json.dumps(answers, ensure_ascii=False)
        assert not [s for s in secret if s in text], (name, text)

    page_client = app.test_client()
    page_client.post("/login", data={"username": "reviewer.a", "password": "correct-horse-1"})
    page = page_client.get(f"/submissions/{sid}").get_data(as_text=True)
    answers_html = page.split('<dl class="answers">')[1].split("</dl>")[0]
    assert "*" * 14 + number[-4:] in answers_html and "1990" in answers_html
    assert not [s for s in secret if s in page]


def test_roster_numbers_are_masked_for_the_reviewer_in_page_and_api(app, people, client, login):
    sid = new_report(app, people)
    number = "341201199003071232"
    login("reviewer.a")
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "*" * 14 + number[-4:] in page and number[:4] + "*" not in page
    answers = client.get(f"/api/v1/submissions/{sid}", headers=FETCH).get_json()["answers"]
    assert answers["roster"][0]["id_number"] == "*" * 14 + number[-4:]


# --- finding 11: concurrent duplicates of one idempotency key replay the first answer -------------------

def _five_at_once(app, sid, plain, key, version):
    barrier = threading.Barrier(5)
    answers = []

    def send():
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/submissions/{sid}/actions/approve",
                               headers=bearer(plain, **{"Idempotency-Key": key}),
                               json={"expected_version": version, "comment": "同意"})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_five_identical_keyed_requests_at_once_have_one_effect_and_one_answer(app, people):
    plain = token_for(app, "reviewer.a")
    for attempt in range(10):
        sid = new_report(app, people)
        answers = _five_at_once(app, sid, plain, f"approve-{attempt}", 2)
        assert len(answers) == 5
        assert all(a == answers[0] for a in answers), answers
        assert answers[0][0] == 200 and answers[0][1]["to"] == "approved"
        with app.app_context():
            events = db.session.execute(select(AuditEvent.action).where(AuditEvent.submission_id == sid)
                                        .order_by(AuditEvent.seq)).scalars().all()
            assert events == ["submit", "approve"]
            submission = db.session.get(Submission, sid)
            assert (submission.state, submission.row_version) == ("approved", 3)


def test_a_refused_action_names_the_transitions_label(app, people, client):
    sid = new_report(app, people, state_after="approved")
    response = client.post(f"/api/v1/submissions/{sid}/actions/approve", headers=bearer(token_for(app, "reviewer.a")))
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert "审核通过" in message and "approve" not in message


# --- finding 14: a keyed audit chain, and each state vouched for by its last event --------------------

def _plain_chain(app, submission_id):
    """What an attacker with SQL access but no key does: recompute every hash with plain SHA-256."""
    with app.app_context():
        prev = audit.GENESIS
        for event in audit.history(submission_id):
            payload = {"submission": event.submission_id, "seq": event.seq, "actor": event.actor_id,
                       "action": event.action, "from": event.from_state, "to": event.to_state,
                       "comment": event.comment or "", "form_version": event.form_version,
                       "workflow_version": event.workflow_version, "at": event.at.isoformat(timespec="microseconds")}
            canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
            db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(prev_hash=prev, hash=digest))
            prev = digest
        db.session.execute(update(Submission).where(Submission.id == submission_id).values(audit_head=prev))
        db.session.commit()


def test_a_rewritten_chain_without_the_key_does_not_verify(app, people):
    untouched = new_report(app, people, state_after="certified")
    tampered = new_report(app, people, state_after="certified")
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["audit", "verify"])
    assert clean.exit_code == 0 and "every chain intact" in clean.output, clean.output
    with app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.submission_id == tampered, AuditEvent.seq == 2)
                           .values(comment="悄悄改过"))
        db.session.commit()
    _plain_chain(app, tampered)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"submission {tampered}" in result.output, result.output
    assert f"submission {untouched}" not in result.output


def test_verify_compares_each_state_with_its_last_event(app, people):
    sid = new_report(app, people, state_after="approved")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == sid).values(state="certified"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"submission {sid}" in result.output and "certified" in result.output


def test_audit_key_comes_from_the_environment_or_a_private_instance_file(tmp_path):
    generated = load_config(str(tmp_path), env={})["AUDIT_KEY"]
    path = tmp_path / "audit_key"
    assert path.read_text() == generated and len(generated) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_config(str(tmp_path), env={})["AUDIT_KEY"] == generated
    assert load_config(str(tmp_path), env={"AUDIT_KEY": "k" * 40})["AUDIT_KEY"] == "k" * 40
    from workflows.config import ConfigError
    with pytest.raises(ConfigError, match="AUDIT_KEY"):
        load_config(str(tmp_path), env={"AUDIT_KEY": "short"})


# --- finding 16: a yes vote never rejects; the failure transition can be named ------------------------

def _on_version(app, sid, source, version):
    with app.app_context():
        db.session.add(WorkflowVersion(key="exemplar_review", version=version, form_key="exemplar_nomination",
                                       sha256="x" * 64, source=source, status="published"))
        db.session.flush()
        new = db.session.execute(select(WorkflowVersion.id).where(WorkflowVersion.key == "exemplar_review",
                                                                  WorkflowVersion.version == version)).scalar()
        db.session.execute(update(Submission).where(Submission.id == sid).values(workflow_version_id=new))
        db.session.commit()


def test_a_yes_vote_that_cannot_reach_the_quorum_leaves_the_state_and_says_what_is_missing(app, people, client,
                                                                                            login):
    sid = new_report(app, people, form_key="exemplar_nomination")
    with app.test_request_context():
        perform(sid, "nominate", user("reviewer.a"))
        result = perform(sid, "select", user("office"))  # the only office account; quorum 2
        assert result.body["decided"] is False and result.body["to"] == "nominated"
        assert result.body["votes"]["missing"] == 1
        submission = db.session.get(Submission, sid)
        assert submission.state == "nominated"
        actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.submission_id == sid)
                                     .order_by(AuditEvent.seq)).scalars().all()
        assert "reject" not in actions and actions[-1] == "vote_approve"
    login("office")
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "还差 1 票" in page


def test_a_failure_transition_called_decline_loads_and_works(app, people, create_user):
    create_user("office2", people["city"]["city"], "office")
    sid = new_report(app, people, form_key="exemplar_nomination")
    with app.app_context():
        source = db.session.execute(select(WorkflowVersion.source).where(
            WorkflowVersion.key == "exemplar_review", WorkflowVersion.version == 1)).scalar_one()
    renamed = (source.replace("version: 1", "version: 92", 1)
               .replace("veto: false}", "veto: false, on_fail: decline}")
               .replace("{action: reject, label: {zh: 未入选, en: Not selected}, from: nominated",
                        "{action: decline, label: {zh: 未入选, en: Not selected}, from: nominated"))
    assert "on_fail: decline" in renamed and "action: decline" in renamed
    _on_version(app, sid, renamed, 92)
    with app.test_request_context():
        perform(sid, "nominate", user("reviewer.a"))
        # Two eligible voters, quorum 2: one vote against leaves the quorum out of reach.
        result = perform(sid, "select", user("office"), decision="reject", comment="事迹不够典型")
        assert result.body["to"] == "not_selected" and result.body["action"] == "decline"
        assert db.session.get(Submission, sid).state == "not_selected"
        broken = renamed.replace("on_fail: decline", "on_fail: refuse")
        form = db.session.execute(select(FormVersion).where(FormVersion.key == "exemplar_nomination")
                                   .order_by(FormVersion.version.desc())).scalars().first()
        with pytest.raises(DefinitionError) as caught:
            load_workflow(broken, form.spec)
        assert any(str(p).startswith("transitions[5].approval.on_fail:") and "refuse" in str(p)
                   for p in caught.value.problems), caught.value.problems


def test_trails_from_before_the_key_are_resealed_once(app, people):
    first = new_report(app, people, state_after="certified")
    second = new_report(app, people)
    for sid in (first, second):
        _plain_chain(app, sid)  # as the previous release wrote them
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1
    resealed = runner.invoke(args=["audit", "reseal"])
    assert resealed.exit_code == 0 and "2 trails resealed" in resealed.output, resealed.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    # Later, a rewritten plain trail is not blessed by a second run.
    with app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.submission_id == first, AuditEvent.seq == 2)
                           .values(comment="悄悄改过"))
        db.session.commit()
    _plain_chain(app, first)
    again = runner.invoke(args=["audit", "reseal"])
    assert again.exit_code == 1 and "already keyed" in again.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"submission {first}" in result.output


def test_an_action_without_a_label_is_named_in_the_users_language(app):
    spec = load_workflow(WF_HEAD + "states: {a: {label: A}, b: {label: B}}\n"
                "transitions:\n  - {action: approve, from: a, to: b, by: reviewer}\n", FORM)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert spec.find("a", "approve").label("zh") == "审核通过"
