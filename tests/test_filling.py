"""Units fill forms: server-side semantics, files, drafts, versions, access."""
import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from forms.idcard import check_character
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db
from workflows.models import FormVersion, StoredFile, Submission

SMALL = """key: small
version: {version}
title: 小表单
fields:
  - {{name: kind, type: choice, choices: [{{value: a, label: 甲}}, {{value: b, label: 乙}}], required: true}}
  - {{name: reason, type: text, visible_if: "kind == 'b'", required: true}}
{extra}  - name: rows
    type: repeat
    max_rows: 3
    fields:
      - {{name: who, type: text, required: true}}
      - {{name: id_number, type: id_card}}
      - {{name: hours, type: decimal, min: 0.5, max: 24}}
  - {{name: total, type: calculate, calculate: "sum(rows.hours)"}}
  - {{name: photos, type: image, max_files: 2, max_size: 200KB}}
"""


def publish(app, source):
    from forms.definition import load_definition
    with app.app_context():
        spec = load_definition(source)
        version = FormVersion(key=spec.key, version=spec.version, sha256=spec.sha256, source=source,
                              title=spec.schema.title.zh, status="published")
        db.session.add(version)
        db.session.commit()
        return version.id


def id_number(serial=123):
    base = f"34120119900307{serial:03d}"
    return base + check_character(base)


def jpeg(size=(40, 30), exif=True, quality=90):
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        data = image.getexif()
        data[0x010F] = "SecretCam"  # Make
        image.save(out, "JPEG", exif=data, quality=quality)
    else:
        image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture
def filler(app, city, create_user, client, login):
    create_user("filler.a1", city["a1"], "filler")
    login("filler.a1")
    return client


def small_post(**overrides):
    data = {"action": "submit", "kind": "a", "rows-0-who": "张三", "rows-0-id_number": id_number(),
            "rows-0-hours": "2.5", "rows-1-who": "李四", "rows-1-hours": "1"}
    data.update(overrides)
    return data


def errors_of(response):
    return re.findall(r'class="error" role="alert">([^<]+)<', response.get_data(as_text=True))


def only_submission(app):
    with app.app_context():
        rows = db.session.execute(select(Submission)).scalars().all()
        assert len(rows) == 1
        db.session.expunge(rows[0])
        return rows[0]


