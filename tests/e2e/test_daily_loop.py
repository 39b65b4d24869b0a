"""The clerk's and the reviewer's day, end to end in Chromium, on a phone and on a desk.

A clerk fills an activity report with a large photo, makes the three usual
mistakes (a future date, a wrong ID number, no photo), fixes each where it is
shown, and submits; the reviewer returns it with a comment; the clerk sees the
comment at the top of the report and fixes it; the reviewer sees what changed
since the return and approves.
"""
import random
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.pages import sign_in, valid_id_number
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db
from workflows.filling import uploads
from workflows.models import StoredFile, Submission

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _phone_photo(path):
    """A phone camera's frame (4032×3024) of noise, which compresses as badly as a real scene: ~12 MB."""
    width, height = 4032, 3024
    rng = random.Random(4032)
    Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3)).save(path, "JPEG", quality=95)
    return path


def _follow_summary_link(page, label, target):
    """Click the summary's link for ``label``; focus lands on ``target``, which is returned."""
    page.locator(".error-summary a", has_text=label).click()
    field = page.locator(target)
    expect(field).to_be_focused()
    return page.locator(":focus")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_report_from_first_try_to_approval(app, live_server, browser, city, create_user, tmp_path, viewport):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    create_user("reviewer.a", city["a"], "reviewer")
    photo = _phone_photo(tmp_path / "IMG_0412.jpg")
    assert photo.stat().st_size > 8 * 1024 * 1024  # the form's limit is 2 MB
    good_id = valid_id_number()
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")

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
    # The summary at the top counts the three and starts with focus; the clerk follows its links.
    summary = clerk.locator(".error-summary")
    expect(summary.locator("h2")).to_have_text("3 处需要修改")
    expect(summary.locator("li")).to_have_count(3)
    expect(summary.locator("h2")).to_be_focused()
    _follow_summary_link(clerk, "活动日期", "#held_on").fill("2017-03-05")
    _follow_summary_link(clerk, "第1行", "[name=roster-0-id_number]").fill(good_id)
    _follow_summary_link(clerk, "活动照片", "input[name=photos]").set_input_files(str(photo))
    # The 12 MB photo is made smaller in the page before it is sent.
    expect(clerk.locator("#filemsg-photos")).to_contain_text("已压缩后上传", timeout=60000)
    clerk.click("button[value=submit]")
    expect(clerk.locator("main")).to_contain_text("待审核")
    submission_url = clerk.url
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "submitted" and len(stored.answers["photos"]) == 1
        assert stored.answers["held_on"] == "2017-03-05"
        upload = db.session.execute(db.select(StoredFile)).scalar_one()
        on_disk = uploads.path_of(upload)
        assert upload.mimetype == "image/jpeg" and upload.size == on_disk.stat().st_size <= 2 * 1024 * 1024
        with Image.open(on_disk) as kept:
            assert kept.format == "JPEG" and max(kept.size) <= app.config["UPLOAD_IMAGE_MAX_SIDE"]

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
    # The edit page is the report's, with the reviewer's comment above the form.
    expect(clerk).to_have_title(re.compile(r"^学雷锋志愿服务进社区 · "))
    expect(clerk.locator("main h1")).to_have_text("学雷锋志愿服务进社区")
    comment = clerk.locator(".returned-comment")
    expect(comment).to_contain_text("请写明服务对象的具体人数和所在小区")
    assert comment.bounding_box()["y"] < clerk.locator("form.fill-form").bounding_box()["y"]
    clerk.fill("#beneficiaries", "清河路社区孤寡老人 32 人")
    expect(clerk.locator("[data-files=photos] input[name=photos-keep]")).to_be_checked()
    clerk.click("button[value=submit]")
    expect(clerk.locator("main")).to_contain_text("待审核")

    reviewer.goto(submission_url)
    expect(reviewer.locator("main")).to_contain_text("清河路社区孤寡老人 32 人")
    # What changed since the return, and nothing else.
    changes = reviewer.locator("section.changes")
    expect(changes.locator("h2")).to_have_text("退回后的修改")
    expect(changes.locator("dt")).to_have_text(["服务对象"])
    expect(changes.locator("dd")).to_have_count(1)
    expect(changes.locator("dd del")).to_have_text("孤寡老人 30 人")
    expect(changes.locator("dd ins")).to_have_text("清河路社区孤寡老人 32 人")
    reviewer.click("button:has-text('审核通过')")
    expect(reviewer.locator("main")).to_contain_text("待认证")
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "approved"
        assert stored.answers["beneficiaries"] == "清河路社区孤寡老人 32 人"
        assert len(stored.answers["photos"]) == 1
