"""The queue's unit filter is a type-ahead over the reviewer's units, by keyboard as by mouse."""
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.test_workflow_engine import new_report, people  # noqa: F401 (the fixture)


def test_the_queue_unit_filter_finds_a_unit_by_typing(app, live_server, browser, people):  # noqa: F811
    new_report(app, people)
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{live_server}/login")
    page.fill("#username", "reviewer.a")
    page.fill("#password", "correct-horse-1")
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/review/")
    box = page.get_by_role("combobox", name="单位")
    expect(box).to_be_visible()
    box.fill("单位")
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(2)  # A区单位1 and A区单位2; district B's are not offered
    expect(options.first).to_contain_text("A区单位1")
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("A区单位2（DA-2）")
    page.click("button:has-text('筛选')")
    page.wait_for_url("**unit=*")
    chosen = parse_qs(urlsplit(page.url).query)["unit"][0]
    assert int(chosen) == people["city"]["a2"]
    # The remembered filter shows the chosen unit's name again.
    page.goto(f"{live_server}/")
    page.goto(f"{live_server}/review/")
    expect(page.get_by_role("combobox", name="单位")).to_have_value("A区单位2（DA-2）")
    expect(page.locator("text=测试活动")).to_have_count(0)  # the report is at A区单位1
    page.close()
