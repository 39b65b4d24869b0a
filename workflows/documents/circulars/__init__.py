"""Circulars (通报): composed from the month's facts, checked and signed on the engine, numbered,
rendered by workers in the GB/T 9704 format, published on /notices/."""


def init_app(app):
    from ...filling.submissions import register_composer, register_form_panel
    from ...home import set_circulars_provider
    from . import cli, notices, pages, receipts, render_jobs, signing  # noqa: F401 (the jobs and effects register)
    app.register_blueprint(pages.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(receipts.bp)
    app.cli.add_command(cli.circulars_cli)
    register_composer("circular", "circulars.new")
    register_form_panel("circular", pages.panel)
    set_circulars_provider(receipts.for_home)
    app.add_template_filter(_atom_time, "atom_time")


def _atom_time(moment):
    from ...models.units import utcnow
    return (moment or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")
