"""Switching language on a fill page keeps what was typed (the page carries it across the reload)."""
from playwright.sync_api import expect

from tests.e2e.pages import sign_in
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db


def test_switching_language_keeps_what_was_typed(app, live_server, browser, city, create_user):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    page = sign_in(browser.new_page(viewport={"width": 1200, "height": 900}), live_server, "filler.a1")
    page.goto(f"{live_server}/forms/activity_report/new")
    fill_url = page.url
    page.fill("#title", "学雷锋志愿服务进社区")
    page.check("input[name=theme][value='leifeng']")
    page.check("input[name=has_media][value='1']")
    page.fill("#media_links", "市电视台新闻")
    page.fill("[name=roster-0-name]", "张三")
    page.click("[data-add-row=roster]")  # a row the server has never seen
    page.fill("[name=roster-1-name]", "李四")

    page.click("header button:has-text('English')")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url == fill_url
    expect(page.locator("#title")).to_have_value("学雷锋志愿服务进社区")
    expect(page.locator("input[name=theme][value='leifeng']")).to_be_checked()
    expect(page.locator("#media_links")).to_be_visible()  # the live rules saw the restored answer
    expect(page.locator("#media_links")).to_have_value("市电视台新闻")
    expect(page.locator("[name=roster-0-name]")).to_have_value("张三")
    expect(page.locator("[name=roster-1-name]")).to_have_value("李四")

    # A page shown in answer to a refused submit (a POST) comes back to itself, still filled.
    page.click("button[value=submit]")
    expect(page.locator(".error").first).to_be_visible()
    page.fill("#place", "A区清河路社区")
    page.click("header button:has-text('中文')")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert page.url == fill_url
    expect(page.locator("#place")).to_have_value("A区清河路社区")
    expect(page.locator("#title")).to_have_value("学雷锋志愿服务进社区")

    # What was carried is used once: an ordinary reload starts from the server's form.
    page.reload()
    expect(page.locator("#title")).to_have_value("")
