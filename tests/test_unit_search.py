"""Pickers that scale: the units type-ahead answers only within the person's grants, 20 at most."""
import pytest


@pytest.fixture
def many(city, create_unit):
    """25 units under district A named 社区N, and one such unit in district B."""
    ids = [create_unit(city["a"], name=f"清河社区{n:02d}", code=f"QH-{n:02d}", kind="community") for n in range(25)]
    other = create_unit(city["b"], name="清河社区B", code="QH-B", kind="community")
    return {"a": ids, "b": other}


def _search(client, **args):
    response = client.get("/org/units/search", query_string=args)
    assert response.status_code == 200, response.status_code
    return response.get_json()


def test_only_units_within_the_grants_of_the_role(client, login, city, create_user, many):
    create_user("reviewer.a", city["a"], "reviewer", ("filler", city["b1"]))
    login("reviewer.a")
    found = _search(client, q="清河", role="reviewer")
    assert found and all(item["id"] in many["a"] for item in found)
    assert many["b"] not in {item["id"] for item in found}
    # District B's units are not the reviewer's, even by exact code or by another district's name.
    assert _search(client, q="QH-B", role="reviewer") == []
    assert _search(client, q="B区", role="reviewer") == []
    # The filler grant at B1 reaches B1 only, and only when that role is asked for.
    assert [item["id"] for item in _search(client, q="B区", role="filler")] == [city["b1"]]
    assert _search(client, q="B区单位1", role="reviewer") == []
    assert [item["id"] for item in _search(client, q="单位1", role=["filler", "reviewer"])] == [city["a1"], city["b1"]]


def test_at_most_twenty_by_code(client, login, city, create_user, many):
    create_user("reviewer.a", city["a"], "reviewer")
    login("reviewer.a")
    found = _search(client, q="清河社区", role="reviewer")
    assert len(found) == 20
    assert [item["id"] for item in found] == many["a"][:20]
    assert found[0] == {"id": many["a"][0], "name": "清河社区00", "code": "QH-00", "parent": "A区文明办",
                        "label": "清河社区00（QH-00）"}


def test_matches_by_name_and_by_code(client, login, city, create_user, many):
    create_user("reviewer.a", city["a"], "reviewer")
    login("reviewer.a")
    assert [item["id"] for item in _search(client, q="社区07", role="reviewer")] == [many["a"][7]]
    assert [item["id"] for item in _search(client, q="qh-13", role="reviewer")] == [many["a"][13]]  # any case
    assert [item["id"] for item in _search(client, q="QH-13", role="reviewer")] == [many["a"][13]]
    assert _search(client, q="%", role="reviewer") == []  # a wildcard is a character, not "everything"
    assert _search(client, q="   ", role="reviewer") == []


def test_refuses_strangers_and_unknown_roles(app, client, login, city, create_user, many):
    assert client.get("/org/units/search?q=清河&role=reviewer").status_code == 302  # to the sign-in page
    create_user("nobody", city["a1"])
    login("nobody")
    assert _search(client, q="清河", role="reviewer") == []
    assert client.get("/org/units/search?q=清河").status_code == 400
    assert client.get("/org/units/search?q=清河&role=superuser").status_code == 400


def test_the_unit_tree_searches_by_name_or_code(client, login, city, create_user, many):
    create_user("admin.a", city["a"], "admin")
    login("admin.a")
    page = client.get("/admin/units/?q=QH-07").get_data(as_text=True)
    assert "清河社区07" in page and "A区文明办" in page  # the match where it sits, under its office
    assert "清河社区08" not in page and "A区单位1" not in page
    assert "1 个单位" in page or "1 unit" in page
    everything = client.get("/admin/units/").get_data(as_text=True)
    assert "清河社区08" in everything and "清河社区B" not in everything


def test_admin_pickers_are_type_aheads_for_the_admins_units(client, login, city, create_user):
    create_user("admin.a", city["a"], "admin")
    login("admin.a")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'data-typeahead="/org/units/search?role=admin"' in page
    page = client.get(f"/admin/units/{city['a1']}").get_data(as_text=True)
    assert 'data-typeahead="/org/units/search?role=admin"' in page


def test_only_units_of_the_kinds_asked_for(client, login, city, create_user, many):
    create_user("filler.a", city["a"], "filler")
    login("filler.a")
    assert {item["id"] for item in _search(client, q="A区", role="filler")} == {city["a"], city["a1"], city["a2"]}
    assert {item["id"] for item in _search(client, q="A区", role="filler", kind=["civilized_unit", "team"])} \
        == {city["a1"], city["a2"]}
    assert [item["id"] for item in _search(client, q="清河社区0", role="filler", kind="community")] == many["a"][:10]
    assert client.get("/org/units/search?q=A区&role=filler&kind=palace").status_code == 400
