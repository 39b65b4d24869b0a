"""Between the browser and the form layer: reading a posted form, refilling it, previewing it."""
import re
from datetime import date, datetime

from flask import render_template
from markupsafe import Markup

from forms.builder import form_class, limits_text
from forms.files import UploadRefused
from forms.messages import message

from . import error_summary, personal_data, uploads

ROW_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)-(\d+)-([A-Za-z][A-Za-z0-9_]*)$")
MAX_ROW_INDEX = 100_000


def read_answers(spec, formdata):
    """The posted values as the form layer expects them: text, lists, rows of text."""
    raw = {}
    repeats = {f.name: f for f in spec.fields if f.type == "repeat"}
    for field_spec in spec.fields:
        if field_spec.type in ("multi_choice",):
            raw[field_spec.name] = [v for v in formdata.getlist(field_spec.name) if v != ""]
        elif field_spec.type not in ("repeat", "image", "file", "note", "calculate"):
            raw[field_spec.name] = formdata.get(field_spec.name)
    rows = {name: {} for name in repeats}
    deleted = {name: set() for name in repeats}
    for key in formdata.keys():
        match = ROW_KEY.match(key)
        if not match or match.group(1) not in repeats:
            continue
        name, index, column = match.group(1), int(match.group(2)), match.group(3)
        if index > MAX_ROW_INDEX:
            continue
        if column == "delete":
            deleted[name].add(index)
            continue
        column_spec = repeats[name].column(column)
        if column_spec is None:
            continue
        value = formdata.getlist(key) if column_spec.type == "multi_choice" else formdata.get(key)
        rows[name].setdefault(index, {})[column] = value
    for name in repeats:
        ordered = [row for index, row in sorted(rows[name].items()) if index not in deleted[name]]
        # A row left completely empty is not a row anybody meant to add.
        raw[name] = [row for row in ordered if any(v not in (None, "", []) for v in row.values())]
    return raw


def read_files(spec, formdata, files, unit, user, submission=None, language="zh"):
    """Kept and newly uploaded files per field, as answer references; refused uploads as errors."""
    refs, errors, stored = {}, {}, {}
    for field_spec in spec.fields:
        if field_spec.type not in ("image", "file"):
            continue
        keep = uploads.kept(formdata.getlist(f"{field_spec.name}-keep"), unit, submission)
        chosen = [keep[t] for t in formdata.getlist(f"{field_spec.name}-keep") if t in keep]
        for upload in files.getlist(field_spec.name):
            if not upload or not upload.filename:
                continue
            try:
                chosen.append(uploads.store(upload, field_spec, unit, user))
            except UploadRefused as refused:
                errors.setdefault(field_spec.name, []).append(message(refused.key, language, **refused.params))
        refs[field_spec.name] = [f.reference() for f in chosen]
        stored[field_spec.name] = chosen
    return refs, errors, stored


def refill(spec, answers):
    """Stored (or just validated) answers → the data a WTForms form is filled with."""
    answers = personal_data.reveal(spec, answers)
    data = {}
    for field_spec in spec.fields:
        if field_spec.name not in answers:
            continue
        value = answers[field_spec.name]
        if field_spec.type == "repeat":
            data[field_spec.name] = [{c.name: _display(c, row.get(c.name)) for c in field_spec.columns}
                                     for row in value or []]
        elif field_spec.type not in ("image", "file"):
            data[field_spec.name] = _display(field_spec, value)
    return data


def _display(field_spec, value):
    if value is None:
        return None
    kind = field_spec.type
    if kind == "boolean":
        return "1" if value else "0"
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "datetime" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind in ("integer", "decimal", "calculate") and isinstance(value, float):
        return f"{value:g}"
    if kind in ("integer", "decimal", "calculate"):
        return str(value)
    return value


def build_form(spec, language, formdata=None, answers=None):
    cls = form_class(spec, language)
    if formdata is not None:
        form = cls(formdata=formdata)
    else:
        if answers is None:
            answers = {f.name: f.model.default for f in spec.fields if f.model.default is not None}
        form = cls(data=refill(spec, answers))
    _current_choices(spec, form, language)
    return form


def _current_choices(spec, form, language):
    """Items that come from data are read when the page is drawn, not when the form class was built."""
    year = str(date.today().year)
    for field_spec in spec.fields:
        if getattr(field_spec.model, "choices_from", None) is None or field_spec.name not in form._fields:
            continue
        items = []
        for choice in field_spec.choices or []:
            label = choice.label.get(language)
            windows = choice.attribute("windows") or []
            # This year's window in the label (or the latest): readable without the page's script too.
            shown = next((w for w in windows if w[0].startswith(year)), windows[-1] if windows else None)
            if shown:
                label = f"{label}（{shown[0]} – {shown[1]}）" if language.startswith("zh") \
                    else f"{label} ({shown[0]} – {shown[1]})"
            items.append((choice.value, label))
        field = form[field_spec.name]
        field.choices = ([("", field.choices[0][1])] + items) if field.choices and field.choices[0][0] == "" \
            else items


def page_context(spec, form, language, errors=None, files=None, add_rows=None, formdata=None):
    errors = errors or {}
    rows_at = error_summary.answer_rows(spec, form, formdata)
    return {
        "spec": spec, "form": form, "lang": language, "errors": errors, "files": files or {},
        "limits": {f.name: limits_text(f, language) for f in spec.fields if f.type in ("image", "file")},
        "client": client_model(spec), "add_rows": add_rows or {}, "rows_at": rows_at,
        "error_summary": error_summary.entries(spec, form, errors, rows_at, language) if errors else [],
    }


def client_model(spec):
    """What the browser needs for live show/hide: the compiled trees and the field types."""
    return {
        "trees": spec.expression_trees(),
        # Calculations shown live; the server computes them again on save.
        "calcs": [[c.name, c.calculate.to_json()] for c in spec.calc_order],
        "types": {f.name: f.type for f in spec.fields},
        "columns": {f.name: {c.name: c.type for c in f.columns} for f in spec.fields if f.type == "repeat"},
        # Cascading choices: which options each filtered field offers for each value of the field it follows.
        "filters": {f.name: {"rule": f.model.choice_filter,
                             "items": {c.value: {attr: c.attribute(attr) for attr in f.model.choice_filter}
                                       for c in f.choices or []}}
                    for f in spec.fields if f.type in ("choice", "multi_choice") and f.model.choice_filter},
        # Items from data offered only while a date field's value is inside their window.
        "windows": {f.name: {"on": f.model.choices_from.open_on,
                             "items": {c.value: c.attribute("windows") for c in f.choices or []
                                       if c.attribute("windows")}}
                    for f in spec.fields if f.type in ("choice", "multi_choice")
                    and getattr(f.model, "choices_from", None) and f.model.choices_from.open_on},
    }


def preview_html(spec, language):
    """The form as a unit would see it, empty, for the definition editor."""
    form = build_form(spec, language)
    return Markup(render_template("filling/_preview.html", **page_context(spec, form, language)))
