"""Administration of form definitions: drafts, errors at their line, preview, publish, retire, diff."""
import io
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select

from workflows.filling import form_versions as ops
from workflows.extensions import db
from workflows.models import FormVersion, Submission, User

ROOT = Path(__file__).resolve().parent.parent
ACTIVITY = (ROOT / "workflows" / "definitions" / "forms" / "activity_report.yaml").read_text(encoding="utf-8")
PLACE_LINE = "  - {name: place, type: text, required: true, max_length: 200, label: {zh: 活动地点, en: Place}}\n"
QINGMING = "    - {value: qingming, label: {zh: 清明节, en: Qingming}}\n"
GAOKAO = "    - {value: gaokao, label: {zh: 高考, en: Gaokao}}\n"

BAD = """key: bad_form
version: 1
title: 坏表单
fields:
  - name: hours
    type: decimal
    label: 时长
    constraints:
      - {if: "hourz > 0", message: 时长必须大于零}
  - {name: note, type: text, label: "备注 <b>原样</b> & 'quotes'"}
"""


def version2():
    assert PLACE_LINE in ACTIVITY and QINGMING in ACTIVITY and GAOKAO in ACTIVITY
    return (ACTIVITY.replace("version: 1", "version: 2", 1).replace(PLACE_LINE, "")
            .replace(QINGMING, "").replace(GAOKAO, ""))


def get(app, key, version):
    with app.app_context():
        fv = db.session.execute(select(FormVersion).where(FormVersion.key == key, FormVersion.version == version)
                                ).scalar_one_or_none()
        if fv is not None:
            db.session.expunge(fv)
        return fv


@pytest.fixture
def city_admin(client, login, city, create_user):
    create_user("root", city["city"], "admin")
    login("root")
    return client


def create(client, source):
    return client.post("/admin/forms/new", data={"source": source})


def publish(client, key, version):
    fv_page = client.post(f"/admin/forms/{key}/{version}/publish", data={})
    assert fv_page.status_code == 200
    sha = fv_page.get_data(as_text=True).split('name="sha256" value="')[1].split('"')[0]
    return fv_page, client.post(f"/admin/forms/{key}/{version}/publish", data={"confirm": "1", "sha256": sha})


def test_city_admin_creates_a_draft_and_sees_its_preview(app, city_admin):
    response = create(city_admin, ACTIVITY)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/forms/activity_report/1")
    fv = get(app, "activity_report", 1)
    assert fv.status == "draft" and fv.title == "节点主题志愿服务活动报送" and fv.source == ACTIVITY
    page = city_admin.get("/admin/forms/activity_report/1").get_data(as_text=True)
    assert "草稿" in page and fv.sha256[:12] in page
    assert "活动地点" in page          # the preview shows the form's labels
    index = city_admin.get("/admin/forms/").get_data(as_text=True)
    assert "activity_report" in index and fv.sha256[:12] in index and "表单定义" in index


def test_errors_are_listed_and_marked_at_their_line_with_everything_typed_kept(app, city_admin):
    response = create(city_admin, BAD)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "第 9 行</a>: <code>fields[0].constraints[0].if: 未知的名称 &#39;hourz&#39;</code>" in page
    assert '<li id="L9" value="9" class="bad">' in page
    assert page.count('class="bad"') == 1
    # The textarea holds exactly what was typed, escaped.
    assert str(escape(BAD)) in page
    assert "<b>原样</b>" not in page
    assert get(app, "bad_form", 1) is None


def test_english_problem_lines_read_line_n_path_message(city_admin):
    city_admin.post("/language/en")
    page = create(city_admin, BAD).get_data(as_text=True)
    assert "line 9</a>: <code>fields[0].constraints[0].if: unknown name &#39;hourz&#39;</code>" in page


MISTAKES = """key: mistakes
version: many
title: 错误
fields:
  - {name: hours, type: decimal, visible_if: "hours + 1", colour: red}
  - {name: team, type: repeat, min_rows: 3, max_rows: 1, fields: [{name: who, type: text}]}
"""


