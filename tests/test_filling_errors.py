"""A refused form says what to change and where: a summary of links, fields marked for assistive technology."""
import re

from tests.test_filling import SMALL, filler, id_number, publish  # noqa: F401 (fixture)
from tests.test_workflow_engine import new_report, people  # noqa: F401 (fixture)


def ids_in(page):
    return set(re.findall(r'\sid="([^"]+)"', page))


def tag_of(page, element_id):
    return re.search(r'<[^>]*\sid="%s"[^>]*>' % re.escape(element_id), page).group(0)


def summary_of(page):
    box = re.search(r'<section class="error-summary".*?</section>', page, re.S)
    assert box, "no error summary"
    return box.group(0)


def test_summary_counts_links_and_marks_every_error_with_roster_cells_by_row(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    # An empty row in the middle is not a row: the third row on the page is the second answer row.
    response = filler.post("/forms/small/new", data={
        "action": "submit", "rows-0-who": "张三", "rows-0-hours": "2", "rows-1-who": "",
        "rows-2-who": "李四", "rows-2-id_number": "12345", "rows-2-hours": "99"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = summary_of(page)
    assert '<h2 id="error-summary-title" tabindex="-1">3 处需要修改</h2>' in summary
    links = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a>', summary)
    assert [label for _, label in links] == ["kind", "rows 第3行 id_number", "rows 第3行 hours"]
    present = ids_in(page)
    for target, _ in links:
        assert target in present, target
    assert [t for t, _ in links] == ["kind-0", "rows-2-id_number", "rows-2-hours"]
    for target, message_id in (("kind-0", "err-kind"), ("kind-1", "err-kind"),
                               ("rows-2-id_number", "err-rows-1-id_number"), ("rows-2-hours", "err-rows-1-hours")):
        tag = tag_of(page, target)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{message_id}"' in tag, tag
        assert message_id in present
    assert re.search(r'<p id="err-rows-1-hours" class="error" role="alert">不能大于 24', page)
    # The cells without errors are not marked; nothing typed is lost.
    assert "aria-invalid" not in tag_of(page, "rows-0-who") and "aria-invalid" not in tag_of(page, "rows-2-who")
    for typed in ('value="张三"', 'value="李四"', 'value="12345"', 'value="99"'):
        assert typed in page


def test_a_field_with_a_hint_keeps_it_described_before_the_message(app, filler):
    publish(app, SMALL.format(version=1, extra='  - {name: title, type: text, required: true, hint: {zh: 活动名称}}\n'))
    page = filler.post("/forms/small/new", data={"action": "submit", "kind": "a"}).get_data(as_text=True)
    assert 'aria-describedby="hint-title err-title"' in tag_of(page, "title")
    assert '<a href="#title">title</a>' in summary_of(page)


def test_draft_with_no_errors_has_no_summary_and_first_button_saves(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    page = filler.get("/forms/small/new").get_data(as_text=True)
    assert "error-summary" not in page and "aria-invalid" not in page
    # Enter in a text field presses the form's first submit button: it must save, not add a row.
    form = page[page.index("data-form-root"):]
    first = re.search(r'<button type="submit"[^>]*>', form).group(0)
    assert 'value="save"' in first


def test_return_without_a_comment_is_told_at_the_comment_box_with_the_text_kept(app, people, client, login):
    submission_id = new_report(app, people)
    login("reviewer.a")
    page = client.get(f"/submissions/{submission_id}").get_data(as_text=True)
    action = re.search(r'formaction="([^"]*/return[^"]*)"', page).group(1).replace("&amp;", "&")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(action, data={"csrf_token": token, "comment": " ", "expected_version": "2"})
    assert response.status_code == 302 and "error=comment" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    form = re.search(r'<form method="post" class="action-form">.*?</form>', page, re.S).group(0)
    box = re.search(r'<textarea name="comment"[^>]*>', form).group(0)
    assert 'aria-invalid="true"' in box and 'aria-describedby="err-comment"' in box and "autofocus" in box
    assert re.search(r'<p id="err-comment" class="error" role="alert">请填写意见', form)


MONTHLY = """key: monthly
version: 1
title: 月报
summary: {period: month}
fields:
  - {name: month, type: text, required: true, label: {zh: 月份, en: Month}}
  - {name: note, type: text}
"""


def test_the_month_a_report_is_for_is_a_month_picker_and_comes_back_picked(app, filler):
    publish(app, MONTHLY)
    page = filler.get("/forms/monthly/new").get_data(as_text=True)
    assert 'type="month"' in tag_of(page, "month") and 'type="text"' in tag_of(page, "note")
    saved = filler.post("/forms/monthly/new", data={"action": "save", "month": "2017-03"})
    assert saved.status_code == 302
    again = filler.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'type="month"' in tag_of(again, "month") and 'value="2017-03"' in tag_of(again, "month")
