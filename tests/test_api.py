"""The JSON API under /api/v1: tokens and sessions, the activity flow, and conformance to its OpenAPI document.

Conformance is checked two ways: schemathesis generates requests for every
documented operation from /api/v1/openapi.json and checks each answer
(status documented, content type, headers, body schema, never a 5xx); and
the responses of the hand-written flow are validated against the same
document.
"""
import io
import re
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from forms.idcard import check_character
from workflows.api import openapi
from workflows.filling import uploads
from workflows.api import issue_token
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db
from workflows.models import ApiToken, AuditEvent, FormVersion, Submission, Unit, User

FETCH = {"X-Requested-With": "fetch"}


# --- helpers -------------------------------------------------------------------

def id_number(serial=123):
    base = f"34120119900307{serial:03d}"
    return base + check_character(base)


def jpeg():
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def token_for(app, user_id, name="script"):
    with app.app_context():
        _token, plain = issue_token(db.session.get(User, user_id), name)
        db.session.commit()
        return plain


def bearer(plain, **extra):
    return {"Authorization": f"Bearer {plain}", **extra}


def photo(app, unit_id, user_id):
    """A photo uploaded (as through the web form) for activity_report; returns its reference id."""
    with app.app_context():
        version = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                   .order_by(FormVersion.version.desc())).scalars().first()
        stored = uploads.store(FileStorage(io.BytesIO(jpeg()), filename="活动.jpg"), version.spec.field("photos"),
                               db.session.get(Unit, unit_id), db.session.get(User, user_id))
        db.session.commit()
        return stored.token


def activity_answers(photo_token, **overrides):
    answers = {
        "theme": "leifeng", "topics": ["elderly"], "title": "学雷锋进社区服务", "held_on": date.today().isoformat(),
        "place": "颍州区清河街道", "beneficiaries": "社区老人 30 人",
        "content": "志愿者为社区老人打扫卫生、测量血压、讲解防范电信诈骗知识，并陪老人聊天。" * 2,
        "roster": [{"name": "张三", "id_number": id_number(), "hours": "2.5"},
                   {"name": "李四", "id_number": id_number(124), "phone": "13800000001", "hours": 1}],
        "photos": [{"id": photo_token}], "person_in_charge": "王五", "contact_phone": "13800000000",
        "recorder": "赵六",
    }
    answers.update(overrides)
    return answers


def _inline(node, root):
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _inline(target, root)
        return {k: _inline(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, root) for v in node]
    return node


DOCUMENT = openapi.document()
INLINED = _inline(DOCUMENT, DOCUMENT)