@pytest.mark.parametrize("lang, expected", [
    ("zh", ["第 2 行</a>: <code>version: 必须是整数</code>",
            "第 5 行</a>: <code>fields[0].colour: 未知的键 &#39;colour&#39;</code>",
            # Once the structure is sound, the checks of names, limits and expressions follow.
            "第 5 行</a>: <code>fields[0].visible_if: 应为布尔（true/false）表达式，实际是数字</code>",
            "第 6 行</a>: <code>fields[1].min_rows: min_rows（3）大于 max_rows（1）</code>"]),
    ("en", ["line 2</a>: <code>version: must be a whole number</code>",
            "line 5</a>: <code>fields[0].colour: unknown key &#39;colour&#39;</code>",
            "line 5</a>: <code>fields[0].visible_if: expected a boolean (true/false) expression, got a number</code>",
            "line 6</a>: <code>fields[1].min_rows: min_rows (3) is greater than max_rows (1)</code>"]),
])
def test_problems_read_in_the_readers_language_at_their_line_and_key(city_admin, lang, expected):
    if lang == "en":
        city_admin.post("/language/en")
    page = create(city_admin, MISTAKES).get_data(as_text=True)
    for text in expected[:2]:
        assert text in page
    sound = MISTAKES.replace("version: many", "version: 1").replace(", colour: red", "")
    page = create(city_admin, sound).get_data(as_text=True)
    for text in expected[2:]:
        assert text in page
    assert '<li id="L5" value="5" class="bad">' in page and '<li id="L6" value="6" class="bad">' in page


def test_yaml_syntax_error_points_at_its_line(city_admin):
    page = create(city_admin, "key: x\nversion: 1\ntitle: [unclosed\n").get_data(as_text=True)
    assert "不是有效的 YAML" in page and 'class="bad"' in page


