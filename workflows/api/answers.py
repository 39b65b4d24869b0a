"""Answers sent to the API → answers ready to store: JSON shapes, masked ID numbers, file references, validation."""
from flask_babel import gettext as _

from forms.answers import to_json, validate
from forms.messages import message as form_message

from ..engine.perform import Invalid
from ..filling import personal_data, uploads
from ..filling.submissions import language


def _scalar(value):
    return value is None or isinstance(value, (str, int, float, bool))


def _shapes(spec, answers, lang):
    """Values of the wrong JSON shape, as errors by path, and the answers without them; validate() checks the rest."""
    errors = {}

    def add(path, text):
        errors.setdefault(path, []).append(text)

    def fits(field, value, path):
        kind = field.type
        if kind in ("image", "file"):
            if value is not None and not (isinstance(value, list) and all(
                    isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("id"), str)) for v in value)):
                add(path, _("A list of file references: objects with an “id”, or the ids themselves."))
                return False
        elif kind == "multi_choice":
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                add(path, _("A list of choice values (text)."))
                return False
            if value and field.choices is not None and any(v not in {c.value for c in field.choices}
                                                            for v in value):
                add(path, form_message("choice", lang))
                return False
        elif not _scalar(value):
            add(path, _("A single value (text, number, true or false)."))
            return False
        elif kind == "choice" and value not in (None, "") and field.choices is not None \
                and str(value).strip() not in {c.value for c in field.choices}:
            add(path, form_message("choice", lang))
            return False
        return True

    fields = {field.name: field for field in spec.fields}
    kept = {}
    for name, value in answers.items():
        field = fields.get(name)
        if field is None:
            add(name, _("This form has no such field."))
        elif field.type in ("note", "calculate"):
            continue  # computed by the server; sent back from GET, they are ignored
        elif field.type != "repeat":
            if fits(field, value, name):
                kept[name] = value
        elif value is None:
            kept[name] = []
        elif not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            add(name, _("A list of rows, each an object of column values."))
        else:
            columns = {column.name: column for column in field.columns}
            rows = []
            for index, row in enumerate(value):
                clean = {}
                for column_name, cell in row.items():
                    column = columns.get(column_name)
                    path = f"{name}[{index}].{column_name}"
                    if column is None:
                        add(path, _("This form has no such field."))
                    elif column.type not in ("note", "calculate") and fits(column, cell, path):
                        clean[column_name] = cell
                rows.append(clean)
            kept[name] = rows
    return errors, kept


def _restore_masked(spec, raw, stored):
    """A masked ID number sent back unchanged (as GET shows it) keeps the stored number."""
    def restored(value, kept):
        if isinstance(value, str) and "*" in value and personal_data.shows(kept, value):
            return personal_data.reveal_number(kept)
        return value

    for field in spec.fields:
        if field.type == "id_card" and field.name in raw:
            raw[field.name] = restored(raw[field.name], stored.get(field.name))
        elif field.type == "repeat" and isinstance(raw.get(field.name), list):
            ids = [c.name for c in field.columns if c.type == "id_card"]
            old_rows = stored.get(field.name) or []
            rows = []
            for index, row in enumerate(raw[field.name]):
                old = old_rows[index] if index < len(old_rows) and isinstance(old_rows[index], dict) else {}
                row = dict(row)
                for name in ids:
                    if name in row:
                        row[name] = restored(row[name], old.get(name))
                rows.append(row)
            raw[field.name] = rows


def _resolve_files(spec, raw, unit, submission, lang, errors):
    """File references → the stored files' references; unknown ones are errors at the field."""
    for field in spec.fields:
        if field.type not in ("image", "file") or not isinstance(raw.get(field.name), list):
            continue
        tokens = [v if isinstance(v, str) else v.get("id") for v in raw[field.name]]
        kept = uploads.kept(tokens, unit, submission)
        missing = [t for t in tokens if t not in kept]
        if missing:
            errors.setdefault(field.name, []).append(
                _("Unknown file reference(s): upload files in the web form first, then refer to them by id."))
        raw[field.name] = [kept[t].reference() for t in tokens if t in kept]


def _validated(spec, answers, unit, submission=None):
    """API answers (merged over the stored ones) → answers ready to store; Invalid (422) with errors by path."""
    lang = language()
    errors, sent = _shapes(spec, answers, lang)
    stored = submission.answers or {} if submission is not None else {}
    raw = dict(personal_data.reveal(spec, stored)) if stored else {}
    raw.update(sent)
    if stored:
        _restore_masked(spec, raw, stored)
    _resolve_files(spec, raw, unit, submission, lang, errors)
    outcome = validate(spec, raw, language=lang, strict=False)
    for path, messages in outcome.errors.items():
        errors.setdefault(path, []).extend(messages)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors=errors)
    return outcome.values, personal_data.protect(spec, to_json(outcome.values))