def test_hidden_required_field_never_blocks_and_is_not_stored(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    response = filler.post("/forms/small/new", data=small_post(reason="crafted value", total="999"))
    assert response.status_code == 302, errors_of(response)
    stored = only_submission(app)
    assert "reason" not in stored.answers
    assert stored.answers["total"] == 3.5  # recomputed by the server, the crafted 999 ignored
    assert stored.state == "submitted"


def test_visible_required_field_blocks(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    response = filler.post("/forms/small/new", data=small_post(kind="b"))
    assert response.status_code == 422
    assert errors_of(response) == ["此项为必填项。"]


@pytest.mark.parametrize("overrides, message", [
    ({"rows-2-who": "王五", "rows-3-who": "赵六"}, "最多 3 行（已有 4 行）。"),
    ({"kind": "zzz"}, "请从列表中选择。"),
    ({"rows-0-id_number": id_number()[:-1] + ("0" if id_number()[-1] != "0" else "1")}, "身份证号码校验位不正确，请核对。"),
    ({"rows-1-hours": "25"}, "不能大于 24。"),
])
def test_crafted_values_are_refused_at_the_field_and_everything_is_kept(app, filler, overrides, message):
    publish(app, SMALL.format(version=1, extra=""))
    response = filler.post("/forms/small/new", data=small_post(**overrides))
    assert response.status_code == 422
    assert errors_of(response) == [message]
    page = response.get_data(as_text=True)
    assert 'value="张三"' in page and 'value="李四"' in page
    with app.app_context():
        assert db.session.query(Submission).count() == 0


def test_pdf_named_jpg_and_oversized_image_are_refused_and_good_files_kept(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    data = small_post()
    data["photos"] = [(io.BytesIO(b"%PDF-1.4 not an image"), "photo.jpg"),
                      (io.BytesIO(jpeg(size=(1400, 1400), exif=False, quality=100) + b"\0" * 250_000), "big.jpg"),
                      (io.BytesIO(jpeg()), "good.jpg")]
    response = filler.post("/forms/small/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # Nothing is filed; the two refusals stand at the photos field (and nowhere else), each naming its file.
    with app.app_context():
        assert db.session.query(Submission).count() == 0
    assert '<div class="field has-error field-image" data-wrap="photos"' in page
    at_photos = page.split('data-wrap="photos"', 1)[1].split("data-wrap=", 1)[0].split("</form>", 1)[0]
    refusals = errors_of(response)
    assert re.findall(r'class="error" role="alert">([^<]+)<', at_photos) == refusals
    assert len(refusals) == 2 and "photo.jpg" in refusals[0] and "big.jpg" in refusals[1]
    assert refusals == ["文件 photo.jpg 的内容不是允许的类型（JPG, JPEG, PNG）。", "文件 big.jpg 超过 200 KB。"]
    assert 'value="张三"' in page and 'value="李四"' in page  # everything typed stays
    # Only the good photo is stored: one row, one file on disk, and that file is a real JPEG.
    from pathlib import Path

    from workflows.filling.uploads import path_of
    with app.app_context():
        kept = db.session.execute(select(StoredFile)).scalars().all()
        assert [(f.original_name, f.mimetype) for f in kept] == [("good.jpg", "image/jpeg")]
        token = kept[0].token
        on_disk = [p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]
        assert on_disk == [path_of(kept[0])]
        assert Image.open(on_disk[0]).format == "JPEG"
    # The good upload comes back as a kept file: sending the form again keeps it.
    assert f'name="photos-keep" value="{token}" checked' in page
    again = small_post()
    again["photos-keep"] = token
    assert filler.post("/forms/small/new", data=again).status_code == 302
    saved = only_submission(app)
    assert saved.answers["photos"][0]["id"] == token
    assert saved.image_count == 1  # kept on save: the scores' photo rule never reads the answers


def test_images_are_reencoded_without_exif_and_served_safely(app, filler, city, create_user):
    publish(app, SMALL.format(version=1, extra=""))
    data = small_post()
    data["photos"] = [(io.BytesIO(jpeg()), "exif.jpg")]
    assert filler.post("/forms/small/new", data=data, content_type="multipart/form-data").status_code == 302
    token = only_submission(app).answers["photos"][0]["id"]
    response = filler.get(f"/files/{token}")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "exif.jpg" in response.headers["Content-Disposition"]
    assert b"SecretCam" not in response.data
    assert not Image.open(io.BytesIO(response.data)).getexif()
    # Someone from another district cannot fetch it, whatever URL they type.
    create_user("filler.b1", city["b1"], "filler", "reviewer")
    other = app.test_client()
    other.post("/login", data={"username": "filler.b1", "password": "correct-horse-1"})
    assert other.get(f"/files/{token}").status_code == 404


def test_draft_is_checked_loosely_and_comes_back(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    response = filler.post("/forms/small/new", data={"action": "save", "rows-0-who": "半截"})
    assert response.status_code == 302
    draft = only_submission(app)
    assert draft.state == "draft" and draft.answers["rows"] == [{"who": "半截"}]
    page = filler.get(f"/submissions/{draft.id}/edit").get_data(as_text=True)
    assert 'value="半截"' in page
    # A type error still stops a draft, with what was typed kept.
    response = filler.post(f"/submissions/{draft.id}/edit",
                           data={"action": "save", "row_version": "1", "rows-0-who": "半截", "rows-0-hours": "两个"})
    assert response.status_code == 422 and errors_of(response) == ["请填写数字。"]
    assert 'value="两个"' in response.get_data(as_text=True)


def test_stale_edit_is_refused_with_entries_kept(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    filler.post("/forms/small/new", data={"action": "save", "rows-0-who": "甲"})
    draft = only_submission(app)
    filler.post(f"/submissions/{draft.id}/edit", data={"action": "save", "row_version": "1", "rows-0-who": "乙"})
    response = filler.post(f"/submissions/{draft.id}/edit",
                           data={"action": "save", "row_version": "1", "rows-0-who": "丙"})
    assert response.status_code == 422
    assert 'value="丙"' in response.get_data(as_text=True)
    assert only_submission(app).answers["rows"] == [{"who": "乙"}]


def test_id_numbers_are_encrypted_at_rest_and_masked_on_display(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    filler.post("/forms/small/new", data=small_post())
    stored = only_submission(app)
    envelope = stored.answers["rows"][0]["id_number"]
    assert set(envelope) == {"masked", "hash", "enc"} and id_number() not in str(stored.answers)
    page = filler.get(f"/submissions/{stored.id}").get_data(as_text=True)
    assert id_number()[:4] + "**********" + id_number()[-4:] in page and id_number() not in page


def test_old_submission_renders_with_its_own_version(app, filler):
    publish(app, SMALL.format(version=1, extra="  - {name: place, type: text, label: 活动地点}\n"))
    filler.post("/forms/small/new", data=small_post(place="颍州区"))
    with app.app_context():
        db.session.execute(db.update(FormVersion).values(status="retired"))
        db.session.commit()
    publish(app, SMALL.format(version=2, extra=""))
    old = only_submission(app)
    page = filler.get(f"/submissions/{old.id}").get_data(as_text=True)
    assert "活动地点" in page and "颍州区" in page
    new_form = filler.get("/forms/small/new").get_data(as_text=True)
    assert "活动地点" not in new_form


def test_other_units_cannot_see_or_edit(app, filler, city, create_user):
    publish(app, SMALL.format(version=1, extra=""))
    filler.post("/forms/small/new", data={"action": "save", "rows-0-who": "甲"})
    draft = only_submission(app)
    create_user("filler.b1", city["b1"], "filler", "reviewer", "admin")
    other = app.test_client()
    other.post("/login", data={"username": "filler.b1", "password": "correct-horse-1"})
    assert other.get(f"/submissions/{draft.id}").status_code == 404
    assert other.get(f"/submissions/{draft.id}/edit").status_code == 404
    assert "甲" not in other.get("/submissions/").get_data(as_text=True)
    assert other.get(f"/forms/small/new?unit={city['a1']}").status_code == 403


def test_builtin_activity_report_through_the_page(app, filler):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    assert "节点主题志愿服务活动报送" in filler.get("/forms/").get_data(as_text=True)
    data = {"action": "submit", "theme": "leifeng", "title": "学雷锋志愿服务", "held_on": "2017-03-05",
            "place": "颍州区清河路社区", "beneficiaries": "孤寡老人 30 人", "content": "为辖区老人打扫卫生、理发、测量血压，" * 4,
            "has_media": "0", "roster-0-name": "张三", "roster-0-id_number": id_number(), "roster-0-hours": "3",
            "person_in_charge": "王主任", "contact_phone": "13800138000", "recorder": "李四",
            "photos": [(io.BytesIO(jpeg()), "a.jpg")]}
    response = filler.post("/forms/activity_report/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, errors_of(response)
    stored = only_submission(app)
    assert stored.answers["total_hours"] == 3 and stored.answers["volunteer_count"] == 1
    assert (stored.form_key, stored.form_version) == ("activity_report", 2) and len(stored.form_sha256) == 64


def _registration(filler, app, number, **extra):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    data = {"action": "submit", "name": "小明", "sex": "male", "id_number": number, "phone": "13800138000",
            "data_consent": "1"}
    data.update(extra)
    return filler.post("/forms/volunteer_registration/new", data=data)


def test_volunteer_under_14_needs_guardian_consent(app, filler):
    base = "34120120150307123"
    child = base + check_character(base)
    response = _registration(filler, app, child, guardian_consent="0")
    assert response.status_code == 422
    assert errors_of(response) == ["此项为必填项。", "此项为必填项。", "未满 14 周岁须经监护人同意方可注册。"]
    response = _registration(filler, app, child, guardian_name="小明妈妈", guardian_phone="13900139000",
                             guardian_consent="1")
    assert response.status_code == 302


def test_adult_volunteer_needs_no_guardian(app, filler):
    response = _registration(filler, app, id_number(), guardian_name="crafted")
    assert response.status_code == 302
    stored = only_submission(app)
    assert "guardian_name" not in stored.answers and stored.answers["birth"] == "1990-03-07"


def test_defaults_prefill_and_read_only_fields_keep_them(app, filler):
    extra = ("  - {name: year, type: integer, default: 2017, read_only: true}\n"
             "  - {name: city, type: text, default: 阜阳}\n")
    publish(app, SMALL.format(version=1, extra=extra))
    page = filler.get("/forms/small/new").get_data(as_text=True)
    assert 'value="2017"' in page and 'value="阜阳"' in page
    assert filler.post("/forms/small/new", data=small_post(year="1999", city="合肥")).status_code == 302
    stored = only_submission(app)
    assert (stored.answers["year"], stored.answers["city"]) == (2017, "合肥")


CASCADE = """key: cascade
version: 1
title: 级联
choices:
  districts: [{value: yz, label: 颍州区}, {value: yd, label: 颍东区}]
  streets: [{value: qh, label: 清河路, district: yz}, {value: xy, label: 向阳, district: yd}]
fields:
  - {name: district, type: choice, choices: districts, required: true}
  - {name: street, type: choice, choices: streets, required: true, choice_filter: {district: district}}
"""


def test_cascading_choices_are_checked_on_the_server_and_filtered_in_the_page(app, filler):
    publish(app, CASCADE)
    page = filler.get("/forms/cascade/new").get_data(as_text=True)
    assert '"filters": {"street": {"items": {"qh": {"district": "yz"}' in page
    wrong = filler.post("/forms/cascade/new", data={"action": "submit", "district": "yz", "street": "xy"})
    assert wrong.status_code == 422 and errors_of(wrong) == ["请从列表中选择。"]
    right = filler.post("/forms/cascade/new", data={"action": "submit", "district": "yz", "street": "qh"})
    assert right.status_code == 302


def test_uploads_no_form_took_up_are_purged_after_a_week(app, filler):
    from datetime import timedelta

    from workflows import jobs
    from workflows.filling import uploads
    publish(app, SMALL.format(version=1, extra=""))
    data = small_post(kind="b")  # refused (reason missing), but the photo is stored and kept for the retry
    data["photos"] = [(io.BytesIO(jpeg()), "left.jpg")]
    filler.post("/forms/small/new", data=data, content_type="multipart/form-data")
    with app.app_context():
        stored = db.session.execute(select(StoredFile)).scalar_one()
        path = uploads.path_of(stored)
        assert path.exists()
        jobs.enqueue("purge_unattached_uploads")
        db.session.commit()
        jobs.dispatcher().wait_idle()
        assert db.session.execute(select(StoredFile)).scalar_one()  # a fresh upload stays
        stored = db.session.execute(select(StoredFile)).scalar_one()
        stored.created_at -= timedelta(days=8)
        db.session.commit()
        jobs.enqueue("purge_unattached_uploads")
        db.session.commit()
        jobs.dispatcher().wait_idle()
        assert db.session.execute(select(StoredFile)).first() is None and not path.exists()


def test_a_post_sent_by_the_fill_page_is_told_where_it_leads_and_keeps_its_message(app, filler):
    publish(app, SMALL.format(version=1, extra=""))
    sent_by_page = {"X-Upload-Progress": "1"}
    data = small_post(photos=[(io.BytesIO(jpeg()), "a.jpg")])
    response = filler.post("/forms/small/new", data=data, headers=sent_by_page, content_type="multipart/form-data")
    submission = only_submission(app)
    assert response.status_code == 204 and response.get_data() == b""
    assert "Location" not in response.headers
    assert response.headers["X-Location"] == f"/submissions/{submission.id}"
    assert "已提交" in filler.get(response.headers["X-Location"]).get_data(as_text=True)  # not spent on the request
    # A refused form comes back as the page it is, for the script to show in place.
    refused = filler.post("/forms/small/new", data=small_post(kind=""), headers=sent_by_page)
    assert refused.status_code == 422 and "X-Location" not in refused.headers
    assert 'class="error-summary"' in refused.get_data(as_text=True)
    # The browser's own post is redirected as ever.
    plain = filler.post("/forms/small/new", data=small_post(action="save"))
    assert plain.status_code == 302 and "X-Location" not in plain.headers
    assert re.search(r"/submissions/\d+/edit$", plain.headers["Location"])


def test_the_unit_to_fill_for_is_picked_from_the_persons_units_and_checked(app, client, login, city, create_user):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a", city["a"], "filler")
    login("filler.a")
    page = client.get("/forms/").get_data(as_text=True)
    report = re.search(r'<form method="get" action="/forms/activity_report/new".*?</form>', page, re.S).group(0)
    assert "data-typeahead=" in report and "role=filler" in report and "kind=community" in report
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', report)}
    assert offered == {city["a1"], city["a2"]}  # not the office itself (the form is not open to it), nothing of B
    assert client.get(f"/forms/activity_report/new?unit={city['a2']}").status_code == 200
    assert client.get(f"/forms/activity_report/new?unit={city['b1']}").status_code == 403
    assert client.get(f"/forms/activity_report/new?unit={city['a']}").status_code == 403
    nothing_chosen = client.get("/forms/activity_report/new?unit=")
    assert nothing_chosen.status_code == 302 and nothing_chosen.headers["Location"].endswith("/forms/")
    assert "请选择要填报的单位" in client.get("/forms/").get_data(as_text=True)
