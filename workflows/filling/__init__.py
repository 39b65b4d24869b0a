"""Filling forms: published form versions, submissions, uploads, personal data, the form-definition admin."""
from ..commands import add_commands


def init_app(app):
    from ..engine import stored_answers
    from ..schedule import register_periodic
    # uploads registers its job kind
    from . import cli, form_admin, personal_data, roster_excel, roster_people, submissions, uploads  # noqa: F401
    app.register_blueprint(submissions.bp)
    app.register_blueprint(form_admin.bp)
    app.register_blueprint(roster_excel.bp)
    add_commands(app, cli.forms_cli)
    # The engine checks a draft's completeness on the decrypted answers.
    stored_answers.register_reader(personal_data.reveal)
    register_periodic("purge_unattached_uploads")
    app.add_template_filter(roster_people.normalised, "roster_key")
