"""In the browser: a large phone photo is made smaller before it is sent, and Enter saves instead of adding a row."""
import random

from PIL import Image
from playwright.sync_api import expect

from workflows.demo.city import install_builtin_forms
from workflows.extensions import db
from workflows.models import StoredFile, Submission


def _signed_in(browser, live_server, viewport):
    page = browser.new_page(viewport=viewport)
    page.goto(f"{live_server}/login")
    page.fill("#username", "filler.a1")
    page.fill("#password", "correct-horse-1")
    page.click("button.primary")
    page.goto(f"{live_server}/forms/activity_report/new")
    return page


def _noise_jpeg(path, size=(4000, 3000)):
    """A photo that compresses badly, as a phone's does: about 12 MB at quality 95."""
    rng = random.Random(12)
    Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)).save(path, "JPEG", quality=95)
    return path


def test_a_12_mb_photo_is_sent_within_the_fields_limit(app, live_server, browser, city, create_user, tmp_path):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    photo = _noise_jpeg(tmp_path / "phone.jpg")
    assert photo.stat().st_size > 10 * 1024 * 1024
    page = _signed_in(browser, live_server, {"width": 390, "height": 844})
    page.fill("#title", "学雷锋志愿服务进社区")
    page.set_input_files("input[name=photos]", str(photo))
    message = page.locator("#filemsg-photos")
    expect(message).to_contain_text("已压缩后上传", timeout=30000)
    chosen = page.evaluate("() => Array.from(document.querySelector('input[name=photos]').files)"
                           ".map(f => [f.name, f.size, f.type])")
    assert len(chosen) == 1 and chosen[0][0] == "phone.jpg" and chosen[0][2] == "image/jpeg"
    assert chosen[0][1] <= 2 * 1024 * 1024  # the field's max_size
    # A file of the wrong type is named at once, next to the field.
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    page.set_input_files("input[name=photos]", str(text))
    expect(message).to_contain_text("不是可以上传的类型")
    page.set_input_files("input[name=photos]", str(photo))
    expect(message).to_contain_text("已压缩后上传", timeout=30000)
    page.click("button[name=action][value=save]:not(.default-action)")
    page.wait_for_url("**/edit")
    with app.app_context():
        stored = db.session.execute(db.select(StoredFile)).scalar_one()
        assert stored.size <= 2 * 1024 * 1024 and stored.mimetype == "image/jpeg"


def test_enter_in_a_text_field_saves_the_draft_and_adds_no_row(app, live_server, browser, city, create_user):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    page = _signed_in(browser, live_server, {"width": 1280, "height": 800})
    page.fill("[name=roster-0-name]", "张三")
    rows = page.locator("[data-repeat=roster] tbody tr[data-row]").count()
    page.fill("#title", "回车不加行")
    page.press("#title", "Enter")
    page.wait_for_url("**/edit")
    assert page.locator("[data-repeat=roster] tbody tr[data-row]").count() == rows
    assert page.input_value("#title") == "回车不加行" and page.input_value("[name=roster-0-name]") == "张三"
    with app.app_context():
        assert db.session.execute(db.select(Submission)).scalar_one().state == "draft"
