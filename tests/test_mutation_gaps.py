"""Gaps that mutation testing (bin/mutation) found in the critical modules' tests.

Each test guards a behaviour of workflows/access.py, the engine, forms/answers.py,
the upload checks or workflows/personal_data.py that a mutant changed without
any other test noticing. They are named for the behaviour, not the mutant.
"""
import io
import logging
import os
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select, update
from werkzeug.exceptions import Forbidden

from forms import files as file_rules
from forms.answers import to_json, validate
from forms.definition import load_definition
from workflows.filling import uploads
from workflows.access import forget_grants, grant_paths, require_role_anywhere, require_role_at
from workflows.engine import audit
from workflows.engine.definition import load_workflow
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import AuditEvent, Role, RoleGrant, Submission, Unit, User
from workflows.filling.personal_data import hash_number, protect_number

from .test_hardening_engine import _plain_chain
from .test_workflow_engine import new_report, people  # noqa: F401 - fixture and factory shared

NUMBER = "34120119900307123X"


# --- workflows/access.py ------------------------------------------------------

def test_require_role_at_admits_the_subtree_and_refuses_elsewhere(app, city, create_user):
    uid = create_user("rev.gap", city["a"], "reviewer")
    with app.test_request_context():
        user = db.session.get(User, uid)
        # Inside the district's subtree: no answer at all (the view goes on).
        assert require_role_at(Role.REVIEWER, db.session.get(Unit, city["a1"]), user) is None
        for role, unit in ((Role.REVIEWER, city["b1"]), (Role.REVIEWER, city["city"]), (Role.ADMIN, city["a1"])):
            with pytest.raises(Forbidden):
                require_role_at(role, db.session.get(Unit, unit), user)


def test_require_role_at_without_a_user_asks_the_signed_in_one(app, city):
    # No one signed in: the anonymous visitor holds no role anywhere.
    with app.test_request_context():
        with pytest.raises(Forbidden):
            require_role_at(Role.REVIEWER, db.session.get(Unit, city["a1"]))
        with pytest.raises(Forbidden):
            require_role_anywhere(Role.REVIEWER)


def test_require_role_anywhere_needs_the_role_somewhere(app, city, create_user):
    uid = create_user("office.gap", city["b"], "office")
    with app.test_request_context():
        user = db.session.get(User, uid)
        assert require_role_anywhere(Role.OFFICE, user) is None
        with pytest.raises(Forbidden):
            require_role_anywhere(Role.ADMIN, user)


def test_a_grant_made_during_a_request_counts_after_forget_grants(app, city, create_user):
    uid = create_user("grow.gap", city["a1"], "filler")
    with app.test_request_context():
        forget_grants()  # nothing looked up yet: nothing to forget, and no error
        user = db.session.get(User, uid)
        assert grant_paths(user, Role.REVIEWER) == []
        db.session.add(RoleGrant(user_id=uid, unit_id=city["b"], role=Role.REVIEWER.value))
        db.session.commit()
        forget_grants()
        assert grant_paths(user, Role.REVIEWER) == [db.session.get(Unit, city["b"]).path]


# --- workflows/personal_data.py -------------------------------------------------

def test_hash_number_finds_the_stored_number_however_it_is_typed(app):
    with app.app_context():
        stored = protect_number(NUMBER)
        assert hash_number(" " + NUMBER.lower() + " ") == stored["hash"]
        assert hash_number("341201199003071232") != stored["hash"]
        assert NUMBER not in hash_number(NUMBER)


# --- forms/answers.py: what a transition guard reads from stored answers ------------

GUARDED_FORM = load_definition(
    "key: gform\nversion: 1\ntitle: g\nfields:\n"
    # Unanswered and first: the guard must still read the fields after it.
    "  - {name: note, type: text}\n"
    "  - {name: title, type: text}\n"
    "  - {name: held_on, type: date}\n"
    "  - {name: started, type: datetime}\n"
    "  - {name: roster, type: repeat, fields: [{name: hours, type: decimal}, {name: day, type: date}]}\n")
BIG = {"title": "清扫", "held_on": "2024-03-01", "started": "2024-03-01T09:30",
       "roster": [{"hours": "3", "day": "2024-02-01"}, {"hours": "2.5", "day": "2023-06-01"}]}
