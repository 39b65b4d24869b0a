"""The monthly top ten as a ballot (issue 10), and quorum votes that never reject an approving vote."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from workflows.assessment.ballots import ballot as ballots
from workflows.assessment.ballots.confirmation import confirm
from workflows.assessment.ballots.results import result
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.engine.perform import ActionError, actions_for, perform
from workflows.extensions import db
from workflows.models import (AuditEvent, Ballot, BallotMark, FormVersion, Submission, Unit, User,
                              WorkflowVersion)
from workflows.models.units import utcnow

NOMINATION = {"kind": "collective", "month": "2017-03", "name": "A区学雷锋志愿服务队", "organisation": "A区文明办",
              "deeds": "常年开展关爱孤寡老人志愿服务。" * 20, "photos": [{"id": "t", "name": "a.jpg"}],
              "recommender": "王", "contact_phone": "13800138000"}


def user(name):
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


@pytest.fixture
def people(app, city, create_user):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    create_user("office1", city["city"], "office")
    create_user("office2", city["city"], "office")
    # On the panel (office at the city office), but an account of district A: A's nominations are their own.
    create_user("office3", city["a"], ("office", city["city"]))
    for d in ("a", "b"):
        create_user(f"reviewer.{d}", city[d], "reviewer")
        create_user(f"filler.{d}1", city[f"{d}1"], "filler")
    return city


def _workflow(version):
    return db.session.execute(select(WorkflowVersion).where(WorkflowVersion.key == "exemplar_review",
                                                            WorkflowVersion.version == version)).scalar_one()


def nominate(app, city, count, month="2017-03", units=("a1", "b1"), version=2):
    """``count`` nominations for ``month``, alternating between ``units``, each submitted and nominated."""
    from forms.answers import to_json, validate
    from workflows.filling.personal_data import protect
    ids = []
    with app.test_request_context():
        form = db.session.execute(select(FormVersion).where(FormVersion.key == "exemplar_nomination")
                                   .order_by(FormVersion.version.desc())).scalars().first()
        outcome = validate(form.spec, dict(NOMINATION, month=month), today=date(2017, 12, 31))
        assert outcome.ok, outcome.errors
        workflow = _workflow(version)
        for number in range(count):
            unit = units[number % len(units)]
            filler = user(f"filler.{unit}")
            submission = Submission(definition=form, form_key=form.key, form_version=form.version,
                                    form_sha256=form.sha256, unit_id=city[unit], created_by_id=filler.id,
                                    workflow=workflow, state="draft", row_version=1, title=f"典型{number + 1}",
                                    answers=protect(form.spec, to_json(outcome.values)))
            db.session.add(submission)
            db.session.commit()
            perform(submission.id, "submit", filler)
            perform(submission.id, "nominate", user(f"reviewer.{unit[0]}"))
            ids.append(submission.id)
    return ids


def new_ballot(app, city, rule="score_sum", picks=10, month="2017-03", **form):
    with app.test_request_context():
        seat = db.session.get(Unit, city["city"])
        created = ballots.create_ballot(user("office1"), seat, {
            "month": month, "rule": rule, "picks": str(picks), "max_score": "10",
            "deadline": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d %H:%M"), **form})
        db.session.commit()
        return created.id


def open_it(app, ballot_id):
    with app.test_request_context():
        ballots.open_ballot(db.session.get(Ballot, ballot_id), user("office1"))


def items_by_submission(app, ballot_id):
    with app.app_context():
        return {i.submission_id: i.id for i in db.session.get(Ballot, ballot_id).items}


def hand_in(app, ballot_id, who, marks):
    """``marks``: {submission id: value}."""
    items = items_by_submission(app, ballot_id)
    with app.test_request_context():
        return ballots.record_marks(db.session.get(Ballot, ballot_id), user(who),
                                    {f"item-{items[sid]}": str(v) for sid, v in marks.items()})


def states(app, ids):
    with app.app_context():
        return [db.session.get(Submission, sid).state for sid in ids]


# --- the quorum fix ----------------------------------------------------------------------------------------

def test_a_quorum_with_fewer_eligible_voters_than_it_needs_never_rejects_an_approving_vote(app, people, client,
                                                                                          login):
    """exemplar_review v1 needs 2 approving votes of the office; at district B's unit only one person may vote."""
    with app.app_context():
        # Only office1 remains eligible: the others lose the role's unit or their account.
        db.session.execute(update(User).where(User.username.in_(["office2", "office3"])).values(active=False))
        db.session.commit()
    sid, = nominate(app, people, 1, units=("b1",), version=1)
    with app.test_request_context():
        vote = perform(sid, "select", user("office1"))
        assert vote.body["decided"] is False and vote.body["to"] == "nominated"
        assert vote.body["votes"]["missing"] == 1 and vote.body["votes"]["eligible"] == 1
        assert vote.body["votes"]["unreachable"] == 1
    assert states(app, [sid]) == ["nominated"]
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.submission_id == sid)
                                     .order_by(AuditEvent.seq)).scalars().all()
    assert actions == ["submit", "nominate", "vote_approve"]
    login("office1")
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "还差 1 票赞成" in page and "此处只有 1 人有权投票" in page
    # A second approving vote by the same person is refused, and still nothing rejects.
    refused = client.post(f"/submissions/{sid}/actions/select", data={"decision": "approve"}, follow_redirects=True)
    assert "已经投过票" in refused.get_data(as_text=True) or states(app, [sid]) == ["nominated"]
    assert states(app, [sid]) == ["nominated"]


