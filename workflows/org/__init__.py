"""Units, people and their roles: sign-in, and the administration pages for units and accounts."""


def init_app(app):
    from . import auth, unit_admin, unit_search, user_admin
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(unit_admin.bp)
    app.register_blueprint(user_admin.bp)
    app.register_blueprint(unit_search.bp)
