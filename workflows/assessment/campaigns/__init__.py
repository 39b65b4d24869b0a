"""Campaigns (节点) as data: the year's nodes computed from the calendar, stored, edited by the city office."""
from ...commands import add_commands


def init_app(app):
    from forms import choice_sources
    from . import choices, cli, pages
    choice_sources.register(choices.SOURCE, choices.campaign_choices)
    app.register_blueprint(pages.bp)
    add_commands(app, cli.campaigns_cli)
