"""Hardening (issue 7): image uploads bounded in pixels, memory and concurrency; truncated images refused;
stray upload files swept; exports that never carry live formulas."""
import io
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageFile
from sqlalchemy import select

from forms import files as file_rules
from tests.conftest import ROOT
from workflows import jobs
from workflows.filling import uploads
from workflows.config import ConfigError, load_config
from workflows.extensions import db
from workflows.models import FormVersion, StoredFile, Unit

PHOTOS = """key: photos
version: 1
title: 照片
fields:
  - {name: photos, type: image, max_files: 9, max_size: 2MB}
"""


def publish(app, source=PHOTOS):
    from forms.definition import load_definition
    with app.app_context():
        spec = load_definition(source)
        db.session.add(FormVersion(key=spec.key, version=spec.version, sha256=spec.sha256, source=source,
                                   title=spec.schema.title.zh, status="published"))
        db.session.commit()


def noisy(size, mode="RGB"):
    """An image that does not compress to almost nothing, so cutting it leaves real data missing."""
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))


def encoded(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg(size=(400, 300), **options):
    return encoded(Image.new("RGB", size, (30, 120, 200)), "JPEG", **options)


def errors_of(response):
    return re.findall(r'class="error" role="alert">([^<]+)<', response.get_data(as_text=True))


@pytest.fixture
def filler(app, city, create_user, client, login):
    publish(app)
    create_user("filler.a1", city["a1"], "filler")
    login("filler.a1")
    return client


def post_photos(client, *photos):
    data = {"action": "submit", "photos": [(io.BytesIO(content), name) for name, content in photos]}
    return client.post("/forms/photos/new", data=data, content_type="multipart/form-data")


def stored_files(app):
    with app.app_context():
        return [(f.original_name, uploads.path_of(f).read_bytes())
                for f in db.session.execute(select(StoredFile).order_by(StoredFile.id)).scalars()]


# --- 4. pixel cap, reduced decoding, bounded concurrency ----------------------------------------

def test_pixel_cap_is_a_setting_far_below_pillows_default(tmp_path):
    config = load_config(str(tmp_path), {})
    assert config["UPLOAD_MAX_PIXELS"] == 50_000_000 < Image.MAX_IMAGE_PIXELS
    assert config["UPLOAD_IMAGE_MAX_SIDE"] == 2048
    assert config["UPLOAD_IMAGE_DECODES"] == 2
    assert load_config(str(tmp_path), {"UPLOAD_MAX_PIXELS": "1000000"})["UPLOAD_MAX_PIXELS"] == 1_000_000
    for name in ("UPLOAD_MAX_PIXELS", "UPLOAD_IMAGE_MAX_SIDE", "UPLOAD_IMAGE_DECODES"):
        with pytest.raises(ConfigError, match=name):
            load_config(str(tmp_path), {name: "lots"})


def test_image_above_the_pixel_cap_is_refused_at_the_field(app, filler):
    app.config["UPLOAD_MAX_PIXELS"] = 1_000_000
    # A flat 1200×1000 JPEG is tiny in bytes but 1.2 million pixels once decoded.
    response = post_photos(filler, ("wide.jpg", jpeg((1200, 1000))), ("fine.jpg", jpeg((1000, 1000))))
    assert response.status_code == 422
    assert errors_of(response) == ["图片 wide.jpg 的像素过多（1200×1000，约 1.2 百万像素），上限为 1 百万像素，"
                                   "请缩小后重新上传。"]
    assert [name for name, _ in stored_files(app)] == ["fine.jpg"]


def test_pixel_cap_message_in_english():
    from forms.messages import message
    with pytest.raises(file_rules.UploadRefused) as caught:
        file_rules.reencode_image(io.BytesIO(jpeg((1200, 1000))), "jpg", "wide.jpg",
                                  file_rules.ImageLimits(max_pixels=1_000_000, max_side=2048))
    assert message(caught.value.key, "en", **caught.value.params) == (
        "The image wide.jpg has too many pixels (1200×1000, about 1.2 megapixels); the limit is 1 megapixels. "
        "Please make it smaller and upload it again.")


def test_jpeg_is_decoded_at_reduced_scale_straight_to_the_stored_size():
    limits = file_rules.ImageLimits(max_pixels=50_000_000, max_side=1000)
    result = file_rules.reencode_image(io.BytesIO(jpeg((4000, 3000))), "jpg", "big.jpg", limits)
    # Image.draft let libjpeg decode at 1/4 scale: 3 million pixels were never in memory.
    assert result.decoded_size == (1000, 750)
    assert result.size == (1000, 750)
    assert Image.open(io.BytesIO(result.data)).size == (1000, 750)
    # A side that does not divide evenly: decoded at the largest scale that still covers the target.
    odd = file_rules.reencode_image(io.BytesIO(jpeg((4100, 2300))), "jpg", "odd.jpg", limits)
    assert odd.decoded_size == (1025, 575) and odd.size == (1000, 561)


def test_small_images_keep_their_size_and_pngs_are_bounded_too():
    limits = file_rules.ImageLimits(max_pixels=50_000_000, max_side=1000)
    small = file_rules.reencode_image(io.BytesIO(jpeg((640, 480))), "jpg", "small.jpg", limits)
    assert small.decoded_size == small.size == (640, 480)
    png = encoded(Image.new("RGBA", (3000, 1500), (1, 2, 3, 100)), "PNG")
    result = file_rules.reencode_image(io.BytesIO(png), "png", "wide.png", limits)
    assert result.size == (1000, 500) and Image.open(io.BytesIO(result.data)).mode == "RGBA"


def test_exif_rotation_is_applied_after_reduced_decoding():
    image = Image.new("RGB", (4000, 3000), (10, 10, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    limits = file_rules.ImageLimits(max_pixels=50_000_000, max_side=1000)
    result = file_rules.reencode_image(io.BytesIO(encoded(image, "JPEG", exif=exif)), "jpg", "r.jpg", limits)
    assert result.decoded_size == (1000, 750) and result.size == (750, 1000)


def test_stored_images_are_at_most_the_configured_side(app, filler):
    app.config["UPLOAD_IMAGE_MAX_SIDE"] = 500
    response = post_photos(filler, ("photo.jpg", jpeg((2000, 1500))))
    assert response.status_code == 302, errors_of(response)
    [(_, data)] = stored_files(app)
    assert Image.open(io.BytesIO(data)).size == (500, 375)


def test_at_most_the_configured_number_of_decodes_run_at_once(app, monkeypatch):
    app.config["UPLOAD_IMAGE_DECODES"] = 2
    inside, most, lock = [0], [0], threading.Lock()
    real = file_rules._decode

    def counting(*args, **kwargs):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # stay inside long enough for the others to try to enter
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(file_rules, "_decode", counting)
    results = []

    def upload():
        with app.app_context():
            results.append(uploads.reencode(io.BytesIO(jpeg((300, 200))), "jpg", "p.jpg"))

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert 1 <= most[0] <= 2


# --- 5. truncated images refused, whatever the process-wide Pillow flag says --------------------

def truncated_jpeg():
    data = encoded(noisy((400, 300)), "JPEG", quality=90)
    return data[:len(data) * 6 // 10]


def truncated_png():
    data = encoded(noisy((400, 300)), "PNG")
    return data[:len(data) * 6 // 10]


@pytest.mark.parametrize("load_truncated", [True, False])
def test_truncated_jpeg_and_png_are_refused_at_the_field(app, filler, monkeypatch, load_truncated):
    # WeasyPrint sets this for the whole process when it is imported; the check must not depend on it.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    response = post_photos(filler, ("cut.jpg", truncated_jpeg()), ("cut.png", truncated_png()),
                           ("whole.jpg", jpeg()))
    assert response.status_code == 422
    assert errors_of(response) == ["图片 cut.jpg 不完整（文件被截断），请重新上传。",
                                   "图片 cut.png 不完整（文件被截断），请重新上传。"]
    assert [name for name, _ in stored_files(app)] == ["whole.jpg"]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is load_truncated  # left as it was for everybody else


def test_importing_weasyprint_does_not_let_a_truncated_image_through(tmp_path):
    # A fresh process, so the import really is what flips Pillow's process-wide flag.
    (tmp_path / "cut.jpg").write_bytes(truncated_jpeg())
    (tmp_path / "cut.png").write_bytes(truncated_png())
    script = textwrap.dedent(f"""
        import io, weasyprint
        from PIL import ImageFile
        from forms import files
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True
        limits = files.ImageLimits(max_pixels=50_000_000, max_side=2048)
        for kind in ("jpg", "png"):
            data = open({str(tmp_path)!r} + "/cut." + kind, "rb").read()
            try:
                files.reencode_image(io.BytesIO(data), kind, "cut." + kind, limits)
                print(kind, "accepted")
            except files.UploadRefused as refused:
                print(kind, refused.key)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.split() == ["jpg", "image_truncated", "png", "image_truncated"], result.stderr


def _whole_images():
    exif = Image.new("RGB", (64, 48)).getexif()
    exif[0x010F] = "SecretCam"
    yield "baseline", "jpg", encoded(noisy((300, 200)), "JPEG", quality=85)
    yield "progressive", "jpg", encoded(noisy((300, 200)), "JPEG", progressive=True)
    yield "exif", "jpg", encoded(noisy((300, 200)), "JPEG", exif=exif)
    yield "grey", "jpg", encoded(noisy((300, 200), "L"), "JPEG")
    yield "cmyk", "jpg", encoded(noisy((300, 200), "CMYK"), "JPEG")
    yield "trailing", "jpg", encoded(noisy((300, 200)), "JPEG") + b"camera trailer after EOI"
    yield "rgba", "png", encoded(noisy((300, 200), "RGBA"), "PNG")
    yield "palette", "png", encoded(noisy((300, 200)).convert("P"), "PNG")
    yield "grey16", "png", encoded(Image.new("I;16", (300, 200), 1000), "PNG")


@pytest.mark.parametrize("load_truncated", [True, False])
@pytest.mark.parametrize("label, kind, data", list(_whole_images()), ids=lambda v: v if isinstance(v, str) else "")
def test_whole_images_are_accepted_whatever_the_flag(monkeypatch, load_truncated, label, kind, data):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    limits = file_rules.ImageLimits(max_pixels=50_000_000, max_side=2048)
    result = file_rules.reencode_image(io.BytesIO(data), kind, f"{label}.{kind}", limits)
    assert result.size == (300, 200)
    assert b"SecretCam" not in result.data


# --- 13. an upload file without its row is swept ------------------------------------------------

def test_stray_upload_files_older_than_a_day_are_swept(app, filler):
    assert post_photos(filler, ("kept.jpg", jpeg())).status_code == 302
    folder = Path(app.config["UPLOAD_DIR"])
    day_and_a_bit_ago = time.time() - 26 * 3600
    old_stray = folder / "ab" / ("ab" + "1" * 30 + ".jpg")
    fresh_stray = folder / "cd" / ("cd" + "2" * 30 + ".png")
    for path in (old_stray, fresh_stray):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"written just before a crash")
    os.utime(old_stray, (day_and_a_bit_ago, day_and_a_bit_ago))
    with app.app_context():
        kept = uploads.path_of(db.session.execute(select(StoredFile)).scalar_one())
    os.utime(kept, (day_and_a_bit_ago, day_and_a_bit_ago))  # old, but its row is there
    with app.app_context():
        jobs.enqueue("purge_unattached_uploads")
        db.session.commit()
        jobs.dispatcher().wait_idle()
    assert not old_stray.exists()
    assert fresh_stray.exists()
    assert kept.exists()


def test_the_row_is_flushed_before_the_file_is_written(app, filler, monkeypatch):
    seen = []
    real = uploads._write_file

    def checking(path, data):
        storage_name = path.name
        seen.append(db.session.execute(select(StoredFile.id).where(
            StoredFile.storage_name == storage_name)).scalar_one_or_none())
        return real(path, data)

    monkeypatch.setattr(uploads, "_write_file", checking)
    assert post_photos(filler, ("a.jpg", jpeg())).status_code == 302
    assert len(seen) == 1 and seen[0] is not None


# --- 8. exports never carry live formulas; sheet titles always valid ----------------------------

FORMULA = '=HYPERLINK("http://evil.example/x","点击查看")'
DANGEROUS = [FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "\tTAB", "\rCR", "#N/A"]


def test_every_text_cell_of_the_directory_xlsx_is_text(app, city, create_unit, tmp_path):
    from workflows.documents.directory import directory_rows, write_xlsx
    for n, name in enumerate(DANGEROUS):
        parent = create_unit(city["a"], name=f"单位{n}", code=f"DA-X{n}", kind="office")
        create_unit(parent, name=f"子单位{n}", code=f"DA-X{n}-1")
        with app.app_context():
            # Straight into the row: the admin pages strip a leading tab, an import might not.
            db.session.get(Unit, parent).name = name
            db.session.commit()
    with app.test_request_context():
        root = db.session.get(Unit, city["a"])
        write_xlsx(tmp_path / "d.xlsx", root, directory_rows(root), date(2026, 11, 29), "zh_CN")
    sheet = load_workbook(tmp_path / "d.xlsx").active
    cells = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert all(cell.data_type == "s" for cell in cells), [(c.coordinate, c.value, c.data_type) for c in cells
                                                          if c.data_type != "s"]
    values = {cell.value for cell in cells}
    for name in DANGEROUS:
        # The name itself (parent column of its child), unchanged; XML reads a lone CR back as LF.
        assert name.replace("\r", "\n") in values


def test_office_named_like_a_formula_with_a_colon_gets_its_xlsx(app, create_unit, create_user, client, login):
    city_id = create_unit(name="市文明办", code="CITY")
    office = create_unit(city_id, name=FORMULA, kind="office", code="EVIL")
    create_unit(office, name="下属单位", code="EVIL-1")
    create_user("admin.x", office, "admin")
    login("admin.x")
    response = client.post("/documents/directory/", data={"unit_id": office, "fmt": "xlsx"})
    assert response.status_code == 302, response.get_data(as_text=True)
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    with app.app_context():
        jobs.dispatcher().wait_idle()
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done", status
    book = load_workbook(io.BytesIO(client.get(status["download_url"]).data))
    sheet = book.active
    assert sheet["A1"].value == f"{FORMULA}单位名录" and sheet["A1"].data_type == "s"
    assert not set(sheet.title) & set("\\/*?:[]") and 0 < len(sheet.title) <= 31


def test_sheet_titles_are_sanitised_and_unique():
    from workflows.spreadsheets import sheet_title
    assert sheet_title("A:B/C\\D*E?F[G]H") == "A-B-C-D-E-F-G-H"
    assert sheet_title("") == "Sheet"
    assert sheet_title("'quoted'") == "quoted"
    assert len(sheet_title("长" * 40)) == 31
    taken = set()
    titles = [sheet_title("名录" * 20, taken) for _ in range(3)]
    assert len(set(t.lower() for t in titles)) == 3 and all(len(t) <= 31 for t in titles)


def test_csv_cells_starting_like_a_formula_are_quoted_as_text():
    from workflows.spreadsheets import csv_text
    assert [csv_text(v) for v in DANGEROUS[:6]] == ["'" + v for v in DANGEROUS[:6]]
    assert csv_text("张三") == "张三" and csv_text(3) == 3 and csv_text(None) is None
