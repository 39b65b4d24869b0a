"""The monthly top ten (月评十佳) as a ballot: a panel marks the month's nominations, the office confirms.

``ballot`` holds its life (create, open, marks, close at the deadline or when
everyone has voted), ``results`` the count by the declared rule, and
``confirmation`` the one transaction that decides every nomination through
the engine's internal ``select`` / ``not_select`` (exemplar_review v2).
"""


def init_app(app):
    from . import pages
    app.register_blueprint(pages.bp)
