"""gunicorn settings for Wenming Workflows: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app`` (what bin/serve runs).

Each setting is read from an environment variable, with a default meant for
one host where nginx passes requests to gunicorn on the loopback; the
README's "Production serving" lists them. Command-line options given after
``-c`` still win over this file.
"""
import os


def _number(name, default, minimum=1):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name}: expected {minimum} or more, got {raw!r}")
    return value


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("WENMING_BIND") or "127.0.0.1:8000"
proc_name = "wenming"

# gunicorn's rule of thumb, 2 × cores + 1, but each worker keeps its own pool
# of database connections: past a dozen workers PostgreSQL's 100 connections
# (with the RQ worker and psql sessions beside) start to run short.
workers = _number("WEB_CONCURRENCY", min(2 * _cores() + 1, 12))
# The requests wait on the database more than they compute; threads let a
# worker serve keep-alive connections and overlap those waits. 1: the plain
# sync worker, which is enough behind nginx (it buffers slow clients).
threads = _number("WEB_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# Every slow piece of work (PDFs, spreadsheets, certificates in bulk) is a
# job; a request still running after this many seconds is stuck, and its
# worker is killed and replaced.
timeout = _number("WEB_TIMEOUT", 60)
# SIGTERM (or HUP) lets a request in flight finish within this many seconds.
graceful_timeout = _number("WEB_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection stays open (gthread only: sync
# workers close after each response).
keepalive = _number("WEB_KEEPALIVE", 5)
# A worker is replaced after this many requests (plus up to a tenth more, so
# they do not all restart at once): whatever a long-lived process
# accumulates is let go. 0: never.
max_requests = _number("WEB_MAX_REQUESTS", 1000, minimum=0)
max_requests_jitter = max_requests // 10

# Logs to stdout/stderr, for systemd's journal or the container's log. The
# access line adds the client's address as the proxy passed it, and the
# request's time in milliseconds.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %({x-forwarded-for}i)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Only a proxy at these addresses may say the client came over HTTPS; the
# app's own TRUSTED_PROXIES decides whose X-Forwarded-For it believes.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"
# nginx sets X-Forwarded-Proto; gunicorn's other defaults (X-Forwarded-Ssl,
# X-Forwarded-Protocol) would let a client that adds one of them turn its
# requests into 400s.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# The app is built once, in the master, before the workers are forked: a
# configuration error stops gunicorn with its one-line message (a worker
# failing on it would be restarted over and over), the keys generated on first
# start are written by one process, not raced for by every worker, and the
# workers share the loaded code's memory. A code update then needs a restart,
# not a HUP.
preload_app = True

# gunicorn ≥ 25.1 opens a control socket (~/.gunicorn/gunicorn.ctl) for
# gunicornc by default; nothing here uses it, so it is not opened: signals
# (HUP, TTIN/TTOU, TERM) manage the master as before.
control_socket_disable = True


def post_fork(server, worker):
    """Each worker opens its own database connections.

    The preloaded app may have connected in the master (its engine pools
    connections); a connection used by two processes at once corrupts both
    sides' view of it. As workflows/jobs.py does for an RQ work-horse, the
    worker drops the inherited pool without closing it (closing would close
    the master's, and its siblings') and makes new connections as needed.
    """
    if not server.cfg.preload_app:
        return
    from workflows.extensions import db
    app = worker.app.wsgi()  # the preloaded Flask app: not built again
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
