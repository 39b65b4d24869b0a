"""The unit tree: subtree queries, moves and the bad input the tree refuses."""
import pytest
from sqlalchemy import select

from workflows.extensions import db
from workflows.models import Unit
from workflows.org.operations import OrgError, create_unit, deactivate_unit, move_unit


def _subtree_codes(unit_id):
    root = db.session.get(Unit, unit_id)
    return sorted(db.session.execute(select(Unit.code).where(Unit.in_subtree(root.path))).scalars())


def test_subtree_is_one_range_query(app, city):
    with app.app_context():
        assert _subtree_codes(city["a"]) == ["DA", "DA-1", "DA-2"]
        assert len(_subtree_codes(city["city"])) == 7


def test_subtree_does_not_leak_into_ids_sharing_a_prefix(app, create_unit):
    # Unit 1's subtree must not include unit 10, 11... whose paths start "/1".
    root = create_unit(name="root", code="ROOT")
    ids = [create_unit(root, code=f"K{i}") for i in range(12)]
    with app.app_context():
        first = db.session.get(Unit, ids[0])
        assert _subtree_codes(first.id) == ["K0"]


def test_move_takes_the_whole_subtree(app, city, create_unit):
    team = create_unit(city["a1"], code="TEAM", kind="team")
    with app.app_context():
        unit = db.session.get(Unit, city["a1"])
        move_unit(unit, db.session.get(Unit, city["b"]))
        db.session.commit()
        assert _subtree_codes(city["b"]) == ["DA-1", "DB", "DB-1", "DB-2", "TEAM"]
        assert _subtree_codes(city["a"]) == ["DA", "DA-2"]
        moved_team = db.session.get(Unit, team)
        assert moved_team.depth == 3
        assert moved_team.path == f"/{city['city']}/{city['b']}/{city['a1']}/{team}/"


def test_move_under_own_descendant_is_refused_and_changes_nothing(app, city):
    with app.app_context():
        before = {u.id: u.path for u in db.session.execute(select(Unit)).scalars()}
        district = db.session.get(Unit, city["a"])
        with pytest.raises(OrgError, match="不能把单位移动到它自身"):
            move_unit(district, db.session.get(Unit, city["a1"]))
        db.session.rollback()
        assert {u.id: u.path for u in db.session.execute(select(Unit)).scalars()} == before


def test_duplicate_code_is_refused(app, city):
    with app.app_context():
        with pytest.raises(OrgError, match="已被使用"):
            create_unit(db.session.get(Unit, city["a"]), "community", "da-1", "重复")


def test_deactivate_covers_the_subtree(app, city):
    with app.app_context():
        deactivate_unit(db.session.get(Unit, city["a"]))
        db.session.commit()
        states = dict(db.session.execute(select(Unit.code, Unit.active)).all())
        assert not states["DA"] and not states["DA-1"] and not states["DA-2"]
        assert states["DB"] and states["DB-1"] and states["CITY"]
