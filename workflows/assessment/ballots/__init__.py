"""The monthly top ten (月评十佳) as a ballot: a panel marks the month's nominations, the office confirms.

``ballot`` holds its life (create, open, marks, close at the deadline or when
everyone has voted), ``results`` the count by the declared rule, and
``confirmation`` the one transaction that decides every nomination through
the engine's internal ``select`` / ``not_select`` (exemplar_review v2).
"""


def init_app(app):
    from . import pages
    app.register_blueprint(pages.bp)

    @app.context_processor
    def ballot_helpers():
        # The top bar links the ballots for the city office and for anyone on a ballot's panel.
        return {"sees_ballots": pages.sees_ballots}
