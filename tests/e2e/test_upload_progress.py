"""A form with a photo is sent by the page, which shows the percentage uploaded, then lands where a plain post would."""
import random
import re
from datetime import date, timedelta

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.pages import fill_activity_report, sign_in
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db
from workflows.models import Submission

# Records what the progress label says as it changes; the exposed function outlives the page's navigations.
WATCH_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("upload-status");
  if (!status) return;
  const label = status.querySelector("[data-upload-label]");
  const bar = status.querySelector("progress");
  new MutationObserver(() => window.progressSeen(label.textContent, bar.value, bar.max, status.hidden))
    .observe(label, {childList: true, characterData: true, subtree: true});
});
"""


def _photo(path, side=1100):
    """Noise, so it stays near its full size as a JPEG: about 1.5 MB, under the field's 2 MB."""
    rng = random.Random(side)
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(path, "JPEG", quality=95)
    return path


def _slow_upload(page, bytes_per_second):
    """Chromium's own network throttling, so the upload takes long enough to show steps of progress."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second})


def _setup(app, city, create_user):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")


def test_the_page_shows_the_percentage_uploaded_and_the_submission_lands(
        app, live_server, browser, city, create_user, tmp_path):
    _setup(app, city, create_user)
    photo = _photo(tmp_path / "site.jpg")
    size = photo.stat().st_size
    assert 1024 * 1024 < size < 2 * 1024 * 1024
    page = sign_in(browser.new_page(viewport={"width": 390, "height": 844}), live_server, "filler.a1")
    seen = []
    page.expose_function("progressSeen", lambda text, value, maximum, hidden: seen.append((text, value, maximum, hidden)))
    page.add_init_script(WATCH_PROGRESS)
    sent = []
    page.on("request", lambda request: request.method == "POST" and "/forms/" in request.url
            and sent.append(request.headers))
    page.goto(f"{live_server}/forms/activity_report/new")
    status = page.locator("#upload-status")
    expect(status).to_be_hidden()
    fill_activity_report(page, photo)
    _slow_upload(page, 512 * 1024)  # about three seconds for the photo
    page.click("button[value=submit]")

    label = page.get_by_label(re.compile(r"^正在上传 \d+%$"))
    expect(label).to_be_visible()  # the <progress>, named by its label
    expect(status.locator("[aria-live=polite]")).to_contain_text("正在上传")
    page.wait_for_url(re.compile(r"/submissions/\d+$"), timeout=30000)
    expect(page.locator(".flash")).to_contain_text("已提交")  # the message was kept for the page landed on
    expect(page.locator("main")).to_contain_text("待审核")

    percents = [int(re.fullmatch(r"正在上传 (\d+)%", text).group(1)) for text, *_ in seen]
    assert percents and percents == sorted(percents), percents
    assert percents[-1] == 100 and any(0 < p < 100 for p in percents), percents
    assert all(value == p and maximum == 100 and not hidden
               for p, (_, value, maximum, hidden) in zip(percents, seen))
    assert [h.get("x-upload-progress") for h in sent] == ["1"]  # the page sent it, once
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "submitted" and len(stored.answers["photos"]) == 1


def test_a_refused_form_sent_by_the_page_comes_back_as_after_a_plain_post(
        app, live_server, browser, city, create_user, tmp_path):
    _setup(app, city, create_user)
    photo = _photo(tmp_path / "site.jpg", side=400)
    page = sign_in(browser.new_page(viewport={"width": 1280, "height": 800}), live_server, "filler.a1")
    sent = []
    page.on("request", lambda request: request.method == "POST" and "/forms/" in request.url
            and sent.append(request.headers))
    page.goto(f"{live_server}/forms/activity_report/new")
    fill_url = page.url
    fill_activity_report(page, photo)
    page.fill("#held_on", (date.today() + timedelta(days=3)).isoformat())
    page.click("button[value=submit]")

    summary = page.locator(".error-summary")
    expect(summary.locator("h2")).to_have_text("1 处需要修改")
    expect(summary.locator("h2")).to_be_focused()  # the refused page's script ran again
    assert page.url == fill_url
    expect(page.locator("[data-wrap=held_on] .error")).to_contain_text("活动日期不能晚于今天")
    expect(page.locator("#title")).to_have_value("清明文明祭祀宣传")
    expect(page.locator("[name=roster-0-name]")).to_have_value("张三")
    expect(page.locator("[data-files=photos] input[name=photos-keep]")).to_be_checked()  # the photo was kept
    expect(page.locator("#upload-status")).to_be_hidden()

    page.locator(".error-summary a", has_text="活动日期").click()
    page.locator(":focus").fill("2017-04-04")
    page.click("button[value=submit]")  # no new file: the browser posts it itself
    expect(page.locator("main")).to_contain_text("待审核")
    assert [h.get("x-upload-progress") for h in sent] == ["1", None]
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "submitted" and len(stored.answers["photos"]) == 1


def test_without_javascript_the_form_and_its_photo_are_posted_by_the_browser(
        app, live_server, browser, city, create_user, tmp_path):
    _setup(app, city, create_user)
    photo = _photo(tmp_path / "site.jpg", side=400)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = sign_in(context.new_page(), live_server, "filler.a1")
    sent = []
    page.on("request", lambda request: request.method == "POST" and "/forms/" in request.url
            and sent.append(request.headers))
    page.goto(f"{live_server}/forms/activity_report/new")
    fill_activity_report(page, photo)
    page.click("button[value=submit]")
    expect(page.locator("main")).to_contain_text("待审核")
    expect(page.locator(".flash")).to_contain_text("已提交")
    assert [h.get("x-upload-progress") for h in sent] == [None]
    with app.app_context():
        stored = db.session.execute(db.select(Submission)).scalar_one()
        assert stored.state == "submitted" and len(stored.answers["photos"]) == 1
    context.close()
