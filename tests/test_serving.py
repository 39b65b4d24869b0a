"""Production serving: deploy/gunicorn.conf.py read from the environment, a real gunicorn, forwarded headers."""
import http.client
import os
import runpy

import pytest
from gunicorn.config import Config

from tests.conftest import make_app
from tests.gunicorn_server import CONFIG, serving, start, stop, tail
from workflows.extensions import db

ENV_NAMES = ("WENMING_BIND", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_TIMEOUT", "WEB_GRACEFUL_TIMEOUT",
             "WEB_KEEPALIVE", "WEB_MAX_REQUESTS", "FORWARDED_ALLOW_IPS")


def _gunicorn_settings(monkeypatch, **env):
    """The config file as gunicorn takes it: its names set through gunicorn's own validators."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Config()
    for name, value in runpy.run_path(str(CONFIG)).items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_the_defaults_suit_one_host_behind_nginx(monkeypatch):
    config = _gunicorn_settings(monkeypatch)
    assert config.bind == ["127.0.0.1:8000"]
    assert config.workers == min(2 * len(os.sched_getaffinity(0)) + 1, 12)
    assert (config.worker_class_str, config.threads) == ("sync", 1)
    assert (config.timeout, config.graceful_timeout, config.keepalive) == (60, 30, 5)
    assert (config.max_requests, config.max_requests_jitter) == (1000, 100)
    assert config.accesslog == "-" and config.errorlog == "-"
    assert config.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert config.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}
    assert config.preload_app is True
    assert config.control_socket_disable is True


def test_every_setting_comes_from_the_environment(monkeypatch):
    config = _gunicorn_settings(monkeypatch, WENMING_BIND="0.0.0.0:9000", WEB_CONCURRENCY="3", WEB_THREADS="4",
                                WEB_TIMEOUT="120", WEB_GRACEFUL_TIMEOUT="10", WEB_KEEPALIVE="75",
                                WEB_MAX_REQUESTS="0", FORWARDED_ALLOW_IPS="10.0.0.2,10.0.0.3")
    assert config.bind == ["0.0.0.0:9000"]
    assert (config.workers, config.threads, config.worker_class_str) == (3, 4, "gthread")
    assert (config.timeout, config.graceful_timeout, config.keepalive) == (120, 10, 75)
    assert (config.max_requests, config.max_requests_jitter) == (0, 0)
    assert config.forwarded_allow_ips == ["10.0.0.2", "10.0.0.3"]


@pytest.mark.parametrize("name, value", [("WEB_CONCURRENCY", "many"), ("WEB_THREADS", "0"), ("WEB_TIMEOUT", "-5")])
def test_a_malformed_setting_is_named(monkeypatch, name, value):
    with pytest.raises(SystemExit, match=name):
        _gunicorn_settings(monkeypatch, **{name: value})


# --- the app behind a proxy ---------------------------------------------------------------------------

def _feed_self_link(client, **headers):
    body = client.get("/notices/feed.atom", headers=headers).get_data(as_text=True)
    start_at = body.index('rel="self"')
    return body[body.rindex("<link", 0, start_at):body.index("/>", start_at)]


def test_trusted_proxies_make_links_take_the_forwarded_scheme(database_url, tmp_path):
    proxied = make_app(database_url, tmp_path, TRUSTED_PROXIES=1)
    direct = make_app(database_url, tmp_path)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert 'href="https://localhost/notices/feed.atom"' in _feed_self_link(proxied.test_client(), **forwarded)
    assert 'href="http://localhost/notices/feed.atom"' in _feed_self_link(proxied.test_client())
    # Without TRUSTED_PROXIES anyone could claim HTTPS (or another address) with a header.
    assert 'href="http://localhost/notices/feed.atom"' in _feed_self_link(direct.test_client(), **forwarded)
    for app in (proxied, direct):
        with app.app_context():
            db.engine.dispose()


# --- a real gunicorn with the config file --------------------------------------------------------------

@pytest.fixture
def sqlite_site(tmp_path):
    """An upgraded SQLite database and the environment that makes gunicorn's app use it."""
    from flask_migrate import upgrade
    url = f"sqlite:///{tmp_path / 'serving.sqlite3'}"
    app = make_app(url, tmp_path)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return {"DATABASE_URL": url, "SECRET_KEY": app.config["SECRET_KEY"], "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "RESULT_DIR": app.config["RESULT_DIR"], "WEB_CONCURRENCY": "2"}


def _get(base_url, path, **headers):
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _self_link(base_url, **headers):
    status, body = _get(base_url, "/notices/feed.atom", **headers)
    assert status == 200
    start_at = body.index('rel="self"')
    return body[body.rindex("<link", 0, start_at):body.index("/>", start_at)]


def test_gunicorn_believes_the_scheme_only_from_an_allowed_proxy(sqlite_site, tmp_path):
    home = tmp_path / "home"  # where gunicorn would put its control socket (~/.gunicorn)
    home.mkdir()
    with serving({**sqlite_site, "HOME": str(home)}, tmp_path / "gunicorn.log") as base_url:
        assert f'href="https://{base_url[7:]}/notices/feed.atom"' in _self_link(base_url, **{"X-Forwarded-Proto": "https"})
        assert f'href="http://{base_url[7:]}/notices/feed.atom"' in _self_link(base_url)
        # Only X-Forwarded-Proto is a secure-scheme header here.
        assert f'href="http://{base_url[7:]}/' in _self_link(base_url, **{"X-Forwarded-Ssl": "on"})
        assert _get(base_url, "/login")[0] == 200
    log = (tmp_path / "gunicorn.log").read_text()
    assert '"GET /login HTTP/1.1" 200' in log  # the access log goes to stdout
    assert not (home / ".gunicorn").exists()

    sqlite_site["FORWARDED_ALLOW_IPS"] = "192.0.2.1"  # the proxy is elsewhere: we are a client
    with serving(sqlite_site, tmp_path / "gunicorn-2.log") as base_url:
        assert f'href="http://{base_url[7:]}/' in _self_link(base_url, **{"X-Forwarded-Proto": "https"})


def test_a_configuration_error_stops_gunicorn_with_its_message(sqlite_site, tmp_path):
    # The app is preloaded in the master: a bad setting ends gunicorn instead of workers failing in a loop.
    log_path = tmp_path / "gunicorn.log"
    process, _base_url = start({**sqlite_site, "DATABASE_URL": "mysql://db.example/wenming"}, log_path)
    try:
        code = process.wait(60)
    finally:
        stop(process)
    assert code != 0
    assert "configuration error: DATABASE_URL: unsupported database 'mysql'" in tail(log_path)
