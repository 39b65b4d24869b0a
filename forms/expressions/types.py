"""Types: the type names expressions are checked against, and how they combine."""
from __future__ import annotations

from ..translatable import _l, lazy_pgettext
from .errors import ExpressionError

SCALAR_TYPES = frozenset({"number", "text", "boolean", "date", "datetime", "any"})
TYPES = SCALAR_TYPES | frozenset(f"list[{t}]" for t in SCALAR_TYPES)
_ORDERED = frozenset({"number", "text", "date", "datetime", "any"})
_DATES = frozenset({"date", "datetime", "any"})

def _normalise_type(typ: str, what: str) -> str:
    if not isinstance(typ, str):
        raise ExpressionError(_l("unknown type %(type)s for %(what)s", type=repr(typ), what=what))
    typ = typ.strip().replace(" ", "")
    if typ == "list":
        typ = "list[any]"
    if typ not in TYPES:
        raise ExpressionError(_l("unknown type %(type)s for %(what)s", type=repr(typ), what=what))
    return typ


def _is_list(t: str) -> bool:
    return t.startswith("list[")


def _elem(t: str) -> str:
    return t[5:-1] if t.startswith("list[") else "any"


def _compatible(a: str, b: str) -> bool:
    if a == b or a == "any" or b == "any":
        return True
    if _is_list(a) and _is_list(b):
        return _compatible(_elem(a), _elem(b))
    return False


def _comparable(a: str, b: str) -> bool:
    return _compatible(a, b) or ({a, b} == {"date", "datetime"})


def _unify(types: list[str], what: str) -> str:
    result = "any"
    for t in types:
        if t == "any":
            continue
        if result == "any":
            result = t
        elif _is_list(result) and _is_list(t) and _compatible(result, t):
            if _elem(result) == "any":
                result = t
        elif t != result:
            raise ExpressionError(_l("%(what)s mixes %(first)s and %(second)s", what=what,
                                     first=_type_name(result), second=_type_name(t)))
    return result


# The scalar types as words, for messages; list types are shown as written in expressions.
_TYPE_NAMES = {
    "number": lazy_pgettext("expression type", "number"),
    "text": lazy_pgettext("expression type", "text"),
    "boolean": lazy_pgettext("expression type", "boolean"),
    "date": lazy_pgettext("expression type", "date"),
    "datetime": lazy_pgettext("expression type", "datetime"),
    "any": lazy_pgettext("expression type", "any"),
}
_ARTICLED = {
    "number": _l("a number"),
    "text": _l("a text"),
    "boolean": _l("a boolean"),
    "date": _l("a date"),
    "datetime": _l("a datetime"),
}


def _type_name(t: str):
    return _TYPE_NAMES.get(t, t)


def _article(t: str):
    if _is_list(t) or t == "any":
        return _type_name(t)
    return _ARTICLED.get(t) or ("an " if t[0] in "aeiou" else "a ") + t
