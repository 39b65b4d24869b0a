"""GET /obligations?year=YYYY&month=MM: one month's obligation cells of the caller's units.

The units are those where the caller holds any role (a filler sees their own units, an office its
district or the city), as on the pages; the cells are ``assessment.obligations.evaluate``'s.
"""
from flask import jsonify
from flask_babel import gettext as _

from ..access import VIEW_ROLES
from ..assessment.obligations import compliance
from ..assessment.periods import Month
from .blueprint import bp
from .errors import BadRequest
from .representations import _unit
from .requests import _arg_int, _user


@bp.get("/obligations")
def list_obligations():
    year = _arg_int("year", 2000, 2100)
    month = _arg_int("month", 1, 12)
    if year is None or month is None:
        raise BadRequest(_("Give the month as year=YYYY and month=MM."), field="year" if year is None else "month")
    period = Month(year, month)
    rules, units, cells = compliance.visible_cells(_user(), period, VIEW_ROLES)
    items = []
    for unit in units:
        for obligation in rules.obligations:
            cell = cells.get((unit.id, obligation.key, str(period)))
            if cell is None:
                continue
            items.append({"unit": _unit(unit), "obligation": obligation.key, "status": cell.status,
                          "count": cell.count, "on_time": cell.on_time, "pending": cell.pending,
                          "needed": cell.needed, "deadline": cell.deadline.isoformat(), "open": cell.open,
                          "sources": list(cell.sources)})
    return jsonify({"period": str(period), "rules": {"key": rules.key, "version": rules.version,
                                                     "sha256": rules.sha256}, "items": items})