SMALL = {"title": "清扫", "held_on": "2023-03-01", "started": "2023-03-01T09:30",
         "roster": [{"hours": "1", "day": "2023-02-01"}]}


@pytest.mark.parametrize("when", [
    "count(roster) >= 2",
    "sum(roster.hours) >= 5",
    "max(roster.day) >= date('2024-01-01')",
    "held_on >= date('2024-01-01')",
    "started >= date('2024-01-01')",
    "title == '清扫' and held_on >= date('2024-01-01')",
])
def test_a_transition_guard_sees_the_stored_answers_typed(app, when):
    # The guard of a workflow step reads the answers as stored (JSON): repeat
    # rows, decimals and dates must come back as what the filler entered.
    workflow = load_workflow("key: g\nversion: 1\nform: gform\nstates: {a: {label: A}, b: {label: B}}\n"
                             f"transitions:\n  - {{action: go, from: a, to: b, by: owner, when: \"{when}\"}}\n",
                             GUARDED_FORM)
    go = workflow.find("a", "go")
    with app.app_context():
        stored = {}
        for raw in (BIG, SMALL):
            outcome = validate(GUARDED_FORM, raw, today=date(2024, 12, 31))
            assert outcome.ok, outcome.errors
            stored[id(raw)] = to_json(outcome.values)
        for answers in stored.values():
            # Answers stored without a field (hidden, or added in a later version) are read all the same.
            answers.pop("note", None)
        assert workflow.when_holds(go, GUARDED_FORM, stored[id(BIG)]) is True
        assert workflow.when_holds(go, GUARDED_FORM, stored[id(SMALL)]) is False


# --- workflows/engine/audit.py ----------------------------------------------------

def test_reseal_leaves_drafts_without_a_trail_alone(app, people):
    sealed = new_report(app, people)
    new_report(app, people, state_after="draft")  # a draft has no trail yet
    _plain_chain(app, sealed)  # as the release before AUDIT_KEY wrote it
    runner = app.test_cli_runner()
    resealed = runner.invoke(args=["audit", "reseal"])
    assert resealed.exit_code == 0 and _last_line(resealed) == "1 trails resealed under AUDIT_KEY", resealed.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_reseal_names_every_trail_it_cannot_vouch_for_and_changes_nothing(app, people):
    first, second = new_report(app, people), new_report(app, people)
    for submission_id in (first, second):
        _plain_chain(app, submission_id)
        # Rewritten after the old release sealed it: not even the plain hash matches.
        with app.app_context():
            db.session.execute(update(AuditEvent).where(AuditEvent.submission_id == submission_id)
                               .values(comment="悄悄改过"))
            db.session.commit()
    runner = app.test_cli_runner()
    resealed = runner.invoke(args=["audit", "reseal"])
    assert resealed.exit_code == 1 and _last_line(resealed) == "0 trails resealed under AUDIT_KEY", resealed.output
    for submission_id in (first, second):
        assert f"submission {submission_id}: its trail does not verify under the old hash" in resealed.output
    with app.app_context():
        # Nothing was resealed: no event carries a keyed hash.
        assert not any(audit.event_hash(event.prev_hash, event) == event.hash
                       for event in db.session.execute(select(AuditEvent)).scalars())


def test_reseal_refuses_an_old_trail_with_a_hole_or_a_lost_end(app, people):
    # Someone with SQL access deleted an event and recomputed the plain hashes:
    # the old scheme's chain then links up, but the trail is not whole.
    holed = new_report(app, people, state_after="approved")
    cut = new_report(app, people, state_after="approved")
    with app.app_context():
        for submission_id, seq in ((holed, 1), (cut, 2)):
            db.session.execute(delete(AuditEvent).where(AuditEvent.submission_id == submission_id,
                                                        AuditEvent.seq == seq))
        db.session.commit()
    for submission_id in (holed, cut):
        _plain_chain(app, submission_id)
    resealed = app.test_cli_runner().invoke(args=["audit", "reseal"])
    assert resealed.exit_code == 1 and _last_line(resealed) == "0 trails resealed under AUDIT_KEY", resealed.output
    for submission_id in (holed, cut):
        assert f"submission {submission_id}: its trail does not verify under the old hash" in resealed.output