def conforms(response, path, method):
    """The response's status is documented for the operation and its body fits the documented schema."""
    documented = INLINED["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in documented, f"{method.upper()} {path}: {status} is not documented"
    assert response.mimetype == "application/json"
    schema = documented[status]["content"]["application/json"]["schema"]
    OAS30Validator(schema).validate(response.get_json())
    return response


@pytest.fixture
def builtin(app):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()


@pytest.fixture
def people(app, city, create_user, builtin):
    ids = {
        "filler": create_user("filler.a1", city["a1"], "filler"),
        "rev_a": create_user("rev.a", city["a"], "reviewer"),
        "rev_a2": create_user("rev.a2", city["a"], "reviewer"),
        "rev_b": create_user("rev.b", city["b"], "reviewer"),
    }
    return {name: token_for(app, user_id) for name, user_id in ids.items()} | {"ids": ids, "city": city}


def create_draft(client, app, people, **overrides):
    token = photo(app, people["city"]["a1"], people["ids"]["filler"])
    response = client.post("/api/v1/submissions", headers=bearer(people["filler"]), json={
        "form": "activity_report", "unit": people["city"]["a1"], "answers": activity_answers(token, **overrides)})
    assert response.status_code == 201, response.get_json()
    return conforms(response, "/api/v1/submissions", "post").get_json()


# --- authentication ----------------------------------------------------------------

def test_no_credentials_is_a_401_in_json_not_a_redirect(client, app):
    for method, path in (("get", "/api/v1/forms"), ("get", "/api/v1/queue"), ("post", "/api/v1/submissions"),
                         ("get", "/api/v1/submissions/1"), ("post", "/api/v1/submissions/1/actions/approve")):
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        conforms(response, path.replace("/1", "/{id}").replace("approve", "{action}"), method)
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_bad_revoked_and_deactivated_tokens_are_refused(app, client, city, create_user):
    user_id = create_user("script.owner", city["a1"], "filler")
    plain = token_for(app, user_id)
    assert client.get("/api/v1/forms", headers=bearer(plain)).status_code == 200
    prefix = plain.split("_")[1]
    for header in ("Bearer " + plain[:-1] + ("A" if plain[-1] != "A" else "B"), f"Bearer wm_{prefix}_short",
                   "Bearer nonsense", "Basic dXNlcjpwdw==", "Bearer "):
        response = client.get("/api/v1/forms", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    with app.app_context():
        token = db.session.execute(select(ApiToken).where(ApiToken.user_id == user_id)).scalar_one()
        assert token.token_hash != plain and plain not in (token.prefix, token.name)
        token.revoked_at = token.created_at
        db.session.commit()
    response = client.get("/api/v1/forms", headers=bearer(plain))
    assert response.status_code == 401
    assert response.get_json()["message"] == "此 API 令牌已被吊销。"
    other = token_for(app, user_id, "second")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert client.get("/api/v1/forms", headers=bearer(other)).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(app, client, city, create_user):
    plain = token_for(app, create_user("script.owner", city["a1"], "filler"))

    def last_used():
        with app.app_context():
            return db.session.execute(select(ApiToken.last_used_at)).scalar_one()
    assert last_used() is None
    client.get("/api/v1/forms", headers=bearer(plain))
    first = last_used()
    assert first is not None
    client.get("/api/v1/forms", headers=bearer(plain))
    assert last_used() == first
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
        db.session.commit()
    client.get("/api/v1/forms", headers=bearer(plain))
    assert last_used() > first - timedelta(minutes=2)


def test_session_works_and_its_changes_need_the_fetch_header_or_a_csrf_token(app, client, login, city,
                                                                             create_user, builtin):
    create_user("filler.a1", city["a1"], "filler")
    login("filler.a1")
    listed = client.get("/api/v1/forms")
    assert listed.status_code == 200
    assert [f["key"] for f in listed.get_json()["forms"]] == ["activity_report", "exemplar_nomination",
                                                               "innovation_case", "volunteer_registration"]
    body = {"form": "activity_report", "answers": {"title": "草稿"}}
    refused = client.post("/api/v1/submissions", json=body)
    assert refused.status_code == 403
    assert "X-Requested-With" in refused.get_json()["message"]
    assert client.post("/api/v1/submissions", json=body, headers={"X-CSRFToken": "forged"}).status_code == 403
    created = client.post("/api/v1/submissions", json=body, headers=FETCH)
    assert created.status_code == 201
    assert created.get_json()["unit"]["id"] == city["a1"]
    page = client.get("/forms/").get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/api/v1/submissions", json=body, headers={"X-CSRFToken": csrf_token}).status_code == 201
    # A token wins over the session and needs no header: browsers never send it by themselves.
    other = create_user("filler.a2", city["a2"], "filler")
    response = client.post("/api/v1/submissions", json=body, headers=bearer(token_for(app, other)))
    assert response.status_code == 201
    assert response.get_json()["unit"]["id"] == city["a2"]


# --- forms ------------------------------------------------------------------------

def test_forms_are_those_open_to_the_callers_units(app, client, people, create_user):
    response = conforms(client.get("/api/v1/forms", headers=bearer(people["filler"])), "/api/v1/forms", "get")
    forms = {f["key"]: f for f in response.get_json()["forms"]}
    report = forms["activity_report"]
    assert report["version"] == 2 and len(report["sha256"]) == 64
    assert report["title"] == {"zh": "节点主题志愿服务活动报送", "en": "Themed volunteer activity report"}
    assert report["units"] == [{"id": people["city"]["a1"], "name": "A区单位1"}]
    assert client.get("/api/v1/forms", headers=bearer(people["rev_a"])).get_json() == {"forms": []}
    city = people["city"]
    office = token_for(app, create_user("filler.office", city["a"], "filler"))
    forms = {f["key"]: f for f in client.get("/api/v1/forms", headers=bearer(office)).get_json()["forms"]}
    assert [u["id"] for u in forms["activity_report"]["units"]] == [city["a1"], city["a2"]]  # not for offices
    assert [u["id"] for u in forms["exemplar_nomination"]["units"]] == [city["a"], city["a1"], city["a2"]]
    definition = conforms(client.get("/api/v1/forms/activity_report", headers=bearer(people["rev_a"])),
                          "/api/v1/forms/{key}", "get").get_json()
    assert definition["sha256"] == report["sha256"] and "key: activity_report" in definition["source"]
    missing = client.get("/api/v1/forms/nope", headers=bearer(people["filler"]))
    assert conforms(missing, "/api/v1/forms/{key}", "get").status_code == 404


# --- the activity flow ------------------------------------------------------------------

def test_activity_flow_through_the_api(app, client, people):
    city = people["city"]
    draft = create_draft(client, app, people)
    sid = draft["id"]
    assert draft["state"] == "draft" and draft["row_version"] == 1 and draft["editable"] is True
    assert draft["form"]["key"] == "activity_report" and draft["unit"] == {"id": city["a1"], "name": "A区单位1"}
    assert draft["answers"]["roster"][0]["id_number"] == "3412**********" + id_number()[-4:]
    assert draft["answers"]["total_hours"] == 3.5 and draft["answers"]["volunteer_count"] == 2
    assert draft["campaign"] == "leifeng" and draft["title"] == "学雷锋进社区服务"
    assert [a["action"] for a in draft["actions"]] == ["submit"]
    with app.app_context():
        stored = db.session.get(Submission, sid)
        assert id_number() not in str(stored.answers)  # encrypted at rest

    submitted = client.post(f"/api/v1/submissions/{sid}/submit", headers=bearer(people["filler"]),
                            json={"expected_version": 1})
    conforms(submitted, "/api/v1/submissions/{id}/submit", "post")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["to"] == "submitted"

    queue = conforms(client.get("/api/v1/queue", headers=bearer(people["rev_a"])), "/api/v1/queue", "get").get_json()
    item = next(i for i in queue["items"] if i["id"] == sid)
    assert item["state"] == "submitted" and item["overdue"] is False and item["due_at"]
    assert queue["counts"]["all"] == 1 and queue["next_cursor"] is None
    assert client.get("/api/v1/queue", headers=bearer(people["rev_b"])).get_json()["items"] == []

    shown = conforms(client.get(f"/api/v1/submissions/{sid}", headers=bearer(people["rev_a"])),
                     "/api/v1/submissions/{id}", "get").get_json()
    assert {a["action"] for a in shown["actions"]} == {"approve", "return", "reject"}
    assert shown["editable"] is False

    path = "/api/v1/submissions/{id}/actions/{action}"
    headers = bearer(people["rev_a"], **{"Idempotency-Key": "approve-once-1"})
    first = client.post(f"/api/v1/submissions/{sid}/actions/approve", headers=headers,
                        json={"expected_version": item["row_version"], "comment": "同意"})
    assert conforms(first, path, "post").status_code == 200, first.get_json()
    assert first.get_json()["to"] == "approved" and "Idempotent-Replayed" not in first.headers
    again = client.post(f"/api/v1/submissions/{sid}/actions/approve", headers=headers,
                        json={"expected_version": item["row_version"], "comment": "同意"})
    assert conforms(again, path, "post").status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        approvals = db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.submission_id == sid, AuditEvent.action == "approve")).scalar()
        assert approvals == 1

    stale = client.post(f"/api/v1/submissions/{sid}/actions/return", headers=bearer(people["rev_a2"]),
                        json={"expected_version": item["row_version"], "comment": "请补充照片"})
    assert conforms(stale, path, "post").status_code == 409
    assert stale.get_json()["decided_by"] == "Rev.A" and "Rev.A" in stale.get_json()["message"]
    assert stale.get_json()["state"] == "approved"

    for response in (client.get(f"/api/v1/submissions/{sid}", headers=bearer(people["rev_b"])),
                     client.post(f"/api/v1/submissions/{sid}/actions/approve", headers=bearer(people["rev_b"]),
                                 json={"expected_version": 3})):
        assert response.status_code == 404
        assert response.get_json()["error"] == "NotFound"

    history = client.get(f"/api/v1/submissions/{sid}", headers=bearer(people["filler"])).get_json()["history"]
    assert [(e["seq"], e["action"], e["from"], e["to"], e["actor"]) for e in history] == [
        (1, "submit", "draft", "submitted", "Filler.A1"), (2, "approve", "submitted", "approved", "Rev.A")]
    assert history[1]["comment"] == "同意"

    second = create_draft(client, app, people, title="第二次活动报送")["id"]
    assert client.post(f"/api/v1/submissions/{second}/submit", headers=bearer(people["filler"])).status_code == 200
    forbidden = client.post(f"/api/v1/submissions/{second}/actions/approve", headers=bearer(people["filler"]),
                            json={"expected_version": 2})
    assert conforms(forbidden, path, "post").status_code == 403
    no_comment = client.post(f"/api/v1/submissions/{second}/actions/return", headers=bearer(people["rev_a"]),
                             json={"expected_version": 2})
    assert conforms(no_comment, path, "post").status_code == 422
    assert no_comment.get_json()["field"] == "comment"
    unknown = client.post(f"/api/v1/submissions/{second}/actions/teleport", headers=bearer(people["rev_a"]))
    assert conforms(unknown, path, "post").status_code == 404


