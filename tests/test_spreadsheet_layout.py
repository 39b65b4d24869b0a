"""Every XLSX the app writes keeps its headings in view, has set column widths, and pads no name with U+3000."""
import io
from datetime import date, datetime

from openpyxl import load_workbook

from tests.test_api import builtin  # noqa: F401 - fixture
from tests.test_obligations import in_march, town  # noqa: F401 - fixture
from workflows.extensions import db
from workflows.spreadsheets import text_width


def no_full_width_spaces(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and "\u3000" in value), (sheet.title, value)


def widths(sheet, letters):
    """The widths the file sets (0 for a column left at Excel's default)."""
    return [sheet.column_dimensions[letter].width if sheet.column_dimensions[letter].customWidth else 0
            for letter in letters]


def test_text_width_counts_chinese_characters_double():
    assert text_width(["abcd"]) == 8 and text_width(["abcdefghij"]) == 12
    assert text_width(["阜阳市颍州区文明办"]) == 20 and text_width(["x" * 200]) == 60
    assert text_width([]) == 8 and text_width([None, "ab"], least=3) == 4


def test_unit_directory_indents_by_depth_freezes_its_headings_and_sets_widths(app, city, tmp_path):
    from workflows.documents.directory import directory_rows, write_xlsx
    from workflows.models import Unit
    with app.test_request_context():
        root = db.session.get(Unit, city["a"])
        write_xlsx(tmp_path / "d.xlsx", root, directory_rows(root), date(2017, 3, 5), "zh_CN")
    book = load_workbook(tmp_path / "d.xlsx")
    sheet = book.active
    no_full_width_spaces(book)
    assert sheet.freeze_panes == "A4"  # the title, the date and the headings
    assert all(w and w >= 8 for w in widths(sheet, "ABCDE"))
    names = [(sheet.cell(row=r, column=3).value, sheet.cell(row=r, column=3).alignment.indent) for r in (4, 5, 6)]
    assert names == [("A区文明办", 0), ("A区单位1", 1), ("A区单位2", 1)]


def test_compliance_export_freezes_headings_and_unit_columns_and_sets_widths(app, client, login, town):
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20))])
    login("city.office")
    response = client.get("/assessment/compliance.xlsx?year=2017&month=3")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    no_full_width_spaces(book)
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "E2"
    assert all(w and w >= 12 for w in widths(sheet, "ABCDEF"))
    totals = book.worksheets[1]
    assert totals.freeze_panes == "A2" and all(w for w in widths(totals, "ABC"))


def test_roster_template_and_records_export_freeze_and_set_widths(app, city):
    from workflows.demo.city import install_builtin_forms
    from workflows.filling.form_versions import latest_published
    from workflows.filling.roster_excel import template_workbook
    from workflows.models import Unit
    from workflows.volunteers.export import records_workbook
    with app.test_request_context():
        install_builtin_forms()
        db.session.commit()
        spec = latest_published("activity_report").spec
        roster = next(f for f in spec.fields if f.type == "repeat")
        books = [template_workbook(spec, roster, "zh"),
                 records_workbook(db.session.get(Unit, city["a"]), date(2017, 1, 1), date(2017, 12, 31))]
    for data in books:
        book = load_workbook(io.BytesIO(data))
        no_full_width_spaces(book)
        sheet = book.worksheets[0]
        assert sheet.freeze_panes == "A2"
        assert all(w and w >= 8 for w in widths(sheet, "ABC"))
