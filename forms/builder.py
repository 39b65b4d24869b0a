"""WTForms classes built from a definition: one small factory, cached per version and language.

The class renders the fields (widgets, labels, limits, current values,
errors); the checking itself is ``forms.answers.validate``, which is the
authority and does not depend on what the browser shows or hides.
"""
from functools import lru_cache

from wtforms import Form, validators
from wtforms.fields import (DateField, DateTimeLocalField, EmailField, FieldList, FormField,
                            MultipleFileField, RadioField, SelectField, SelectMultipleField, StringField, TelField,
                            TextAreaField)
from wtforms.widgets import CheckboxInput, ListWidget

from .files import allowed_types, human_size


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class YesNoField(RadioField):
    """A boolean as 是/否 radios: an unanswered question stays visibly unanswered."""


def _label(spec, language):
    return spec.model.title(language)


def _choices(spec, language, placeholder):
    items = [(c.value, c.label.get(language)) for c in spec.choices or []]
    return ([("", placeholder)] + items) if placeholder else items


def _render_kw(spec, language):
    model = spec.model
    kw = {"data-field": spec.path}
    if model.read_only:
        kw["readonly"] = True
    if model.hint:
        kw["aria-describedby"] = f"hint-{spec.path.replace('[].', '-')}"
    if spec.type in ("integer", "decimal"):
        kw.update(type="number", inputmode="decimal" if spec.type == "decimal" else "numeric")
        if model.min is not None:
            kw["min"] = f"{model.min:g}"
        if model.max is not None:
            kw["max"] = f"{model.max:g}"
        kw["step"] = f"{model.step:g}" if model.step else ("any" if spec.type == "decimal" else "1")
    if spec.type in ("text", "textarea", "email", "phone", "id_card") and model.max_length:
        kw["maxlength"] = model.max_length
    if spec.type == "id_card":
        kw.update(autocomplete="off", inputmode="text", pattern="[0-9]{17}[0-9Xx]", spellcheck="false")
    if spec.type in ("image", "file"):
        accept = allowed_types(model)
        kw["accept"] = ",".join("." + a for a in accept) + (",image/*" if spec.type == "image" else "")
        kw["data-max-size"] = model.max_size
        kw["data-max-files"] = model.max_files
    return kw


def _field(spec, language):
    label = _label(spec, language)
    kw = {"render_kw": _render_kw(spec, language), "validators": [validators.Optional()]}
    kind = spec.type
    if kind == "textarea":
        return TextAreaField(label, **kw)
    if kind == "email":
        return EmailField(label, **kw)
    if kind == "phone":
        return TelField(label, **kw)
    if kind in ("text", "id_card", "integer", "decimal", "calculate"):
        if kind == "calculate":
            kw["render_kw"]["readonly"] = True
        return StringField(label, **kw)
    if kind == "date":
        return DateField(label, **kw)
    if kind == "datetime":
        return DateTimeLocalField(label, format="%Y-%m-%dT%H:%M", **kw)
    if kind == "boolean":
        yes, no = ("是", "否") if not language.startswith("en") else ("Yes", "No")
        return YesNoField(label, choices=[("1", yes), ("0", no)], validate_choice=False, **kw)
    if kind == "choice":
        widget = spec.model.widget or ("radio" if len(spec.choices or []) <= 5 else "select")
        if widget == "radio":
            return RadioField(label, choices=_choices(spec, language, None), validate_choice=False, **kw)
        placeholder = "— 请选择 —" if not language.startswith("en") else "— choose —"
        return SelectField(label, choices=_choices(spec, language, placeholder), validate_choice=False, **kw)
    if kind == "multi_choice":
        cls = CheckboxList if (spec.model.widget or "checkbox") == "checkbox" else SelectMultipleField
        return cls(label, choices=_choices(spec, language, None), validate_choice=False, **kw)
    if kind in ("image", "file"):
        return MultipleFileField(label, **kw)
    if kind == "repeat":
        row_class = _row_class(tuple(spec.columns), language)
        return FieldList(FormField(row_class), label=label, min_entries=0, max_entries=spec.model.max_rows)
    return None  # note: text only, nothing to enter


def _row_class(columns, language):
    attrs = {}
    for column in columns:
        made = _field(column, language)
        if made is not None:
            attrs[column.name] = made
    return type("RowForm", (Form,), attrs)


@lru_cache(maxsize=512)
def form_class(spec, language="zh"):
    """The WTForms class for a compiled definition (cached: specs are immutable, keyed by identity)."""
    attrs = {}
    for spec_field in spec.fields:
        made = _field(spec_field, language)
        if made is not None:
            attrs[spec_field.name] = made
    return type(f"Form_{spec.key}_v{spec.version}", (Form,), attrs)


def limits_text(spec, language="zh"):
    """The limits shown next to a file field: count, types, size."""
    model = spec.model
    types = "/".join(a.upper() for a in allowed_types(model))
    if language.startswith("en"):
        count = f"{model.min_files}–{model.max_files} files" if model.min_files else f"up to {model.max_files} files"
        return f"{count}, {types}, at most {human_size(model.max_size)} each"
    count = f"{model.min_files}–{model.max_files} 个" if model.min_files else f"最多 {model.max_files} 个"
    return f"{count}，{types}，每个不超过 {human_size(model.max_size)}"
