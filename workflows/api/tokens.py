"""API tokens and who is asking: a bearer token or the session, and the CSRF check for the session."""
import hashlib
import re
import secrets
from datetime import timedelta

from flask import g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import or_, select, update
from wtforms.validators import ValidationError as CSRFInvalid

from ..engine.perform import Forbidden
from ..extensions import db
from ..models import ApiToken, User
from ..models.units import utcnow
from .blueprint import bp
from .errors import Unauthorized

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC_ENDPOINTS = ("api.openapi_document", "api.not_found")
TOKEN_PATTERN = re.compile(r"^wm_([0-9a-f]{8})_([A-Za-z0-9_-]{32,128})$")
TOUCH_EVERY = timedelta(minutes=1)


def hash_token(plain):
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def issue_token(user, name, created_by=None):
    """A new token for ``user``; returns (ApiToken row, the plain token). Only the hash is stored."""
    prefix = secrets.token_hex(4)
    plain = f"wm_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plain), prefix=prefix,
                     created_by_id=created_by.id if created_by else None, created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    return token, plain


def revoke_token(token):
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def _user_from_token(header):
    scheme, _sep, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Unauthorized(_("Send your API token as “Authorization: Bearer <token>”."))
    match = TOKEN_PATTERN.match(value)
    token = None
    if match:
        token = db.session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(value))
                                   ).scalar_one_or_none()
    if token is None or token.prefix != match.group(1):
        raise Unauthorized(_("This API token is not valid."))
    if token.revoked_at is not None:
        raise Unauthorized(_("This API token has been revoked."))
    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        raise Unauthorized(_("This account has been deactivated. Please contact your administrator."))
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # At most one write a minute per token, and none from a request that lost the race.
        db.session.execute(update(ApiToken).where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY))
            .values(last_used_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    return user


def _csrf_ok():
    if request.headers.get("X-Requested-With", "").strip().lower() == "fetch":
        return True
    token = request.headers.get("X-CSRFToken")
    if not token:
        return False
    try:
        validate_csrf(token)
    except CSRFInvalid:
        return False
    return True


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization")
    if header is not None:
        # Flask-Login reads the user from here: the token's owner for this request only, no session.
        g._login_user = _user_from_token(header)
        g.api_auth = "token"
        return
    if not current_user.is_authenticated:
        raise Unauthorized(_("Sign in, or send an API token as “Authorization: Bearer <token>”."))
    g.api_auth = "session"
    if request.method not in SAFE_METHODS and not _csrf_ok():
        raise Forbidden(_("A request signed in by the session cookie must send the header "
                          "“X-Requested-With: fetch” or a valid X-CSRFToken."), field="X-Requested-With")
