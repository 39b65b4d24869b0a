"""The campaigns as the activity form's theme choices: one item per campaign key, with every year's window.

The form (``choices_from: {source: campaigns, open_on: held_on}``) offers
the campaigns whose window holds the activity's date. A value is the
campaign's key (``lantern``), the same every year as in the form's own
list, so reports of every year and version group together; the label a
report shows is pinned when it is saved (the name of the campaign open on
its date). Read once per request: a page asks often.
"""
from flask import g, has_app_context
from sqlalchemy import select

from ...extensions import db
from ...models import Campaign

SOURCE = "campaigns"
FORM = "activity_report"


def campaign_choices():
    if not has_app_context():  # a definition read on its own (checks, comparisons) has only its own list
        return []
    if "_campaign_choices" in g:
        return g._campaign_choices
    rows = db.session.execute(select(Campaign).order_by(Campaign.year, Campaign.window_start, Campaign.id)
                              ).scalars().all()
    items = {}
    for campaign in rows:
        if FORM not in (campaign.forms or []):
            continue
        item = items.setdefault(campaign.key, {"value": campaign.key, "windows": [], "names": []})
        # The newest year's name labels a key the form does not know itself.
        item["label"] = {"zh": campaign.name_zh, "en": campaign.name_en or campaign.name_zh}
        item["windows"].append([campaign.window_start.isoformat(), campaign.window_end.isoformat()])
        item["names"].append(item["label"])
    found = list(items.values())
    g._campaign_choices = found
    return found
