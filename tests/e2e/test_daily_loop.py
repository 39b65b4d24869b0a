"""The clerk's and the reviewer's day, end to end in Chromium, on a phone and on a desk.

A clerk fills an activity report with a large photo, makes the three usual
mistakes (a future date, a wrong ID number, no photo), fixes each where it is
shown, and submits; the reviewer returns it with a comment; the clerk sees the
comment and fixes the report; the reviewer sees it again and approves.

Steps marked "FEATURE:" assert behaviour other parts of issue 12 are adding
(the error summary with links, the photo downsized in the page, the comment on
the edit page, the reviewer's diff); until those land, the flow reaches the
same point the way the page allows today.
"""
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.pages import sign_in
from tests.e2e.test_fill_in_browser import _id
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db
from workflows.models import Submission

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _large_photo(path):
    """A phone camera's frame size (4032×3024). FEATURE (downsized photo): once the page downsizes,
    this should be a 12 MB photo, above the form's 2 MB limit, as phones take them."""
    image = Image.linear_gradient("L").resize((4032, 3024)).convert("RGB")
    image.save(path, "JPEG", quality=90)
    return path




@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_report_from_first_try_to_approval(app, live_server, browser, city, create_user, tmp_path, viewport):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    create_user("reviewer.a", city["a"], "reviewer")
    photo = _large_photo(tmp_path / "IMG_0412.jpg")
    bad_id = _id()[:-1] + ("0" if _id()[-1] != "0" else "1")

    clerk = sign_in(browser.new_page(viewport=viewport), live_server, "filler.a1")
    clerk.goto(f"{live_server}/forms/")
    clerk.click("text=节点主题志愿服务活动报送 >> xpath=../.. >> a.button")
    clerk.check("input[name=theme][value='leifeng']")
    clerk.fill("#title", "学雷锋志愿服务进社区")
    clerk.fill("#held_on", (date.today() + timedelta(days=3)).isoformat())  # mistake 1: in the future
    clerk.fill("#place", "A区清河路社区")
    clerk.fill("#beneficiaries", "孤寡老人 30 人")
    clerk.fill("#content", "为辖区孤寡老人打扫卫生、理发、测量血压，并开展防诈骗宣传。" * 2)
    clerk.check("input[name=has_media][value='0']")
    clerk.fill("[name=roster-0-name]", "张三")
    clerk.fill("[name=roster-0-id_number]", bad_id)  # mistake 2: a wrong check character
    clerk.fill("[name=roster-0-hours]", "3")
    # mistake 3: no photo
    clerk.fill("#person_in_charge", "王主任")
    clerk.fill("#contact_phone", "13800138000")
    clerk.fill("#recorder", "李四")
    clerk.click("button[value=submit]")

    # Refused: each mistake is told where it is, and nothing typed is lost.
    date_error = clerk.locator("[data-wrap=held_on] .error")
    id_error = clerk.locator("[data-repeat=roster] tbody tr:nth-child(1) .error")
    photo_error = clerk.locator("[data-wrap=photos] .error")
    expect(date_error).to_contain_text("活动日期不能晚于今天")
    expect(id_error).to_contain_text("身份证号码校验位不正确")
    expect(photo_error).to_contain_text("至少上传 1 个文件")
    expect(clerk.locator("#title")).to_have_value("学雷锋志愿服务进社区")
    expect(clerk.locator("[name=roster-0-name]")).to_have_value("张三")
    # FEATURE (error summary): a summary at the top counts 3 errors, has focus, and each of its
    # links moves focus to its field (the roster one to row 1's ID number); follow them here
    # instead of going to the fields directly.
    clerk.fill("#held_on", "2017-03-05")
    clerk.fill("[name=roster-0-id_number]", _id())
    clerk.set_input_files("input[name=photos]", str(photo))
    # FEATURE (downsized photo): the chosen photo is downsized in the page before upload:
    # the file sent is a JPEG within 2 MB whose longest side is at most the form's limit.
    clerk.click("button[value=submit]")
    expect(clerk.locator("main")).to_contain_text("待审核")
    submission_url = clerk.url
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "submitted" and len(stored.answers["photos"]) == 1
        assert stored.answers["held_on"] == "2017-03-05"

    reviewer = sign_in(browser.new_page(viewport=viewport), live_server, "reviewer.a")
    reviewer.goto(f"{live_server}/review/")
    reviewer.click("text=学雷锋志愿服务进社区")
    expect(reviewer.locator("main")).to_contain_text("A区清河路社区")
    reviewer.fill("textarea[name=comment]", "请写明服务对象的具体人数和所在小区")
    reviewer.click("button:has-text('退回修改')")
    expect(reviewer.locator("main")).to_contain_text("退回修改")

    clerk.goto(submission_url)
    expect(clerk.locator("main")).to_contain_text("请写明服务对象的具体人数和所在小区")
    clerk.click("text=修改后重新提交")
    expect(clerk.locator("#beneficiaries")).to_have_value("孤寡老人 30 人")
    # FEATURE (comment on the edit page): the reviewer's comment is shown at the top of this
    # page, and the page is titled by the report ("学雷锋志愿服务进社区"), not "草稿 #1".
    clerk.fill("#beneficiaries", "清河路社区孤寡老人 32 人")
    expect(clerk.locator("[data-files=photos] input[name=photos-keep]")).to_be_checked()
    clerk.click("button[value=submit]")
    expect(clerk.locator("main")).to_contain_text("待审核")

    reviewer.goto(submission_url)
    expect(reviewer.locator("main")).to_contain_text("清河路社区孤寡老人 32 人")
    # FEATURE (reviewer's diff): the page shows what changed since the returned version:
    # 服务对象 from "孤寡老人 30 人" to "清河路社区孤寡老人 32 人", and nothing else.
    reviewer.click("button:has-text('审核通过')")
    expect(reviewer.locator("main")).to_contain_text("待认证")
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "approved"
        assert stored.answers["beneficiaries"] == "清河路社区孤寡老人 32 人"
        assert len(stored.answers["photos"]) == 1
