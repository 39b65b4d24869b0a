"""The demo city: every area of the notice, a user for every role, idempotent."""
from sqlalchemy import func, select

from workflows.demo.city import DEMO_PASSWORD, DISTRICTS, seed_demo
from workflows.extensions import db
from workflows.models import Role, RoleGrant, Unit, User


def _counts():
    return tuple(db.session.execute(select(func.count()).select_from(m)).scalar() for m in (Unit, User, RoleGrant))


def test_seed_demo_builds_the_city_once(app, client):
    with app.app_context():
        seed_demo()
        first = _counts()
        seed_demo()
        assert _counts() == first
        names = set(db.session.execute(select(Unit.name)).scalars())
        for _, area, _, _ in DISTRICTS:
            assert f"{area}文明办" in names
        assert {"颍州区文明办", "阜阳经济技术开发区文明办", "阜合现代产业园区文明办", "市直机关文明办"} <= names
        roles = set(db.session.execute(select(RoleGrant.role)).scalars())
        assert roles == {r.value for r in Role}
    response = client.post("/login", data={"username": "yz.reviewer", "password": DEMO_PASSWORD})
    assert response.status_code == 302
