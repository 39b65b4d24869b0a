"""Types: the type names expressions are checked against, and how they combine."""
from __future__ import annotations

from .errors import ExpressionError

SCALAR_TYPES = frozenset({"number", "text", "boolean", "date", "datetime", "any"})
TYPES = SCALAR_TYPES | frozenset(f"list[{t}]" for t in SCALAR_TYPES)
_ORDERED = frozenset({"number", "text", "date", "datetime", "any"})
_DATES = frozenset({"date", "datetime", "any"})

def _normalise_type(typ: str, what: str) -> str:
    if not isinstance(typ, str):
        raise ExpressionError(f"unknown type {typ!r} for {what}")
    typ = typ.strip().replace(" ", "")
    if typ == "list":
        typ = "list[any]"
    if typ not in TYPES:
        raise ExpressionError(f"unknown type {typ!r} for {what}")
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
            raise ExpressionError(f"{what} mixes {result} and {t}")
    return result


def _article(t: str) -> str:
    return t if _is_list(t) or t == "any" else ("an " if t[0] in "aeiou" else "a ") + t
