"""Assessment (issue 10): campaigns (节点), monthly obligations, unit scores, the monthly top ten (月评十佳).

Each part registers its own blueprints, commands and job kinds here.
"""


def init_app(app):
    from .. import home
    from ..commands import add_commands
    from ..schedule import register_periodic
    from . import ballots, campaigns, obligations, score_cli, score_pages, scores  # scores registers its job kind
    register_periodic("recompute_scores")
    app.register_blueprint(score_pages.bp)
    add_commands(app, score_cli.scores_cli)
    campaigns.init_app(app)
    ballots.init_app(app)  # /assessment/ballots/: the monthly top ten as a ballot
    obligations.init_app(app)  # rules, the compliance page and export, reminders, charts
    # Scores take "missed" and "late" from the obligations' cells; the home page says what is due.
    scores.install_obligations(obligations.evaluate_many)
    home.set_due_provider(obligations.due_this_month)
