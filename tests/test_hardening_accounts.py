"""Hardening (issue 7), accounts and pages: who may manage an account, redirect targets,
sessions that end, unit (de)activation, security headers and the sign-in throttle.

Each test reproduces a finding of the audit as a person would see it.
"""
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_app
from tests.e2e.conftest import browser, live_server  # noqa: F401 - fixtures used by name
from tests.test_workflow_engine import new_report, people  # noqa: F401 - the fixture is used by name
from workflows.api import issue_token
from workflows.extensions import db
from workflows.models import ApiToken, LoginAttempt, Unit, User
from workflows.org.operations import OrgError, deactivate_unit


def _uid(app, username):
    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


# --- finding 1: an account is managed only by an admin whose subtree holds all of it ----------------

def test_district_admin_cannot_manage_an_account_holding_a_role_above_or_beside_its_subtree(
        app, client, login, city, create_user):
    create_user("root", city["city"], "admin")
    create_user("admin.a", city["a"], "admin")
    # Home unit inside A, but roles at the city unit (as `admin` gave yz.u2) or in district B.
    high = create_user("a.u2", city["a1"], "filler", ("office", city["city"]), ("reviewer", city["city"]))
    beside = create_user("a.u3", city["a1"], "filler", ("reviewer", city["b"]))
    inside = create_user("a.u4", city["a1"], "filler", ("reviewer", city["a"]))
    with app.app_context():
        issue_token(db.session.get(User, high), "issued by root")
        db.session.commit()
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
        filler_grant = {g.user_id: g.id for g in db.session.get(User, high).grants if g.role == "filler"}[high]

    login("admin.a")
    listing = client.get("/admin/users/").get_data(as_text=True)
    assert "a.u4" in listing and "a.u2" not in listing and "a.u3" not in listing
    assert client.get(f"/admin/users/{inside}").status_code == 200
    for user_id in (high, beside):
        assert client.get(f"/admin/users/{user_id}").status_code == 403
        assert client.post(f"/admin/users/{user_id}/password", data={"pw-password": "taken-over-1"}).status_code == 403
        assert client.post(f"/admin/users/{user_id}/active", data={"active": "0"}).status_code == 403
        assert client.post(f"/admin/users/{user_id}/grants",
                           data={"grant-role": "filler", "grant-unit_id": city["a2"]}).status_code == 403
    assert client.post(f"/admin/users/{high}/grants/{filler_grant}/revoke").status_code == 403

    issued = client.post("/admin/tokens/", data={"username": "a.u2", "name": "takeover"})
    assert issued.status_code == 422
    assert "您管理的单位中没有此用户名的账号。" in issued.get_data(as_text=True)
    tokens = client.get("/admin/tokens/").get_data(as_text=True)
    assert "a.u2" not in tokens and "issued by root" not in tokens
    assert client.post(f"/admin/tokens/{token_id}/revoke").status_code == 403
    assert client.post("/admin/tokens/", data={"username": "a.u4", "name": "fine"}).status_code == 201

    with app.app_context():
        taken = db.session.get(User, high)
        assert taken.check_password(PASSWORD) and taken.active
        assert db.session.execute(select(func.count()).select_from(ApiToken)
                                  .where(ApiToken.user_id == high)).scalar() == 1
        assert db.session.get(ApiToken, token_id).revoked_at is None

    # The city administrator still manages all of them.
    client.post("/logout")
    login("root")
    listing = client.get("/admin/users/").get_data(as_text=True)
    assert "a.u2" in listing and "a.u3" in listing
    assert client.post(f"/admin/users/{high}/password", data={"pw-password": "new-password-1"}).status_code == 302


# --- finding 3: every redirect target is a same-site path ------------------------------------------

HOSTILE = [
    "/\t/evil.example", "\t/evil.example", "/\n/evil.example", "/\r\nSet-Cookie: x=1", "/%0d%0aSet-Cookie:x",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\\/evil.example",
    "//evil.example", "///evil.example", "//evil.example/%2F..", " //evil.example", "/ /evil.example",
    "https://evil.example/", "http:evil.example", "HTTPS://evil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,x", "evil.example", "./evil", "/\x00/evil.example",
    "/\x7f/evil.example", "/\u3000/evil.example", "/\u2028/evil.example", "\x0c/evil.example",
]


