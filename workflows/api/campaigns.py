"""GET /campaigns?year=YYYY: a year's campaigns (节点), for anyone with a valid token."""
from datetime import date

from flask import jsonify

from ..assessment.campaigns.nodes import FIRST_YEAR, LAST_YEAR
from ..assessment.campaigns.plans import campaigns_of
from .blueprint import bp
from .requests import _arg_int


def _campaign(c):
    return {"key": c.key, "year": c.year, "name": {"zh": c.name_zh, "en": c.name_en or None},
            "node_on": c.node_on.isoformat(), "window_start": c.window_start.isoformat(),
            "window_end": c.window_end.isoformat(), "theme": c.theme, "topics": list(c.topics or []),
            "unit_kinds": list(c.unit_kinds or []), "forms": list(c.forms or []),
            "lead_unit_ids": list(c.lead_unit_ids or []), "source": c.source}


@bp.get("/campaigns")
def list_campaigns():
    year = _arg_int("year", FIRST_YEAR, LAST_YEAR, default=date.today().year)
    return jsonify({"year": year, "campaigns": [_campaign(c) for c in campaigns_of(year)]})
