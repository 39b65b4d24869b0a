"""A unit fills the activity report in a real browser, as a person would."""

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.pages import fill_activity_report, sign_in, valid_id_number
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db
from workflows.models import Submission

DESK = {"width": 1200, "height": 900}


def test_fill_and_submit_an_activity_report(app, live_server, browser, city, create_user, tmp_path):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    photo = tmp_path / "activity.jpg"
    Image.new("RGB", (64, 48), (180, 20, 20)).save(photo, "JPEG")

    page = sign_in(browser.new_page(viewport={"width": 390, "height": 844}), live_server, "filler.a1")
    page.goto(f"{live_server}/forms/")  # a phone, as units report from the field
    page.click("text=节点主题志愿服务活动报送 >> xpath=../.. >> a.button")

    # Live show/hide evaluates the same compiled trees as the server.
    media = page.locator("[data-wrap=media_links]")
    expect(media).to_be_hidden()
    page.check("input[name=has_media][value='1']")
    expect(media).to_be_visible()
    page.check("input[name=has_media][value='0']")
    expect(media).to_be_hidden()
    assert page.is_hidden("[data-wrap=theme_other]")

    fill_activity_report(page, photo)
    expect(media).to_be_hidden()
    page.click("[data-add-row=roster]")
    page.fill("[name=roster-1-name]", "李四")
    page.fill("[name=roster-1-id_number]", "341201199003071230")  # wrong check digit
    page.fill("[name=roster-1-hours]", "2.5")
    expect(page.locator("[name=total_hours]")).to_have_value("6.5")  # calculated live
    page.click("button[value=submit]")

    # Refused at the row and column, with everything else still there.
    expect(page.locator("[data-repeat=roster]")).to_contain_text("身份证号码校验位不正确")
    expect(page.locator("[name=roster-0-name]")).to_have_value("张三")
    expect(page.locator("#title")).to_have_value("清明文明祭祀宣传")
    expect(page.locator("[name=photos-keep]")).to_have_count(1)  # the uploaded photo is kept
    page.fill("[name=roster-1-id_number]", "")
    page.fill("[name=roster-1-name]", "")
    page.fill("[name=roster-1-hours]", "")
    page.click("button[value=submit]")
    expect(page.locator("main")).to_contain_text("待审核")
    assert valid_id_number() not in page.content() and valid_id_number()[:4] + "**********" in page.content()
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "submitted" and len(stored.answers["roster"]) == 1
        assert len(stored.answers["photos"]) == 1


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

    unit = sign_in(browser.new_page(viewport=DESK), live_server, "filler.a1")
    unit.goto(f"{live_server}/forms/activity_report/new")
    fill_activity_report(unit, photo)
    unit.click("button[value=submit]")
    expect(unit.locator("main")).to_contain_text("待审核")
    submission_url = unit.url

    reviewer = sign_in(browser.new_page(viewport=DESK), live_server, "reviewer.a")
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
    page = sign_in(browser.new_page(viewport=DESK), live_server, "filler.a1")
    page.goto(f"{live_server}/forms/rowrules/new")
    reason = page.locator("[name=roster-0-overtime_reason] >> xpath=..")
    expect(reason).to_have_css("visibility", "hidden")
    page.fill("[name=roster-0-hours]", "10")
    expect(reason).to_have_css("visibility", "visible")
    page.click("[data-add-row=roster]")
    page.fill("[name=roster-1-hours]", "2")
    expect(page.locator("[name=roster-1-overtime_reason] >> xpath=..")).to_have_css("visibility", "hidden")
    page.click("button[value=submit]")  # the server agrees: only row 1 needs a reason
    expect(page.locator("[data-repeat=roster] tbody tr:nth-child(1)")).to_contain_text("此项为必填项")
    assert "此项为必填项" not in page.inner_text("[data-repeat=roster] tbody tr:nth-child(2)")
