"""The scoring definition (YAML): which facts give or take points, checked like forms and workflows.

A definition names rules; each rule reads one kind of fact the system holds
(``FACTS``) and says how many points it is worth, with the fact's own knobs
(a monthly cap, a photo minimum, hours per point). Problems come back as a
``DefinitionError`` with each message at its key and line, as ``flask forms
check`` reports them.
"""
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from forms.definition import parse_yaml, problem_from_pydantic, sha256_of
from forms.schema import KEY, Strict, Text, texts
from forms.source import DefinitionError, Problem
from forms.translatable import _l

FACTS = ("approved_report", "festival_report", "certified_hours", "top_ten", "missed_obligation",
         "late_obligation")
UNIT_KINDS = ("office", "civilized_unit", "community", "volunteer_org", "team")


class Rule(Strict):
    key: str = Field(pattern=KEY)
    fact: Literal[FACTS]
    points: Decimal = Field(ge=-100, le=100)
    label: Text
    max_per_month: int | None = Field(default=None, ge=1, le=100)
    min_photos: int | None = Field(default=None, ge=0, le=50)
    per_hours: Decimal | None = Field(default=None, gt=0, le=100000)
    _texts = texts("label")

    @model_validator(mode="after")
    def knobs_fit_the_fact(self):
        if self.per_hours is not None and self.fact != "certified_hours":
            raise ValueError(_l("per_hours applies only to the certified_hours fact"))
        if self.fact == "certified_hours" and self.per_hours is None:
            raise ValueError(_l("certified_hours needs per_hours (hours per point)"))
        if self.min_photos is not None and self.fact != "festival_report":
            raise ValueError(_l("min_photos applies only to the festival_report fact"))
        return self


class ScoringSchema(Strict):
    key: str = Field(pattern=KEY)
    version: int = Field(ge=1)
    title: Text
    unit_kinds: list[Literal[UNIT_KINDS]] = Field(min_length=1)
    warning_below: Decimal
    rules: list[Rule] = Field(min_length=1)
    _texts = texts("title")


class Scoring:
    """A compiled scoring definition: its schema, source and checksum."""

    def __init__(self, schema, source):
        self.schema = schema
        self.source = source
        self.sha256 = sha256_of(source)

    @property
    def key(self):
        return self.schema.key

    @property
    def version(self):
        return self.schema.version

    @property
    def rules(self):
        return self.schema.rules

    def rule(self, key):
        return next(r for r in self.schema.rules if r.key == key)


@lru_cache(maxsize=32)
def load_scoring(source):
    data, lines = parse_yaml(source)
    try:
        schema = ScoringSchema.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError([problem_from_pydantic(err, lines) for err in exc.errors()]) from None
    seen, problems = set(), []
    for index, rule in enumerate(schema.rules):
        if rule.key in seen:
            problems.append(Problem(f"rules[{index}].key", _l("'%(key)s' is used twice", key=rule.key),
                                    lines.get(("rules", index, "key"))))
        seen.add(rule.key)
    if problems:
        raise DefinitionError(problems)
    return Scoring(schema, source)
