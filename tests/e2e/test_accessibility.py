"""axe-core (from npm, see package.json) finds no serious or critical problem on the daily pages."""
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import REQUIRE, ROOT
from tests.e2e.pages import fill_activity_report, sign_in
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def axe():
    if not AXE.exists():
        message = f"axe-core is not installed at {AXE} (bin/setup installs it with npm)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return str(AXE)


def serious_violations(page, axe):
    """Rule id and the elements it flags, for every serious or critical axe violation on the page."""
    page.add_script_tag(path=axe)
    result = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def _new_page(browser):
    # The app's Content-Security-Policy refuses injected scripts, as it should
    # for anyone else's; the test's own axe script is let through.
    return browser.new_context(viewport=DESKTOP, bypass_csp=True).new_page()






def test_no_serious_accessibility_violations_on_the_daily_pages(
        app, live_server, browser, axe, city, create_user, tmp_path):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    create_user("reviewer.a", city["a"], "reviewer")
    create_user("admin.city", city["city"], "admin")
    create_user("filler.a", city["a"], "filler")
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (32, 32), (20, 120, 20)).save(photo, "JPEG")
    found = {}

    def check(name, page):
        violations = serious_violations(page, axe)
        if violations:
            found[name] = violations

    login = _new_page(browser)
    login.goto(f"{live_server}/login")
    check("login", login)

    clerk = sign_in(_new_page(browser), live_server, "filler.a1")
    clerk.goto(f"{live_server}/forms/")
    check("forms list", clerk)
    clerk.goto(f"{live_server}/forms/activity_report/new")
    check("fill (empty)", clerk)
    # axe has no rule for a radio group's own label, nor for a cell named by its column and row.
    expect(clerk.get_by_role("radiogroup", name="节点主题")).to_have_count(1)
    expect(clerk.get_by_role("radiogroup", name="是否有媒体报道")).to_have_count(1)
    expect(clerk.get_by_role("textbox", name=re.compile(r"^姓名\s*\*?\s*1$"))).to_have_count(1)
    clerk.click("[data-add-row=roster]")
    expect(clerk.get_by_role("textbox", name=re.compile(r"^姓名\s*\*?\s*2$"))).to_have_count(1)
    clerk.click("button[value=submit]")
    expect(clerk.locator(".field-error, .error").first).to_be_visible()
    check("fill (refused, with errors)", clerk)
    fill_activity_report(clerk, photo)
    clerk.click("button[value=submit]")
    expect(clerk.locator("main")).to_contain_text("待审核")
    submission_url = clerk.url
    clerk.goto(f"{live_server}/submissions/")
    check("submissions", clerk)

    office = sign_in(_new_page(browser), live_server, "filler.a")
    office.goto(f"{live_server}/forms/")
    office.get_by_role("combobox", name="代为填报的单位").first.fill("A区")
    expect(office.get_by_role("listbox").first.get_by_role("option")).to_have_count(2)
    check("forms list (unit picker open)", office)

    reviewer = sign_in(_new_page(browser), live_server, "reviewer.a")
    reviewer.goto(f"{live_server}/review/")
    expect(reviewer.locator("main")).to_contain_text("清明文明祭祀宣传")
    check("queue", reviewer)
    reviewer.goto(submission_url)
    expect(reviewer.locator("textarea[name=comment]")).to_be_visible()
    check("review", reviewer)

    admin = sign_in(_new_page(browser), live_server, "admin.city")
    admin.goto(f"{live_server}/admin/units/")
    check("admin units", admin)
    admin.goto(f"{live_server}/admin/users/")
    check("admin users", admin)

    report = "\n".join(
        f"{name}: {v['id']} ({v['impact']}: {v['help']}) at {', '.join(v['targets'][:8])}"
        for name, violations in found.items() for v in violations)
    assert not found, "axe-core found serious or critical violations:\n" + report
