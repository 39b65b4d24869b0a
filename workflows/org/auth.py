"""Sign-in and sign-out, with a throttle that reveals nothing and locks no owner out.

Invariants:
- A session is valid only while its account is active and its session
  generation is the account's current one (``User.get_id`` puts it in the
  session); signing out, a new password and deactivation raise it.
- Failures of one account name from one client address lock that pair for
  the window; failures from one address over all names rate-limit the
  address. The owner signing in from another address is never refused for
  what a guesser did.
"""
import re
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l, gettext as _, ngettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..access import prime_grants
from ..extensions import db, login_manager
from ..models import LoginAttempt, RoleGrant, Unit, User
from ..models.units import utcnow
from ..redirects import safe_next

bp = Blueprint("auth", __name__)

# Checked against when the username is unknown, so both paths cost one hash.
_DUMMY_HASH = generate_password_hash("wenming-not-a-password")
_SESSION_ID = re.compile(r"([0-9]{1,18}):([0-9]{1,18})")


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


def normalise(username):
    return (username or "").strip().lower()


def _from(address):
    return LoginAttempt.remote_addr.is_(None) if address is None else LoginAttempt.remote_addr == address


def _failures(since, *where):
    return db.session.execute(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.succeeded.is_(False), LoginAttempt.at > since, *where)
    ).scalar()


def is_throttled(username, address):
    """True when this address, or this account name from this address, failed too often.

    Counted by the typed name, existing or not, so the answer says nothing
    about which accounts exist. A success from the address ends the pair's
    count, never the address's: one's own account must not reset a spray.
    """
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    if _failures(since, _from(address)) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return True
    last_success = db.session.execute(
        select(func.max(LoginAttempt.at))
        .where(LoginAttempt.username == username, _from(address), LoginAttempt.succeeded.is_(True))
    ).scalar()
    if last_success and last_success > since:
        since = last_success
    return _failures(since, LoginAttempt.username == username, _from(address)) >= config["LOGIN_MAX_FAILURES"]


def authenticate(username, password):
    """Return (user, error message); records the attempt."""
    username = normalise(username)
    # The column's width; a forwarded address is whatever the proxy passed on.
    address = request.remote_addr[:64] if request.remote_addr else None
    if is_throttled(username, address):
        minutes = current_app.config["LOGIN_WINDOW_MINUTES"]
        return None, ngettext("Too many failed sign-in attempts. Please wait %(minutes)d minute and try again.",
                              "Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
                              minutes, minutes=minutes)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = user.check_password(password)
    db.session.add(LoginAttempt(username=username, succeeded=bool(ok), remote_addr=address))
    db.session.commit()
    if not ok:
        return None, _("Wrong username or password.")
    if not user.active:
        # Said only after the right password: it tells nothing to a guesser.
        return None, _("This account has been deactivated. Please contact your administrator.")
    return user, None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user, error = authenticate(form.username.data, form.password.data)
        if user:
            login_user(user)
            return redirect(safe_next(request.args.get("next"), "home.index"))
    return render_template("org/login.html", form=form, error=error), (200 if error is None else 401)


@bp.post("/logout")
@login_required
def logout():
    # Ends every copy of the session (a cookie left on a shared computer, a stolen one), not just this one.
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@login_manager.user_loader
def _load_user(session_id):
    """The session's account while it is active and the session is of its current generation."""
    match = _SESSION_ID.fullmatch(session_id or "")
    if match is None:
        return None  # malformed, or from before session generations: sign in again
    # The account and its grants in one statement: nearly every page asks what the person may do.
    rows = db.session.execute(
        select(User, RoleGrant.role, Unit.path).outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(Unit, db.and_(Unit.id == RoleGrant.unit_id, Unit.active.is_(True)))
        .where(User.id == int(match.group(1)))).all()
    user = rows[0][0] if rows else None
    if user is None or not user.active or user.session_generation != int(match.group(2)):
        return None
    prime_grants(user.id, [(role, path) for _user, role, path in rows])
    return user


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
