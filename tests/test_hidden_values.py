"""Hidden values leave no trace: a value posted for a field that ``visible_if`` hides is dropped.

Guards the server's authority over what it stores: whatever a crafted page or
API call sends for a hidden field (top level, or a roster column hidden in one
row and shown in another), the stored answers do not hold it, calculations
are made without it, ``required`` rules that depend on it do not fire, and no
page shows it — through the web form and through the JSON API, on drafts and
on submissions.
"""
import json
import re

import pytest
from sqlalchemy import text

from workflows.api import issue_token
from workflows.extensions import db
from workflows.models import FormVersion, User

HIDDEN = """key: hidden_values
version: 1
title: 隐藏字段测试
fields:
  - {name: mode, type: choice, label: 方式, required: true, choices: [{value: a, label: 常规}, {value: b, label: 加班}]}
  - {name: extra_hours, type: decimal, label: 加班时长, visible_if: "mode == 'b'"}
  - {name: overtime_note, type: text, label: 加班说明, visible_if: "mode == 'b'"}
  - name: rows
    type: repeat
    label: 人员
    fields:
      - {name: who, type: text, label: 姓名, required: true}
      - {name: role, type: choice, label: 角色, required: true, choices: [{value: member, label: 队员}, {value: lead, label: 队长}]}
      - {name: bonus, type: decimal, label: 奖励时长, visible_if: "row.role == 'lead'"}
      - {name: badge, type: text, label: 队长证号, visible_if: "row.role == 'lead'"}
      - {name: hours, type: decimal, label: 时长}
  - {name: total, type: calculate, label: 合计, calculate: "sum(rows.hours) + sum(rows.bonus) + coalesce(extra_hours, 0)"}
  - {name: explanation, type: text, label: 超时说明, required: "total > 10"}
"""

# Values no honest page would send for hidden fields; distinctive enough to search a page for.
HOSTILE_HOURS = "97531.5"
HOSTILE_NOTE = "TOPSECRET-hidden-note"
HOSTILE_BONUS = "86420.5"
HOSTILE_BADGE = "ROWSECRET-hidden-badge"
HOSTILE = (HOSTILE_HOURS, HOSTILE_NOTE, HOSTILE_BONUS, HOSTILE_BADGE)
# 2 + 1 hours, plus the lead's visible bonus of 1: nothing hidden counts.
HONEST_TOTAL = 4.0


def publish(app, source):
    from forms.definition import load_definition
    with app.app_context():
        spec = load_definition(source)
        version = FormVersion(key=spec.key, version=spec.version, sha256=spec.sha256, source=source,
                              title=spec.schema.title.zh, status="published")
        db.session.add(version)
        db.session.commit()


def stored_answers(app, submission_id):
    """The answers column of the submission's row, read with SQL."""
    with app.app_context():
        value = db.session.execute(text("SELECT answers FROM submission WHERE id = :id"),
                                   {"id": submission_id}).scalar_one()
    return value if isinstance(value, dict) else json.loads(value)


def stored_state(app, submission_id):
    with app.app_context():
        return db.session.execute(text("SELECT state FROM submission WHERE id = :id"),
                                  {"id": submission_id}).scalar_one()


def errors_of(response):
    return re.findall(r'class="error" role="alert">([^<]+)<', response.get_data(as_text=True))


def assert_no_trace(answers):
    """What the stored (or shown) answers may hold: the visible values only, and the honest total."""
    assert "extra_hours" not in answers and "overtime_note" not in answers
    lead, member = answers["rows"]
    assert lead == {"who": "张队长", "role": "lead", "bonus": 1, "badge": "L-001", "hours": 2}
    # The member's row hid bonus and badge: neither is kept, not even as an empty key.
    assert member == {"who": "李队员", "role": "member", "hours": 1}
    assert answers["total"] == HONEST_TOTAL
    assert answers.get("explanation") is None
    assert not any(value in json.dumps(answers, ensure_ascii=False) for value in HOSTILE)


def assert_page_shows_nothing_hidden(page):
    for value in HOSTILE:
        assert value not in page, value


@pytest.fixture
def filler(app, city, create_user, client, login):
    publish(app, HIDDEN)
    create_user("filler.a1", city["a1"], "filler")
    login("filler.a1")
    return client


def hostile_post(action="submit", **overrides):
    """A crafted post: mode a hides extra_hours and overtime_note; the member's row hides bonus and badge."""
    data = {"action": action, "mode": "a", "extra_hours": HOSTILE_HOURS, "overtime_note": HOSTILE_NOTE,
            "rows-0-who": "张队长", "rows-0-role": "lead", "rows-0-bonus": "1", "rows-0-badge": "L-001",
            "rows-0-hours": "2",
            "rows-1-who": "李队员", "rows-1-role": "member", "rows-1-bonus": HOSTILE_BONUS,
            "rows-1-badge": HOSTILE_BADGE, "rows-1-hours": "1"}
    data.update(overrides)
    return data


def submission_id_of(response):
    return int(re.search(r"/submissions/(\d+)", response.headers["Location"]).group(1))


# --- through the web page ------------------------------------------------------------------------

