"""Lists you can scan: the columns, remembered filters, the review page's way back and its next item."""
import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import update

from tests.test_workflow_engine import new_report, people  # noqa: F401 (the fixture)
from workflows.extensions import db
from workflows.models import Submission
from workflows.models.units import utcnow


@pytest.fixture
def reports(app, people):  # noqa: F811
    """Three submitted reports waiting 5, 3 and 1 days, the middle one of another campaign."""
    ids = [new_report(app, people) for _ in range(3)]
    with app.app_context():
        for days, submission_id in zip((5, 3, 1), ids):
            db.session.execute(update(Submission).where(Submission.id == submission_id).values(
                state_since=utcnow() - timedelta(days=days), campaign="leifeng", period="2017-03"))
        db.session.execute(update(Submission).where(Submission.id == ids[1]).values(campaign="qingming"))
        db.session.commit()
    return ids


def _links(html):
    return re.findall(r'href="([^"]+)"', html.replace("&amp;", "&"))


def _show_links(html):
    return [link for link in _links(html) if re.match(r"/submissions/\d+\?", link)]


def test_the_queue_shows_title_unit_date_campaign_state_and_age(client, login, reports):
    login("reviewer.a")
    html = client.get("/review/").get_data(as_text=True)
    for text in ("测试活动", "A区单位1", "2017-03-05", "学雷锋纪念日", "待审核", "5 天", "3 天", "1 天"):
        assert text in html, text
    assert "qingming" not in html.split("<tbody>")[1] or "清明" in html  # a campaign reads as its name
    # Each row links to its review page, carrying the queue's place.
    links = _show_links(html)
    assert [int(urlsplit(link).path.rsplit("/", 1)[1]) for link in links] == reports
    query = parse_qs(urlsplit(links[0]).query)
    assert query["back"][0].startswith("/review/")
    assert query["at"][0].endswith(f"_{reports[0]}")


def test_the_submissions_list_shows_the_same_columns(client, login, reports):
    login("filler.a1")
    html = client.get("/submissions/").get_data(as_text=True)
    for text in ("测试活动", "A区单位1", "2017-03-05", "学雷锋纪念日", "待审核", "3 天"):
        assert text in html, text
    assert f"/submissions/{reports[0]}" in html


def test_the_queue_remembers_its_filters_until_cleared(client, login, reports):
    login("reviewer.a")
    assert client.get("/review/?state=submitted&campaign=leifeng&unit=&month=").status_code == 200
    again = client.get("/review/")
    assert again.status_code == 302
    assert parse_qs(urlsplit(again.location).query) == {"state": ["submitted"], "campaign": ["leifeng"]}
    html = client.get(again.location).get_data(as_text=True)
    assert len(_show_links(html)) == 2 and "clear=1" in html
    # Choosing "all" again replaces the remembered choice.
    assert client.get("/review/?state=&campaign=").status_code == 200
    assert client.get("/review/").status_code == 200
    client.get("/review/?campaign=qingming")
    cleared = client.get("/review/?clear=1")
    assert cleared.status_code == 302 and urlsplit(cleared.location).query == ""
    assert client.get("/review/").status_code == 200


def test_the_submissions_list_remembers_its_state_filter(client, login, reports):
    login("filler.a1")
    client.get("/submissions/?state=returned")
    again = client.get("/submissions/")
    assert again.status_code == 302 and "state=returned" in again.location
    assert "测试活动" not in client.get(again.location).get_data(as_text=True)
    assert client.get("/submissions/?state=").status_code == 200  # "all"
    assert client.get("/submissions/").status_code == 200
    client.get("/submissions/?state=draft")
    assert client.get("/submissions/?clear=1").status_code == 302
    assert client.get("/submissions/").status_code == 200


def test_the_review_page_goes_back_to_the_queue_page_and_on_to_the_next_item(client, login, reports):
    login("reviewer.a")
    html = client.get("/review/?campaign=leifeng&state=").get_data(as_text=True)
    first = _show_links(html)[0]
    page = client.get(first).get_data(as_text=True)
    back = parse_qs(urlsplit(first).query)["back"][0]
    assert back in _links(page)
    # The next item in the same filtered order: the qingming report is skipped.
    following = [link for link in _links(page) if re.match(rf"/submissions/{reports[2]}\?", link)]
    assert following, "no link to the next item"
    last = client.get(following[0]).get_data(as_text=True)
    assert back in _links(last)
    assert not [link for link in _links(last) if re.match(r"/submissions/\d+\?back=", link)]  # the end


def test_a_decision_from_the_queue_keeps_the_place(client, login, reports):
    login("reviewer.a")
    first = _show_links(client.get("/review/").get_data(as_text=True))[0]
    query = parse_qs(urlsplit(first).query)
    page = client.get(first).get_data(as_text=True)
    assert 'name="back"' in page and 'name="at"' in page
    response = client.post(f"/submissions/{reports[0]}/actions/approve",
                           data={"back": query["back"][0], "at": query["at"][0]})
    assert response.status_code == 302
    after = parse_qs(urlsplit(response.location).query)
    assert after["back"] == query["back"] and after["at"] == query["at"]
    # The item left the queue; "next" still follows from where it stood.
    page = client.get(response.location).get_data(as_text=True)
    assert [link for link in _links(page) if re.match(rf"/submissions/{reports[1]}\?", link)]


@pytest.mark.parametrize("back", ["//evil.example/review/", "https://evil.example/review/", "/\\evil.example",
                                  "/admin/units/"])
def test_a_back_link_elsewhere_is_not_followed(client, login, reports, back):
    login("reviewer.a")
    page = client.get(f"/submissions/{reports[0]}?back={quote(back)}&at=x").get_data(as_text=True)
    assert back not in _links(page)
    assert "/submissions/" in _links(page)
    response = client.post(f"/submissions/{reports[0]}/actions/approve", data={"back": back, "at": "x"})
    assert response.location.endswith(f"/submissions/{reports[0]}")


def test_next_stays_in_the_readers_reach(app, client, login, reports, people):  # noqa: F811
    """From a district B item, "next" never leads into district A, whatever the forged position says."""
    b_report = new_report(app, people, unit="b1", state_after="draft")
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == b_report).values(state="submitted"))
        db.session.commit()
    login("reviewer.b")
    page = client.get(f"/submissions/{b_report}?back=/review/&at=2000-01-01T00:00:00.000000_0")
    assert page.status_code == 200
    links = _links(page.get_data(as_text=True))
    assert "/review/" in links
    assert not [link for link in links if any(link.startswith(f"/submissions/{i}?") for i in reports)]
    assert [link for link in links if link.startswith(f"/submissions/{b_report}?back=")]  # itself: the only one
