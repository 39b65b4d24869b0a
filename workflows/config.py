"""Configuration from environment variables.

Every setting has a safe default; a malformed value raises ConfigError whose
message is one line naming the variable, so start-up can stop cleanly.
"""
import base64
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LANGUAGES = ("zh_CN", "en")

# Families are tried in order by fontconfig; the official faces come first so
# an office that has them installed gets them, the open Debian faces follow.
DEFAULT_FONTS = {
    "PDF_FONT_TITLE": '"FZXiaoBiaoSong-B05S", "方正小标宋简体", "Noto Serif CJK SC", serif',
    "PDF_FONT_BODY": '"FangSong", "FangSong_GB2312", "仿宋", "Noto Serif CJK SC", serif',
    "PDF_FONT_HEADING": '"SimHei", "黑体", "Noto Sans CJK SC", sans-serif',
    "PDF_FONT_KAI": '"KaiTi", "KaiTi_GB2312", "楷体", "AR PL UKai CN", serif',
    "PDF_FONT_PAGE_NUMBER": '"SimSun", "宋体", "Noto Serif CJK SC", serif',
}


class ConfigError(Exception):
    """A configuration value that cannot be used; str() is one line for the operator."""


def _flag(env, name, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true/false (1/0), got {raw!r}")


def _whole_number(env, name, default, minimum):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        wanted = "a number above 0" if minimum == 1 else f"{minimum} or more"
        raise ConfigError(f"{name}: expected {wanted}, got {raw!r}")
    return value


def _positive_int(env, name, default):
    return _whole_number(env, name, default, 1)


def _count(env, name, default):
    return _whole_number(env, name, default, 0)


DEFAULT_STAR_THRESHOLDS = (100, 300, 600, 1000, 1500)


def _star_thresholds(env, name, default):
    """Certified hours for 1★, 2★ …: positive numbers, strictly increasing (``100,300,600,1000,1500``)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name}: expected whole numbers of hours separated by commas "
                          f"(e.g. 100,300,600,1000,1500), got {raw!r}") from None
    if not values or any(v <= 0 for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise ConfigError(f"{name}: expected hours above 0 in increasing order, got {raw!r}")
    return values


def _database_url(env, instance_path):
    raw = env.get("DATABASE_URL")
    if not raw:
        return f"sqlite:///{Path(instance_path) / 'wenming.sqlite3'}"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL: cannot read {raw!r} as a database URL "
                          "(expected e.g. postgresql://user@host/db or sqlite:///path)") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL: unsupported database {backend!r} (use sqlite or postgresql)")
    if backend == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _redis_url(env):
    raw = env.get("REDIS_URL")
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL: expected redis://host:port/db, got {raw!r}")
    return raw


def _secret_key(env, instance_path):
    raw = env.get("SECRET_KEY")
    if raw:
        if len(raw) < 16:
            raise ConfigError("SECRET_KEY: too short (use at least 16 characters)")
        return raw
    return _generated_once(Path(instance_path) / "secret_key", lambda: secrets.token_hex(32))


def _data_key(env, instance_path):
    raw = env.get("DATA_KEY")
    if raw:
        try:
            if len(base64.urlsafe_b64decode(raw.encode())) != 32:
                raise ValueError
        except ValueError:
            raise ConfigError("DATA_KEY: expected 32 bytes in URL-safe base64 "
                              "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')") from None
        return raw
    return _generated_once(Path(instance_path) / "data_key",
                           lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


def _audit_key(env, instance_path):
    raw = env.get("AUDIT_KEY")
    if raw:
        if len(raw) < 32:
            raise ConfigError("AUDIT_KEY: too short (use at least 32 characters, e.g. "
                              "python -c 'import secrets; print(secrets.token_hex(32))')")
        return raw
    return _generated_once(Path(instance_path) / "audit_key", lambda: secrets.token_hex(32))


def _generated_once(path, make):
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = make()
    # Created with 0600 so other local users cannot read the key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _panel_role(env):
    role = env.get("BALLOT_PANEL_ROLE") or "office"
    if role not in ("filler", "certifier", "reviewer", "office", "admin"):
        raise ConfigError(f"BALLOT_PANEL_ROLE: expected filler, certifier, reviewer, office or admin, got {role!r}")
    return role


def load_config(instance_path, env=None):
    """Return a Flask config mapping read from ``env`` (default: os.environ)."""
    env = os.environ if env is None else env
    language = env.get("DEFAULT_LANGUAGE") or "zh_CN"
    if language not in LANGUAGES:
        raise ConfigError(f"DEFAULT_LANGUAGE: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    https = _flag(env, "HTTPS", False)
    config = {
        "SQLALCHEMY_DATABASE_URI": _database_url(env, instance_path),
        "REDIS_URL": _redis_url(env),
        "SECRET_KEY": _secret_key(env, instance_path),
        # Encrypts personal data (ID numbers) at rest; separate from SECRET_KEY
        # so rotating sessions never makes stored data unreadable.
        "DATA_KEY": _data_key(env, instance_path),
        # Keys the audit chain's hashes: whoever can write SQL but lacks this
        # key cannot recompute a chain they changed. Keep it out of the database.
        "AUDIT_KEY": _audit_key(env, instance_path),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(Path(instance_path) / "uploads"),
        "RESULT_DIR": env.get("RESULT_DIR") or str(Path(instance_path) / "results"),
        "BABEL_DEFAULT_LOCALE": language,
        "RQ_QUEUE": env.get("RQ_QUEUE") or "wenming",
        "JOB_TIMEOUT": _positive_int(env, "JOB_TIMEOUT", 600),
        "JOB_RETRIES": _positive_int(env, "JOB_RETRIES", 2),
        # A long document (a unit directory, the monthly circular's annex) is rendered by this many child
        # processes at once, in parts merged into one PDF (1: in one piece, in one child).
        "PDF_RENDER_PROCESSES": _positive_int(env, "PDF_RENDER_PROCESSES", 2),
        "REMINDER_INTERVAL_MINUTES": _positive_int(env, "REMINDER_INTERVAL_MINUTES", 60),
        # The smallest panel a monthly ballot may open with, and the role (held at the city office) that
        # makes its panel when no list of people is given.
        "BALLOT_MIN_PANEL": _positive_int(env, "BALLOT_MIN_PANEL", 3),
        "BALLOT_PANEL_ROLE": _panel_role(env),
        # Monthly obligations: fillers of a unit still missing one are reminded from this many
        # working days before its deadline (0: on the deadline's day only).
        "OBLIGATION_REMINDER_DAYS": _count(env, "OBLIGATION_REMINDER_DAYS", 3),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        # Nine 2 MB photos and the form itself; larger bodies are refused unread.
        "MAX_CONTENT_LENGTH": _positive_int(env, "MAX_UPLOAD_MB", 40) * 1024 * 1024,
        # A few MB of JPEG can decode to gigabytes: images above this many pixels
        # are refused from their header, before any decoding (Pillow's own bomb
        # limit, about 89 million, is far too generous for a web process).
        "UPLOAD_MAX_PIXELS": _positive_int(env, "UPLOAD_MAX_PIXELS", 50_000_000),
        # Images are stored at most this many pixels on their longest side;
        # JPEGs are decoded at 1/2, 1/4 or 1/8 scale straight towards it.
        "UPLOAD_IMAGE_MAX_SIDE": _positive_int(env, "UPLOAD_IMAGE_MAX_SIDE", 2048),
        # Image decodes running at once in one process; more wait their turn.
        "UPLOAD_IMAGE_DECODES": _positive_int(env, "UPLOAD_IMAGE_DECODES", 2),
        # Sign-in throttle: failures of one account name from one address lock
        # that pair; failures from one address over all names slow the address.
        "LOGIN_MAX_FAILURES": _positive_int(env, "LOGIN_MAX_FAILURES", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _positive_int(env, "LOGIN_MAX_FAILURES_PER_ADDRESS", 30),
        "LOGIN_WINDOW_MINUTES": _positive_int(env, "LOGIN_WINDOW_MINUTES", 15),
        # Reverse proxies in front of the app whose X-Forwarded-For is believed
        # (0: the peer address is the client's).
        "TRUSTED_PROXIES": _count(env, "TRUSTED_PROXIES", 0),
        # The public certificate check (/verify/CODE): requests per client address per minute.
        "VERIFY_MAX_PER_MINUTE": _positive_int(env, "VERIFY_MAX_PER_MINUTE", 30),
        # Star volunteers (星级志愿者): certified hours needed for 1★, 2★ …; places differ.
        "STAR_THRESHOLDS": _star_thresholds(env, "STAR_THRESHOLDS", DEFAULT_STAR_THRESHOLDS),
    }
    for name, default in DEFAULT_FONTS.items():
        config[name] = env.get(name) or default
    return config