def same_site_path(location):
    """What a browser makes of Location: tabs and newlines dropped, C0 and spaces trimmed, '\\' read as '/'."""
    assert not re.search(r"[\x00-\x1f\x7f]", location), location
    seen = re.sub(r"[\t\n\r]", "", location).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                                                   "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b"
                                                   "\x1c\x1d\x1e\x1f ").replace("\\", "/")
    parts = urlsplit(seen)
    return (not parts.scheme and not parts.netloc and seen.startswith("/") and not seen.startswith("//")
            and "\\" not in location)


def test_safe_next_keeps_same_site_paths_and_refuses_the_rest(app):
    from workflows.redirects import safe_next
    with app.test_request_context():
        for target in HOSTILE + [None, "", 42, "/" + "a" * 5000]:
            assert safe_next(target, "home.index") == "/", repr(target)
        assert safe_next("/submissions/?state=draft&page=2#x", "home.index") == "/submissions/?state=draft&page=2#x"
        assert safe_next("/forms/activity_report/new", "home.index") == "/forms/activity_report/new"
        assert safe_next("/表单/", "home.index") == "/表单/"
        assert safe_next("//evil", "submissions.show", submission_id=3) == "/submissions/3"


def test_sign_in_never_sends_anyone_off_site_nor_fails(app, city, create_user):
    create_user("erin", city["a1"], "filler")
    raw_queries = ["next=/%09/evil.example", "next=/%0A/x", "next=/%0D%0ASet-Cookie:%20x=1",
                   "next=%2F%5Cevil.example", "next=/%E3%80%80/evil.example"]
    cases = [{"query_string": q} for q in raw_queries] + [{"query_string": {"next": t}} for t in HOSTILE]
    for case in cases:
        response = app.test_client().post("/login", data={"username": "erin", "password": PASSWORD}, **case)
        assert response.status_code == 302, case
        assert response.headers["Location"] == "/", case
    kept = app.test_client().post("/login", query_string={"next": "/submissions/?state=draft"},
                                  data={"username": "erin", "password": PASSWORD})
    assert kept.headers["Location"] == "/submissions/?state=draft"


def test_language_switch_never_sends_anyone_off_site(app, client):
    for target in HOSTILE:
        response = client.post("/language/en", data={"next": target})
        assert response.status_code == 302, repr(target)
        assert response.headers["Location"] == "/", repr(target)
        assert same_site_path(response.headers["Location"])
    assert client.post("/language/zh_CN", data={"next": "/login?x=1"}).headers["Location"] == "/login?x=1"


def test_submission_actions_never_send_anyone_off_site(app, client, login, people):  # noqa: F811
    login("reviewer.a")
    for target in ["/\t/evil.example", "/\r\nSet-Cookie:x", "//evil.example", "/\\evil.example"]:
        submission_id = new_report(app, people)
        response = client.post(f"/submissions/{submission_id}/actions/approve",
                               data={"expected_version": 2, "next": target})
        assert response.status_code == 302, repr(target)
        assert response.headers["Location"] == f"/submissions/{submission_id}", repr(target)
    submission_id = new_report(app, people)
    response = client.post(f"/submissions/{submission_id}/actions/approve",
                           data={"expected_version": 2, "next": "/review/?state=submitted"})
    assert response.headers["Location"] == "/review/?state=submitted"


# --- finding 7: sessions end with sign-out, password resets and deactivation ------------------------

