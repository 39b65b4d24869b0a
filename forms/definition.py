"""Loading a form definition: YAML → schema → names, choices and expressions checked.

``load_definition(text)`` returns a FormSpec, the compiled, immutable form a
version is served and validated with, or raises DefinitionError listing
every problem as ``path: message`` with the YAML line it sits on.
"""
import hashlib
import re
from dataclasses import dataclass, field as dc_field
from functools import lru_cache

import yaml
from pydantic import ValidationError

from . import choice_sources
from .expressions import ExpressionError, compile_expression
from .schema import FIELD_TYPES, FormSchema
from .source import MAX_SOURCE, DefinitionError, Loader as _Loader, Problem, check_nesting, check_size
from .translatable import Translatable, _l, lazy_ngettext

__all__ = ["MAX_SOURCE", "DefinitionError", "Problem", "load_definition", "parse_yaml"]
MAX_NODES = 50_000

VALUE_TYPES = {
    "text": "text", "textarea": "text", "email": "text", "phone": "text", "id_card": "text",
    "integer": "number", "decimal": "number", "date": "date", "datetime": "datetime",
    "boolean": "boolean", "choice": "text", "multi_choice": "list[text]",
    "image": "list[text]", "file": "list[text]", "repeat": "list[any]",
}

# Column types whose values can be compared for ``unique: true``.
UNIQUE_TYPES = ("text", "textarea", "email", "phone", "id_card", "integer", "decimal", "date", "datetime", "choice")


@dataclass(eq=False)
class FieldSpec:
    """One field with its expressions compiled and its choice list resolved."""
    model: object
    path: str
    value_type: str
    visible_if: object = None
    required_if: object = None
    constraints: list = dc_field(default_factory=list)
    calculate: object = None
    fixed_choices: list | None = None
    columns: list["FieldSpec"] = dc_field(default_factory=list)
    calc_columns: list["FieldSpec"] = dc_field(default_factory=list)

    @property
    def name(self):
        return self.model.name

    @property
    def choices(self):
        """The definition's items, then those its ``choices_from`` source gives now (every window)."""
        source = getattr(self.model, "choices_from", None)
        if source is None:
            return self.fixed_choices
        return choice_sources.merged(self.fixed_choices, source.source)

    @choices.setter
    def choices(self, items):
        self.fixed_choices = items

    def choices_for(self, values):
        """The items offered given the other answers (``values``): ``open_on``'s date picks the windows."""
        source = getattr(self.model, "choices_from", None)
        items = self.choices or []
        if source is None or source.open_on is None:
            return items
        return [c for c in items if choice_sources.is_open(c, values.get(source.open_on))]

    @property
    def type(self):
        return self.model.type

    @property
    def required(self):
        return self.model.required is True

    def column(self, name):
        return next((c for c in self.columns if c.name == name), None)


@dataclass(eq=False)
class FormSpec:
    schema: FormSchema
    source: str
    sha256: str
    fields: list[FieldSpec]
    calc_order: list[FieldSpec]

    @property
    def key(self):
        return self.schema.key

    @property
    def version(self):
        return self.schema.version

    def field(self, name):
        return next((f for f in self.fields if f.name == name), None)

    def walk(self):
        """Every field, repeat columns included, in order."""
        for spec in self.fields:
            yield spec
            yield from spec.columns

    def expression_trees(self):
        """The compiled trees the browser evaluates for live show/hide, by field path."""
        out = {}
        for spec in self.walk():
            if spec.visible_if is not None:
                out[spec.path] = spec.visible_if.to_json()
        return out


def sha256_of(source):
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@lru_cache(maxsize=256)
def load_definition(source):
    """Compile ``source`` (YAML text); cached by content, so a version compiles once."""
    data, lines = parse_yaml(source)
    try:
        schema = FormSchema.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError([problem_from_pydantic(err, lines) for err in exc.errors()]) from None
    return _compile(schema, source, lines)