def test_draft_errors_updates_and_strict_submit(app, client, people):
    headers = bearer(people["filler"])
    token = photo(app, people["city"]["a1"], people["ids"]["filler"])
    bad = client.post("/api/v1/submissions", headers=headers, json={
        "form": "activity_report", "answers": {"held_on": "yesterday", "theme": "nope", "roster": "张三",
                                               "photos": ["no-such-file"], "title": {"zh": "x"},
                                               "content": "短", "titel": "typo"}})
    assert conforms(bad, "/api/v1/submissions", "post").status_code == 422
    errors = bad.get_json()["errors"]
    # Short content is fine in a draft: only types are checked.
    assert set(errors) == {"held_on", "theme", "roster", "photos", "title", "titel"}
    assert errors["titel"] == ["此表单没有这个字段。"]
    rows = client.post("/api/v1/submissions", headers=headers, json={
        "form": "activity_report", "answers": {"roster": [{"name": "张三", "hours": "x", "age": 3}]}})
    assert set(rows.get_json()["errors"]) == {"roster[0].hours", "roster[0].age"}
    for body, status in (({"form": "activity_report", "answers": [1]}, 400), ({"form": "x", "extra": 1}, 400),
                         ({"answers": {}}, 400), ({"form": "nope"}, 404),
                         ({"form": "activity_report", "unit": people["city"]["b1"]}, 403)):
        response = client.post("/api/v1/submissions", headers=headers, json=body)
        assert conforms(response, "/api/v1/submissions", "post").status_code == status, body
    assert client.post("/api/v1/submissions", headers=headers, data="{not json").status_code == 400

    draft = client.post("/api/v1/submissions", headers=headers, json={
        "form": "activity_report", "answers": {"title": "只写了标题", "photos": [token],
                                               "roster": [{"name": "张三", "id_number": id_number()}]}}).get_json()
    sid, path = draft["id"], "/api/v1/submissions/{id}"
    assert draft["answers"]["photos"][0]["id"] == token
    strict = client.post(f"/api/v1/submissions/{sid}/submit", headers=headers)
    assert conforms(strict, "/api/v1/submissions/{id}/submit", "post").status_code == 422
    assert {"theme", "held_on", "content", "roster[0].hours"} <= set(strict.get_json()["errors"])

    # GET's answers sent back as they are (masked ID number included) keep the stored values.
    shown = client.get(f"/api/v1/submissions/{sid}", headers=headers).get_json()
    full = activity_answers(token)
    full["roster"] = shown["answers"]["roster"] + full["roster"][1:]
    full["roster"][0]["hours"] = 3
    updated = client.patch(f"/api/v1/submissions/{sid}", headers=headers,
                           json={"answers": full, "expected_version": 1})
    assert conforms(updated, path, "patch").status_code == 200, updated.get_json()
    assert updated.get_json()["row_version"] == 2 and updated.get_json()["answers"]["total_hours"] == 4
    with app.app_context():
        from workflows.filling.personal_data import reveal
        stored = db.session.get(Submission, sid)
        assert reveal(stored.definition.spec, stored.answers)["roster"][0]["id_number"] == id_number()
    stale = client.patch(f"/api/v1/submissions/{sid}", headers=headers,
                         json={"answers": {"title": "改标题"}, "expected_version": 1})
    assert conforms(stale, path, "patch").status_code == 409
    assert stale.get_json()["row_version"] == 2
    partial = client.patch(f"/api/v1/submissions/{sid}", headers=headers,
                           json={"answers": {"title": "只改标题的活动"}, "expected_version": 2}).get_json()
    assert partial["title"] == "只改标题的活动" and partial["answers"]["total_hours"] == 4  # the rest kept
    missing = client.patch(f"/api/v1/submissions/{sid}", headers=headers, json={"answers": {}})
    assert conforms(missing, path, "patch").status_code == 400
    reviewer = client.patch(f"/api/v1/submissions/{sid}", headers=bearer(people["rev_a"]),
                            json={"answers": {}, "expected_version": 3})
    assert conforms(reviewer, path, "patch").status_code == 403
    done = client.post(f"/api/v1/submissions/{sid}/submit", headers=headers, json={"expected_version": 3})
    assert done.status_code == 200, done.get_json()
    locked = client.patch(f"/api/v1/submissions/{sid}", headers=headers,
                          json={"answers": {}, "expected_version": 4})
    assert conforms(locked, path, "patch").status_code == 403
    again = client.post(f"/api/v1/submissions/{sid}/actions/submit", headers=headers)
    assert conforms(again, "/api/v1/submissions/{id}/actions/{action}", "post").status_code == 422


