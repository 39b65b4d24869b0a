"""Sign-in and sign-out, with a per-account throttle that reveals nothing."""
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l, gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .extensions import db, login_manager
from .models import LoginAttempt, User
from .models.units import utcnow

bp = Blueprint("auth", __name__)

# Checked against when the username is unknown, so both paths cost one hash.
_DUMMY_HASH = generate_password_hash("wenming-not-a-password")


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


def normalise(username):
    return (username or "").strip().lower()


def is_throttled(username):
    """True when the account name saw too many failures in the window.

    Counted by the typed name, existing or not, so the answer says nothing
    about which accounts exist.
    """
    window = timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    since = utcnow() - window
    last_success = db.session.execute(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.succeeded.is_(True))
    ).scalar()
    if last_success and last_success > since:
        since = last_success
    failures = db.session.execute(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
    ).scalar()
    return failures >= current_app.config["LOGIN_MAX_FAILURES"]


def authenticate(username, password):
    """Return (user, error message); records the attempt."""
    username = normalise(username)
    if is_throttled(username):
        return None, _("Too many failed sign-in attempts. Please wait 15 minutes and try again.")
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = user.check_password(password)
    db.session.add(LoginAttempt(username=username, succeeded=bool(ok), remote_addr=request.remote_addr))
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
            target = request.args.get("next") or ""
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("home.index")
            return redirect(target)
    return render_template("auth/login.html", form=form, error=error), (200 if error is None else 401)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@login_manager.user_loader
def _load_user(user_id):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