def test_upload_creates_a_draft(app, city_admin):
    response = city_admin.post("/admin/forms/new", data={
        "source": "", "upload": (io.BytesIO(ACTIVITY.encode("utf-8")), "activity_report.yaml")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert get(app, "activity_report", 1).source == ACTIVITY


def test_a_new_version_must_have_a_greater_number(app, city_admin):
    assert create(city_admin, ACTIVITY).status_code == 302
    page = create(city_admin, ACTIVITY).get_data(as_text=True)
    assert 'id="L5" value="5" class="bad"' in page   # `version: 1` is line 5 of the file
    assert "activity_report" in page and "已存在" in page
    # "New version" starts from the latest source with the number bumped.
    prefilled = city_admin.get("/admin/forms/new?from=activity_report").get_data(as_text=True)
    assert "version: 2" in prefilled


def test_edit_a_draft_keeps_key_and_version(app, city_admin):
    create(city_admin, ACTIVITY)
    edited = ACTIVITY.replace("label: {zh: 活动地点, en: Place}", "label: {zh: 活动场所, en: Venue}")
    response = city_admin.post("/admin/forms/activity_report/1", data={"action": "save", "source": edited})
    assert response.status_code == 302
    assert "活动场所" in get(app, "activity_report", 1).source
    # Browsers send \r\n from a textarea: stored as \n.
    city_admin.post("/admin/forms/activity_report/1", data={"action": "save", "source": edited.replace("\n", "\r\n")})
    assert "\r" not in get(app, "activity_report", 1).source
    other_key = edited.replace("key: activity_report", "key: other_report")
    page = city_admin.post("/admin/forms/activity_report/1", data={"action": "save", "source": other_key})
    assert page.status_code == 422 and 'id="L4" value="4" class="bad"' in page.get_data(as_text=True)
    assert get(app, "activity_report", 1).key == "activity_report"


def test_preview_renders_what_is_typed_without_saving(app, city_admin):
    create(city_admin, ACTIVITY)
    typed = ACTIVITY.replace("label: {zh: 活动地点, en: Place}", "label: {zh: 预览里的地点, en: Previewed}")
    response = city_admin.post("/admin/forms/activity_report/1", data={"action": "preview", "source": typed})
    assert response.status_code == 200
    assert "预览里的地点" in response.get_data(as_text=True)
    assert "预览里的地点" not in get(app, "activity_report", 1).source
    # The fragment the live preview swaps in.
    fragment = city_admin.post("/admin/forms/preview", data={"source": typed})
    assert fragment.status_code == 200 and "预览里的地点" in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    broken = city_admin.post("/admin/forms/preview", data={"source": BAD})
    assert broken.status_code == 422
    assert "fields[0].constraints[0].if: 未知的名称 &#39;hourz&#39;" in broken.get_data(as_text=True)


def test_live_preview_needs_the_csrf_token(app, database_url, tmp_path, city, create_user):
    from tests.conftest import PASSWORD, make_app
    secured = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = secured.test_client()
    create_user("root", city["city"], "admin")
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0] \
        if 'name="csrf_token" type="hidden" value="' in login_page \
        else login_page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "root", "password": PASSWORD, "csrf_token": token})
    assert client.post("/admin/forms/preview", data={"source": ACTIVITY}).status_code == 400
    page = client.get("/admin/forms/new").get_data(as_text=True)
    assert "js/definition-preview.js" in page and "data-live-preview" in page
    ok = client.post("/admin/forms/preview", data={"source": ACTIVITY}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and "活动地点" in ok.get_data(as_text=True)


def test_publish_shows_findings_then_publishes_and_a_published_version_is_frozen(app, city_admin, city):
    create(city_admin, ACTIVITY)
    first, done = publish(city_admin, "activity_report", 1)
    assert "第一个发布的版本" in first.get_data(as_text=True)
    assert done.status_code == 302
    v1 = get(app, "activity_report", 1)
    assert v1.status == "published" and v1.published_at is not None

    # An old submission chose qingming; nobody chose gaokao.
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.username == "root")).scalar_one()
        db.session.add(Submission(form_version_id=v1.id, form_key="activity_report", form_version=1,
                                  form_sha256=v1.sha256, unit_id=city["a1"], created_by_id=user_id,
                                  state="submitted", answers={"theme": "qingming", "place": "广场",
                                                              "roster": [{"name": "张三", "hours": 2}]}))
        db.session.commit()
        assert ops.used_choice_values("activity_report")["theme"] == {"qingming"}
        assert ops.used_choice_values("activity_report", ["theme"]) == {"theme": {"qingming"}}

    assert create(city_admin, version2()).status_code == 302
    shown, done = publish(city_admin, "activity_report", 2)
    page = shown.get_data(as_text=True)
    assert "旧提交中的“活动地点”仍按旧版本显示；新版本不再收集此项。" in page
    assert "清明节" in page and "高考" not in page
    assert "field_removed" in page and "choice_removed" in page
    assert done.status_code == 302
    assert get(app, "activity_report", 2).status == "published"

    # Published sources never change.
    response = city_admin.post("/admin/forms/activity_report/1", data={"action": "save", "source": version2()})
    assert response.status_code == 409
    assert "不能再修改" in response.get_data(as_text=True)
    assert get(app, "activity_report", 1).source == ACTIVITY
    page = city_admin.get("/admin/forms/activity_report/1").get_data(as_text=True)
    assert "readonly" in page and 'value="save"' not in page
    # Publishing twice is refused with a message.
    again = city_admin.post("/admin/forms/activity_report/1/publish", data={"confirm": "1", "sha256": v1.sha256},
                            follow_redirects=True)
    assert "只有草稿才能发布" in again.get_data(as_text=True)

    assert city_admin.post("/admin/forms/activity_report/1/retire").status_code == 302
    v1 = get(app, "activity_report", 1)
    assert v1.status == "retired" and v1.retired_at is not None
    with app.app_context():
        assert ops.latest_published("activity_report").version == 2


def test_publish_confirmation_must_match_what_was_shown(app, city_admin):
    create(city_admin, ACTIVITY)
    response = city_admin.post("/admin/forms/activity_report/1/publish", data={"confirm": "1", "sha256": "0" * 64})
    assert response.status_code == 200
    assert get(app, "activity_report", 1).status == "draft"


def test_diff_shows_both_versions_side_by_side_with_findings(app, city_admin):
    create(city_admin, ACTIVITY)
    publish(city_admin, "activity_report", 1)
    create(city_admin, version2())
    page = city_admin.get("/admin/forms/activity_report/diff?a=1&b=2").get_data(as_text=True)
    assert "v1" in page and "v2" in page
    assert 'class="diff-delete"' in page or 'class="diff-replace"' in page
    assert str(escape(PLACE_LINE.rstrip("\n"))) in page
    assert "旧提交中的“活动地点”仍按旧版本显示" in page
    assert city_admin.get("/admin/forms/activity_report/diff?a=1&b=9").status_code == 404
    # Long unchanged runs are folded; full=1 shows every line.
    assert 'class="diff-skip"' in page and "version: 2" in page
    full = city_admin.get("/admin/forms/activity_report/diff?a=1&b=2&full=1").get_data(as_text=True)
    assert 'class="diff-skip"' not in full and full.count('<tr class="diff-') > ACTIVITY.count("\n")
    same = city_admin.get("/admin/forms/activity_report/diff?a=1&b=1").get_data(as_text=True)
    assert "两个版本的文本相同" in same and "没有影响旧提交的改动" in same


