"""One archived report as a short PDF: what was frozen, read with the form version it was filled under.

Everything shown comes from the snapshot the ``freeze`` effect kept, after
the personal-data rules for a reader outside the submitting unit
(``personal_data.masked``): an ID number shows its last four digits and a
value calculated from it at most a year. Choice values show the label
pinned when the report was saved, else the definition's.
"""
from flask import current_app, render_template
from flask_babel import force_locale, gettext as _

from ... import pdf

FILE_TYPES = ("image", "file")
SKIPPED = ("note", "repeat") + FILE_TYPES


def _choice_label(spec_field, value, pinned, lang):
    if pinned:
        return pinned.get("en" if lang.startswith("en") else "zh") or pinned.get("zh") or str(value)
    for choice in spec_field.choices or []:
        if choice.value == value:
            return choice.label.get(lang)
    return str(value)


def _text(spec_field, value, answers, lang):
    """A value as the submission's page writes it."""
    if value is None or value == "" or value == []:
        return "—"
    kind = spec_field.type
    if kind == "boolean":
        return _("Yes") if value else _("No")
    if kind == "choice":
        pinned = (answers.get("_labels") or {}).get(spec_field.name)
        return _choice_label(spec_field, value, pinned, lang)
    if kind == "multi_choice" and isinstance(value, list):
        return "、".join(_choice_label(spec_field, item, None, lang) for item in value)
    if kind in ("decimal", "calculate") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "%g" % value
    return str(value)


def summary_context(spec, answers, files, lang):
    """(fields, tables, attachments) for the template, from masked answers and the package's file entries."""
    fields = [(f.model.title(lang), _text(f, answers.get(f.name), answers, lang), f.type == "textarea")
              for f in spec.fields if f.type not in SKIPPED and f.name in answers]
    tables = []
    for repeat in (f for f in spec.fields if f.type == "repeat" and f.name in answers):
        columns = [c for c in repeat.columns if c.type != "note"]
        rows = [[_text(c, row.get(c.name), answers, lang) for c in columns]
                for row in answers.get(repeat.name) or [] if isinstance(row, dict)]
        tables.append((repeat.model.title(lang), [c.model.title(lang) for c in columns], rows))
    reasons = {"missing": _("the stored file is gone"),
               "changed": _("the stored file no longer matches its frozen checksum")}
    attachments = [(f.model.title(lang), [(e["path"], e["name"], reasons.get(e["missing"])) for e in files
                                          if e["field"] == f.name])
                   for f in spec.fields if f.type in FILE_TYPES and f.name in answers]
    return fields, tables, attachments


def summary_html(report, spec, answers, files, lang):
    """``report``: a dict of the row's facts (id, title, unit, held_on, campaign, state, archived_at, sha256)."""
    with force_locale(lang):
        fields, tables, attachments = summary_context(spec, answers, files, lang)
        return render_template("pdf/archive_summary.html", report=report, fields=fields, tables=tables,
                               attachments=attachments, form_title=spec.schema.title.get(lang),
                               fonts=pdf.font_context(current_app), lang=lang)
