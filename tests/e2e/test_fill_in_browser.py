"""A unit fills the activity report in a real browser, as a person would."""

from PIL import Image
from playwright.sync_api import expect

from forms.idcard import check_character
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db
from workflows.models import Submission


def _id():
    base = "34120119900307123"
    return base + check_character(base)


def test_fill_and_submit_an_activity_report(app, live_server, browser, city, create_user, tmp_path):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    photo = tmp_path / "activity.jpg"
    Image.new("RGB", (64, 48), (180, 20, 20)).save(photo, "JPEG")

    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone, as units report from the field
    page.goto(f"{live_server}/login")
    page.fill("#username", "filler.a1")
    page.fill("#password", "correct-horse-1")
    page.click("button.primary")
    page.goto(f"{live_server}/forms/")
    page.click("text=节点主题志愿服务活动报送 >> xpath=../.. >> a.button")

    # Live show/hide evaluates the same compiled trees as the server.
    media = page.locator("[data-wrap=media_links]")
    expect(media).to_be_hidden()
    page.check("input[name=has_media][value='1']")
    expect(media).to_be_visible()
    page.check("input[name=has_media][value='0']")
    expect(media).to_be_hidden()
    assert page.is_hidden("[data-wrap=theme_other]")
    page.check("input[name=theme][value='leifeng']")

    page.fill("#title", "学雷锋志愿服务进社区")
    page.fill("#held_on", "2017-03-05")
    page.fill("#place", "A区清河路社区")
    page.fill("#beneficiaries", "孤寡老人 30 人")
    page.fill("#content", "为辖区孤寡老人打扫卫生、理发、测量血压，并开展防诈骗宣传。" * 2)
    page.fill("[name=roster-0-name]", "张三")
    page.fill("[name=roster-0-id_number]", _id())
    page.fill("[name=roster-0-hours]", "3")
    page.click("[data-add-row=roster]")
    page.fill("[name=roster-1-name]", "李四")
    page.fill("[name=roster-1-id_number]", "341201199003071230")  # wrong check digit
    page.fill("[name=roster-1-hours]", "2.5")
    expect(page.locator("[name=total_hours]")).to_have_value("5.5")  # calculated live
    page.set_input_files("input[name=photos]", str(photo))
    page.fill("#person_in_charge", "王主任")
    page.fill("#contact_phone", "13800138000")
    page.fill("#recorder", "李四")
    page.click("button[value=submit]")

    # Refused at the row and column, with everything else still there.
    assert "身份证号码校验位不正确" in page.inner_text("[data-repeat=roster]")
    assert page.input_value("[name=roster-0-name]") == "张三"
    assert page.input_value("#title") == "学雷锋志愿服务进社区"
    assert page.locator("[name=photos-keep]").count() == 1  # the uploaded photo is kept
    page.fill("[name=roster-1-id_number]", "")
    page.fill("[name=roster-1-name]", "")
    page.fill("[name=roster-1-hours]", "")
    page.click("button[value=submit]")
    assert "待审核" in page.inner_text("main")
    assert _id() not in page.content() and _id()[:4] + "**********" in page.content()
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "submitted" and len(stored.answers["roster"]) == 1
        assert len(stored.answers["photos"]) == 1


def _sign_in(browser, live_server, username):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", "correct-horse-1")
    page.click("button.primary")
    return page


def test_review_return_fix_resubmit_approve(app, live_server, browser, city, create_user, tmp_path):
    with app.app_context():
        from workflows.demo.city import install_builtin_workflows
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    create_user("reviewer.a", city["a"], "reviewer")
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (32, 32), (20, 120, 20)).save(photo, "JPEG")

    unit = _sign_in(browser, live_server, "filler.a1")
    unit.goto(f"{live_server}/forms/activity_report/new")
    unit.check("input[name=theme][value='qingming']")
    unit.fill("#title", "清明文明祭祀宣传")
    unit.fill("#held_on", "2017-04-04")
    unit.fill("#place", "A区公墓")
    unit.fill("#beneficiaries", "祭扫群众")
    unit.fill("#content", "在公墓入口发放文明祭祀倡议书，劝导群众鲜花祭扫、网络祭扫，减少燃放。" * 2)
    unit.check("input[name=has_media][value='0']")
    unit.fill("[name=roster-0-name]", "张三")
    unit.fill("[name=roster-0-id_number]", _id())
    unit.fill("[name=roster-0-hours]", "4")
    unit.set_input_files("input[name=photos]", str(photo))
    unit.fill("#person_in_charge", "王主任")
    unit.fill("#contact_phone", "13800138000")
    unit.fill("#recorder", "李四")
    unit.click("button[value=submit]")
    expect(unit.locator("main")).to_contain_text("待审核")
    submission_url = unit.url

    reviewer = _sign_in(browser, live_server, "reviewer.a")
    reviewer.goto(f"{live_server}/review/")
    reviewer.click("text=清明文明祭祀宣传")
    reviewer.click("button:has-text('退回修改')")  # no comment yet: refused, nothing changes
    expect(reviewer.locator(".flash-error")).to_contain_text("请填写意见")
    reviewer.fill("textarea[name=comment]", "请补充活动现场照片")
    reviewer.click("button:has-text('退回修改')")
    expect(reviewer.locator("main")).to_contain_text("退回修改")

    unit.goto(submission_url)
    expect(unit.locator("main")).to_contain_text("请补充活动现场照片")
    unit.click("text=修改后重新提交")
    unit.set_input_files("input[name=photos]", str(photo))
    unit.click("button[value=submit]")
    expect(unit.locator("main")).to_contain_text("待审核")

    reviewer.goto(f"{live_server}/review/")
    reviewer.check("input[name=ids]")
    reviewer.click("button:has-text('批量审核通过')")
    expect(reviewer.locator("main")).to_contain_text("待认证")
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "approved" and len(stored.answers["photos"]) == 2


ROW_RULES = """key: rowrules
version: 1
title: 行内显示
fields:
  - name: roster
    type: repeat
    fields:
      - {name: hours, type: decimal}
      - {name: overtime_reason, type: text, visible_if: "row.hours > 8", required: true}
"""


def test_a_column_shows_per_row_in_the_browser(app, live_server, browser, city, create_user):
    from tests.test_filling import publish
    publish(app, ROW_RULES)
    create_user("filler.a1", city["a1"], "filler")
    page = _sign_in(browser, live_server, "filler.a1")
    page.goto(f"{live_server}/forms/rowrules/new")
    reason = page.locator("[name=roster-0-overtime_reason] >> xpath=..")
    expect(reason).to_have_css("visibility", "hidden")
    page.fill("[name=roster-0-hours]", "10")
    expect(reason).to_have_css("visibility", "visible")
    page.click("[data-add-row=roster]")
    page.fill("[name=roster-1-hours]", "2")
    expect(page.locator("[name=roster-1-overtime_reason] >> xpath=..")).to_have_css("visibility", "hidden")
    page.click("button[value=submit]")  # the server agrees: only row 1 needs a reason
    assert "此项为必填项" in page.inner_text("[data-repeat=roster] tbody tr:nth-child(1)")
    assert "此项为必填项" not in page.inner_text("[data-repeat=roster] tbody tr:nth-child(2)")
