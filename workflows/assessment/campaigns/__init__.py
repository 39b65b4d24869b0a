"""Campaigns (节点) as data: the year's nodes computed from the calendar, stored, edited by the city office."""
from ...commands import add_commands


def init_app(app):
    from forms import choice_sources
    from . import choices, cli, pages, plans
    from ... import home
    choice_sources.register(choices.SOURCE, choices.campaign_choices)
    app.register_blueprint(pages.bp)
    add_commands(app, cli.campaigns_cli)
    # The home page says what a filling unit owes this month (replaceable by the obligation rules).
    home.set_due_provider(plans.due_this_month)
