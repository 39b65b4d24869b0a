"""The shape of a workflow definition (YAML), as pydantic models."""
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from forms.schema import KEY, Text, texts
from forms.translatable import _l

ROLES = ("filler", "certifier", "reviewer", "office", "signer", "admin")
ACTORS = ROLES + ("owner",)
_DURATION = re.compile(r"^P(?:(\d+)WD|(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_duration(value):
    if value is None:
        return value
    if not _DURATION.match(value) or value in ("P", "PT"):
        raise ValueError(_l("'%(value)s' is not a duration like P5WD (working days), P3D, PT48H", value=value))
    return value


class State(Strict):
    label: Text
    edit: Literal["owner", "filler"] | None = None
    locked: bool = False
    final: bool = False
    due: str | None = None

    coerce_texts = texts("label")
    durations = field_validator("due")(classmethod(lambda cls, v: check_duration(v)))


class Approval(Strict):
    """Several people decide: any one, all of them, or a quorum of n; a veto fails the vote at once.

    ``on_fail`` names the transition a failed vote takes (from the same state).
    """
    mode: Literal["any", "all", "quorum"] = "any"
    n: int | None = Field(default=None, ge=1)
    veto: bool = False
    on_fail: str = Field(default="reject", pattern=r"^[a-z][a-z0-9_]{0,31}$")

    @model_validator(mode="after")
    def _quorum_needs_n(self):
        if self.mode == "quorum" and self.n is None:
            raise ValueError(_l("mode quorum needs n, the number of approvals"))
        return self


class Transition(Strict):
    action: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: Text | None = None
    from_: list[str] = Field(alias="from")
    to: str
    by: str
    not_self: bool = False
    when: str | None = None
    comment: Literal["required", "optional"] | None = None
    effects: list[str] = []
    due: str | None = None
    approval: Approval | None = None
    # Done by a procedure of its own (e.g. the monthly ballot's confirmation calls perform with
    # internal=True), never by hand: no button, no queue lane, refused from the pages and the API.
    # ``by`` still names the role the person who sets the procedure off must hold.
    internal: bool = False

    coerce_texts = texts("label")
    durations = field_validator("due")(classmethod(lambda cls, v: check_duration(v)))

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value


class WorkflowSchema(Strict):
    key: str = Field(pattern=KEY)
    version: int = Field(ge=1)
    form: str = Field(pattern=KEY)
    title: Text | None = None
    # The first state is where a new submission starts.
    states: dict[str, State] = Field(min_length=1)
    transitions: list[Transition] = Field(min_length=1)

    coerce_texts = texts("title")

    @model_validator(mode="before")
    @classmethod
    def _must_be_mapping(cls, data):
        if not isinstance(data, dict):
            raise ValueError(_l("a workflow definition is a mapping with key, version, form, states and transitions"))
        return data
