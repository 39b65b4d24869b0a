"""Choice lists that come from data, not from the definition: a form names a source, the application fills it.

A definition says ``choices_from: {source: campaigns, open_on: held_on}``.
The field's own ``choices`` are its defaults; the source's items come on
top: an item with a value the definition already has keeps the
definition's label and takes the source's windows, a new value is added
after them. An item may carry ``windows`` (``[[opens, closes], …]`` as ISO
dates): with ``open_on`` it is offered only when that date field's value
falls inside one of them; an item without windows is always offered (so a
year the office has not planned yet still has the definition's list). The
forms package knows no database: the application registers each source.
"""
from datetime import date

from .schema import Choice

_sources = {}


def register(name, items):
    """``items()`` → a list of dicts (value, label {zh, en}, optional opens/closes and other attributes)."""
    _sources[name] = items


def registered(name):
    return name in _sources


def items(name):
    source = _sources.get(name)
    return [Choice.model_validate(item) for item in source()] if source else []


def merged(fixed, name):
    """The definition's items with the source's on top (see the module's docstring)."""
    given = {c.value: c for c in items(name)}
    out = []
    for choice in fixed or []:
        extra = given.pop(choice.value, None)
        out.append(Choice.model_validate({**(extra.model_extra if extra else {}), "value": choice.value,
                                          "label": choice.label.model_dump(), **(choice.model_extra or {})})
                   if extra else choice)
    return out + list(given.values())


def window_holding(item, day):
    """The ``[opens, closes]`` of ``item`` that holds ``day``, or None."""
    if not isinstance(day, date):
        return None
    text = day.isoformat()
    return next((w for w in item.attribute("windows") or [] if w[0] <= text <= w[1]), None)


def is_open(item, day):
    """Whether ``item`` is offered for ``day`` (an item without windows always is)."""
    return not item.attribute("windows") or window_holding(item, day) is not None
