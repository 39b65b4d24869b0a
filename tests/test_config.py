"""Start-up configuration: safe defaults, one clear line for a malformed value."""
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from workflows.config import ConfigError, load_config


def _start(env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update({"INSTANCE_PATH": str(tmp_path), "PYTHONPATH": str(ROOT)}, **env_overrides)
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_malformed_database_url_stops_start_up_with_one_line(tmp_path):
    result = _start({"DATABASE_URL": "not a url"}, tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0]


def test_unsupported_database_is_named(tmp_path):
    result = _start({"DATABASE_URL": "mysql://root@localhost/test"}, tmp_path)
    assert result.returncode != 0 and "DATABASE_URL" in result.stderr and "mysql" in result.stderr


def test_flask_command_also_stops_cleanly(tmp_path):
    env = dict(os.environ, DATABASE_URL="::", INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("configuration error: DATABASE_URL")


@pytest.mark.parametrize("name, value", [
    ("REDIS_URL", "localhost:6379"), ("DEFAULT_LANGUAGE", "fr"), ("HTTPS", "maybe"),
    ("JOB_TIMEOUT", "soon"), ("SECRET_KEY", "short"),
])
def test_each_malformed_value_is_named(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_config(str(tmp_path), {name: value})


def test_defaults_and_generated_secret_key(tmp_path):
    first = load_config(str(tmp_path), {})
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'wenming.sqlite3'}"
    assert first["REDIS_URL"] is None and first["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load_config(str(tmp_path), {})["SECRET_KEY"] == first["SECRET_KEY"]
    assert first["SESSION_COOKIE_SECURE"] is False
    assert load_config(str(tmp_path), {"HTTPS": "1"})["SESSION_COOKIE_SECURE"] is True


def test_postgres_url_gets_the_shipped_driver(tmp_path):
    url = load_config(str(tmp_path), {"DATABASE_URL": "postgresql://postgres@127.0.0.1/test"})
    assert url["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
