"""A year's plan in the database: generated once, then the city office's to edit; what is open when."""
from sqlalchemy import select

from .nodes import nodes_for

from ...extensions import db
from ...models import Campaign

GENERATED, OFFICE = "generated", "office"


def campaigns_of(year):
    return db.session.execute(select(Campaign).where(Campaign.year == year)
                              .order_by(Campaign.node_on, Campaign.key)).scalars().all()


def generate(year, user=None):
    """Store ``year``'s generated nodes that are missing; rows already there stay as the office left them.

    Returns the campaigns added. YearOutOfRange outside 1950–2100.
    """
    nodes = nodes_for(year)
    have = set(db.session.execute(select(Campaign.key).where(Campaign.year == year)).scalars())
    added = []
    for node in nodes:
        if node.key in have:
            continue
        campaign = Campaign(year=year, key=node.key, name_zh=node.name_zh, name_en=node.name_en,
                            node_on=node.node_on, window_start=node.window_start, window_end=node.window_end,
                            theme=node.theme, topics=list(node.topics), unit_kinds=list(node.unit_kinds),
                            forms=list(node.forms), lead_unit_ids=list(node.lead_unit_ids), source=GENERATED,
                            created_by_id=user.id if user else None, updated_by_id=user.id if user else None)
        db.session.add(campaign)
        added.append(campaign)
    db.session.flush()
    return added


def open_on(day, unit_kind=None, form_key=None):
    """The campaigns whose window holds ``day`` (for a kind of unit, a form), by node date."""
    rows = db.session.execute(select(Campaign).where(Campaign.window_start <= day, Campaign.window_end >= day)
                              .order_by(Campaign.node_on, Campaign.key)).scalars().all()
    return [c for c in rows if (unit_kind is None or not c.unit_kinds or unit_kind in c.unit_kinds)
            and (form_key is None or not c.forms or form_key in c.forms)]


def open_in_month(month, unit_kind=None):
    """The campaigns whose window meets ``month``, by node date."""
    rows = db.session.execute(select(Campaign).where(Campaign.window_start <= month.last,
                                                     Campaign.window_end >= month.first)
                              .order_by(Campaign.node_on, Campaign.key)).scalars().all()
    return [c for c in rows if unit_kind is None or not c.unit_kinds or unit_kind in c.unit_kinds]