def test_district_admin_may_view_but_not_change(app, client, login, city, create_user, city_admin):
    create(city_admin, ACTIVITY)
    create_user("admin.a", city["a"], "admin")
    client.post("/logout")
    login("admin.a")
    listing = client.get("/admin/forms/")
    assert listing.status_code == 200
    index = listing.get_data(as_text=True)
    # The list shows the definition, says why nothing here is theirs to change, and offers no way to.
    assert "节点主题志愿服务活动报送" in index and 'href="/admin/forms/activity_report/1">v1</a>' in index
    assert "表单定义全市通用：只有市文明办的管理员可以新建、修改、发布或停用。" in index
    assert "/admin/forms/new" not in index
    page = client.get("/admin/forms/activity_report/1")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "只有市文明办的管理员可以修改表单定义。" in text
    assert str(escape(PLACE_LINE.rstrip("\n"))) in text and "readonly" in text  # the source, read-only
    assert "活动地点" in text  # the preview
    assert 'value="save"' not in text and "/publish" not in text and "/retire" not in text
    diff = client.get("/admin/forms/activity_report/diff?a=1&b=1")
    assert diff.status_code == 200 and "两个版本的文本相同" in diff.get_data(as_text=True)
    preview = client.post("/admin/forms/preview", data={"source": ACTIVITY})
    assert preview.status_code == 200 and "活动地点" in preview.get_data(as_text=True)
    refusals = [client.get("/admin/forms/new"),
                client.post("/admin/forms/new", data={"source": version2()}),
                client.post("/admin/forms/activity_report/1", data={"action": "save", "source": version2()
                                                                     .replace("version: 2", "version: 1")}),
                client.post("/admin/forms/activity_report/1/publish", data={"confirm": "1"}),
                client.post("/admin/forms/activity_report/1/retire")]
    for refused in refusals:
        assert refused.status_code == 403
        assert "您的角色无权访问此页面或此单位。" in refused.get_data(as_text=True)
    # Nothing changed: one version, still the draft the city admin saved, with its source.
    with app.app_context():
        versions = db.session.execute(select(FormVersion)).scalars().all()
        assert [(v.key, v.version, v.status, v.source) for v in versions] == [
            ("activity_report", 1, "draft", ACTIVITY)]


@pytest.mark.parametrize("method,path", [
    ("get", "/admin/forms/"), ("get", "/admin/forms/new"), ("get", "/admin/forms/activity_report/1"),
    ("post", "/admin/forms/preview"), ("post", "/admin/forms/activity_report/1/publish"),
    ("get", "/admin/forms/activity_report/diff"),
])
def test_non_admins_are_refused(client, login, city, create_user, method, path):
    create_user("filler", city["a1"], "filler", "reviewer", "office", "certifier")
    login("filler")
    assert getattr(client, method)(path).status_code == 403


def test_operations_directly(app, city):
    with app.app_context():
        fv = ops.create_draft(ACTIVITY, None)
        with pytest.raises(ops.DefinitionRejected) as caught:
            ops.update_draft(fv, ACTIVITY.replace("version: 1", "version: 3"))
        assert [p.path for p in caught.value.problems] == ["version"]
        with pytest.raises(ops.FormVersionError):
            ops.retire(fv)
        assert ops.publish(fv) == []
        with pytest.raises(ops.FormVersionError):
            ops.update_draft(fv, ACTIVITY)
        with pytest.raises(ops.FormVersionError):
            ops.publish(fv)
        v3 = ops.create_draft(version2().replace("version: 2", "version: 3"), None)
        findings = ops.publish(v3)
        # No submissions: removed choices are not used, the removed field still is reported.
        assert [f.kind for f in findings] == ["field_removed"]
        db.session.commit()
        assert ops.latest_published("activity_report").version == 3
