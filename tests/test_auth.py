"""Sign-in: CSRF, the per-account throttle, inactive accounts, cookie flags, language."""
import re

import pytest

from tests.conftest import PASSWORD, make_app


@pytest.fixture
def csrf_client(database_url, tmp_path):
    app = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    yield app, app.test_client()
    from tests.conftest import _clear
    _clear(app)


def _token(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_post_without_csrf_token_is_refused(csrf_client, create_unit):
    app, client = csrf_client
    response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_login_with_csrf_token_works(csrf_client):
    app, client = csrf_client
    from workflows.extensions import db
    from workflows.org.operations import create_unit, create_user
    with app.app_context():
        unit = create_unit(None, "office", "CITY", "市文明办")
        create_user("alice", "Alice", PASSWORD, unit)
        db.session.commit()
    response = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": _token(client)})
    assert response.status_code == 302
    # Every POST form in the signed-in pages carries the token too.
    home = client.get("/").get_data(as_text=True)
    assert 'name="csrf_token"' in home
    assert client.post("/logout").status_code == 400


def _fail(login, username, times):
    return [login(username, "wrong-password") for _ in range(times)]


def test_throttle_engages_after_five_failures_with_one_message_for_all(app, client, login, create_unit, create_user):
    city = create_unit(name="市文明办", code="CITY")
    create_user("known", city)
    known = _fail(login, "known", 5)
    unknown = _fail(login, "nobody-here", 5)
    assert all(r.status_code == 401 for r in known + unknown)
    assert [r.get_data(as_text=True).count("用户名或密码错误") for r in known] == [1] * 5
    # Sixth attempt: refused even with the right password, and the message is
    # the same whether or not the account exists.
    locked_known = login("known", PASSWORD)
    locked_unknown = login("nobody-here", PASSWORD)
    assert locked_known.status_code == 401
    text_known = locked_known.get_data(as_text=True)
    text_unknown = locked_unknown.get_data(as_text=True)
    assert "登录尝试次数过多" in text_known
    assert _error(text_known) == _error(text_unknown)
    assert client.get("/").status_code == 302  # still signed out


def _error(page):
    return re.search(r'flash-error" role="alert">([^<]+)<', page).group(1)


def test_wrong_password_and_unknown_user_read_the_same(app, login, create_unit, create_user):
    create_user("bob", create_unit(code="CITY"))
    assert _error(login("bob", "nope").get_data(as_text=True)) == \
        _error(login("ghost", "nope").get_data(as_text=True)) == "用户名或密码错误。"


def test_inactive_user_is_told_after_the_right_password_only(app, client, login, create_unit, create_user):
    create_user("carol", create_unit(code="CITY"), active=False)
    assert "用户名或密码错误" in login("carol", "nope").get_data(as_text=True)
    response = login("carol", PASSWORD)
    assert "已停用" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_english_messages_when_chosen(app, client, login, create_unit):
    client.post("/language/en", data={"next": "/login"})
    assert "Wrong username or password." in login("ghost", "nope").get_data(as_text=True)


def test_session_cookie_flags(database_url, tmp_path, create_unit, create_user):
    create_user("dave", create_unit(code="CITY"))
    app = make_app(database_url, tmp_path, SESSION_COOKIE_SECURE=True)
    response = app.test_client().post("/login", data={"username": "dave", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_open_redirect_after_login_is_refused(app, client, create_unit, create_user):
    create_user("erin", create_unit(code="CITY"))
    response = client.post("/login?next=//evil.example/", data={"username": "erin", "password": PASSWORD})
    assert response.headers["Location"] == "/"