def _copy_session(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_an_old_cookie_is_dead_after_sign_out(app, client, login, people):  # noqa: F811
    submission_id = new_report(app, people)
    login("filler.a1")
    stolen = _copy_session(app, client)
    assert stolen.get(f"/submissions/{submission_id}").status_code == 200
    client.post("/logout")
    response = stolen.get(f"/submissions/{submission_id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # Signing in again starts a fresh session that works.
    assert login("filler.a1").status_code == 302
    assert client.get(f"/submissions/{submission_id}").status_code == 200


@pytest.mark.parametrize("change", ["password", "deactivate-and-reactivate"])
def test_an_old_cookie_is_dead_after_an_admin_reset_or_deactivation(app, client, login, people, create_user,  # noqa: F811
                                                                    change):
    submission_id = new_report(app, people)
    create_user("root", people["city"]["city"], "admin")
    login("filler.a1")
    assert client.get(f"/submissions/{submission_id}").status_code == 200
    admin = app.test_client()
    admin.post("/login", data={"username": "root", "password": PASSWORD})
    if change == "password":
        assert admin.post(f"/admin/users/{people['filler']}/password",
                          data={"pw-password": "brand-new-pass-1"}).status_code == 302
    else:
        assert admin.post(f"/admin/users/{people['filler']}/active", data={"active": "0"}).status_code == 302
        assert admin.post(f"/admin/users/{people['filler']}/active", data={"active": "1"}).status_code == 302
    response = client.get(f"/submissions/{submission_id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # The admin's own session is untouched.
    assert admin.get("/admin/users/").status_code == 200


def test_a_session_from_before_generations_is_not_accepted(app, client, login, create_user, city):
    uid = create_user("old.cookie", city["a1"], "filler")
    login("old.cookie")
    with client.session_transaction() as session:
        session["_user_id"] = str(uid)  # the bare id older versions stored
    assert client.get("/").status_code == 302


# --- finding 9: units ---------------------------------------------------------------------------

def test_district_admin_cannot_deactivate_the_unit_of_its_own_admin_grant(app, client, login, city, create_user):
    create_user("admin.a", city["a"], "admin")
    login("admin.a")
    response = client.post(f"/admin/units/{city['a']}/active", data={"active": "0"}, follow_redirects=True)
    assert "您的管理员角色设在此单位或其下属单位" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Unit, city["a"]).active
    assert client.get("/admin/units/").status_code == 200
    # Below its own unit it may still deactivate.
    assert client.post(f"/admin/units/{city['a1']}/active", data={"active": "0"}).status_code == 302
    with app.app_context():
        assert not db.session.get(Unit, city["a1"]).active
        # Without a person acting (the command line, the demo) the check has nothing to protect.
        deactivate_unit(db.session.get(Unit, city["b"]))
        db.session.rollback()
        admin_a = db.session.execute(select(User).where(User.username == "admin.a")).scalar_one()
        with pytest.raises(OrgError):
            deactivate_unit(db.session.get(Unit, city["a"]), admin_a)


def test_city_admin_may_deactivate_a_district_whose_admin_sits_there(app, client, login, city, create_user):
    create_user("root", city["city"], "admin", ("admin", city["a"]))
    create_user("admin.a", city["a"], "admin")
    login("root")
    assert client.post(f"/admin/units/{city['a']}/active", data={"active": "0"}).status_code == 302
    with app.app_context():
        assert not db.session.get(Unit, city["a"]).active


def test_reactivating_a_unit_reactivates_everything_under_it(app, client, login, city, create_user, create_unit):
    deeper = create_unit(city["a1"], name="A区单位1的队伍", kind="team", code="DA-1-T")
    create_user("root", city["city"], "admin")
    login("root")
    assert client.post(f"/admin/units/{city['a']}/active", data={"active": "0"}).status_code == 302
    with app.app_context():
        assert not any(db.session.get(Unit, i).active for i in (city["a"], city["a1"], city["a2"], deeper))
    # A unit under a deactivated one still waits for the one above it.
    refused = client.post(f"/admin/units/{city['a1']}/active", data={"active": "1"}, follow_redirects=True)
    assert "请先重新启用其上级单位" in refused.get_data(as_text=True)
    assert client.post(f"/admin/units/{city['a']}/active", data={"active": "1"}).status_code == 302
    with app.app_context():
        assert all(db.session.get(Unit, i).active for i in (city["a"], city["a1"], city["a2"], deeper))
        assert all(u.active for u in db.session.execute(select(Unit)).scalars())


# --- finding 10: security headers ---------------------------------------------------------------

def _policy(response):
    header = response.headers.get("Content-Security-Policy")
    assert header, response.request.path
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def check_page(response, status=200):
    """CSP without inline script; every inline <script> carries this response's nonce; no handler attributes."""
    assert response.status_code == status, response.request.path
    policy = _policy(response)
    script_src = policy["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'none'" in policy["object-src"] and "'none'" in policy["frame-ancestors"]
    nonces = [s[len("'nonce-"):-1] for s in script_src if s.startswith("'nonce-")]
    assert len(nonces) == 1
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
        if "src=" not in tag:
            assert f'nonce="{nonces[0]}"' in tag, (response.request.path, tag)
    handlers = re.findall(r"<[^>]*\son[a-z]+\s*=", html, flags=re.I)
    assert not handlers, (response.request.path, handlers)
    assert "javascript:" not in html.lower()
    assert not re.search(r"<[^>]*\sstyle\s*=", html, flags=re.I), response.request.path
    return nonces[0]


def test_main_pages_send_a_strict_policy_and_carry_no_inline_handlers(app, client, login, people,  # noqa: F811
                                                                       create_user):
    submission_id = new_report(app, people)
    create_user("root", people["city"]["city"], "admin", "office")
    check_page(client.get("/login"))
    login("filler.a1")
    pages = ["/", "/forms/", "/forms/activity_report/new", "/submissions/", f"/submissions/{submission_id}"]
    first = [check_page(client.get(p)) for p in pages]
    assert len(set(first)) == len(first)  # a fresh nonce per response
    client.post("/logout")
    login("reviewer.a")
    for path in ("/review/", f"/submissions/{submission_id}"):
        check_page(client.get(path))
    assert "data-select-all" in client.get("/review/").get_data(as_text=True)
    client.post("/logout")
    login("root")
    for path in ("/admin/units/", f"/admin/units/{people['city']['a']}", "/admin/users/",
                 f"/admin/users/{people['filler']}", "/admin/tokens/", "/admin/forms/", "/documents/directory/"):
        check_page(client.get(path))
    created = client.post("/admin/tokens/", data={"username": "filler.a1", "name": "script"})
    check_page(created, status=201)
    # Behaviour once given by inline handlers is declared by data attributes the static script reads.
    assert "data-select-on-focus" in created.get_data(as_text=True)
    tokens = client.get("/admin/tokens/").get_data(as_text=True)
    assert 'data-confirm="' in tokens


def test_headers_are_on_error_pages_and_json_too(app, client):
    for response in (client.get("/no-such-page"), client.get("/api/v1/forms")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# --- finding 10: the sign-in throttle -----------------------------------------------------------

def _try(app, username, password, address, **kw):
    return app.test_client().post("/login", data={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": address}, **kw)


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(app, city, create_user):
    create_user("admin", city["city"], "admin")
    for _ in range(5):
        assert _try(app, "admin", "guess-guess", "203.0.113.9").status_code == 401
    locked = _try(app, "admin", PASSWORD, "203.0.113.9")
    assert locked.status_code == 401 and "登录尝试次数过多" in locked.get_data(as_text=True)
    assert _try(app, "admin", PASSWORD, "198.51.100.7").status_code == 302


def test_spraying_many_accounts_from_one_address_is_slowed(app, city, create_user):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    create_user("victim", city["a1"], "filler")
    for n in range(limit):
        response = _try(app, f"user{n:03d}", "123456", "203.0.113.50")
        assert "用户名或密码错误" in response.get_data(as_text=True), n
    sprayed = _try(app, "victim", PASSWORD, "203.0.113.50")
    assert sprayed.status_code == 401 and "登录尝试次数过多" in sprayed.get_data(as_text=True)
    with app.app_context():
        # Refused before the password is checked: the attempt is not even counted as a guess.
        assert db.session.execute(select(func.count()).select_from(LoginAttempt)
                                  .where(LoginAttempt.username == "victim")).scalar() == 0
    assert _try(app, "victim", PASSWORD, "198.51.100.8").status_code == 302


def test_a_success_does_not_reset_the_address_count(app, city, create_user):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    create_user("mine", city["a1"], "filler")
    create_user("victim", city["a1"], "filler")
    for n in range(limit - 1):
        _try(app, f"user{n:03d}", "123456", "203.0.113.51")
    assert _try(app, "mine", PASSWORD, "203.0.113.51").status_code == 302
    _try(app, "user999", "123456", "203.0.113.51")
    assert _try(app, "victim", PASSWORD, "203.0.113.51").status_code == 401


def test_limits_come_from_the_environment(tmp_path):
    from workflows.config import ConfigError, load_config
    config = load_config(str(tmp_path), {"LOGIN_MAX_FAILURES_PER_ADDRESS": "7", "LOGIN_MAX_FAILURES": "3",
                                         "LOGIN_WINDOW_MINUTES": "30", "TRUSTED_PROXIES": "1"})
    assert (config["LOGIN_MAX_FAILURES_PER_ADDRESS"], config["LOGIN_MAX_FAILURES"],
            config["LOGIN_WINDOW_MINUTES"], config["TRUSTED_PROXIES"]) == (7, 3, 30, 1)
    assert load_config(str(tmp_path), {})["TRUSTED_PROXIES"] == 0
    with pytest.raises(ConfigError, match="LOGIN_MAX_FAILURES_PER_ADDRESS"):
        load_config(str(tmp_path), {"LOGIN_MAX_FAILURES_PER_ADDRESS": "many"})
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config(str(tmp_path), {"TRUSTED_PROXIES": "-1"})


def test_behind_a_trusted_proxy_the_forwarded_address_counts(database_url, tmp_path, city, create_user):
    create_user("owner", city["a1"], "filler")
    proxied = make_app(database_url, tmp_path, TRUSTED_PROXIES=1)
    for _ in range(5):
        _try(proxied, "owner", "wrong-password", "10.0.0.1", headers={"X-Forwarded-For": "203.0.113.77"})
    assert _try(proxied, "owner", PASSWORD, "10.0.0.1",
                headers={"X-Forwarded-For": "203.0.113.77"}).status_code == 401
    # Another client behind the same proxy is not locked out with it.
    assert _try(proxied, "owner", PASSWORD, "10.0.0.1",
                headers={"X-Forwarded-For": "198.51.100.20"}).status_code == 302
    with proxied.app_context():
        addresses = set(db.session.execute(select(LoginAttempt.remote_addr)).scalars())
        assert addresses == {"203.0.113.77", "198.51.100.20"}
        db.engine.dispose()


# --- finding 10, in a browser: the policy is enforced and the moved handlers still work -----------


def test_pages_work_under_the_policy_in_a_real_browser(app, live_server, browser, people,  # noqa: F811
                                                       create_user):
    first, second = new_report(app, people), new_report(app, people)
    create_user("root", people["city"]["city"], "admin")
    page = browser.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    def sign_in(username):
        page.context.clear_cookies()
        page.goto(f"{live_server}/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button.primary")

    sign_in("reviewer.a")
    page.goto(f"{live_server}/review/")
    page.check("input[data-select-all]")
    assert page.is_checked(f"input[name=ids][value='{first}']") and page.is_checked(f"input[name=ids][value='{second}']")
    page.uncheck("input[data-select-all]")
    assert not page.is_checked(f"input[name=ids][value='{first}']")

    sign_in("root")
    page.goto(f"{live_server}/admin/tokens/")
    page.fill("#username", "filler.a1")
    page.fill("#name", "script")
    page.click("form[action$='/admin/tokens/'] button.primary")
    token_field = page.locator("input.token")
    token_field.focus()
    assert page.evaluate("() => window.getSelection().toString() || "
                         "document.activeElement.value.substring(document.activeElement.selectionStart, "
                         "document.activeElement.selectionEnd)").startswith("wm_")
    page.goto(f"{live_server}/admin/tokens/")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()
    page.once("dialog", lambda dialog: answer(dialog, False))
    page.click("form[data-confirm] button")
    assert questions and "吊销" in questions[0]
    with app.app_context():
        assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is None
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.click("form[data-confirm] button")
    page.wait_for_load_state()
    with app.app_context():
        assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is not None
    assert not violations, violations