def test_new_nominations_follow_v2_where_only_the_ballot_selects(app, people):
    v1, = nominate(app, people, 1, version=1)
    with app.test_request_context():
        form = db.session.execute(select(FormVersion).where(FormVersion.key == "exemplar_nomination")
                                   .order_by(FormVersion.version.desc())).scalars().first()
        from workflows.filling.submissions import pinned_workflow
        assert pinned_workflow(form.key).version == 2
    v2, = nominate(app, people, 1, version=2)
    with app.test_request_context():
        old, new = db.session.get(Submission, v1), db.session.get(Submission, v2)
        assert [t.action for t in actions_for(user("office1"), old)] == ["select", "reject"]
        assert actions_for(user("office1"), new) == []
        with pytest.raises(ActionError) as caught:
            perform(v2, "select", user("office1"))
        assert caught.value.status == 403 and "评选" in caught.value.message
    assert states(app, [v1, v2]) == ["nominated", "nominated"]


# --- the ballot ----------------------------------------------------------------------------------------------

def test_a_panel_too_small_cannot_be_opened_and_the_page_says_why(app, people, client, login):
    nominate(app, people, 2)
    with app.app_context():
        db.session.execute(update(User).where(User.username == "office3").values(active=False))
        db.session.commit()
    ballot_id = new_ballot(app, people)
    login("office1")
    page = client.post(f"/assessment/ballots/{ballot_id}/open", data={"expected_version": 1})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "评审组只有 2 人" in text and "至少需要 3 人" in text
    with app.app_context():
        assert db.session.get(Ballot, ballot_id).status == "draft"
    with app.app_context():
        db.session.execute(update(User).where(User.username == "office3").values(active=True))
        db.session.commit()
    client.post(f"/assessment/ballots/{ballot_id}/open", data={"expected_version": 1})
    with app.app_context():
        opened = db.session.get(Ballot, ballot_id)
        assert opened.status == "open" and len(opened.members) == 3 and len(opened.items) == 2


