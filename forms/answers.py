"""Server-side semantics of a filled form: the server is the authority.

``validate(spec, raw)`` takes what the browser sent (strings, lists, rows,
file references), coerces each value to its type, computes calculations,
decides visibility, drops hidden values, and checks ``required``, the
type's limits and the constraints of what is visible. Types and the
``unique`` columns of repeats are checked for drafts too. Errors are keyed by
path: ``title``, ``roster``, ``roster[3].hours`` (rows counted from 0).
"""
import re
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from . import choice_sources
from . import idcard
from .messages import message

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}
MAX_VISIBILITY_PASSES = 5


class TypeProblem(Exception):
    def __init__(self, key, **params):
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass
class Outcome:
    values: dict
    errors: dict = dc_field(default_factory=dict)
    hidden: set = dc_field(default_factory=set)

    @property
    def ok(self):
        return not self.errors


def _blank(value):
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _number_text(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def coerce(spec, value):
    """One raw value → its typed value (None when empty); raises TypeProblem."""
    kind = spec.type
    if kind in ("repeat", "image", "file", "multi_choice"):
        if value is None or value == "":
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    if kind in ("integer", "decimal", "date", "datetime", "boolean") and not isinstance(value, str):
        return _typed_passthrough(kind, value)
    text = str(value).strip()
    if text == "":
        return None
    if kind in ("text", "textarea", "choice"):
        return str(value).strip() if kind != "textarea" else str(value).strip("\r\n ").replace("\r\n", "\n")
    if kind == "email":
        if not _EMAIL.match(text):
            raise TypeProblem("email")
        return text
    if kind == "phone":
        compact = text.replace(" ", "")
        if not _PHONE.match(compact):
            raise TypeProblem("phone")
        return compact
    if kind == "id_card":
        problem = idcard.problem(text)
        if problem:
            raise TypeProblem(problem)
        return idcard.normalise(text)
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise TypeProblem("integer") from None
    if kind == "decimal":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise TypeProblem("number") from None
        if not number.is_finite():
            raise TypeProblem("number")
        return float(number)
    if kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise TypeProblem("date") from None
    if kind == "datetime":
        try:
            return datetime.fromisoformat(text.replace(" ", "T", 1)).replace(tzinfo=None)
        except ValueError:
            raise TypeProblem("datetime") from None
    if kind == "boolean":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise TypeProblem("boolean")
    return text


def _typed_passthrough(kind, value):
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "decimal" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value
    if kind == "datetime" and isinstance(value, datetime):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    raise TypeProblem({"integer": "integer", "decimal": "number"}.get(kind, kind))


class _Run:
    def __init__(self, spec, language, today, strict):
        self.spec = spec
        self.language = language
        self.today = today or date.today()
        self.strict = strict
        self.errors = {}
        self.hidden = set()

    def error(self, path, key, **params):
        self.errors.setdefault(path, []).append(message(key, self.language, **params))

    def custom_error(self, path, text):
        self.errors.setdefault(path, []).append(text.get(self.language) if hasattr(text, "get") else str(text))

    def truthy(self, expression, values, row=None):
        return expression.evaluate(values, row=row, today=self.today) is True

    # -- coercion -------------------------------------------------------------

    def coerce_all(self, raw):
        values = {}
        for spec in self.spec.fields:
            if spec.type in ("note", "calculate"):
                continue
            # A read-only field keeps its default whatever the browser sends.
            value = spec.model.default if spec.model.read_only else raw.get(spec.name)
            if spec.type == "repeat":
                values[spec.name] = self.coerce_rows(spec, value)
                continue
            try:
                values[spec.name] = coerce(spec, value)
            except TypeProblem as problem:
                values[spec.name] = None
                self.error(spec.path, problem.key, **problem.params)
        return values

    def coerce_rows(self, spec, rows):
        rows = coerce(spec, rows)
        out = []
        columns = [c for c in spec.columns if c.type not in ("note", "calculate")]
        for index, row in enumerate(rows):
            row = row if isinstance(row, dict) else {}
            typed = {}
            for column in columns:
                try:
                    typed[column.name] = coerce(column, row.get(column.name))
                except TypeProblem as problem:
                    typed[column.name] = None
                    self.error(f"{spec.name}[{index}].{column.name}", problem.key, **problem.params)
            out.append(typed)
        return out

    # -- calculations and visibility -----------------------------------------

    def calculate(self, values):
        for spec in self.spec.fields:
            if spec.type == "repeat" and spec.calc_columns:
                for row in values.get(spec.name) or []:
                    for column in spec.calc_columns:
                        row[column.name] = column.calculate.evaluate(values, row=row, today=self.today)
        for spec in self.spec.calc_order:
            values[spec.name] = spec.calculate.evaluate(values, today=self.today)

    def apply_visibility(self, values):
        """Hide fields whose visible_if is false; hidden values count as empty for the rest."""
        for _ in range(MAX_VISIBILITY_PASSES):
            changed = False
            for spec in self.spec.fields:
                if spec.visible_if is not None and spec.path not in self.hidden:
                    if not self.truthy(spec.visible_if, values):
                        self.hidden.add(spec.path)
                        values[spec.name] = [] if spec.type in ("repeat", "image", "file", "multi_choice") else None
                        changed = True
            if not changed:
                break
        for spec in self.spec.fields:
            if spec.type != "repeat" or spec.path in self.hidden:
                continue
            conditional = [c for c in spec.columns if c.visible_if is not None]
            if not conditional:
                continue
            for index, row in enumerate(values.get(spec.name) or []):
                for column in conditional:
                    if not self.truthy(column.visible_if, values, row):
                        row[column.name] = None
                        self.hidden.add(f"{spec.name}[{index}].{column.name}")

    # -- checks --------------------------------------------------------------

    def check_unique(self, values):
        """``unique: true`` columns: a value met again is an error at the later row (drafts too)."""
        for spec in self.spec.fields:
            if spec.type != "repeat" or spec.path in self.hidden:
                continue
            for column in spec.columns:
                if not column.model.unique:
                    continue
                first = {}
                for index, row in enumerate(values.get(spec.name) or []):
                    value = row.get(column.name)
                    path = f"{spec.name}[{index}].{column.name}"
                    if _blank(value) or path in self.errors or path in self.hidden:
                        continue
                    key = idcard.normalise(value) if column.type == "id_card" else value
                    if key in first:
                        self.error(path, "unique", row=first[key] + 1)
                    else:
                        first[key] = index

    def check_all(self, values):
        for spec in self.spec.fields:
            if spec.path in self.hidden or spec.type in ("note",):
                continue
            value = values.get(spec.name)
            if spec.path in self.errors:
                continue
            if spec.type == "repeat":
                self.check_rows(spec, values)
            self.check(spec, spec.path, value, values, None)

    def check_rows(self, spec, values):
        rows = values.get(spec.name) or []
        model = spec.model
        if len(rows) > model.max_rows:
            self.error(spec.path, "max_rows", n=model.max_rows, got=len(rows))
            return
        least = max(model.min_rows, 1 if self._required(spec, values) else 0)
        if len(rows) < least:
            self.error(spec.path, "min_rows", n=least)
        columns = [c for c in spec.columns if c.type not in ("note", "calculate")]
        plain = [c for c in columns if c.visible_if is None and c.required_if is None and not c.constraints]
        for index, row in enumerate(rows):
            prefix = f"{spec.name}[{index}]."
            for column in columns:
                path = prefix + column.name
                if path in self.errors or path in self.hidden:
                    continue
                self.check(column, path, row.get(column.name), values, row,
                           fast=column in plain)

    def _required(self, spec, values, row=None):
        if spec.required_if is not None:
            return self.truthy(spec.required_if, values, row)
        return spec.required

    def check(self, spec, path, value, values, row, fast=False):
        model = spec.model
        empty = _blank(value)
        if empty:
            if spec.type == "repeat":
                return
            required = spec.required if fast else self._required(spec, values, row)
            if required and spec.type != "calculate":
                if spec.type in ("image", "file") and model.min_files:
                    self.error(path, "min_files", n=model.min_files)
                else:
                    self.error(path, "required")
            elif spec.type in ("image", "file") and model.min_files and required:
                self.error(path, "min_files", n=model.min_files)
            return
        kind = spec.type
        if kind in ("text", "textarea", "email", "phone", "id_card"):
            length = len(value)
            if model.min_length is not None and length < model.min_length:
                self.error(path, "min_length", n=model.min_length, got=length)
            if model.max_length is not None and length > model.max_length:
                self.error(path, "max_length", n=model.max_length, got=length)
        elif kind in ("integer", "decimal"):
            if model.min is not None and value < model.min:
                self.error(path, "min", min=_number_text(model.min))
            if model.max is not None and value > model.max:
                self.error(path, "max", max=_number_text(model.max))
        elif kind in ("choice", "multi_choice"):
            allowed = self.allowed_choices(spec, values)
            chosen = value if kind == "multi_choice" else [value]
            if any(item not in allowed for item in chosen):
                self.error(path, "choice")
            elif kind == "multi_choice":
                if model.min_count is not None and len(chosen) < model.min_count:
                    self.error(path, "min_count", n=model.min_count)
                if model.max_count is not None and len(chosen) > model.max_count:
                    self.error(path, "max_count", n=model.max_count)
        elif kind in ("image", "file"):
            if len(value) < model.min_files:
                self.error(path, "min_files", n=model.min_files)
            if len(value) > model.max_files:
                self.error(path, "max_files", n=model.max_files)
        if path in self.errors or fast:
            return
        for expression, text in spec.constraints:
            if not self.truthy(expression, values, row):
                self.custom_error(path, text)

    def allowed_choices(self, spec, values):
        items = spec.choices_for(values)
        rule = spec.model.choice_filter
        if rule:
            items = [c for c in items if all(c.attribute(attr) == values.get(target) for attr, target in rule.items())]
        return {c.value for c in items}


def validate(spec, raw, language="zh", today=None, strict=True):
    """Check ``raw`` against ``spec``; with ``strict=False`` (a draft) only types are checked."""
    run = _Run(spec, language, today, strict)
    values = run.coerce_all(raw)
    run.calculate(values)
    run.apply_visibility(values)
    # Again, for drafts too: hidden values are now gone and must not count in a stored total.
    run.calculate(values)
    run.check_unique(values)
    if strict:
        run.check_all(values)
    for path in run.hidden:
        if "[" not in path:
            values.pop(path, None)
    _pin_labels(spec, values)
    for spec in spec.fields:
        if spec.type == "repeat" and spec.path not in run.hidden:
            for row in values.get(spec.name) or []:
                for key in [k for k, v in row.items() if v is None]:
                    del row[key]
    return Outcome(values=values, errors=run.errors, hidden=run.hidden)


PINNED = "_labels"


def _pin_labels(spec, values):
    """A choice from data keeps the label it had when chosen: a later rename leaves the report as it was."""
    labels = {}
    for field_spec in spec.fields:
        if getattr(field_spec.model, "choices_from", None) is None or values.get(field_spec.name) in (None, ""):
            continue
        item = next((c for c in field_spec.choices or [] if c.value == values[field_spec.name]), None)
        if item is None:
            continue
        label = {"zh": item.label.zh, "en": item.label.en or item.label.zh}
        source = field_spec.model.choices_from
        window = choice_sources.window_holding(item, values.get(source.open_on)) if source.open_on else None
        if window is not None:  # the name of the very campaign whose window holds the date
            label = (item.attribute("names") or [])[(item.attribute("windows") or []).index(window)] or label
        labels[field_spec.name] = label
    if labels:
        values[PINNED] = labels


def to_json(values):
    """Typed values → JSON-ready values (dates as ISO text)."""
    if isinstance(values, dict):
        return {k: to_json(v) for k, v in values.items()}
    if isinstance(values, list):
        return [to_json(v) for v in values]
    if isinstance(values, (date, datetime)):
        return values.isoformat()
    if isinstance(values, Decimal):
        return float(values)
    return values


def from_json(spec, stored):
    """Stored answers → typed values, reading each with the field types of ``spec``."""
    values = {}
    for field_spec in spec.fields:
        if field_spec.name not in stored:
            continue
        value = stored[field_spec.name]
        if field_spec.type == "repeat":
            rows = []
            for row in value or []:
                typed = {}
                for column in field_spec.columns:
                    if column.name in row:
                        typed[column.name] = _read(column, row[column.name])
                rows.append(typed)
            values[field_spec.name] = rows
        else:
            values[field_spec.name] = _read(field_spec, value)
    return values


def _read(spec, value):
    if value is None:
        return None
    if spec.type == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if spec.type == "datetime" and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
