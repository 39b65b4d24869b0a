"""Every daily page fits a 360 px wide phone: nothing is wider than the screen."""
from playwright.sync_api import expect

from tests.e2e.pages import fill_activity_report, sign_in
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db

NARROW = {"width": 360, "height": 740}




def _overflow(page):
    """How many CSS pixels the page is wider than the screen (0 when it fits)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def test_no_page_is_wider_than_a_narrow_phone(app, live_server, browser, city, create_user, tmp_path):
    from PIL import Image
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    create_user("reviewer.a", city["a"], "reviewer")
    create_user("admin.city", city["city"], "admin", "reviewer", "certifier", "office")
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (32, 32), (20, 120, 20)).save(photo, "JPEG")
    wide = {}

    def measure(name, page):
        # After a click that posts a form, the next page may still be loading its stylesheet.
        page.wait_for_load_state("load")
        extra = _overflow(page)
        if extra > 0:
            wide[name] = extra

    login = browser.new_page(viewport=NARROW)
    login.goto(f"{live_server}/login")
    measure("login", login)
    clerk = sign_in(browser.new_page(viewport=NARROW), live_server, "filler.a1")
    for name, path in [("home", "/"), ("forms list", "/forms/"), ("fill", "/forms/activity_report/new"),
                       ("submissions", "/submissions/"), ("notices", "/notices/")]:
        clerk.goto(live_server + path)
        measure(name, clerk)
    clerk.goto(f"{live_server}/forms/activity_report/new")
    clerk.click("button[value=submit]")
    expect(clerk.locator(".error-summary")).to_be_visible()  # the refused page itself, not the one before
    measure("fill (with errors)", clerk)
    fill_activity_report(clerk, photo)
    clerk.click("button[value=submit]")
    expect(clerk.locator("main")).to_contain_text("待审核")
    submission_url = clerk.url
    measure("submission", clerk)

    reviewer = sign_in(browser.new_page(viewport=NARROW), live_server, "reviewer.a")
    for name, path in [("home (reviewer)", "/"), ("queue", "/review/"), ("review", submission_url)]:
        reviewer.goto(path if path.startswith("http") else live_server + path)
        measure(name, reviewer)
    admin = sign_in(browser.new_page(viewport=NARROW), live_server, "admin.city")
    for name, path in [("home (admin)", "/"), ("admin units", "/admin/units/"), ("admin users", "/admin/users/"),
                       ("form definitions", "/admin/forms/"), ("queue (city)", "/review/")]:
        admin.goto(live_server + path)
        measure(name, admin)
    assert not wide, "wider than 360 px by (px): " + ", ".join(f"{k} {v}" for k, v in wide.items())
