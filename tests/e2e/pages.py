"""Steps the browser tests share: signing in on a page, filling the activity report with valid answers."""
from playwright.sync_api import expect

from forms.idcard import check_character
from tests.conftest import PASSWORD


def valid_id_number(base="34120119900307123"):
    """An 18-character ID number whose check character is right (``base`` is the first 17)."""
    return base + check_character(base)


def sign_in(page, live_server, username):
    """Sign ``username`` in on ``page`` (its viewport and context are the caller's); returns the page."""
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    expect(page.locator("#username")).to_have_count(0)
    return page


def fill_activity_report(page, photo):
    """Every required answer of the activity report, valid, with ``photo`` attached."""
    page.check("input[name=theme][value='qingming']")
    page.fill("#title", "清明文明祭祀宣传")
    page.fill("#held_on", "2017-04-04")
    page.fill("#place", "A区公墓")
    page.fill("#beneficiaries", "祭扫群众")
    page.fill("#content", "在公墓入口发放文明祭祀倡议书，劝导群众鲜花祭扫、网络祭扫，减少燃放。" * 2)
    page.check("input[name=has_media][value='0']")
    page.fill("[name=roster-0-name]", "张三")
    page.fill("[name=roster-0-id_number]", valid_id_number())
    page.fill("[name=roster-0-hours]", "4")
    page.set_input_files("input[name=photos]", str(photo))
    page.fill("#person_in_charge", "王主任")
    page.fill("#contact_phone", "13800138000")
    page.fill("#recorder", "李四")
