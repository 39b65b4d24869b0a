"""API tokens for people: administrators issue and revoke them for the accounts they may manage.

A token is shown once, on the page that answers its creation; only its
SHA-256 is stored (see workflows/api/tokens.py), so a lost token is revoked and a
new one issued.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import ApiToken, User
from ..org.auth import normalise
from ..org.scope import admin_paths, load_user_in_scope, manageable
from ..org.unit_admin import ConfirmForm
from .tokens import issue_token, revoke_token

bp = Blueprint("admin_tokens", __name__, url_prefix="/admin/tokens")
PAGE = 50


class TokenForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("What it is for"), validators=[DataRequired(), Length(max=100)])


def _render_index(paths, form, status=200):
    query = (request.args.get("q") or "").strip()
    before = request.args.get("before", type=int)
    stmt = (select(ApiToken, User).join(User, ApiToken.user_id == User.id)
            .where(manageable(paths)).order_by(ApiToken.id.desc()).limit(PAGE + 1))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like), ApiToken.name.ilike(like)))
    if before:
        stmt = stmt.where(ApiToken.id < before)
    rows = db.session.execute(stmt).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template("api/tokens/index.html", rows=rows, form=form, confirm=ConfirmForm(), q=query,
                           next_before=rows[-1][0].id if more else None), status


@bp.get("/")
@login_required
def index():
    paths = admin_paths()
    form = TokenForm()
    if request.args.get("user") and not form.username.data:
        form.username.data = request.args["user"]
    return _render_index(paths, form)


@bp.post("/")
@login_required
def issue():
    paths = admin_paths()
    form = TokenForm()
    if form.validate_on_submit():
        user = db.session.execute(select(User).where(User.username == normalise(form.username.data),
                                                     manageable(paths))).scalar_one_or_none()
        if user is None:
            form.username.errors = list(form.username.errors) + [_("No account with this username in your units.")]
        elif not user.active:
            form.username.errors = list(form.username.errors) + [_("This account is deactivated.")]
        else:
            token, plain = issue_token(user, form.name.data.strip(), current_user)
            db.session.commit()
            response = render_template("api/tokens/created.html", token=token, user=user, plain=plain)
            # Shown once: never cached, never put in the session (flash messages are only signed).
            return response, 201, {"Cache-Control": "no-store"}
    return _render_index(paths, form, status=422)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id):
    paths = admin_paths()
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    user = load_user_in_scope(token.user_id, paths)
    if ConfirmForm().validate_on_submit():
        revoke_token(token)
        db.session.commit()
        flash(_("Token %(name)s of %(user)s revoked.", name=token.name, user=user.username), "success")
    return redirect(url_for(".index"))