def parse_yaml(source):
    """YAML → (data, {path tuple: line}); refuses oversized, too deep and alias-bomb documents."""
    check_size(source)
    check_nesting(source)
    loader = _Loader(source)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = str(getattr(exc, "problem", exc))
        raise DefinitionError([Problem("", _l("not valid YAML: %(reason)s", reason=reason), line)]) from None
    if node is None:
        raise DefinitionError([Problem("", _l("the definition is empty"), 1)])
    lines = {}
    visits = 0

    def walk(current, path):
        nonlocal visits
        visits += 1
        if visits > MAX_NODES:
            raise DefinitionError([Problem("", _l("definition too large (too many nodes or aliases)"))])
        lines.setdefault(path, current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = key_node.value
                lines.setdefault(path + (key,), key_node.start_mark.line + 1)
                walk(value_node, path + (key,))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                walk(item, path + (index,))

    walk(node, ())
    try:
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise DefinitionError([Problem("", _l("not valid YAML: %(reason)s",
                                              reason=str(getattr(exc, "problem", exc))))]) from None
    finally:
        loader.dispose()
    return data, lines


def format_path(loc):
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def line_of(lines, loc):
    loc = tuple(loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc)


def _longest_match(pattern):
    """The longest text a name pattern like ``^[a-z][a-z0-9_]{0,62}$`` admits (63), or None."""
    match = re.fullmatch(r"\^\[[^]]+\]\[[^]]+\]\{0,(\d+)\}\$", pattern or "")
    return int(match.group(1)) + 1 if match else None


# Pydantic's own errors by their type, in words that translate; any other type keeps pydantic's text.
_PYDANTIC = {
    "missing": _l("required key is missing"),
    "string_type": _l("must be a text"),
    "int_type": _l("must be a whole number"),
    "int_parsing": _l("must be a whole number"),
    "int_from_float": _l("must be a whole number"),
    "float_type": _l("must be a number"),
    "float_parsing": _l("must be a number"),
    "bool_type": _l("must be true or false"),
    "bool_parsing": _l("must be true or false"),
    "list_type": _l("must be a list"),
    "dict_type": _l("must be a mapping (key: value)"),
    "model_type": _l("must be a mapping (key: value)"),
    "model_attributes_type": _l("must be a mapping (key: value)"),
    "date_type": _l("must be a date like 2017-03-05"),
    "date_parsing": _l("must be a date like 2017-03-05"),
    "date_from_datetime_parsing": _l("must be a date like 2017-03-05"),
}


def _pydantic_message(kind, ctx, err):
    if kind in _PYDANTIC:
        return _PYDANTIC[kind]
    if kind in ("literal_error", "enum"):
        return _l("must be one of %(expected)s", expected=str(ctx.get("expected", "")).replace(" or ", ", "))
    if kind == "greater_than_equal":
        return _l("must be at least %(limit)s", limit=ctx.get("ge"))
    if kind == "greater_than":
        return _l("must be greater than %(limit)s", limit=ctx.get("gt"))
    if kind == "less_than_equal":
        return _l("must be at most %(limit)s", limit=ctx.get("le"))
    if kind == "less_than":
        return _l("must be less than %(limit)s", limit=ctx.get("lt"))
    if kind == "too_short":
        return lazy_ngettext("needs at least %(num)d item", "needs at least %(num)d items", ctx.get("min_length"))
    if kind == "too_long":
        return lazy_ngettext("takes at most %(num)d item", "takes at most %(num)d items", ctx.get("max_length"))
    if kind == "string_too_short":
        return lazy_ngettext("needs at least %(num)d character", "needs at least %(num)d characters",
                             ctx.get("min_length"))
    if kind == "string_too_long":
        return lazy_ngettext("takes at most %(num)d character", "takes at most %(num)d characters",
                             ctx.get("max_length"))
    if kind == "value_error":
        # Our validators raise ValueError(Translatable); a library's ValueError keeps pydantic's text.
        error = ctx.get("error")
        if isinstance(error, ValueError) and error.args and isinstance(error.args[0], Translatable):
            return error.args[0]
    return err["msg"]


def problem_from_pydantic(err, lines):
    loc = []
    raw = list(err["loc"])
    for index, part in enumerate(raw):
        # Discriminated unions add the field's type tag to the path; it is not a key.
        if isinstance(part, str) and index and isinstance(raw[index - 1], int) and part in FIELD_TYPES:
            continue
        if part in ("if_", "from_"):
            part = part[:-1]
        loc.append(part)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        inside = "repeat" in raw
        message = (_l("type '%(tag)s' cannot be used inside a repeat", tag=tag) if inside and tag in FIELD_TYPES
                   else _l("unknown field type '%(tag)s'", tag=tag))
        loc.append("type")
    elif kind == "union_tag_not_found":
        message = _l("every field needs a type")
    elif kind == "extra_forbidden":
        loc = [("from" if p == "from_" else p) for p in loc]
        message = _l("unknown key '%(key)s'", key=loc[-1])
    elif kind == "string_pattern_mismatch":
        longest = _longest_match(ctx.get("pattern", ""))
        value = err.get("input")
        if longest and isinstance(value, str) and len(value) > longest:
            message = _l("too long (%(length)d characters, at most %(longest)d)", length=len(value), longest=longest)
        else:
            message = _l("must be a letter followed by letters, digits or '_'")
    else:
        message = _pydantic_message(kind, ctx, err)
    return Problem(format_path(loc), message, line_of(lines, loc))


class _Checker:
    """Names, choice lists, limits and expressions of a structurally valid definition."""

    def __init__(self, schema, lines):
        self.schema = schema
        self.lines = lines
        self.problems = []

    def problem(self, loc, message):
        self.problems.append(Problem(format_path(loc), message, line_of(self.lines, loc)))

    def compile(self, loc, source, names, columns, row_names=None, expect=None):
        try:
            return compile_expression(source, names, row_names=row_names, columns=columns, expect=expect)
        except ExpressionError as exc:
            self.problem(loc, exc.message)
            return None

    def run(self):
        fields = self.schema.fields
        self.unique(fields, ("fields",))
        names = {f.name: VALUE_TYPES.get(f.type, "any") for f in fields if f.type not in ("note", "calculate")}
        columns = {}
        specs = [FieldSpec(model=f, path=f.name, value_type=names.get(f.name, "any")) for f in fields]
        # Row calculations, then form calculations, each in dependency order,
        # so every result type is known before anything refers to it.
        for index, (field, spec) in enumerate(zip(fields, specs)):
            if field.type != "repeat":
                continue
            loc = ("fields", index)
            self.unique(field.fields, loc + ("fields",))
            row_types = {c.name: VALUE_TYPES.get(c.type, "any") for c in field.fields
                         if c.type not in ("note", "calculate")}
            spec.columns = [FieldSpec(model=c, path=f"{field.name}[].{c.name}",
                                      value_type=row_types.get(c.name, "any")) for c in field.fields]
            columns[field.name] = row_types
            calcs = {c.name: (i, c, s) for i, (c, s) in enumerate(zip(field.fields, spec.columns))
                     if c.type == "calculate"}
            spec.calc_columns = self._order(calcs, names, columns, row_types, prefix=loc + ("fields",))
        calcs = {f.name: (i, f, s) for i, (f, s) in enumerate(zip(fields, specs)) if f.type == "calculate"}
        order = self._order(calcs, names, columns, None)
        for index, (field, spec) in enumerate(zip(fields, specs)):
            loc = ("fields", index)
            if field.unique:
                self.problem(loc + ("unique",), _l("unique applies only to a column of a repeat"))
            for c_index, column in enumerate(getattr(field, "fields", [])):
                if column.unique and column.type not in UNIQUE_TYPES:
                    self.problem(loc + ("fields", c_index, "unique"),
                                 _l("a %(type)s column cannot be unique", type=column.type))
            self.limits(field, loc)
            self.expressions(field, spec, loc, names, columns)
            for c_index, (column, c_spec) in enumerate(zip(getattr(field, "fields", []), spec.columns)):
                c_loc = loc + ("fields", c_index)
                self.limits(column, c_loc)
                self.expressions(column, c_spec, c_loc, names, columns, columns[field.name])
        self.summary(fields)
        return specs, order

    def summary(self, fields):
        summary = self.schema.summary
        if summary is None:
            return
        types = {f.name: f.type for f in fields}
        wanted = {"campaign": ("choice", "text"), "date": ("date", "datetime"), "title": ("text",),
                  "period": ("text", "choice")}
        for part, allowed in wanted.items():
            name = getattr(summary, part)
            if name is None:
                continue
            if name not in types:
                self.problem(("summary", part), _l("unknown name '%(name)s'", name=name))
            elif types[name] not in allowed:
                self.problem(("summary", part), _l("'%(name)s' is a %(type)s field; expected %(allowed)s",
                                                   name=name, type=types[name], allowed=" or ".join(allowed)))
        if summary.date and summary.period:
            self.problem(("summary", "period"), _l("give the month by date or by period, not both"))

    def unique(self, fields, loc):
        seen = {}
        for index, field in enumerate(fields):
            if field.name in seen:
                self.problem(loc + (index, "name"), _l("duplicate field name '%(name)s' (also %(other)s)",
                                                       name=field.name, other=format_path(loc + (seen[field.name],))))
            else:
                seen[field.name] = index

    def limits(self, field, loc):
        if field.default is not None and field.type not in ("repeat", "image", "file", "note", "calculate"):
            from .answers import TypeProblem, coerce
            try:
                coerce(FieldSpec(model=field, path=field.name, value_type="any"), field.default)
            except TypeProblem:
                self.problem(loc + ("default",), _l("default %(value)s is not a valid %(type)s",
                                                    value=repr(field.default), type=field.type))
        pairs = [("min", "max"), ("min_length", "max_length"), ("min_rows", "max_rows"),
                 ("min_files", "max_files"), ("min_count", "max_count")]
        for low, high in pairs:
            a, b = getattr(field, low, None), getattr(field, high, None)
            if a is not None and b is not None and a > b:
                self.problem(loc + (low,), _l("%(low)s (%(a)s) is greater than %(high)s (%(b)s)",
                                              low=low, a=f"{a:g}", high=high, b=f"{b:g}"))
        if field.type in ("choice", "multi_choice"):
            if isinstance(field.choices, str) and field.choices not in self.schema.choices:
                self.problem(loc + ("choices",), _l("unknown choice list '%(name)s'", name=field.choices))
            items = self.choice_items(field)
            values = [c.value for c in items]
            if len(set(values)) != len(values):
                self.problem(loc + ("choices",), _l("choice values must be unique"))
            if field.choice_filter:
                known = {f.name for f in self.schema.fields}
                for attr, target in field.choice_filter.items():
                    if target not in known:
                        self.problem(loc + ("choice_filter", attr), _l("unknown name '%(name)s'", name=target))
            source = getattr(field, "choices_from", None)
            if source is not None and source.open_on is not None:
                dates = {f.name for f in self.schema.fields if f.type == "date"}
                if source.open_on not in dates:
                    self.problem(loc + ("choices_from", "open_on"),
                                 _l("'%(name)s' is not a date field", name=source.open_on))
        if field.type in ("image", "file") and field.accept:
            from .files import KNOWN_TYPES
            unknown = [a for a in field.accept if a not in KNOWN_TYPES]
            if unknown:
                self.problem(loc + ("accept",), _l("unknown file type '%(type)s' (known: %(known)s)",
                                                   type=unknown[0], known=", ".join(sorted(KNOWN_TYPES))))

    def choice_items(self, field):
        if isinstance(field.choices, str):
            return self.schema.choices.get(field.choices, [])
        return field.choices

    def expressions(self, field, spec, loc, names, columns, row_types=None):
        if field.type in ("choice", "multi_choice"):
            spec.choices = self.choice_items(field)
        if field.visible_if is not None:
            spec.visible_if = self.compile(loc + ("visible_if",), field.visible_if, names, columns, row_types,
                                           expect="boolean")
        if isinstance(field.required, str):
            spec.required_if = self.compile(loc + ("required",), field.required, names, columns, row_types,
                                            expect="boolean")
        for c_index, constraint in enumerate(field.constraints):
            compiled = self.compile(loc + ("constraints", c_index, "if"), constraint.if_, names, columns, row_types,
                                    expect="boolean")
            spec.constraints.append((compiled, constraint.message))

    def _order(self, calcs, names, columns, row_types, prefix=("fields",)):
        """Compile calculations in dependency order; a cycle is reported once, at its first field."""
        if not calcs:
            return []
        probe = dict(names, **{n: "any" for n in calcs}) if row_types is None else names
        probe_rows = None if row_types is None else dict(row_types, **{n: "any" for n in calcs})
        deps = {}
        for name, (index, model, _) in calcs.items():
            try:
                compiled = compile_expression(model.calculate, probe, row_names=probe_rows, columns=columns)
            except ExpressionError as exc:
                self.problem(prefix + (index, "calculate"), exc.message)
                continue
            used = compiled.row_names if row_types is not None else compiled.names
            deps[name] = [d for d in used if d in calcs]
        order, state = [], {}

        def visit(name, trail):
            if state.get(name) == "done":
                return True
            if state.get(name) == "active":
                cycle = trail[trail.index(name):] + [name]
                index = calcs[cycle[0]][0]
                self.problem(prefix + (index, "calculate"), _l("calculation cycle: %(cycle)s", cycle=" → ".join(cycle)))
                return False
            state[name] = "active"
            ok = all(visit(d, trail + [name]) for d in deps.get(name, []))
            state[name] = "done"
            if ok and name in deps:
                order.append(name)
            return ok

        for name in calcs:
            visit(name, [])
        compiled_order = []
        for name in order:
            index, model, spec = calcs[name]
            compiled = self.compile(prefix + (index, "calculate"), model.calculate, names, columns,
                                    row_types if row_types is not None else None)
            if compiled is None:
                continue
            spec.calculate = compiled
            spec.value_type = compiled.type
            if row_types is None:
                names[name] = compiled.type
            else:
                row_types[name] = compiled.type
            compiled_order.append(spec)
        return compiled_order


def _compile(schema, source, lines):
    checker = _Checker(schema, lines)
    specs, order = checker.run()
    if checker.problems:
        raise DefinitionError(checker.problems)
    return FormSpec(schema=schema, source=source, sha256=sha256_of(source), fields=specs, calc_order=order)
