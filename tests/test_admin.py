"""Role scoping and the administration pages."""
import pytest
from sqlalchemy import select

from workflows.access import grant_paths, has_role_at, units_for
from workflows.extensions import db
from workflows.models import Role, RoleGrant, Unit, User


def test_district_reviewer_subtree_includes_own_units_and_excludes_sibling(app, city, create_user):
    uid = create_user("rev.a", city["a"], "reviewer")
    with app.test_request_context():
        user = db.session.get(User, uid)
        codes = sorted(u.code for u in db.session.execute(units_for(user, Role.REVIEWER)).scalars())
        assert codes == ["DA", "DA-1", "DA-2"]
        assert has_role_at(user, Role.REVIEWER, db.session.get(Unit, city["a2"]))
        assert not has_role_at(user, Role.REVIEWER, db.session.get(Unit, city["b1"]))
        assert not has_role_at(user, Role.REVIEWER, db.session.get(Unit, city["city"]))
        # A role held is not another role.
        assert not has_role_at(user, Role.ADMIN, db.session.get(Unit, city["a1"]))


def test_grant_on_deactivated_unit_covers_nothing(app, city, create_user):
    uid = create_user("rev.b", city["b"], "reviewer")
    with app.test_request_context():
        db.session.get(Unit, city["b"]).active = False
        db.session.commit()
        assert grant_paths(db.session.get(User, uid), Role.REVIEWER) == []


ADMIN_PAGES = ["/admin/units/", "/admin/users/", "/admin/users/new", "/documents/directory/"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_refuse_non_admins(client, login, city, create_user, path):
    create_user("filler", city["a1"], "filler", "reviewer", "office", "certifier")
    login("filler")
    assert client.get(path).status_code == 403


def test_admin_pages_need_sign_in(client, city, create_user):
    from urllib.parse import parse_qs, urlsplit
    response = client.get("/admin/units/")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login" and target.netloc in ("", "localhost")
    assert parse_qs(target.query) == {"next": ["/admin/units/"]}
    # The sign-in page is what the browser lands on, and signing in there leads back to the tree.
    assert "登录" in client.get(response.headers["Location"]).get_data(as_text=True)
    create_user("root", city["city"], "admin")
    back = client.post(response.headers["Location"], data={"username": "root", "password": "correct-horse-1"})
    assert back.status_code == 302 and urlsplit(back.headers["Location"]).path == "/admin/units/"
    assert "市文明办" in client.get("/admin/units/").get_data(as_text=True)


def test_district_admin_is_kept_inside_its_subtree(client, login, city, create_user):
    create_user("admin.a", city["a"], "admin")
    other = create_user("someone.b", city["b1"], "filler")
    login("admin.a")
    tree = client.get("/admin/units/").get_data(as_text=True)
    assert "A区单位1" in tree and "B区单位1" not in tree and "市文明办" not in tree
    assert client.get(f"/admin/units/{city['b1']}").status_code == 403
    assert client.get(f"/admin/units/new?parent={city['b']}").status_code == 403
    assert client.post(f"/admin/units/{city['b1']}", data={"kind": "community", "code": "X", "name": "改名"}).status_code == 403
    assert client.post(f"/admin/units/{city['b1']}/active", data={"active": "0"}).status_code == 403
    assert client.get(f"/admin/users/{other}").status_code == 403
    users = client.get("/admin/users/").get_data(as_text=True)
    assert "someone.b" not in users and "admin.a" in users


def test_create_rename_move_and_deactivate_a_unit(app, client, login, city, create_user):
    create_user("root", city["city"], "admin")
    login("root")
    response = client.post(f"/admin/units/new?parent={city['a']}",
                           data={"kind": "community", "code": "DA-3", "name": "新社区"})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.execute(select(Unit).where(Unit.code == "DA-3")).scalar_one()
        new_id = new.id
        assert new.parent_id == city["a"] and new.path.endswith(f"/{city['a']}/{new_id}/")
    assert client.post(f"/admin/units/{new_id}", data={"kind": "community", "code": "DA-3", "name": "新社区（改）"}
                       ).status_code == 302
    assert client.post(f"/admin/units/{new_id}/move", data={"move-parent_id": city["b"]}).status_code == 302
    assert client.post(f"/admin/units/{new_id}/active", data={"active": "0"}).status_code == 302
    with app.app_context():
        unit = db.session.get(Unit, new_id)
        assert (unit.name, unit.parent_id, unit.active) == ("新社区（改）", city["b"], False)


def test_move_under_own_descendant_gets_a_message_at_the_field(app, client, login, city, create_user):
    create_user("root", city["city"], "admin")
    login("root")
    response = client.post(f"/admin/units/{city['a']}/move", data={"move-parent_id": city["a1"]})
    assert response.status_code == 422
    assert "不能把单位移动到它自身或它的下属单位之下" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Unit, city["a"]).parent_id == city["city"]


def test_duplicate_code_keeps_what_was_typed(app, client, login, city, create_user):
    create_user("root", city["city"], "admin")
    login("root")
    response = client.post(f"/admin/units/new?parent={city['a']}",
                           data={"kind": "community", "code": "DB-1", "name": "我输入的名称"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "单位代码 DB-1 已被使用" in page and 'value="我输入的名称"' in page
    with app.app_context():
        assert db.session.execute(select(Unit).where(Unit.name == "我输入的名称")).first() is None


def test_user_lifecycle_and_roles(app, client, login, city, create_user):
    create_user("root", city["city"], "admin")
    login("root")
    response = client.post("/admin/users/new", data={"username": "new.user", "display_name": "新用户",
                                                     "unit_id": city["a1"], "password": "longenough1"})
    assert response.status_code == 302
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.username == "new.user")).scalar_one()
    assert client.post(f"/admin/users/{uid}/grants", data={"grant-role": "filler", "grant-unit_id": city["a1"]}
                       ).status_code == 302
    assert client.post(f"/admin/users/{uid}/password", data={"pw-password": "another-pass-2"}).status_code == 302
    assert client.post(f"/admin/users/{uid}/active", data={"active": "0"}).status_code == 302
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.check_password("another-pass-2") and not user.active
        assert [(g.role, g.unit_id) for g in user.grants] == [("filler", city["a1"])]
        grant_id = user.grants[0].id
    assert client.post(f"/admin/users/{uid}/grants/{grant_id}/revoke").status_code == 302
    with app.app_context():
        assert db.session.execute(select(RoleGrant).where(RoleGrant.user_id == uid)).first() is None


def test_role_outside_the_admins_subtree_is_refused(app, client, login, city, create_user):
    create_user("admin.a", city["a"], "admin")
    target = create_user("person.a", city["a1"], "filler")
    login("admin.a")
    response = client.post(f"/admin/users/{target}/grants", data={"grant-role": "reviewer", "grant-unit_id": city["b"]})
    assert response.status_code == 422
    assert "只能在您所管理的单位授予角色" in response.get_data(as_text=True)
    with app.app_context():
        assert [g.role for g in db.session.get(User, target).grants] == ["filler"]


def test_short_password_and_taken_username_are_refused_at_the_field(app, client, login, city, create_user):
    create_user("root", city["city"], "admin")
    login("root")
    short = client.post("/admin/users/new", data={"username": "x.y", "display_name": "某人",
                                                  "unit_id": city["a1"], "password": "short"})
    assert "密码至少 8 位" in short.get_data(as_text=True)
    taken = client.post("/admin/users/new", data={"username": "root", "display_name": "某人",
                                                  "unit_id": city["a1"], "password": "longenough1"})
    assert "用户名 root 已被占用" in taken.get_data(as_text=True)
