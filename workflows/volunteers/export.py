"""The current service records organised by a unit's subtree in a period, as XLSX (ID numbers: last four).

Every cell goes through ``spreadsheets.text_cell``: a unit or activity named
``=HYPERLINK(…)`` stays text, never a formula.
"""
import io

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..filling.personal_data import last_four
from ..models import ServiceRecord, Unit
from ..spreadsheets import sheet_title, text_cell, text_row

WIDTHS = (14, 12, 22, 30, 12, 24, 10, 10, 10)


def records_workbook(unit, start, end):
    """XLSX bytes: one row per current record held from ``start`` to ``end`` (inclusive), by date."""
    records = db.session.execute(
        select(ServiceRecord).join(Unit, Unit.id == ServiceRecord.organising_unit_id)
        .where(ServiceRecord.is_current.is_(True), Unit.in_subtree(unit.path),
               ServiceRecord.held_on >= start, ServiceRecord.held_on <= end)
        .options(joinedload(ServiceRecord.volunteer), joinedload(ServiceRecord.organising_unit))
        .order_by(ServiceRecord.held_on, ServiceRecord.id)).scalars().all()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(_("Service records")))
    sheet.freeze_panes = "A2"
    for number, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + number)].width = width
    sheet.append([text_cell(sheet, title) for title in (
        _("Volunteer number"), _("Name"), _("ID number"), _("Activity"), _("Date"), _("Organising unit"),
        _("Reported hours"), _("Certified hours"), _("Status"))])
    for record in records:
        volunteer = record.volunteer
        sheet.append(text_row(sheet, [
            volunteer.number or "", volunteer.name, last_four(volunteer.id_masked), record.activity_name,
            record.held_on.isoformat(), record.organising_unit.name, float(record.reported_hours),
            float(record.hours), record.status]))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
