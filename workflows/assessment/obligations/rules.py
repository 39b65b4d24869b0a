"""The monthly obligations as data: a YAML rule set, its shape (pydantic) and its stored versions.

A rule set lists the unit kinds that take part and, per obligation, the form that fulfils it, how
many a month, which submission states count as met and which as waiting for review, the deadline
(the N-th working day of the next month) and per unit kind overrides of the count (0: the kind
owes nothing). Errors are reported at their key, with the line, like form and workflow definitions.
"""
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from sqlalchemy import select

from forms.definition import format_path, line_of, parse_yaml, problem_from_pydantic
from forms.schema import KEY, Strict, Text, texts
from forms.source import DefinitionError, Problem
from forms.translatable import _l

from ...extensions import db
from ...models import ObligationRuleVersion, UnitKind

BUILT_IN = Path(__file__).resolve().parents[2] / "definitions" / "assessment" / "obligations.yaml"
STATE = r"^[a-z][a-z0-9_]{0,31}$"
# An office is the one who checks, never one who owes.
PARTICIPATING = tuple(k.value for k in UnitKind if k is not UnitKind.OFFICE)


class KindOverride(Strict):
    at_least: int = Field(ge=0, le=100)


class Obligation(Strict):
    key: str = Field(pattern=KEY)
    label: Text
    form: str = Field(pattern=KEY)
    at_least: int = Field(ge=1, le=100)
    met: list[str] = Field(min_length=1)
    pending: list[str] = []
    due_working_day: int = Field(ge=1, le=22)
    by_kind: dict[str, KindOverride] = {}

    coerce_texts = texts("label")

    @field_validator("met", "pending")
    @classmethod
    def _states(cls, value):
        for name in value:
            if not re.match(STATE, name):
                raise ValueError(_l("'%(name)s' is not a state name", name=name))
        return value


class RuleSchema(Strict):
    key: str = Field(pattern=KEY)
    version: int = Field(ge=1)
    title: Text | None = None
    unit_kinds: list[str] = Field(min_length=1)
    obligations: list[Obligation] = Field(min_length=1)

    coerce_texts = texts("title")


@dataclass(frozen=True)
class Rules:
    schema: RuleSchema
    sha256: str
    source: str

    @property
    def key(self):
        return self.schema.key

    @property
    def version(self):
        return self.schema.version

    @property
    def obligations(self):
        return self.schema.obligations

    def obligation(self, key):
        return next((o for o in self.schema.obligations if o.key == key), None)

    def needed(self, obligation, kind):
        """How many ``obligation`` asks of a unit of ``kind`` a month (0: nothing)."""
        if kind not in self.schema.unit_kinds:
            return 0
        override = obligation.by_kind.get(kind)
        return override.at_least if override is not None else obligation.at_least


def load_rules(source):
    """YAML text → Rules; DefinitionError with one problem per mistake, each at its key."""
    data, lines = parse_yaml(source)
    try:
        schema = RuleSchema.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError([problem_from_pydantic(err, lines) for err in exc.errors()]) from None
    problems = []

    def problem(loc, message):
        problems.append(Problem(format_path(loc), message, line_of(lines, loc)))

    for index, kind in enumerate(schema.unit_kinds):
        if kind not in PARTICIPATING:
            problem(("unit_kinds", index), _l("unknown unit kind '%(kind)s' (kinds: %(kinds)s)", kind=kind,
                                                 kinds=", ".join(PARTICIPATING)))
    keys, forms = {}, {}
    for index, obligation in enumerate(schema.obligations):
        loc = ("obligations", index)
        if obligation.key in keys:
            problem(loc + ("key",), _l("duplicate obligation key '%(key)s' (also obligations[%(other)d])",
                                       key=obligation.key, other=keys[obligation.key]))
        keys.setdefault(obligation.key, index)
        if obligation.form in forms:
            # One form, one obligation: a submission counts towards one thing only.
            problem(loc + ("form",), _l("form '%(form)s' already fulfils obligations[%(other)d]",
                                        form=obligation.form, other=forms[obligation.form]))
        forms.setdefault(obligation.form, index)
        for position, state in enumerate(obligation.pending):
            if state in obligation.met:
                problem(loc + ("pending", position), _l("'%(state)s' is already a met state", state=state))
        for kind in obligation.by_kind:
            if kind not in schema.unit_kinds:
                problem(loc + ("by_kind", kind), _l("'%(kind)s' is not one of unit_kinds (%(kinds)s)", kind=kind,
                                                    kinds=", ".join(schema.unit_kinds)))
    if problems:
        raise DefinitionError(problems)
    return Rules(schema=schema, sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(), source=source)


def check_states(rules):
    """Problems with the states each obligation names, against the published workflows of its form."""
    import yaml
    from ...models import WorkflowVersion
    problems = []
    for index, obligation in enumerate(rules.obligations):
        sources = db.session.execute(select(WorkflowVersion.source).where(
            WorkflowVersion.form_key == obligation.form)).scalars().all()
        if not sources:
            problems.append(Problem(format_path(("obligations", index, "form")),
                                    _l("no workflow is published for form '%(form)s'", form=obligation.form)))
            continue
        states = {}
        for text in sources:
            states.update((yaml.safe_load(text) or {}).get("states", {}))
        for part in ("met", "pending"):
            for position, state in enumerate(getattr(obligation, part)):
                loc = format_path(("obligations", index, part, position))
                if state not in states:
                    problems.append(Problem(loc, _l("no workflow of '%(form)s' has a state '%(state)s'",
                                                       form=obligation.form, state=state)))
                elif (states[state] or {}).get("edit"):
                    # Its month could change with no audit event, which the kept tallies rely on.
                    problems.append(Problem(loc, _l("'%(state)s' can still be edited; only states a submission "
                                                    "leaves by a transition can count", state=state)))
    return problems


@lru_cache(maxsize=8)
def _parsed(source):
    return load_rules(source)


def built_in():
    return _parsed(BUILT_IN.read_text(encoding="utf-8"))


def current():
    """The rules in force: the newest loaded version, or the built-in file when none was loaded."""
    source = db.session.execute(select(ObligationRuleVersion.source)
                                .order_by(ObligationRuleVersion.id.desc()).limit(1)).scalar()
    return _parsed(source) if source is not None else built_in()


class RulesRejected(Exception):
    def __init__(self, problems):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def store(source, user=None):
    """Check ``source`` and store it as the version in force; a (key, version) is never changed."""
    rules = load_rules(source)
    problems = check_states(rules)
    existing = db.session.execute(select(ObligationRuleVersion).where(
        ObligationRuleVersion.key == rules.key, ObligationRuleVersion.version == rules.version)).scalar()
    if existing is not None:
        if existing.sha256 == rules.sha256:
            return existing, False
        problems.append(Problem("version", _l("version %(version)d of '%(key)s' is already loaded with "
                                              "other content; give the changed rules a new version",
                                              version=rules.version, key=rules.key)))
    newest = db.session.execute(select(ObligationRuleVersion.version).where(
        ObligationRuleVersion.key == rules.key).order_by(ObligationRuleVersion.version.desc()).limit(1)).scalar()
    if existing is None and newest is not None and rules.version < newest:
        problems.append(Problem("version", _l("version %(version)d is loaded; a new version must be above it",
                                                 version=newest)))
    if problems:
        raise RulesRejected(problems)
    row = ObligationRuleVersion(key=rules.key, version=rules.version, sha256=rules.sha256, source=source,
                                loaded_by_id=user.id if user else None)
    db.session.add(row)
    db.session.flush()
    return row, True
