"""Unit administration: tree, create, rename, move, deactivate and reactivate (with the subtree)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..labels import UNIT_KINDS
from ..models import Role
from .operations import OrgError, create_unit, deactivate_unit, move_unit, reactivate_unit, rename_unit
from .scope import admin_paths, load_unit_in_scope, tree_order, unit_choices, units_in_scope
from .unit_search import as_typeahead

bp = Blueprint("admin_units", __name__, url_prefix="/admin/units")


class UnitForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[])
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class MoveForm(FlaskForm):
    parent_id = SelectField(_l("New parent unit"), coerce=int, choices=[])


class ConfirmForm(FlaskForm):
    """Only a CSRF token: for one-click actions."""


def _kind_choices():
    return [(k, str(v)) for k, v in UNIT_KINDS.items()]


def _apply(form, operation):
    """Run ``operation``; commit on success, or put its message on the form's field."""
    try:
        operation()
    except OrgError as exc:
        db.session.rollback()
        field = getattr(form, exc.field, None) if exc.field else None
        if field is not None:
            field.errors = list(field.errors) + [str(exc)]
        else:
            flash(str(exc), "error")
        return False
    db.session.commit()
    return True


@bp.get("/")
@login_required
def tree():
    paths = admin_paths()
    q = request.args.get("q", "").strip()[:100]
    units = units_in_scope(paths)
    total = len(units)
    matches = set()
    if q:
        # The matches and the units above them, so each match is shown where it sits in the tree.
        needle = q.casefold()
        matches = {u.id for u in units if needle in u.name.casefold() or needle in u.code.casefold()}
        wanted = {ancestor for u in units if u.id in matches for ancestor in u.ancestor_ids()}
        units = [u for u in units if u.id in wanted]
    children = {}
    for unit in tree_order(units):
        children.setdefault(unit.parent_id, []).append(unit)
    ids = {u.id for u in units}
    roots = [u for u in tree_order(units) if u.parent_id not in ids]
    return render_template("org/units.html", roots=roots, children=children, q=q, matches=matches,
                           kinds=UNIT_KINDS, total=total)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    paths = admin_paths()
    parent = load_unit_in_scope(request.args.get("parent", type=int) or 0, paths)
    form = UnitForm()
    form.kind.choices = _kind_choices()
    if form.validate_on_submit():
        created = []
        if _apply(form, lambda: created.append(create_unit(parent, form.kind.data, form.code.data.strip(),
                                                           form.name.data))):
            flash(_("Unit %(name)s created.", name=created[0].name), "success")
            return redirect(url_for(".tree", _anchor=f"u{created[0].id}"))
    return render_template("org/unit_new.html", form=form, parent=parent)


@bp.route("/<int:unit_id>", methods=["GET", "POST"])
@login_required
def edit(unit_id):
    paths = admin_paths()
    unit = load_unit_in_scope(unit_id, paths)
    form = UnitForm(obj=unit)
    form.kind.choices = _kind_choices()
    move = MoveForm(prefix="move")
    move.parent_id.choices = unit_choices(units_in_scope(paths, active_only=True), exclude_path=unit.path)
    as_typeahead(move.parent_id, Role.ADMIN)
    if form.validate_on_submit():
        def save():
            rename_unit(unit, form.name.data, form.code.data.strip())
            unit.kind = form.kind.data if form.kind.data in UNIT_KINDS else unit.kind
        if _apply(form, save):
            flash(_("Unit %(name)s saved.", name=unit.name), "success")
            return redirect(url_for(".edit", unit_id=unit.id))
    return render_template("org/unit_edit.html", unit=unit, form=form, move=move, confirm=ConfirmForm())


@bp.post("/<int:unit_id>/move")
@login_required
def move(unit_id):
    paths = admin_paths()
    unit = load_unit_in_scope(unit_id, paths)
    form = UnitForm(obj=unit, formdata=None)
    form.kind.choices = _kind_choices()
    move_form = MoveForm(prefix="move")
    move_form.parent_id.choices = unit_choices(units_in_scope(paths, active_only=True))
    as_typeahead(move_form.parent_id, Role.ADMIN)
    if move_form.validate_on_submit():
        target = load_unit_in_scope(move_form.parent_id.data, paths)
        if _apply(move_form, lambda: move_unit(unit, target)):
            flash(_("Unit %(name)s moved under %(parent)s.", name=unit.name, parent=target.name), "success")
            return redirect(url_for(".edit", unit_id=unit.id))
    move_form.parent_id.choices = unit_choices(units_in_scope(paths, active_only=True), exclude_path=unit.path)
    as_typeahead(move_form.parent_id, Role.ADMIN)
    return render_template("org/unit_edit.html", unit=unit, form=form, move=move_form,
                           confirm=ConfirmForm()), 422


@bp.post("/<int:unit_id>/active")
@login_required
def set_active(unit_id):
    paths = admin_paths()
    unit = load_unit_in_scope(unit_id, paths)
    form = ConfirmForm()
    if form.validate_on_submit():
        activate = request.form.get("active") == "1"
        if _apply(form, lambda: reactivate_unit(unit) if activate else deactivate_unit(unit, current_user)):
            flash(_("Unit %(name)s and the units under it reactivated.", name=unit.name) if activate
                  else _("Unit %(name)s and the units under it deactivated.", name=unit.name), "success")
    return redirect(url_for(".edit", unit_id=unit.id))
