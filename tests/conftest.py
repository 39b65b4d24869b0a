"""Fixtures: a real database per backend (SQLite and PostgreSQL), a real Redis, factories.

Every test that takes ``app`` runs once per backend. PostgreSQL gets a fresh
database per run, dropped at the end. Set WENMING_REQUIRE_SERVICES=1 (CI
does) to fail instead of skip when PostgreSQL or Redis is not reachable.
"""
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_instance = tempfile.mkdtemp(prefix="wenming-test-instance-")
os.environ["INSTANCE_PATH"] = _instance
for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "RQ_QUEUE", "UPLOAD_DIR", "RESULT_DIR"):
    os.environ.pop(name, None)

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from workflows import create_app  # noqa: E402
from workflows.extensions import db  # noqa: E402
from workflows.models import Role, RoleGrant, Unit, UnitKind  # noqa: E402
from workflows.org.operations import create_unit as _create_unit, create_user as _create_user  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE = os.environ.get("WENMING_REQUIRE_SERVICES") == "1"
PASSWORD = "correct-horse-1"


def _unavailable(what, exc):
    message = f"{what} is not reachable ({exc.__class__.__name__}: {exc})"
    if REQUIRE:
        pytest.fail(message + " and WENMING_REQUIRE_SERVICES=1")
    pytest.skip(message)


def _pg_url(dbname=None):
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg")
    return url.set(database=dbname) if dbname else url


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this run; yields its URL."""
    name = f"wenming_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(_pg_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not here"
        admin.dispose()
        _unavailable("PostgreSQL", exc)
    yield _pg_url(name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """The schema is built by the Alembic migrations, as `flask db upgrade` does."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'wenming.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def backend(database_url):
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


def make_app(database_url, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-0123456789",
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "RESULT_DIR": str(tmp_path / "results"),
        "REDIS_URL": None,
    }
    config.update(overrides)
    return create_app(config)


def _clear(app):
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
        db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    yield app
    _clear(app)


@pytest.fixture
def redis_url():
    import redis
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis", exc)
    return REDIS_TEST_URL


@pytest.fixture
def rq_app(database_url, tmp_path, redis_url):
    """An app whose jobs go to a real Redis queue of its own."""
    queue = f"wenming-test-{uuid.uuid4().hex[:8]}"
    app = make_app(database_url, tmp_path, REDIS_URL=redis_url, RQ_QUEUE=queue)
    assert app.extensions["wenming_jobs"].mode == "rq"
    yield app
    from rq import Queue
    import redis
    Queue(queue, connection=redis.Redis.from_url(redis_url)).empty()
    _clear(app)


@pytest.fixture
def run_worker(rq_app, tmp_path):
    """Start a real RQ worker process (burst mode) on the app's queue; returns the Popen."""
    def start(burst=True):
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": rq_app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": rq_app.config["REDIS_URL"],
            "RQ_QUEUE": rq_app.config["RQ_QUEUE"],
            "RESULT_DIR": rq_app.config["RESULT_DIR"],
            "UPLOAD_DIR": rq_app.config["UPLOAD_DIR"],
            "SECRET_KEY": rq_app.config["SECRET_KEY"],
            "PYTHONPATH": str(ROOT),
        })
        args = [sys.executable, str(ROOT / "tests" / "worker_main.py")] + (["--burst"] if burst else [])
        return subprocess.Popen(args, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return start


@pytest.fixture
def client(app):
    return app.test_client()


# --- factories -------------------------------------------------------------

@pytest.fixture
def create_unit(app):
    counter = {"n": 0}

    def make(parent=None, name=None, kind=UnitKind.CIVILIZED_UNIT.value, code=None):
        counter["n"] += 1
        with app.app_context():
            parent_obj = db.session.get(Unit, parent) if isinstance(parent, int) else parent
            if parent_obj is not None:
                parent_obj = db.session.get(Unit, parent_obj.id)
            unit = _create_unit(parent_obj, kind if parent_obj else UnitKind.OFFICE.value,
                                code or f"T{counter['n']:04d}", name or f"测试单位{counter['n']}")
            db.session.commit()
            return unit.id
    return make


@pytest.fixture
def create_user(app):
    def make(username, unit_id, *roles, password=PASSWORD, active=True):
        """``roles``: role names granted at ``unit_id``, or (role, unit_id) pairs."""
        with app.app_context():
            unit = db.session.get(Unit, unit_id)
            user = _create_user(username, username.title(), password, unit)
            user.active = active
            for role in roles:
                role, at = role if isinstance(role, tuple) else (role, unit_id)
                db.session.add(RoleGrant(user=user, unit_id=at, role=Role(role).value))
            db.session.commit()
            return user.id
    return make


@pytest.fixture
def city(create_unit):
    """A small city: two districts, each with two units; returns ids by name."""
    ids = {"city": create_unit(name="市文明办", code="CITY")}
    for d in ("a", "b"):
        ids[d] = create_unit(ids["city"], name=f"{d.upper()}区文明办", kind="office", code=f"D{d.upper()}")
        for n in (1, 2):
            ids[f"{d}{n}"] = create_unit(ids[d], name=f"{d.upper()}区单位{n}", code=f"D{d.upper()}-{n}")
    return ids


@pytest.fixture
def login(client):
    def do(username, password=PASSWORD):
        return client.post("/login", data={"username": username, "password": password})
    return do
