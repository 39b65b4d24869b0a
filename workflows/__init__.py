"""Wenming Workflows: the Flask application."""
import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ConfigError, load_config
from .extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ConfigError", "create_app"]


def create_app(config=None):
    """Build the app; ``config`` overrides what the environment says (tests).

    Raises ConfigError with a one-line message when a setting is malformed.
    """
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    for folder in ("UPLOAD_DIR", "RESULT_DIR"):
        Path(app.config[folder]).mkdir(parents=True, exist_ok=True)
    if not app.logger.handlers or app.logger.level == logging.NOTSET:
        app.logger.setLevel(logging.INFO)

    from . import i18n
    i18n.compile_catalogs()

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   default_translation_directories=str(i18n.TRANSLATIONS))
    login_manager.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine)
    _behind_proxies(app)

    # The app is the list of its capabilities; each registers its own
    # blueprints, effects, job kinds, periodic jobs and commands.
    from . import (api, assessment, demo, documents, engine, errors, filling, home, jobs, jobs_cli, org, review,
                   schedule, security_headers, volunteers)
    for part in (jobs, jobs_cli, schedule, errors, security_headers, i18n, home,
                 org, filling, engine, review, volunteers, assessment, documents, api, demo):
        part.init_app(app)
    return app


def _behind_proxies(app):
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    if proxies:
        # Behind nginx the peer is the proxy: the sign-in throttle and the
        # certificate check count the client's address from X-Forwarded-For,
        # and absolute links (the notices feed) take the scheme the client
        # used from X-Forwarded-Proto.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _tune_sqlite(engine):
    if engine.dialect.name != "sqlite":
        return

    # The web process and the worker write the same file: WAL lets readers go
    # on during a write, and the busy timeout waits instead of failing.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
