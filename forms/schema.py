"""The shape of a form definition, as pydantic models.

This checks structure and types only; names, choice lists, expressions and
cycles are checked by ``forms.definition`` once the structure is sound.
"""
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .translatable import _l

NAME = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
KEY = r"^[a-z][a-z0-9_]{0,62}$"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$", re.I)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


class Text(BaseModel):
    """A label or message: plain text, or a {zh, en} map."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: str
    en: str | None = None

    def get(self, language):
        if language and language.startswith("en") and self.en:
            return self.en
        return self.zh

    def __str__(self):
        return self.zh


def texts(*names):
    """A before-validator letting ``names`` be given as a plain string."""
    def coerce(cls, value):
        return {"zh": value} if isinstance(value, str) else value
    return field_validator(*names, mode="before")(classmethod(coerce))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Choice(BaseModel):
    """A choice item; extra attributes (``district: yz``) drive cascading filters."""
    model_config = ConfigDict(extra="allow", frozen=True)
    value: str
    label: Text

    coerce_texts = texts("label")

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, value):
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    def attribute(self, name):
        return (self.model_extra or {}).get(name)


class Constraint(Strict):
    if_: str = Field(alias="if")
    message: Text

    coerce_texts = texts("message")


class FieldBase(Strict):
    name: str = Field(pattern=NAME)
    label: Text | None = None
    hint: Text | None = None
    required: bool | str = False
    visible_if: str | None = None
    constraints: list[Constraint] = []
    default: Any = None
    read_only: bool = False
    renamed_from: str | None = Field(default=None, pattern=NAME)
    # In a repeat's column: no two rows may hold the same value (the later row is the error).
    unique: bool = False

    coerce_texts = texts("label", "hint")

    def title(self, language=None):
        return self.label.get(language) if self.label else self.name


class TextField(FieldBase):
    type: Literal["text", "textarea", "email", "phone", "id_card"]
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)


class NumberField(FieldBase):
    type: Literal["integer", "decimal"]
    min: float | None = None
    max: float | None = None
    step: float | None = Field(default=None, gt=0)


class DateField(FieldBase):
    type: Literal["date", "datetime"]


class BooleanField(FieldBase):
    type: Literal["boolean"]


class ChoicesFrom(Strict):
    """Items added from data at the moment of filling (``forms.choice_sources``)."""
    source: str = Field(pattern=KEY)
    # A date field: offer only the items whose opens..closes window holds its value.
    open_on: str | None = Field(default=None, pattern=NAME)


class ChoiceField(FieldBase):
    type: Literal["choice", "multi_choice"]
    choices: str | list[Choice]
    choices_from: ChoicesFrom | None = None
    widget: Literal["select", "radio", "checkbox"] | None = None
    # {item attribute: field name}: offer only items whose attribute equals that field's value.
    choice_filter: dict[str, str] | None = None
    min_count: int | None = Field(default=None, ge=0)
    max_count: int | None = Field(default=None, ge=1)


class CalculateField(FieldBase):
    type: Literal["calculate"]
    calculate: str


class FileField(FieldBase):
    type: Literal["image", "file"]
    accept: list[str] | None = None
    max_size: int = 2 * 1024 ** 2
    min_files: int = Field(default=0, ge=0)
    max_files: int = Field(default=1, ge=1, le=50)

    @field_validator("max_size", mode="before")
    @classmethod
    def _size(cls, value):
        if isinstance(value, int):
            return value
        match = _SIZE.match(str(value))
        if not match:
            raise ValueError(_l("expected a size like 2MB, 500KB or 1048576"))
        return int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()])

    @field_validator("accept", mode="before")
    @classmethod
    def _accept(cls, value):
        if isinstance(value, str):
            value = [part for part in re.split(r"[\s,]+", value) if part]
        return [v.lower().lstrip(".") for v in value] if value is not None else None


class NoteField(FieldBase):
    type: Literal["note"]


class RepeatField(FieldBase):
    type: Literal["repeat"]
    fields: list["ColumnField"]
    min_rows: int = Field(default=0, ge=0)
    max_rows: int = Field(default=100, ge=1, le=10_000)


ColumnField = Annotated[
    Union[TextField, NumberField, DateField, BooleanField, ChoiceField, CalculateField, NoteField],
    Field(discriminator="type"),
]
AnyField = Annotated[
    Union[TextField, NumberField, DateField, BooleanField, ChoiceField, CalculateField, FileField, NoteField,
          RepeatField],
    Field(discriminator="type"),
]
RepeatField.model_rebuild()

FIELD_TYPES = ("text", "textarea", "email", "phone", "id_card", "integer", "decimal", "date", "datetime",
               "boolean", "choice", "multi_choice", "calculate", "image", "file", "note", "repeat")


class Summary(Strict):
    """Which fields name a submission's campaign, date and title in lists and queues.

    ``period`` names a text field holding the month (``YYYY-MM``) itself, for a form that has no date
    field (a monthly nomination); ``date`` gives the month otherwise.
    """
    campaign: str | None = None
    date: str | None = None
    title: str | None = None
    period: str | None = None


class FormSchema(Strict):
    key: str = Field(pattern=KEY)
    version: int = Field(ge=1)
    title: Text
    description: Text | None = None
    # Unit kinds that may fill the form; empty means every kind.
    available_to: list[str] = []
    choices: dict[str, list[Choice]] = {}
    summary: Summary | None = None
    fields: list[AnyField] = Field(min_length=1)

    coerce_texts = texts("title", "description")

    @model_validator(mode="before")
    @classmethod
    def _must_be_mapping(cls, data):
        if not isinstance(data, dict):
            raise ValueError(_l("a form definition is a mapping with key, version, title and fields"))
        return data
