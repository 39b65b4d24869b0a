"""Monthly obligations (issue 10): rules in data, who met them, the compliance page, reminders, charts.

- ``rules``: the YAML rule set (``definitions/assessment/obligations.yaml``), its schema and versions;
- ``evaluation``: ``evaluate(month, unit_ids=None, now=None)`` → ``{(unit_id, key): Cell}``;
- ``compliance``: the office's units × months table and its district roll-up;
- ``pages``: ``/assessment/compliance`` (+ ``.xlsx``), ``/assessment/charts``, ``/assessment/units/<id>``;
- ``charts``: pygal SVGs without scripts; ``reminders``: the periodic job ``obligation_reminders``;
- ``cli``: ``flask obligations check|load``.
"""
from .due import due_this_month
from .evaluation import Cell, evaluate, evaluate_many

__all__ = ["Cell", "due_this_month", "evaluate", "evaluate_many", "init_app"]


def init_app(app):
    from ...commands import add_commands
    from ...schedule import register_periodic
    from . import cli, pages, reminders  # noqa: F401  (reminders registers its job kind)
    app.register_blueprint(pages.bp)
    add_commands(app, cli.obligations_cli)
    register_periodic(reminders.JOB_KIND)
