"""A refused form's errors as a list people can follow: one link per field, roster cells by row and column.

The form layer keys errors by answer path (``title``, ``roster``, ``roster[2].id_number``), counting
roster rows as the answers count them: rows marked for removal and rows left empty are not rows.
The page shows every row that was posted, so the row an error names is found through the same rule.
"""
import re
from dataclasses import dataclass

from flask_babel import gettext as _

CELL = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\[(\d+)\]\.([A-Za-z][A-Za-z0-9_]*)$")
CHOICE_WIDGETS = ("RadioField", "YesNoField", "CheckboxList")


def message_id(path):
    """The id of the element holding a path's messages (``roster[2].hours`` → ``err-roster-2-hours``)."""
    return "err-" + re.sub(r"[^A-Za-z0-9_-]+", "-", path).strip("-")


@dataclass(frozen=True)
class Entry:
    target: str  # the id of the element the link moves to
    label: str
    messages: tuple


def answer_rows(spec, form, formdata):
    """{roster name: [answer row index, or None, for each row on the page]}."""
    rows = {}
    for field_spec in spec.fields:
        if field_spec.type != "repeat" or field_spec.name not in form._fields:
            continue
        indices, counted = [], 0
        for entry in form[field_spec.name].entries:
            if formdata is None:
                indices.append(counted)
                counted += 1
                continue
            deleted = formdata.get(f"{entry.name}-delete")
            filled = any(v not in (None, "") for c in field_spec.columns
                         for v in formdata.getlist(f"{entry.name}-{c.name}"))
            if deleted or not filled:
                indices.append(None)
            else:
                indices.append(counted)
                counted += 1
        rows[field_spec.name] = indices
    return rows


def _target(field):
    if field.type in CHOICE_WIDGETS:
        options = list(field)
        return options[0].id if options else field.id
    return field.id


def entries(spec, form, errors, rows, language):
    """The summary's lines, in the order of the page."""
    out = []
    cells = {}
    for path, messages in errors.items():
        match = CELL.match(path)
        if match:
            cells.setdefault(match.group(1), []).append((int(match.group(2)), match.group(3), messages))
    for field_spec in spec.fields:
        title = field_spec.model.title(language)
        if errors.get(field_spec.path) and field_spec.name in form._fields:
            field = form[field_spec.name]
            target = f"roster-{field_spec.name}" if field_spec.type == "repeat" else _target(field)
            out.append(Entry(target, title, tuple(errors[field_spec.path])))
        if field_spec.type != "repeat" or field_spec.name not in form._fields:
            continue
        page_rows = form[field_spec.name].entries
        at = {answer: position for position, answer in enumerate(rows.get(field_spec.name, ()))
              if answer is not None}
        order = {c.name: n for n, c in enumerate(field_spec.columns)}
        for index, column, messages in sorted(cells.get(field_spec.name, ()),
                                              key=lambda cell: (cell[0], order.get(cell[1], 0))):
            position = at.get(index)
            column_spec = field_spec.column(column)
            if position is None or column_spec is None or column not in page_rows[position].form._fields:
                continue
            label = _("%(roster)s, row %(row)d, %(column)s", roster=title, row=position + 1,
                      column=column_spec.model.title(language))
            out.append(Entry(_target(page_rows[position].form[column]), label, tuple(messages)))
    return out


def invalid_attrs(field, path, errors):
    """A field in error says so to assistive technology and points at its messages, after its hint."""
    if not errors.get(path):
        return {}
    hint = (field.render_kw or {}).get("aria-describedby")
    return {"aria-invalid": "true", "aria-describedby": " ".join(([hint] if hint else []) + message_ids(path, errors))}


def message_ids(path, errors):
    """The ids of a path's messages, one paragraph each (as ``_fields.html`` numbers them)."""
    first = message_id(path)
    return [first] + [f"{first}-{n}" for n in range(2, len(errors.get(path) or ()) + 1)]
