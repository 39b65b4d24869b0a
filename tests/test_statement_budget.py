"""SQL statements per request: a fixed budget whatever the page size and depth.

A count is deterministic where a time is not: each page below is requested
as a signed-in person would, on both databases, with the statements
counted by SQLAlchemy's ``before_cursor_execute`` event. A page of 50 items
must cost what a page of 5 does (no per-row loads), a deep page no more
than the first, and a transition a small fixed number.
"""
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tests.conftest import _clear, make_app
from workflows.api.tokens import issue_token
from workflows.demo.city import DEMO_PASSWORD, seed_demo
from workflows.demo.scale import add_reports
from workflows.engine.versions import form_spec, form_spec_of, workflow_of
from workflows.extensions import db
from workflows.models import Submission, User

QUEUE_PAGE = 8
REVIEW_PAGE = 7
API_QUEUE = 6
HOME_PAGE = 7
APPROVE = 8
ITEMS = 60


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    """The demo city, with more submitted reports at 颍州区 than a page of 50 holds.

    Built once per backend for the module: the tests below only read, except the approve, which takes
    items of its own from the pool."""
    app = make_app(database_url, tmp_path_factory.mktemp("budget"))
    with app.app_context():
        seed_demo()
        pool = add_reports(ITEMS, state="submitted", district="YZ")
        reviewer = db.session.execute(select(User).where(User.username == "yz.reviewer")).scalar_one()
        _row, token = issue_token(reviewer, "budget")
        db.session.commit()
    yield {"app": app, "pool": pool, "token": token}
    _clear(app)


@contextmanager
def counted(app):
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _signed_in(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _cost(app, client, url, **kwargs):
    client.get(url, **kwargs)  # the first request of a process fills its caches
    with counted(app) as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response, statements


def _ids_on(html):
    return set(re.findall(r'name="ids" value="(\d+)"', html))


def test_queue_page_costs_the_same_for_5_and_50_items_and_deep_pages(world):
    app = world["app"]
    client = _signed_in(app, "yz.reviewer")
    small, few = _cost(app, client, "/review/?limit=5")
    page, many = _cost(app, client, "/review/?limit=50")
    html = page.get_data(as_text=True)
    assert len(_ids_on(html)) == 50 and len(_ids_on(small.get_data(as_text=True))) == 5
    assert len(many) <= QUEUE_PAGE, many
    assert len(many) == len(few), (few, many)
    cursor = re.search(r'href="[^"]*cursor=([^"&]+)', html).group(1)
    deep, deep_statements = _cost(app, client, f"/review/?limit=50&cursor={cursor}")
    assert _ids_on(deep.get_data(as_text=True)).isdisjoint(_ids_on(html))
    assert len(deep_statements) <= len(many), deep_statements


def test_filter_counts_are_not_recomputed_on_every_cursor_step(world):
    app = world["app"]
    client = _signed_in(app, "yz.reviewer")
    page, _ = _cost(app, client, "/review/?limit=50")
    cursor = re.search(r'href="[^"]*cursor=([^"&]+)', page.get_data(as_text=True)).group(1)
    _deep, statements = _cost(app, client, f"/review/?limit=50&cursor={cursor}")
    assert not [s for s in statements if "count(" in s.lower()], statements


def _waiting(html):
    return int(re.search(r'<small class="muted">(\d+)', html).group(1))


def test_the_first_page_counts_again_only_once_the_queue_has_moved(world):
    """Reloading the first page reuses its counts; a decision anywhere (another reviewer, another
    worker: nothing this browser's session saw) makes the next first page count again, and right."""
    app = world["app"]
    client = _signed_in(app, "yz.reviewer")
    page, statements = _cost(app, client, "/review/")  # the second of two identical requests
    assert not [s for s in statements if "count(" in s.lower()], statements
    before = _waiting(page.get_data(as_text=True))
    with app.test_request_context():
        from workflows.engine.perform import perform
        reviewer = db.session.execute(select(User).where(User.username == "yz.reviewer")).scalar_one()
        perform(world["pool"][2], "approve", reviewer)
        db.session.commit()
    with counted(app) as statements:
        html = client.get("/review/").get_data(as_text=True)
    assert [s for s in statements if "count(" in s.lower()], statements
    assert _waiting(html) == before - 1
    assert len(statements) <= QUEUE_PAGE, statements


def test_review_page_budget(world):
    app = world["app"]
    client = _signed_in(app, "yz.reviewer")
    _page, statements = _cost(app, client, f"/submissions/{world['pool'][0]}")
    assert len(statements) <= REVIEW_PAGE, statements


def test_api_queue_budget_for_50_items(world):
    app = world["app"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world['token']}"}
    response, statements = _cost(app, client, "/api/v1/queue?limit=50", headers=headers)
    assert len(response.get_json()["items"]) == 50
    assert len(statements) <= API_QUEUE, statements


def test_home_page_budget(world):
    app = world["app"]
    client = _signed_in(app, "yz.reviewer")
    _page, statements = _cost(app, client, "/")
    assert len(statements) <= HOME_PAGE, statements


def test_approve_budget(world):
    app = world["app"]
    client = _signed_in(app, "yz.reviewer")
    first, second = world["pool"][:2]
    client.get(f"/submissions/{first}")
    with app.app_context():
        version = db.session.get(Submission, second).row_version
    client.post(f"/submissions/{first}/actions/approve", data={"expected_version": 1})
    with counted(app) as statements:
        response = client.post(f"/submissions/{second}/actions/approve", data={"expected_version": version})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Submission, second).state != "submitted"
    writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    assert len(statements) <= APPROVE, statements
    assert writes, statements