def test_reseal_after_the_key_reports_nothing_resealed(app, people):
    keyed = new_report(app, people)  # written by this release: already under AUDIT_KEY
    again = app.test_cli_runner().invoke(args=["audit", "reseal"])
    assert again.exit_code == 1, again.output
    assert f"submission {keyed}: already keyed" in again.output
    assert _last_line(again) == "0 trails resealed under AUDIT_KEY"


def _last_line(result):
    return result.output.strip().splitlines()[-1]


# --- workflows/engine/perform.py -------------------------------------------------

def test_submitting_stamps_when_and_later_decisions_keep_it(app, people):
    sid = new_report(app, people, state_after="draft")
    with app.test_request_context():
        assert db.session.get(Submission, sid).submitted_at is None
        perform(sid, "submit", db.session.get(User, people["filler"]))
        submitted_at = db.session.get(Submission, sid).submitted_at
        assert submitted_at is not None
        perform(sid, "approve", db.session.execute(select(User).where(User.username == "reviewer.a")).scalar_one())
        assert db.session.get(Submission, sid).submitted_at == submitted_at


def test_after_a_decision_the_session_reads_afresh_on_its_next_commit(app, people):
    """perform keeps what it loaded over its own commit only; later commits see others' changes again."""
    sid = new_report(app, people)
    with app.test_request_context():
        submission = db.session.get(Submission, sid)
        perform(sid, "approve", db.session.execute(select(User).where(User.username == "reviewer.a")).scalar_one())
        with db.engine.begin() as elsewhere:
            elsewhere.execute(update(Submission).where(Submission.id == sid).values(title="另一处改过的标题"))
        db.session.commit()
        assert submission.title == "另一处改过的标题"


# --- forms/files.py ------------------------------------------------------------------

def test_the_size_limit_reads_in_whole_units():
    # What "file too big" tells the filler: exactly 1 MB is "1 MB", not "1024 KB".
    assert [file_rules.human_size(n) for n in (1024 ** 2, 3 * 1024 ** 2 // 2, 1024, 1023)] == [
        "1 MB", "1.5 MB", "1 KB", "1023 B"]
    field = SimpleNamespace(max_size=1024 ** 2, accept=None, type="file")
    with pytest.raises(file_rules.UploadRefused) as caught:
        file_rules.check(io.BytesIO(b"%PDF-" + b"0" * 1024 ** 2), "big.pdf", field)
    assert caught.value.key == "file_too_big" and caught.value.params["limit"] == "1 MB"
    # str() of a refusal is its message key (the callers look the text up by it).
    assert str(caught.value) == "file_too_big"


# --- workflows/uploads.py: the sweep of files without a row ----------------------------

def _stray(folder, name, age_hours):
    path = folder / name[:2] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left by a crash")
    then = time.time() - age_hours * 3600
    os.utime(path, (then, then))
    return path


def test_sweep_of_a_missing_upload_folder_does_nothing(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "not-there-yet")
    with app.app_context():
        assert uploads.sweep_strays(timedelta(hours=24)) == 0


def test_sweep_removes_every_old_stray_counts_them_and_says_so(app, caplog):
    folder = Path(app.config["UPLOAD_DIR"])
    strays = [_stray(folder, f"{prefix}{index:030x}.jpg", 30) for index, prefix in enumerate(("0a", "1b", "2c"))]
    fresh = _stray(folder, "3d" + "0" * 30 + ".jpg", 1)
    # Other things in the folder are none of the sweep's business, wherever they sit.
    others = [folder / "ab", folder / "notes.txt", folder / "misc" / ("0a" + "0" * 30 + ".jpg")]
    for index in range(5):
        others.append(folder / f"readme{index}.txt")
    for path in others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not an upload")
        os.utime(path, (time.time() - 100 * 3600,) * 2)
    with app.app_context(), caplog.at_level(logging.INFO, logger=app.logger.name):
        assert uploads.sweep_strays(timedelta(hours=24)) == 3
    assert not any(path.exists() for path in strays)
    assert fresh.exists() and all(path.exists() for path in others)
    assert "swept 3 upload file(s) that had no stored_file row" in caplog.messages
