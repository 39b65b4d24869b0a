"""Assessment (issue 10): campaigns (节点), monthly obligations, unit scores, the monthly top ten (月评十佳).

Each part registers its own blueprints, commands and job kinds here.
"""


def init_app(app):
    from . import obligations, periods  # noqa: F401  (periods: shared month arithmetic; registers nothing)
    obligations.init_app(app)
