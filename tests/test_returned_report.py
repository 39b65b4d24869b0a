"""A returned report: the reviewer's reason stays in view while it is fixed, and the reviewer sees what changed."""
import io
import re

from sqlalchemy import select

from tests.test_filling import id_number, jpeg
from tests.test_workflow_engine import RAW, new_report, people, user  # noqa: F401 (fixture)
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.filling import personal_data
from workflows.models import FormVersion, ReturnedVersion, Submission
from workflows.review import diff


def _return(app, submission_id, comment="请补充活动照片，核对志愿者名单"):
    with app.test_request_context():
        perform(submission_id, "return", user("reviewer.a"), comment=comment)


def _fix_and_resubmit(client, submission_id, **changes):
    page = client.get(f"/submissions/{submission_id}/edit").get_data(as_text=True)
    data = {k: v for k, v in RAW["activity_report"].items() if k not in ("roster", "photos")}
    data.update({"action": "submit", "row_version": re.search(r'name="row_version" value="(\d+)"', page).group(1),
                 "roster-0-name": "张三", "roster-0-id_number": "341201199003071232", "roster-0-hours": "3",
                 "photos": [(io.BytesIO(jpeg()), "现场.jpg")]})
    data.update(changes)
    return client.post(f"/submissions/{submission_id}/edit", data=data, content_type="multipart/form-data")


def test_the_edit_page_keeps_the_comment_in_view_and_is_titled_by_the_report(app, people, client, login):
    submission_id = new_report(app, people)
    _return(app, submission_id)
    login("filler.a1")
    page = client.get(f"/submissions/{submission_id}/edit").get_data(as_text=True)
    assert re.search(r"<title>测试活动\b", page) and "<h1>测试活动</h1>" in page
    assert "草稿 #" not in page
    box = re.search(r'<section class="card returned-comment".*?</section>', page, re.S).group(0)
    assert "请补充活动照片，核对志愿者名单" in box and "Reviewer.A" in box
    # Still there after a refused save, with what was typed.
    refused = _fix_and_resubmit(client, submission_id, title="", place="新地点")
    assert refused.status_code == 422
    again = refused.get_data(as_text=True)
    assert "请补充活动照片，核对志愿者名单" in again and 'value="新地点"' in again


def test_the_reviewer_sees_what_changed_since_the_return(app, people, client, login):
    submission_id = new_report(app, people)
    _return(app, submission_id)
    login("filler.a1")
    response = _fix_and_resubmit(client, submission_id, title="测试活动（补充）", **{
        "roster-1-name": "李四", "roster-1-id_number": id_number(77), "roster-1-hours": "2"})
    assert response.status_code == 302, re.findall(r'class="error" role="alert">([^<]+)<', response.get_data(as_text=True))
    with app.app_context():
        kept = db.session.execute(select(ReturnedVersion)).scalars().all()
        assert len(kept) == 1 and kept[0].answers["title"] == "测试活动"
        assert db.session.get(Submission, submission_id).state == "submitted"
    login("reviewer.a")
    page = client.get(f"/submissions/{submission_id}").get_data(as_text=True)
    section = re.search(r'<section class="card changes".*?</section>', page, re.S).group(0)
    assert "<del>测试活动</del> → <ins>测试活动（补充）</ins>" in section
    assert "现场.jpg" in section and "<del>－ 删除：a.jpg</del>" in section
    assert "新增第2行" in section and "李四" in section
    assert id_number(77) not in section and id_number(77)[-4:] in section  # masked as on the rest of the page
    assert "张三" not in section  # the unchanged row is not repeated


def test_a_second_save_keeps_the_version_that_was_returned_and_no_diff_before_resubmitting(app, people, client, login):
    submission_id = new_report(app, people)
    _return(app, submission_id)
    login("filler.a1")
    for title in ("第一次修改", "第二次修改"):
        assert _fix_and_resubmit(client, submission_id, action="save", title=title).status_code == 302
    with app.app_context():
        kept = db.session.execute(select(ReturnedVersion)).scalars().all()
        assert [k.answers["title"] for k in kept] == ["测试活动"]
    login("reviewer.a")
    assert 'class="card changes"' not in client.get(f"/submissions/{submission_id}").get_data(as_text=True)


def test_diff_matches_rows_as_a_sequence_and_ignores_re_encryption(app, people):
    with app.test_request_context():
        spec = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                  .order_by(FormVersion.version.desc())).scalars().first().spec
        rows = [{"name": n, "id_number": personal_data.protect_number(id_number(i)), "hours": 2}
                for i, n in enumerate(["甲", "乙", "丙"], start=1)]
        after_rows = [dict(rows[0], id_number=personal_data.protect_number(id_number(1))), rows[2],
                      dict(rows[2], name="丁", id_number=personal_data.protect_number(id_number(9)))]
        after_rows[1] = dict(rows[2], hours=3)
        changes = diff.between(spec, {"roster": rows, "title": "同"}, {"roster": after_rows, "title": "同"}, "zh")
        assert not changes.fields and not changes.files and len(changes.rosters) == 1
        roster = changes.rosters[0]
        # 甲 is unchanged though its number was encrypted again; 乙 removed; 丙's hours changed; 丁 added.
        assert [n for n, _ in roster.removed] == [2] and "乙" in roster.removed[0][1]
        hours = next(c for c in next(f for f in spec.fields if f.name == "roster").columns if c.name == "hours")
        assert [(n, [(c.label, c.before, c.after) for c in cells]) for n, cells in roster.changed] \
            == [(2, [(hours.model.title("zh"), "2", "3")])]
        assert [n for n, _ in roster.added] == [3] and "丁" in roster.added[0][1]
        assert not diff.between(spec, {"roster": rows}, {"roster": [dict(r) for r in rows]}, "zh")
