"""People administration: create, reset password, (de)activate, grant and revoke roles."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..labels import ROLES
from ..models import Role, RoleGrant, Unit, User
from .operations import create_user, grant_role, reset_password, revoke_role, set_user_active
from .scope import admin_paths, load_unit_in_scope, load_user_in_scope, manageable, unit_choices, units_in_scope
from .unit_admin import ConfirmForm, _apply
from .unit_search import as_typeahead

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
PAGE = 50


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    # Scope is checked by grant_role, which says so in words, rather than by
    # WTForms' generic "Not a valid choice".
    unit_id = SelectField(_l("At unit"), coerce=int, choices=[], validate_choice=False)


@bp.get("/")
@login_required
def index():
    paths = admin_paths()
    query = (request.args.get("q") or "").strip()
    after = request.args.get("after", type=int)
    stmt = (select(User).join(Unit, User.unit_id == Unit.id).where(manageable(paths))
            .order_by(User.id).limit(PAGE + 1))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like), Unit.name.ilike(like)))
    if after:
        stmt = stmt.where(User.id > after)
    users = db.session.execute(stmt).scalars().all()
    more = len(users) > PAGE
    users = users[:PAGE]
    return render_template("org/users.html", users=users, q=query,
                           next_after=users[-1].id if more else None, roles=ROLES)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    paths = admin_paths()
    form = UserForm()
    form.unit_id.choices = unit_choices(units_in_scope(paths, active_only=True))
    as_typeahead(form.unit_id, Role.ADMIN)
    if form.validate_on_submit():
        unit = load_unit_in_scope(form.unit_id.data, paths)
        created = []
        if _apply(form, lambda: created.append(create_user(form.username.data, form.display_name.data,
                                                           form.password.data, unit))):
            flash(_("Account %(name)s created.", name=created[0].username), "success")
            return redirect(url_for(".show", user_id=created[0].id))
    return render_template("org/user_new.html", form=form)


def _detail_forms(paths):
    grant = GrantForm(prefix="grant")
    grant.role.choices = [(k, str(v)) for k, v in ROLES.items()]
    grant.unit_id.choices = unit_choices(units_in_scope(paths, active_only=True))
    as_typeahead(grant.unit_id, Role.ADMIN)
    return grant, PasswordForm(prefix="pw"), ConfirmForm()


def _render_detail(user, paths, grant=None, password=None, status=200):
    default_grant, default_password, confirm = _detail_forms(paths)
    grants = db.session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id)
                                .order_by(RoleGrant.id)).scalars().all()
    return render_template("org/user_show.html", user=user, grants=grants, roles=ROLES,
                           grant_form=grant or default_grant, password_form=password or default_password,
                           confirm=confirm, paths=paths), status


@bp.get("/<int:user_id>")
@login_required
def show(user_id):
    paths = admin_paths()
    return _render_detail(load_user_in_scope(user_id, paths), paths)


@bp.post("/<int:user_id>/password")
@login_required
def password(user_id):
    paths = admin_paths()
    user = load_user_in_scope(user_id, paths)
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit() and _apply(form, lambda: reset_password(user, form.password.data)):
        flash(_("Password of %(name)s reset.", name=user.username), "success")
        return redirect(url_for(".show", user_id=user.id))
    return _render_detail(user, paths, password=form, status=422)


@bp.post("/<int:user_id>/active")
@login_required
def set_active(user_id):
    paths = admin_paths()
    user = load_user_in_scope(user_id, paths)
    form = ConfirmForm()
    active = request.form.get("active") == "1"
    if form.validate_on_submit() and _apply(form, lambda: set_user_active(user, active, current_user)):
        flash(_("Account %(name)s reactivated.", name=user.username) if active
              else _("Account %(name)s deactivated.", name=user.username), "success")
    return redirect(url_for(".show", user_id=user.id))


@bp.post("/<int:user_id>/grants")
@login_required
def grant(user_id):
    paths = admin_paths()
    user = load_user_in_scope(user_id, paths)
    form, _pw, _confirm = _detail_forms(paths)
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        if unit is None:
            abort(404)
        if _apply(form, lambda: grant_role(user, form.role.data, unit, current_user, paths)):
            flash(_("Role %(role)s granted at %(unit)s.", role=ROLES[form.role.data], unit=unit.name), "success")
            return redirect(url_for(".show", user_id=user.id))
    return _render_detail(user, paths, grant=form, status=422)


@bp.post("/<int:user_id>/grants/<int:grant_id>/revoke")
@login_required
def revoke(user_id, grant_id):
    paths = admin_paths()
    user = load_user_in_scope(user_id, paths)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit() and _apply(form, lambda: revoke_role(grant, current_user, paths)):
        flash(_("Role revoked."), "success")
    return redirect(url_for(".show", user_id=user.id))

