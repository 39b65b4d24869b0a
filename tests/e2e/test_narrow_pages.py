"""At 360 px, every role's pages fit the phone's width and the top bar folds into a menu."""
import pytest
from playwright.sync_api import expect

from tests.test_workflow_engine import new_report, people  # noqa: F401 (the fixture)

PAGES = {"home": "/", "forms": "/forms/", "submissions": "/submissions/", "queue": "/review/",
         "admin units": "/admin/units/", "admin users": "/admin/users/"}
# Which of the pages each role has; the others answer 403/404 and are not theirs to fit.
ROLES = {
    "filler.a1": ["home", "forms", "submissions"],
    "reviewer.a": ["home", "forms", "submissions", "queue"],
    "certifier.a": ["home", "forms", "submissions", "queue"],
    "office": ["home", "forms", "submissions", "queue"],
    "admin.city": ["home", "forms", "submissions", "queue", "admin units", "admin users"],
}


@pytest.fixture
def filled_city(app, people, create_user):  # noqa: F811
    # Long names and codes are what widen a phone's page: the queue and lists must still fit.
    for _ in range(3):
        new_report(app, people)
    new_report(app, people, state_after="approved")
    create_user("admin.city", people["city"]["city"], "admin")
    return people


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("username", sorted(ROLES))
def test_pages_fit_360_px_and_the_menu_opens(app, live_server, browser, filled_city, username):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", "correct-horse-1")
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")
    for name in ROLES[username]:
        response = page.goto(live_server + PAGES[name])
        assert response.status == 200, (username, name, response.status)
        assert _fits(page), (username, name, page.evaluate("document.documentElement.scrollWidth"))
        toggle = page.locator("[data-menu-toggle]")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        menu = page.locator("#site-menu")
        expect(menu).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(menu.get_by_role("link", name="首页")).to_be_visible()
        assert _fits(page), (username, name, "menu open")
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
    page.close()


def test_the_menu_is_open_without_javascript_and_wraps(app, live_server, browser, filled_city):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "admin.city")
    page.fill("#password", "correct-horse-1")
    page.click("button.primary")
    page.goto(f"{live_server}/review/")
    expect(page.locator("[data-menu-toggle]")).to_be_hidden()
    expect(page.locator("#site-menu").get_by_role("link", name="用户")).to_be_visible()
    assert _fits(page)
    # The bar wraps sensibly: no link is squeezed to a character per line.
    heights = page.eval_on_selector_all(".topbar nav a", "links => links.map(a => a.getBoundingClientRect().height)")
    assert heights and max(heights) < 40, heights
    context.close()


def test_desktop_shows_the_bar_without_the_button(app, live_server, browser, filled_city):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server}/login")
    page.fill("#username", "reviewer.a")
    page.fill("#password", "correct-horse-1")
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")
    expect(page.locator("[data-menu-toggle]")).to_be_hidden()
    expect(page.locator("#site-menu").get_by_role("link", name="待办审核")).to_be_visible()
    page.close()