def test_queue_filters_paging_and_bad_parameters(app, client, people):
    ids = []
    for n in range(3):
        sid = create_draft(client, app, people, title=f"第{n + 1}次学雷锋活动")["id"]
        assert client.post(f"/api/v1/submissions/{sid}/submit", headers=bearer(people["filler"])).status_code == 200
        ids.append(sid)
    headers = bearer(people["rev_a"])
    first = client.get("/api/v1/queue?limit=2", headers=headers).get_json()
    assert [i["id"] for i in first["items"]] == ids[:2] and first["next_cursor"]
    rest = client.get(f"/api/v1/queue?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [i["id"] for i in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    month = date.today().strftime("%Y-%m")
    assert len(client.get(f"/api/v1/queue?month={month}&campaign=leifeng&state=submitted&unit="
                          f"{people['city']['a1']}", headers=headers).get_json()["items"]) == 3
    assert client.get("/api/v1/queue?campaign=lantern", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/queue?overdue=1", headers=headers).get_json()["items"] == []
    for query in ("limit=0", "limit=101", "limit=x", "unit=-1", "month=2026-13", "overdue=yes", "cursor=nope",
                  "campaign=%00"):
        response = client.get(f"/api/v1/queue?{query}", headers=headers)
        assert conforms(response, "/api/v1/queue", "get").status_code == 400, query


def test_unknown_addresses_and_methods_answer_in_json(client, people):
    headers = bearer(people["filler"])
    assert client.get("/api/v1/nothing", headers=headers).get_json()["error"] == "NotFound"
    assert client.get("/api/v1/submissions/abc", headers=headers).status_code == 404
    assert client.get("/api/v1/submissions/99999999999", headers=headers).status_code == 404
    response = client.delete("/api/v1/submissions/1", headers=headers)
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) == {"GET", "PATCH"}


# --- administering tokens -------------------------------------------------------------------

def test_admins_issue_list_and_revoke_tokens_in_their_subtree(app, client, login, city, create_user):
    create_user("admin.a", city["a"], "admin")
    worker = create_user("worker.a1", city["a1"], "filler")
    create_user("worker.b1", city["b1"], "filler")
    create_user("filler.only", city["a2"], "filler")
    login("filler.only")
    assert client.get("/admin/tokens/").status_code == 403
    client.post("/logout")
    login("admin.a")
    assert "/admin/tokens/" in client.get("/admin/users/").get_data(as_text=True)
    outside = client.post("/admin/tokens/", data={"username": "worker.b1", "name": "月报脚本"})
    assert outside.status_code == 422
    assert "No account with this username in your units." in outside.get_data(as_text=True) or \
        "您管理的单位中没有此用户名的账号。" in outside.get_data(as_text=True)
    issued = client.post("/admin/tokens/", data={"username": "Worker.A1", "name": "月报脚本"})
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    plain = re.search(r'value="(wm_[0-9a-f]{8}_[A-Za-z0-9_-]+)"', issued.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/forms", headers=bearer(plain)).status_code == 200
    listing = client.get("/admin/tokens/").get_data(as_text=True)
    assert "月报脚本" in listing and plain not in listing and f"wm_{plain.split('_')[1]}_" in listing
    with app.app_context():
        token = db.session.execute(select(ApiToken).where(ApiToken.user_id == worker)).scalar_one()
        token_id = token.id
    assert client.post(f"/admin/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/forms", headers=bearer(plain)).status_code == 401
    client.post("/logout")
    create_user("admin.b", city["b"], "admin")
    login("admin.b")
    assert client.post(f"/admin/tokens/{token_id}/revoke").status_code == 403


# --- the OpenAPI document ----------------------------------------------------------------

def test_openapi_document_is_valid_and_covers_every_route(app, client):
    served = client.get("/api/v1/openapi.json").get_json()
    validate_spec(served)
    assert served == DOCUMENT
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).replace("{submission_id}", "{id}"), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              and rule.endpoint != "api.not_found" for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in served["paths"].items() for method in item}
    assert routes == documented
    for path, item in served["paths"].items():
        for method, operation in item.items():
            if path != "/api/v1/openapi.json":
                assert "401" in operation["responses"], (path, method)


@pytest.fixture
def api_schema(app, people):
    """The served document, loaded by schemathesis against this app (one per backend)."""
    # Some generated requests name a real submission (see test_conformance).
    create_draft(client=app.test_client(), app=app, people=people)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_conformance(case, app, people):
    """Generated requests to every operation, as the filler with a bearer token: answers as documented."""
    if "id" in case.path_parameters and not case.meta.generation.mode.is_negative \
            and isinstance(case.path_parameters["id"], int) and case.path_parameters["id"] % 2 == 0:
        with app.app_context():
            case.path_parameters["id"] = db.session.execute(select(func.max(Submission.id))).scalar()
    case.call_and_validate(headers=bearer(people["filler"]), checks=CHECKS)
