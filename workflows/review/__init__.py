"""Review: the reviewer's queue and pages, notifications and reminders, archiving (freeze)."""
from ..commands import add_commands


def init_app(app):
    # archive and notifications register the effects `freeze` and `notify`
    # and the job kind `overdue_reminders` as they are imported.
    from . import archive, cli, notification_pages, notifications, pages  # noqa: F401
    from ..schedule import register_periodic
    app.register_blueprint(pages.bp)
    app.register_blueprint(notification_pages.bp)
    add_commands(app, cli.workflows_cli)
    register_periodic("overdue_reminders")