def test_a_member_cannot_mark_a_nomination_from_their_own_unit(app, people, client, login):
    from_a, from_b = nominate(app, people, 2)
    ballot_id = new_ballot(app, people)
    open_it(app, ballot_id)
    items = items_by_submission(app, ballot_id)
    login("office3")  # an account of district A
    page = client.get(f"/assessment/ballots/{ballot_id}").get_data(as_text=True)
    assert f'name="item-{items[from_a]}" disabled' in page and "来自您本单位" in page
    assert f'name="item-{items[from_b]}" inputmode' in page
    refused = client.post(f"/assessment/ballots/{ballot_id}/marks",
                          data={f"item-{items[from_a]}": "9", f"item-{items[from_b]}": "7"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "不能为它打分" in text and 'value="7"' in text  # the typed score of the other item is kept
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(BallotMark)).scalar() == 0
    client.post(f"/assessment/ballots/{ballot_id}/marks", data={f"item-{items[from_b]}": "7"})
    with app.app_context():
        assert db.session.execute(select(BallotMark.item_id, BallotMark.score)).all() == [(items[from_b], 7)]


def test_the_ballot_closes_when_all_have_voted_and_at_its_deadline(app, people):
    first, second = nominate(app, people, 2)
    ballot_id = new_ballot(app, people)
    open_it(app, ballot_id)
    assert hand_in(app, ballot_id, "office1", {first: 8}) is False
    assert hand_in(app, ballot_id, "office2", {second: 8}) is False
    with app.app_context():
        assert db.session.get(Ballot, ballot_id).status == "open"
    assert hand_in(app, ballot_id, "office3", {second: 3}) is True
    with app.app_context():
        assert db.session.get(Ballot, ballot_id).status == "closed"
    with pytest.raises(ActionError) as late:
        hand_in(app, ballot_id, "office1", {first: 10})
    assert late.value.status == 409
    # Another month's ballot: its deadline passes, and the next read closes it.
    nominate(app, people, 1, month="2017-04")
    other = new_ballot(app, people, month="2017-04")
    open_it(app, other)
    with app.test_request_context():
        db.session.execute(update(Ballot).where(Ballot.id == other).values(deadline=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        seen = ballots.get_visible(other, user("office1"))
        assert seen.status == "closed"


@pytest.mark.parametrize("rule", ["score_sum", "borda"])
def test_ties_follow_the_declared_order(app, people, rule):
    ids = nominate(app, people, 4)
    ballot_id = new_ballot(app, people, rule=rule, picks=2)
    open_it(app, ballot_id)
    with app.app_context():
        # ids[2] and ids[3] were "submitted at the same moment": then the lower id goes first.
        same = db.session.get(Submission, ids[2]).submitted_at
        db.session.execute(update(Submission).where(Submission.id == ids[3]).values(submitted_at=same))
        db.session.commit()
    if rule == "score_sum":
        # Every item ends on 6 points except ids[0] (0): ids[1], ids[2], ids[3] tie.
        hand_in(app, ballot_id, "office1", {ids[3]: 6, ids[2]: 2})
        hand_in(app, ballot_id, "office2", {ids[1]: 6, ids[2]: 4})
    else:
        # picks 2: rank 1 = 2 points, rank 2 = 1 point. ids[1], ids[2], ids[3] all end on 2.
        hand_in(app, ballot_id, "office1", {ids[3]: 1, ids[2]: 2})
        hand_in(app, ballot_id, "office2", {ids[1]: 1, ids[2]: 2})
    with app.app_context():
        outcome = result(db.session.get(Ballot, ballot_id))
        order = [(r.submission_id, r.points) for r in outcome.rows]
    assert order == [(ids[1], 2 if rule == "borda" else 6), (ids[2], 2 if rule == "borda" else 6),
                     (ids[3], 2 if rule == "borda" else 6), (ids[0], 0)]
    assert [r.submission_id for r in outcome.selected] == [ids[1], ids[2]]


def test_borda_ranks_are_worth_k_down_to_one_and_a_rank_twice_is_refused(app, people):
    ids = nominate(app, people, 3)
    ballot_id = new_ballot(app, people, rule="borda", picks=3)
    open_it(app, ballot_id)
    with pytest.raises(ActionError) as twice:
        hand_in(app, ballot_id, "office1", {ids[0]: 1, ids[1]: 1})
    assert "重复" in str(twice.value.details["errors"])
    hand_in(app, ballot_id, "office1", {ids[0]: 1, ids[1]: 2, ids[2]: 3})
    with app.app_context():
        points = {r.submission_id: r.points for r in result(db.session.get(Ballot, ballot_id)).rows}
    assert points == {ids[0]: 3, ids[1]: 2, ids[2]: 1}


def test_confirmation_moves_exactly_ten_of_twelve_with_one_audit_event_each(app, people, client, login):
    ids = nominate(app, people, 12)
    ballot_id = new_ballot(app, people)
    open_it(app, ballot_id)
    # office1 scores the first ten; the others the first five only: ids[10] and ids[11] get no points.
    hand_in(app, ballot_id, "office1", {sid: 10 - n for n, sid in enumerate(ids[:10])})
    hand_in(app, ballot_id, "office2", {sid: 5 for sid in ids[1:10:2]})
    hand_in(app, ballot_id, "office3", {sid: 1 for sid in ids[1:10:2]})  # from district B only
    with app.app_context():
        before = dict(db.session.execute(select(AuditEvent.submission_id, func.count()).group_by(
            AuditEvent.submission_id)).all())
        version = db.session.get(Ballot, ballot_id).row_version
    login("office1")
    page = client.get(f"/assessment/ballots/{ballot_id}").get_data(as_text=True)
    assert "确认结果" in page and "office3" not in page  # names, not account names, head the marks' columns
    done = client.post(f"/assessment/ballots/{ballot_id}/confirm", data={"expected_version": version},
                       follow_redirects=True)
    assert "10 项入选，2 项未入选" in done.get_data(as_text=True)
    assert states(app, ids) == ["selected"] * 10 + ["not_selected"] * 2
    with app.app_context():
        after = dict(db.session.execute(select(AuditEvent.submission_id, func.count()).group_by(
            AuditEvent.submission_id)).all())
        assert all(after[sid] == before[sid] + 1 for sid in ids)
        last = {sid: db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == sid)
                                        .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one() for sid in ids}
        assert {last[sid].action for sid in ids[:10]} == {"select"}
        assert {last[sid].action for sid in ids[10:]} == {"not_select"}
        assert "第 1 名" in last[ids[1]].comment
        assert db.session.get(Ballot, ballot_id).status == "confirmed"
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    again = client.post(f"/assessment/ballots/{ballot_id}/confirm", data={"expected_version": version})
    assert again.status_code == 409 and "已由" in again.get_data(as_text=True)


def test_a_failed_item_rolls_the_whole_confirmation_back(app, people):
    ids = nominate(app, people, 3)
    ballot_id = new_ballot(app, people, picks=2)
    open_it(app, ballot_id)
    for who in ("office1", "office2", "office3"):
        hand_in(app, ballot_id, who, {ids[1]: 5})
    with app.app_context():
        # Someone moved one nomination out of the selection meanwhile (as a workflow migration could).
        db.session.execute(update(Submission).where(Submission.id == ids[2]).values(state="rejected"))
        db.session.commit()
        version = db.session.get(Ballot, ballot_id).row_version
    with app.test_request_context():
        with pytest.raises(ActionError) as caught:
            confirm(ballot_id, user("office1"), version)
        assert caught.value.status == 409 and f"#{ids[2]}" in caught.value.message
    assert states(app, ids) == ["nominated", "nominated", "rejected"]
    with app.app_context():
        assert db.session.get(Ballot, ballot_id).status == "closed"


def test_two_confirmations_at_once_exactly_one_wins(app, people, backend):
    if backend == "sqlite":
        pytest.skip("a real race needs concurrent writers: PostgreSQL")
    ids = nominate(app, people, 4)
    ballot_id = new_ballot(app, people, picks=2)
    open_it(app, ballot_id)
    for who in ("office1", "office2"):
        hand_in(app, ballot_id, who, {ids[0]: 5, ids[1]: 4})
    hand_in(app, ballot_id, "office3", {ids[1]: 4})  # ids[0] is from district A, office3's own
    with app.app_context():
        version = db.session.get(Ballot, ballot_id).row_version
    answers = []
    start = threading.Barrier(2)

    def go(name):
        with app.test_request_context():
            try:
                start.wait()
                answers.append(("ok", len(confirm(ballot_id, user(name), version).selected)))
            except ActionError as refused:
                answers.append((refused.status, refused.message))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go, args=(n,)) for n in ("office1", "office2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a[0] for a in answers if a[0] == "ok") == ["ok"], answers
    refused = next(a for a in answers if a[0] != "ok")
    assert refused[0] == 409 and "已由" in refused[1]
    assert states(app, ids) == ["selected", "selected", "not_selected", "not_selected"]
    with app.app_context():
        for sid in ids:
            decided = db.session.execute(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.submission_id == sid, AuditEvent.action.in_(["select", "not_select"]))).scalar()
            assert decided == 1


def test_the_office_creates_a_ballot_with_errors_beside_the_fields_and_the_typed_values_kept(app, people, client,
                                                                                             login):
    login("office1")
    page = client.post("/assessment/ballots/", data={"month": "2017-3", "rule": "borda", "picks": "abc",
                                                     "deadline": "明天", "panel_mode": "list",
                                                     "panel": "office1 nobody"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "请按 YYYY-MM" in text and 'value="2017-3"' in text and 'value="abc"' in text
    assert "没有启用的账号“nobody”" in text and 'value="office1 nobody"' in text
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Ballot)).scalar() == 0
    created = client.post("/assessment/ballots/", data={
        "month": "2017-03", "rule": "borda", "picks": "10", "max_score": "10",
        "deadline": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M"), "panel_mode": "role"})
    assert created.status_code == 302
    client.post("/logout")
    login("filler.a1")
    assert client.get("/assessment/ballots/").status_code == 404


def test_the_api_gives_the_result_and_marks_to_office_and_panel_only(app, people, client, login, create_user):
    ids = nominate(app, people, 2)
    ballot_id = new_ballot(app, people)
    open_it(app, ballot_id)
    for who in ("office1", "office2", "office3"):
        hand_in(app, ballot_id, who, {ids[1]: 6} if who == "office3" else {ids[0]: 4, ids[1]: 2})
    login("office2")
    body = client.get(f"/api/v1/ballots/{ballot_id}").get_json()
    assert body["status"] == "closed" and body["rule"] == "score_sum"
    assert [(r["submission"], r["points"], r["selected"]) for r in body["results"]] == [(ids[1], 10, True),
                                                                                         (ids[0], 8, True)]
    assert sorted(m["score"] for r in body["results"] for m in r["marks"]) == [2, 2, 4, 4, 6]
    client.post("/logout")
    login("reviewer.a")
    assert client.get(f"/api/v1/ballots/{ballot_id}").status_code == 404


def test_an_open_quorum_vote_says_how_many_votes_are_missing_and_who_may_vote(app, people, client, login):
    sid, = nominate(app, people, 1, units=("b1",), version=1)
    with app.test_request_context():
        perform(sid, "select", user("office1"))
    login("office2")
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "还差 1 票赞成" in page and "此处共有 3 人有权投票" in page
