"""The allow-list of functions: name → (min args, max args or None, builder).

A builder gets the argument nodes and returns (type, closure).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Callable

from ..translatable import _l, lazy_pgettext
from .errors import ExpressionError
from .tree import _Node
from .types import _DATES, _ORDERED, _article, _elem, _is_list, _unify
from .values import _as_date, _is_num, _items, _lt, _order_pair, _parse_date, _round, _to_date, _today, is_truthy

MAX_PATTERN = 200
_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")



def _need(name: str, node: _Node, allowed, what):
    if node.type not in allowed and not (_is_list(node.type) and "list" in allowed):
        raise ExpressionError(_l("%(name)s() needs %(what)s, got %(got)s", name=name, what=what,
                                 got=_article(node.type)))


def _f_today(args):
    def f(v, r, t):
        return _today(t)
    return "date", f


def _f_len(args):
    (a,) = args
    _need("len", a, {"text", "any", "list"}, _l("a text or a list"))
    fa = a.fn

    def f(v, r, t):
        x = fa(v, r, t)
        if x is None:
            return 0
        c = x.__class__
        if c is str or c is list:
            return len(x)
        return None
    return "number", f


def _f_sum(args):
    (a,) = args
    if a.type not in ("any", "list[number]", "list[any]", "number"):
        raise ExpressionError(_l("sum() needs a list of numbers, got %(got)s", got=_article(a.type)))
    fa = a.fn

    def f(v, r, t):
        total = 0
        try:
            for x in _items(fa(v, r, t)):
                c = x.__class__
                if c is int or c is float:
                    total += x
        except OverflowError:
            return None
        return total
    return "number", f


def _f_count(args):
    (a,) = args
    if a.type != "any" and not _is_list(a.type):
        raise ExpressionError(_l("count() needs a list, got %(got)s", got=_article(a.type)))
    fa = a.fn

    def f(v, r, t):
        n = 0
        for x in _items(fa(v, r, t)):
            if x is not None:
                n += 1
        return n
    return "number", f


def _minmax(name, pick_first):
    def build(args):
        if len(args) == 1:
            a = args[0]
            item = _elem(a.type) if _is_list(a.type) else a.type
        else:
            item = _unify([a.type for a in args], f"{name}()")
        if item not in _ORDERED:
            raise ExpressionError(_l("%(name)s() needs numbers, texts or dates, got %(got)s",
                                     name=name, got=_article(item)))
        fns = [a.fn for a in args]
        single = fns[0] if len(fns) == 1 else None

        def f(v, r, t):
            items = _items(single(v, r, t)) if single is not None else [g(v, r, t) for g in fns]
            best = None
            for x in items:
                if x is None:
                    continue
                if best is None:
                    if _order_pair(x, x) is not None:
                        best = x
                elif pick_first(x, best):
                    best = x
            return best
        return item, f
    return build


def _f_round(args):
    for a in args:
        _need("round", a, {"number", "any"}, _l("numbers"))
    fa = args[0].fn
    if len(args) == 1:
        def f(v, r, t):
            return _round(fa(v, r, t))
    else:
        fn = args[1].fn

        def f(v, r, t):
            n = fn(v, r, t)
            if not _is_num(n) or n != n or n in (float("inf"), float("-inf")):
                return None
            return _round(fa(v, r, t), n)
    return "number", f


def _f_date_diff(args):
    for a in args:
        _need("date_diff", a, _DATES, _l("dates"))
    fa, fb = args[0].fn, args[1].fn

    def f(v, r, t):
        a, b = _as_date(fa(v, r, t)), _as_date(fb(v, r, t))
        if a is None or b is None:
            return None
        return (a - b).days
    return "number", f


def _f_years_since(args):
    (a,) = args
    _need("years_since", a, _DATES, _article("date"))
    fa = a.fn

    def f(v, r, t):
        d = _as_date(fa(v, r, t))
        if d is None:
            return None
        now = _today(t)
        return now.year - d.year - ((now.month, now.day) < (d.month, d.day))
    return "number", f


def _birth_date(x):
    if x.__class__ is not str or not _ID_RE.fullmatch(x):
        return None
    try:
        return date(int(x[6:10]), int(x[10:12]), int(x[12:14]))
    except ValueError:
        return None


def _f_birth_date(args):
    (a,) = args
    _need("birth_date", a, {"text", "any"}, _article("text"))
    fa = a.fn

    def f(v, r, t):
        return _birth_date(fa(v, r, t))
    return "date", f


# Regular-expression features Python and JavaScript read differently (or
# only one of them has): refused so both sides agree.
_JS_INCOMPATIBLE = (
    ("(?P", lazy_pgettext("regular expression", "named groups")),
    ("(?<", lazy_pgettext("regular expression", "named groups")),
    ("(?>", lazy_pgettext("regular expression", "atomic groups")),
    ("(?#", lazy_pgettext("regular expression", "comments")),
    ("(?(", lazy_pgettext("regular expression", "conditionals")),
)


def _check_pattern(pattern: str):
    if len(pattern) > MAX_PATTERN:
        raise ExpressionError(_l("pattern too long (%(length)d characters, at most %(most)d)",
                                 length=len(pattern), most=MAX_PATTERN))
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1] if i + 1 < n else ""
            if nxt in ("A", "Z", "z", "G", "N", "U", "a", "p", "P", "k"):
                raise ExpressionError(_l("bad pattern: '%(escape)s' is not supported", escape="\\" + nxt))
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            i += 1
            continue
        if c == "[":
            in_class = True
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                raise ExpressionError(_l("bad pattern: write ']' inside [...] as '\\]'"))
            i = j
            continue
        if c == "(" and pattern.startswith("(?", i):
            head = pattern[i:i + 4]
            if not (head.startswith("(?:") or head.startswith("(?=") or head.startswith("(?!")
                    or head.startswith("(?<=") or head.startswith("(?<!")):
                for prefix, what in _JS_INCOMPATIBLE:
                    if head.startswith(prefix):
                        raise ExpressionError(_l("bad pattern: %(what)s are not supported", what=what))
                raise ExpressionError(_l("bad pattern: inline flags are not supported"))
        if c in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise ExpressionError(_l("bad pattern: possessive quantifiers are not supported"))
        if c == "{" and pattern.startswith("{,", i):
            raise ExpressionError(_l("bad pattern: write {0,n} instead of {,n}"))
        i += 1
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise ExpressionError(_l("bad pattern: %(reason)s", reason=str(exc))) from None


def _f_matches(args):
    text, pattern = args
    _need("matches", text, {"text", "any"}, _article("text"))
    if pattern.tree[0] != "lit" or not isinstance(pattern.tree[1], str):
        raise ExpressionError(_l("matches() needs the pattern as a text literal"))
    fullmatch = _check_pattern(pattern.tree[1]).fullmatch
    fa = text.fn

    def f(v, r, t):
        x = fa(v, r, t)
        return x.__class__ is str and fullmatch(x) is not None
    return "boolean", f


def _f_coalesce(args):
    typ = _unify([a.type for a in args], "coalesce()")
    fns = [a.fn for a in args]

    def f(v, r, t):
        for g in fns:
            x = g(v, r, t)
            if x is not None:
                return x
        return None
    return typ, f


def _f_if_else(args):
    cond, a, b = args
    typ = _unify([a.type, b.type], "if_else()")
    fc, fa, fb = cond.fn, a.fn, b.fn

    def f(v, r, t):
        return fa(v, r, t) if is_truthy(fc(v, r, t)) else fb(v, r, t)
    return typ, f


def _f_date(args):
    (a,) = args
    _need("date", a, {"text", "any"}, _article("text"))
    if a.tree[0] == "lit":
        value = _parse_date(a.tree[1])
        if value is None:
            raise ExpressionError(_l("invalid date %(value)s (write YYYY-MM-DD)", value=repr(a.tree[1])))

        def f(v, r, t):
            return value
    else:
        fa = a.fn

        def f(v, r, t):
            x = fa(v, r, t)
            if x.__class__ is str:
                x = _to_date(x)
            return _as_date(x)
    return "date", f


def _later(a, b):
    return _lt(b, a)


FUNCTIONS: dict[str, tuple[int, int | None, Callable]] = {
    "today": (0, 0, _f_today),
    "len": (1, 1, _f_len),
    "sum": (1, 1, _f_sum),
    "count": (1, 1, _f_count),
    "min": (1, None, _minmax("min", _lt)),
    "max": (1, None, _minmax("max", _later)),
    "round": (1, 2, _f_round),
    "date_diff": (2, 2, _f_date_diff),
    "years_since": (1, 1, _f_years_since),
    "birth_date": (1, 1, _f_birth_date),
    "matches": (2, 2, _f_matches),
    "coalesce": (1, None, _f_coalesce),
    "if_else": (3, 3, _f_if_else),
    "date": (1, 1, _f_date),
}
