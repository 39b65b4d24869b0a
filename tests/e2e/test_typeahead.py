"""Unit pickers are type-aheads over the person's units, by keyboard as by mouse: the queue's filter,
the unit a form is filled for."""
import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.e2e.pages import sign_in
from tests.test_workflow_engine import new_report, people  # noqa: F401 (the fixture)
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db


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


def test_the_unit_to_fill_for_is_picked_by_typing(app, live_server, browser, city, create_user):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a", city["a"], "filler")  # the district office fills for the units under it
    page = sign_in(browser.new_page(viewport={"width": 390, "height": 844}), live_server, "filler.a")
    page.goto(f"{live_server}/forms/")
    report = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("节点主题志愿服务活动报送")))
    box = report.get_by_role("combobox", name="代为填报的单位")
    expect(box).to_be_visible()
    box.fill("A区")
    options = page.get_by_role("listbox").get_by_role("option")
    # The units under district A this form is open to: not the office itself, nothing of district B.
    expect(options).to_have_count(2)
    expect(options).to_have_text([re.compile("^A区单位1（DA-1）"), re.compile("^A区单位2（DA-2）")])
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("A区单位2（DA-2）")
    report.get_by_role("button", name="开始填报").click()
    page.wait_for_url("**/forms/activity_report/new?unit=*")
    assert int(parse_qs(urlsplit(page.url).query)["unit"][0]) == city["a2"]
    expect(page.locator("main")).to_contain_text("A区单位2 · ")

    # A name typed but not picked starts nothing: the page asks for a unit.
    page.goto(f"{live_server}/forms/")
    box = page.locator("section.card", has_text="节点主题志愿服务活动报送").get_by_role("combobox")
    box.fill("A区单位")
    expect(page.get_by_role("listbox").get_by_role("option")).to_have_count(2)
    box.press("Escape")
    page.locator("section.card", has_text="节点主题志愿服务活动报送").get_by_role("button", name="开始填报").click()
    expect(page.locator(".flash-error")).to_contain_text("请选择要填报的单位")
    assert urlsplit(page.url).path == "/forms/"
    page.close()