def test_page_submit_drops_hidden_values_and_needs_nothing_they_would_require(app, filler):
    response = filler.post("/forms/hidden_values/new", data=hostile_post())
    # Had the hidden hours counted, the total would pass 10 and the explanation would be required (422).
    assert response.status_code == 302, errors_of(response)
    submission_id = submission_id_of(response)
    assert stored_state(app, submission_id) == "submitted"
    assert_no_trace(stored_answers(app, submission_id))
    page = filler.get(f"/submissions/{submission_id}").get_data(as_text=True)
    assert "张队长" in page and "L-001" in page  # the visible values are there
    assert_page_shows_nothing_hidden(page)


def test_page_draft_drops_hidden_values_and_its_total_ignores_them(app, filler):
    response = filler.post("/forms/hidden_values/new", data=hostile_post(action="save"))
    assert response.status_code == 302, errors_of(response)
    submission_id = submission_id_of(response)
    assert stored_state(app, submission_id) == "draft"
    assert_no_trace(stored_answers(app, submission_id))
    for path in (f"/submissions/{submission_id}", f"/submissions/{submission_id}/edit"):
        page = filler.get(path).get_data(as_text=True)
        assert "张队长" in page
        assert_page_shows_nothing_hidden(page)
    # Submitting the draft from its page with the same crafted values keeps nothing of them either.
    again = filler.post(f"/submissions/{submission_id}/edit", data=hostile_post(row_version="1"))
    assert again.status_code == 302, errors_of(again)
    assert stored_state(app, submission_id) == "submitted"
    assert_no_trace(stored_answers(app, submission_id))


def test_positive_control_the_same_values_count_when_visible(app, filler):
    """Shown, the same hours do count: the total passes 10 and the explanation becomes required."""
    response = filler.post("/forms/hidden_values/new", data=hostile_post(mode="b"))
    assert response.status_code == 422
    assert errors_of(response) == ["此项为必填项。"]
    response = filler.post("/forms/hidden_values/new", data=hostile_post(mode="b", explanation="确有加班"))
    assert response.status_code == 302, errors_of(response)
    answers = stored_answers(app, submission_id_of(response))
    assert answers["extra_hours"] == float(HOSTILE_HOURS) and answers["overtime_note"] == HOSTILE_NOTE
    assert answers["total"] == HONEST_TOTAL + float(HOSTILE_HOURS)
    # A member's row still hides its bonus whatever the top level shows.
    assert "bonus" not in answers["rows"][1] and "badge" not in answers["rows"][1]


def test_a_roster_column_hidden_in_one_row_alone_is_dropped_there(app, filler):
    """Only the roster is crafted: its hidden cells alone would push the total past 10."""
    response = filler.post("/forms/hidden_values/new",
                           data=hostile_post(extra_hours="", overtime_note=""))
    assert response.status_code == 302, errors_of(response)
    submission_id = submission_id_of(response)
    assert_no_trace(stored_answers(app, submission_id))
    assert_page_shows_nothing_hidden(filler.get(f"/submissions/{submission_id}").get_data(as_text=True))


# --- through the API -----------------------------------------------------------------------------

def hostile_answers(**overrides):
    answers = {"mode": "a", "extra_hours": float(HOSTILE_HOURS), "overtime_note": HOSTILE_NOTE,
               "rows": [{"who": "张队长", "role": "lead", "bonus": 1, "badge": "L-001", "hours": 2},
                        {"who": "李队员", "role": "member", "bonus": float(HOSTILE_BONUS),
                         "badge": HOSTILE_BADGE, "hours": 1}]}
    answers.update(overrides)
    return answers


@pytest.fixture
def api(app, city, create_user, client):
    publish(app, HIDDEN)
    user_id = create_user("filler.a1", city["a1"], "filler")
    with app.app_context():
        _token, plain = issue_token(db.session.get(User, user_id), "hidden values")
        db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}

    def call(method, path, body=None):
        return getattr(client, method)(f"/api/v1{path}", json=body, headers=headers)
    return call


def test_api_draft_update_and_submit_drop_hidden_values(app, api):
    created = api("post", "/submissions", {"form": "hidden_values", "answers": hostile_answers()})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    submission_id = body["id"]
    assert_no_trace(body["answers"])
    assert_no_trace(stored_answers(app, submission_id))
    # PATCH again with the crafted values: still nothing of them.
    patched = api("patch", f"/submissions/{submission_id}",
                  {"answers": hostile_answers(), "expected_version": body["row_version"]})
    assert patched.status_code == 200, patched.get_json()
    assert_no_trace(patched.get_json()["answers"])
    assert_no_trace(stored_answers(app, submission_id))
    # Submitting checks everything: the explanation the hidden hours would require is not required.
    submitted = api("post", f"/submissions/{submission_id}/submit",
                    {"expected_version": patched.get_json()["row_version"]})
    assert submitted.status_code == 200, submitted.get_json()
    assert stored_state(app, submission_id) == "submitted"
    assert_no_trace(stored_answers(app, submission_id))
    shown = api("get", f"/submissions/{submission_id}").get_json()
    assert_no_trace(shown["answers"])
    assert_page_shows_nothing_hidden(json.dumps(shown, ensure_ascii=False))


def test_api_positive_control_visible_hours_require_the_explanation(app, api):
    created = api("post", "/submissions", {"form": "hidden_values", "answers": hostile_answers(mode="b")})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["answers"]["total"] == HONEST_TOTAL + float(HOSTILE_HOURS)
    refused = api("post", f"/submissions/{body['id']}/submit", {"expected_version": body["row_version"]})
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["explanation"]
    assert stored_state(app, body["id"]) == "draft"