def test_a_bulk_approve_asks_who_is_told_once_for_all_its_units(world):
    """Each approved item tells its certifiers, the same people a lookup per unit finds, from one query."""
    from workflows.models import Notification, RoleGrant, Unit
    app = world["app"]
    client = _signed_in(app, "yz.reviewer")
    items = world["pool"][10:30]
    with app.app_context():
        units = {s.id: s.unit for s in db.session.execute(
            select(Submission).where(Submission.id.in_(items))).scalars()}
        assert len({unit.id for unit in units.values()}) > 1  # items of several units
        expected = {}
        for item, unit in units.items():
            expected[item] = set(db.session.execute(
                select(RoleGrant.user_id).join(User, User.id == RoleGrant.user_id)
                .where(RoleGrant.role == "certifier", RoleGrant.unit_id.in_(unit.ancestor_ids()),
                       User.active.is_(True))).scalars())
    assert all(expected.values())
    with counted(app) as statements:
        response = client.post("/review/bulk", data={"ids": [str(i) for i in items], "action": "approve"})
    assert response.status_code == 200
    lookups = [s for s in statements if "SELECT DISTINCT role_grant.unit_id" in s]
    assert len(lookups) == 1, lookups
    with app.app_context():
        for item in items:
            told = set(db.session.execute(select(Notification.user_id).where(
                Notification.submission_id == item, Notification.kind == "action_needed",
                Notification.for_state == "approved")).scalars())
            assert told == expected[item], item


def test_published_versions_are_read_once_and_survive_commits(world):
    """After a commit (which expires the session) a submission's form and workflow are still known:
    nothing reads form_version or workflow_version again."""
    app = world["app"]
    with app.app_context():
        submission = db.session.get(Submission, world["pool"][-1])
        first = workflow_of(submission)
        db.session.commit()
        with counted(app) as statements:
            again = db.session.get(Submission, world["pool"][-1])
            workflow = workflow_of(again)
            spec = form_spec_of(again)
        assert workflow is first and spec.key == again.form_key
        assert not [s for s in statements if "form_version" in s.split("FROM", 1)[-1].split("WHERE")[0]
                    or "workflow_version" in s.split("FROM", 1)[-1].split("WHERE")[0]], statements


def test_a_draft_form_version_is_read_again_after_it_changes(world):
    """Only what can no longer change is cached: a draft's new text is what the next reading sees."""
    from workflows.filling.form_versions import create_draft, update_draft
    app = world["app"]
    source = ("key: budget_draft\nversion: 1\ntitle: {zh: 草稿表}\navailable_to: [civilized_unit]\n"
              "fields:\n  - {name: note, type: text, label: {zh: 说明}}\n")
    with app.app_context():
        draft = create_draft(source, None)
        db.session.commit()
        pinned = (draft.key, draft.version, draft.sha256, draft.id)  # as a submission saved on it pins it
        before = form_spec(*pinned)
        update_draft(draft, source.replace("说明", "活动说明"))
        db.session.commit()
        after = form_spec(*pinned)
    assert before.field("note").model.label.zh == "说明"
    assert after.field("note").model.label.zh == "活动说明"
