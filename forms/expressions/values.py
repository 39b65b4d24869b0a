"""Run-time values: the semantics shared by every precompiled closure.

Null semantics: empty fields are null. Arithmetic with null is null;
comparisons involving null are false except ``== null`` / ``!= null``;
``not null`` is true; ``and``/``or`` treat null as false and return booleans;
``sum``/``count``/``min``/``max`` skip nulls; ``len(null)`` is 0; ``x in
null`` is false (so ``x not in null`` is true). Division by zero is null.
Evaluation never raises for odd values: an operation on values of the wrong
kind (possible only with names typed ``any``) gives null (or false).
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Callable

_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime})
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")



def _norm(x):
    """Plain form of an input value: Decimal → float, tuples/sets → lists."""
    c = x.__class__
    if c in _PLAIN_SCALARS:
        return x
    if c is list:
        for item in x:
            if item.__class__ not in _PLAIN_SCALARS:
                return [_norm(i) for i in x]
        return x
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, Decimal):
        return None if x.is_nan() else float(x)
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x)
    if isinstance(x, str):
        return str(x)
    if isinstance(x, (list, tuple, set, frozenset)):
        return [_norm(i) for i in x]
    return x


def _parse_date(text):
    if text.__class__ is not str or not _DATE_RE.fullmatch(text):
        return None
    try:
        return date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return None


def _to_date(x):
    """A value of a name typed date: date/datetime kept, ISO text parsed."""
    if x is None or isinstance(x, date):
        return x
    if isinstance(x, str):
        return _parse_date(x[:10]) if len(x) > 10 and x[10] in "T " else _parse_date(x)
    return _norm(x)


def _to_datetime(x):
    if x is None or isinstance(x, date):
        return x
    if isinstance(x, str):
        if len(x) == 10:
            return _parse_date(x)
        try:
            return datetime.fromisoformat(x)
        except ValueError:
            return None
    return _norm(x)


def _list_of(convert):
    def convert_list(x):
        if isinstance(x, (list, tuple)):
            return [convert(i) for i in x]
        return _norm(x)
    return convert_list


def _converter(typ: str) -> Callable:
    if typ == "date":
        return _to_date
    if typ == "datetime":
        return _to_datetime
    if typ == "list[date]":
        return _list_of(_to_date)
    if typ == "list[datetime]":
        return _list_of(_to_datetime)
    return _norm


def is_truthy(x) -> bool:
    """Truthiness used by and/or/not, if_else and boolean contexts."""
    if x is None or x is False:
        return False
    if x is True:
        return True
    c = x.__class__
    if c is int or c is float:
        return x == x and x != 0
    if c is str or c is list:
        return len(x) > 0
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, (int, float, Decimal)):
        return x == x and x != 0
    if isinstance(x, (str, list, tuple, set, frozenset, dict)):
        return len(x) > 0
    return True


def _is_num(x) -> bool:
    c = x.__class__
    return c is int or c is float


def _order_pair(a, b):
    """The two values made comparable, or None when they are not."""
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float):
        return a, b
    if ca is str and cb is str:
        return a, b
    if isinstance(a, date) and isinstance(b, date):
        a_dt, b_dt = isinstance(a, datetime), isinstance(b, datetime)
        if a_dt != b_dt:
            if a_dt:
                b = datetime.combine(b, time(), tzinfo=a.tzinfo)
            else:
                a = datetime.combine(a, time(), tzinfo=b.tzinfo)
        elif a_dt and (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return a, b
    return None


def _eq(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    ca, cb = a.__class__, b.__class__
    if ca is cb:
        if ca is list:
            return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b))
        return a == b
    if (ca is int or ca is float) and (cb is int or cb is float):
        return a == b
    if ca is bool or cb is bool:
        return False
    if isinstance(a, date) and isinstance(b, date):
        pair = _order_pair(a, b)
        return pair is not None and pair[0] == pair[1]
    return False


def _lt(a, b) -> bool:
    pair = _order_pair(a, b)
    return pair is not None and pair[0] < pair[1]


def _le(a, b) -> bool:
    pair = _order_pair(a, b)
    return pair is not None and pair[0] <= pair[1]


def _contains(a, b) -> bool:
    if a is None or b is None:
        return False
    if b.__class__ is str:
        return a.__class__ is str and a in b
    if b.__class__ is list:
        for item in b:
            if _eq(a, item):
                return True
    return False


def _items(x):
    """The items of a list argument (a scalar counts as a one-item list)."""
    if x is None:
        return ()
    if x.__class__ is list:
        return x
    return (x,)


def _as_date(x):
    if isinstance(x, datetime):
        return x.date()
    if isinstance(x, date):
        return x
    return None


def _today(t):
    return t if t is not None else date.today()


def _round(x, n=0):
    if not _is_num(x):
        return None
    n = max(-15, min(15, int(n)))
    if x.__class__ is int and n >= 0:
        return x
    try:
        result = Decimal(repr(x)).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, OverflowError):
        return x
    return int(result) if n == 0 else float(result)
