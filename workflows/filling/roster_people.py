"""Who a roster's rows are: the hook through which a unit sees its own registered volunteers while filling.

The filling package knows forms, not volunteers. A package that keeps a
register of people installs one lookup here — ``(unit, {id hash}) → {id
hash: (volunteer number, registered name)}`` restricted to the people
registered *with that unit* — and the fill page marks each roster row whose
ID number validates as registered (the name and number the unit already
knows, nothing about the person's other units) or not registered yet. Rows
are matched by the keyed hash of the number only; the number itself never
leaves the page it was typed into.
"""
from forms import idcard

from .personal_data import hash_number, reveal_number

_installed = {"lookup": None, "endpoint": None}


def install(lookup, endpoint):
    """``lookup(unit, hashes)`` as above; ``endpoint``: the URL rule the page asks for one number as it is typed."""
    _installed.update(lookup=lookup, endpoint=endpoint)


def endpoint():
    return _installed["endpoint"]


def _number(value):
    if isinstance(value, dict):
        value = reveal_number(value)
    number = idcard.normalise(value if isinstance(value, str) else "")
    return number if number and idcard.problem(number) is None else None


def who(unit, numbers):
    """{normalised number: (volunteer number, name) or None} for the valid numbers among ``numbers``."""
    lookup = _installed["lookup"]
    valid = {n for n in (_number(v) for v in numbers) if n}
    if lookup is None or not valid:
        return {}
    hashes = {hash_number(n): n for n in valid}
    found = lookup(unit, set(hashes))
    return {number: found.get(digest) for digest, number in hashes.items()}


def marks(spec, form, unit):
    """What the fill page shows under each roster row's ID number: {normalised number: (number, name) or None}."""
    if _installed["lookup"] is None:
        return {}
    numbers = []
    for field_spec in spec.fields:
        if field_spec.type != "repeat":
            continue
        columns = [c.name for c in field_spec.columns if c.type == "id_card"]
        for entry in form[field_spec.name].entries if columns else []:
            numbers.extend(entry.form[c].data for c in columns if c in entry.form._fields)
    return who(unit, numbers)


def normalised(value):
    """The key ``marks`` uses for a typed value (a template filter)."""
    return idcard.normalise(value if isinstance(value, str) else "")
