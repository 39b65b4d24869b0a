"""The form definition expression language.

A tiny, safe language for ``visible_if``, ``required``, constraints and
computed values. An expression is tokenized and parsed once, at load time,
by a small Pratt parser into a tree of nested lists (sent to the browser as
JSON and evaluated there by ``workflows/static/js/expressions.js``), type
checked against the types of the names it uses, and precompiled into nested
Python closures for evaluation on the server. Nothing is ever ``eval``-ed.

Grammar (lowest precedence first)::

    expr  := or
    or    := and ("or" and)*
    and   := not ("and" not)*
    not   := "not" not | cmp
    cmp   := sum [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") sum]
    sum   := term (("+" | "-") term)*
    term  := unary (("*" | "/") unary)*
    unary := "-" unary | atom
    atom  := number | text | "true" | "false" | "null" | "(" expr ")"
           | "[" [expr ("," expr)*] "]" | function "(" [expr ("," expr)*] ")"
           | name | "row" "." column | repeat "." column

Comparisons do not chain (``a < b < c`` is an error).

Tree nodes (JSON)::

    ["lit", value]                 number, text, true/false, null
    ["name", "x"]                  a top-level field
    ["row", "x"]                   the current repeat row's column x
    ["column", "roster", "hours"]  a repeat's column across all rows (a list)
    ["list", [item, ...]]
    ["neg", a]
    ["arith", "+" | "-" | "*" | "/", a, b]
    ["cmp", "==" | "!=" | "<" | "<=" | ">" | ">=", a, b]
    ["in", a, b]   ["not_in", a, b]
    ["and", a, b]  ["or", a, b]   ["not", a]
    ["call", "function", [arg, ...]]

Null semantics: empty fields are null. Arithmetic with null is null;
comparisons involving null are false except ``== null`` / ``!= null``;
``not null`` is true; ``and``/``or`` treat null as false and return booleans;
``sum``/``count``/``min``/``max`` skip nulls; ``len(null)`` is 0; ``x in
null`` is false (so ``x not in null`` is true). Division by zero is null.
Evaluation never raises for odd values: an operation on values of the wrong
kind (possible only with names typed ``any``) gives null (or false).

Inside text literals ``\\'``, ``\\"`` and ``\\\\`` are escapes; any other
backslash is kept as it is, so regular expressions read naturally:
``matches(phone, '1[3-9]\\d{9}')``.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

__all__ = ["Expression", "ExpressionError", "compile_expression", "is_truthy", "FUNCTIONS", "TYPES"]

MAX_SOURCE = 500
MAX_NODES = 100
MAX_DEPTH = 20
MAX_PATTERN = 200

SCALAR_TYPES = frozenset({"number", "text", "boolean", "date", "datetime", "any"})
TYPES = SCALAR_TYPES | frozenset(f"list[{t}]" for t in SCALAR_TYPES)
_ORDERED = frozenset({"number", "text", "date", "datetime", "any"})
_DATES = frozenset({"date", "datetime", "any"})


class ExpressionError(Exception):
    """A load-time error in an expression; ``str()`` is a short message."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------
# Runtime helpers (shared by the closures)
# --------------------------------------------------------------------------

_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime})
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")


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


# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------

_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|[-+*/<>()\[\],.=])"
)


def _describe(tok) -> str:
    kind, value, col = tok
    if kind == "end":
        return "unexpected end of expression"
    if kind == "str":
        return f"unexpected text at column {col}"
    return f"unexpected {str(value)!r} at column {col}"


def _tokenize(source: str) -> list:
    tokens = []
    pos, n = 0, len(source)
    match = _TOKEN_RE.match
    while pos < n:
        ch = source[pos]
        if ch == "'" or ch == '"':
            start = pos
            pos += 1
            parts = []
            while True:
                if pos >= n:
                    raise ExpressionError(f"unterminated text starting at column {start + 1}", start + 1)
                c = source[pos]
                if c == ch:
                    pos += 1
                    break
                if c == "\\" and pos + 1 < n:
                    nxt = source[pos + 1]
                    if nxt in "'\"\\":
                        parts.append(nxt)
                    else:
                        parts.append(c + nxt)
                    pos += 2
                    continue
                parts.append(c)
                pos += 1
            tokens.append(("str", "".join(parts), start + 1))
            continue
        m = match(source, pos)
        if m is None:
            raise ExpressionError(f"unexpected {ch!r} at column {pos + 1}", pos + 1)
        kind = m.lastgroup
        text = m.group()
        if kind == "num":
            tokens.append(("num", float(text) if "." in text else int(text), pos + 1))
        elif kind == "id":
            if text[0] == "_":
                rest = source[m.end():].lstrip()
                if rest.startswith("("):
                    raise ExpressionError(
                        f"unknown function {text!r} (names starting with '_' are not allowed)", pos + 1)
                raise ExpressionError("names starting with '_' are not allowed", pos + 1)
            tokens.append(("kw" if text in _KEYWORDS else "id", text, pos + 1))
        elif kind == "op":
            tokens.append(("op", text, pos + 1))
        pos = m.end()
    tokens.append(("end", None, n + 1))
    return tokens


# --------------------------------------------------------------------------
# Functions: name → (min args, max args or None, builder)
# A builder gets the argument nodes and returns (type, closure).
# --------------------------------------------------------------------------


class _Node:
    __slots__ = ("tree", "type", "fn")

    def __init__(self, tree, type_, fn):
        self.tree = tree
        self.type = type_
        self.fn = fn


def _need(name: str, node: _Node, allowed, what: str):
    if node.type not in allowed and not (_is_list(node.type) and "list" in allowed):
        raise ExpressionError(f"{name}() needs {what}, got {_article(node.type)}")


def _f_today(args):
    def f(v, r, t):
        return _today(t)
    return "date", f


def _f_len(args):
    (a,) = args
    _need("len", a, {"text", "any", "list"}, "a text or a list")
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
        raise ExpressionError(f"sum() needs a list of numbers, got {_article(a.type)}")
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
        raise ExpressionError(f"count() needs a list, got {_article(a.type)}")
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
            raise ExpressionError(f"{name}() needs numbers, texts or dates, got {_article(item)}")
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
        _need("round", a, {"number", "any"}, "numbers")
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
        _need("date_diff", a, _DATES, "dates")
    fa, fb = args[0].fn, args[1].fn

    def f(v, r, t):
        a, b = _as_date(fa(v, r, t)), _as_date(fb(v, r, t))
        if a is None or b is None:
            return None
        return (a - b).days
    return "number", f


def _f_years_since(args):
    (a,) = args
    _need("years_since", a, _DATES, "a date")
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
    _need("birth_date", a, {"text", "any"}, "a text")
    fa = a.fn

    def f(v, r, t):
        return _birth_date(fa(v, r, t))
    return "date", f


# Regular-expression features Python and JavaScript read differently (or
# only one of them has): refused so both sides agree.
_JS_INCOMPATIBLE = (
    ("(?P", "named groups"),
    ("(?<", "named groups"),
    ("(?>", "atomic groups"),
    ("(?#", "comments"),
    ("(?(", "conditionals"),
)


def _check_pattern(pattern: str):
    if len(pattern) > MAX_PATTERN:
        raise ExpressionError(f"pattern too long ({len(pattern)} characters, at most {MAX_PATTERN})")
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1] if i + 1 < n else ""
            if nxt in ("A", "Z", "z", "G", "N", "U", "a", "p", "P", "k"):
                raise ExpressionError(f"bad pattern: '\\{nxt}' is not supported")
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
                raise ExpressionError("bad pattern: write ']' inside [...] as '\\]'")
            i = j
            continue
        if c == "(" and pattern.startswith("(?", i):
            head = pattern[i:i + 4]
            if not (head.startswith("(?:") or head.startswith("(?=") or head.startswith("(?!")
                    or head.startswith("(?<=") or head.startswith("(?<!")):
                for prefix, what in _JS_INCOMPATIBLE:
                    if head.startswith(prefix):
                        raise ExpressionError(f"bad pattern: {what} are not supported")
                raise ExpressionError("bad pattern: inline flags are not supported")
        if c in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise ExpressionError("bad pattern: possessive quantifiers are not supported")
        if c == "{" and pattern.startswith("{,", i):
            raise ExpressionError("bad pattern: write {0,n} instead of {,n}")
        i += 1
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise ExpressionError(f"bad pattern: {exc}") from None


def _f_matches(args):
    text, pattern = args
    _need("matches", text, {"text", "any"}, "a text")
    if pattern.tree[0] != "lit" or not isinstance(pattern.tree[1], str):
        raise ExpressionError("matches() needs the pattern as a text literal")
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
    _need("date", a, {"text", "any"}, "a text")
    if a.tree[0] == "lit":
        value = _parse_date(a.tree[1])
        if value is None:
            raise ExpressionError(f"invalid date {a.tree[1]!r} (write YYYY-MM-DD)")

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


# --------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------


_NUMERIC = {"-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _arith(op: str, a: _Node, b: _Node, col: int) -> _Node:
    ta, tb = a.type, b.type
    if op == "+":
        if ta in ("number", "any") and tb in ("number", "any"):
            typ = "any" if ta == tb == "any" else "number"
        elif ta in ("text", "any") and tb in ("text", "any"):
            typ = "text"
        else:
            raise ExpressionError(f"'+' needs two numbers or two texts, got {ta} and {tb}", col)
    else:
        if ta not in ("number", "any") or tb not in ("number", "any"):
            raise ExpressionError(f"{op!r} needs numbers, got {ta} and {tb}", col)
        typ = "number"
    fa, fb = a.fn, b.fn
    if op == "+":
        def f(v, r, t):
            x = fa(v, r, t)
            if x is None:
                return None
            y = fb(v, r, t)
            if y is None:
                return None
            cx, cy = x.__class__, y.__class__
            if (cx is int or cx is float) and (cy is int or cy is float) or (cx is str and cy is str):
                try:
                    return x + y
                except OverflowError:
                    return None
            return None
    else:
        # -, * and /: numbers only; null, overflow and division by zero give null.
        apply = _NUMERIC[op]

        def f(v, r, t):
            x = fa(v, r, t)
            if x is None:
                return None
            y = fb(v, r, t)
            cx, cy = x.__class__, y.__class__
            if (cx is int or cx is float) and (cy is int or cy is float):
                try:
                    return apply(x, y)
                except (OverflowError, ZeroDivisionError):
                    return None
            return None
    return _Node(("arith", op, a.tree, b.tree), typ, f)


def _compare(op: str, a: _Node, b: _Node, col: int) -> _Node:
    ta, tb = a.type, b.type
    if op in ("==", "!="):
        if not _comparable(ta, tb):
            raise ExpressionError(f"cannot compare {ta} with {tb}", col)
    else:
        if not _comparable(ta, tb) or ta not in _ORDERED or tb not in _ORDERED:
            raise ExpressionError(f"{op!r} needs two numbers, two texts or two dates, got {ta} and {tb}", col)
    fa, fb = a.fn, b.fn
    if op == "==":
        def f(v, r, t):
            return _eq(fa(v, r, t), fb(v, r, t))
    elif op == "!=":
        def f(v, r, t):
            return not _eq(fa(v, r, t), fb(v, r, t))
    elif op == "<":
        def f(v, r, t):
            x, y = fa(v, r, t), fb(v, r, t)
            cx, cy = x.__class__, y.__class__
            if (cx is int or cx is float) and (cy is int or cy is float):
                return x < y
            return _lt(x, y)
    elif op == "<=":
        def f(v, r, t):
            x, y = fa(v, r, t), fb(v, r, t)
            cx, cy = x.__class__, y.__class__
            if (cx is int or cx is float) and (cy is int or cy is float):
                return x <= y
            return _le(x, y)
    elif op == ">":
        def f(v, r, t):
            x, y = fa(v, r, t), fb(v, r, t)
            cx, cy = x.__class__, y.__class__
            if (cx is int or cx is float) and (cy is int or cy is float):
                return x > y
            return _lt(y, x)
    else:
        def f(v, r, t):
            x, y = fa(v, r, t), fb(v, r, t)
            cx, cy = x.__class__, y.__class__
            if (cx is int or cx is float) and (cy is int or cy is float):
                return x >= y
            return _le(y, x)
    return _Node(("cmp", op, a.tree, b.tree), "boolean", f)


def _membership(negate: bool, a: _Node, b: _Node, col: int) -> _Node:
    ta, tb = a.type, b.type
    word = "not in" if negate else "in"
    if tb == "text":
        if ta not in ("text", "any"):
            raise ExpressionError(f"'{word}' on a text needs a text on the left, got {ta}", col)
    elif _is_list(tb):
        if not _comparable(ta, _elem(tb)):
            raise ExpressionError(f"'{word}' looks for {_article(ta)} in {tb}", col)
    elif tb != "any":
        raise ExpressionError(f"'{word}' needs a list or a text on the right, got {_article(tb)}", col)
    fa, fb = a.fn, b.fn
    if negate:
        def f(v, r, t):
            return not _contains(fa(v, r, t), fb(v, r, t))
    else:
        def f(v, r, t):
            return _contains(fa(v, r, t), fb(v, r, t))
    return _Node(("not_in" if negate else "in", a.tree, b.tree), "boolean", f)


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------

_CMP_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_BINDING = {"or": 10, "and": 20, "in": 40, "not": 40, "+": 50, "-": 50, "*": 60, "/": 60,
            "==": 40, "!=": 40, "<": 40, "<=": 40, ">": 40, ">=": 40,
            ".": 100, "[": 100, "(": 100}
_NOT_BP = 30
_UNARY_BP = 70


class _Parser:
    def __init__(self, tokens, names, row_names, columns):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.names = names
        self.row_names = row_names
        self.columns = columns
        self.used_names: set[str] = set()
        self.used_row: set[str] = set()

    def peek(self, offset=0):
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else self.tokens[-1]

    def next(self):
        tok = self.tokens[self.pos]
        if tok[0] != "end":
            self.pos += 1
        return tok

    def expect(self, value):
        tok = self.next()
        if tok[0] != "op" or tok[1] != value:
            raise ExpressionError(_describe(tok) + f" (expected {value!r})", tok[2])
        return tok

    def expr(self, rbp=0) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested too deeply (at most {MAX_DEPTH} levels)")
        left = self.nud(self.next())
        while True:
            tok = self.peek()
            kind, value = tok[0], tok[1]
            if kind not in ("op", "kw"):
                break
            lbp = _BINDING.get(value, 0)
            if lbp <= rbp:
                break
            self.next()
            left = self.led(tok, left)
        self.depth -= 1
        return left

    # -- prefix positions --------------------------------------------------
    def nud(self, tok) -> _Node:
        kind, value, col = tok
        if kind == "num":
            return _literal(value, "number")
        if kind == "str":
            return _literal(value, "text")
        if kind == "kw":
            if value == "true":
                return _literal(True, "boolean")
            if value == "false":
                return _literal(False, "boolean")
            if value == "null":
                return _literal(None, "any")
            if value == "not":
                operand = self.expr(_NOT_BP)
                fa = operand.fn
                return _Node(("not", operand.tree), "boolean", lambda v, r, t: not is_truthy(fa(v, r, t)))
            raise ExpressionError(_describe(tok), col)
        if kind == "id":
            return self.identifier(tok)
        if kind == "op":
            if value == "(":
                if self.peek()[1] == ")" and self.peek()[0] == "op":
                    raise ExpressionError(f"empty parentheses at column {col}", col)
                node = self.expr(0)
                self.expect(")")
                return node
            if value == "-":
                operand = self.expr(_UNARY_BP)
                if operand.type not in ("number", "any"):
                    raise ExpressionError(f"'-' needs a number, got {_article(operand.type)}", col)
                if operand.tree[0] == "lit" and _is_num(operand.tree[1]):
                    return _literal(-operand.tree[1], "number")
                fa = operand.fn

                def neg(v, r, t):
                    x = fa(v, r, t)
                    c = x.__class__
                    return -x if c is int or c is float else None
                return _Node(("neg", operand.tree), "number", neg)
            if value == "[":
                return self.list_literal(col)
        raise ExpressionError(_describe(tok), col)

    def list_literal(self, col) -> _Node:
        items = []
        if self.peek()[0] == "op" and self.peek()[1] == "]":
            self.next()
        else:
            while True:
                items.append(self.expr(0))
                tok = self.next()
                if tok[0] == "op" and tok[1] == "]":
                    break
                if tok[0] == "op" and tok[1] == ",":
                    continue
                if tok[0] == "id" and tok[1] == "for":
                    raise ExpressionError("comprehensions are not allowed", tok[2])
                raise ExpressionError(_describe(tok) + " (expected ',' or ']')", tok[2])
        elem = _unify([i.type for i in items], "list")
        if _is_list(elem):
            raise ExpressionError("lists of lists are not allowed", col)
        fns = [i.fn for i in items]
        tree = ("list", tuple(i.tree for i in items))
        if all(i.tree[0] == "lit" for i in items):
            const = [i.tree[1] for i in items]

            def f(v, r, t):
                return list(const)
        else:
            def f(v, r, t):
                return [g(v, r, t) for g in fns]
        return _Node(tree, f"list[{elem}]", f)

    def identifier(self, tok) -> _Node:
        _, name, col = tok
        nxt = self.peek()
        if nxt[0] == "op" and nxt[1] == "(":
            return self.call(name, col)
        if nxt[0] == "op" and nxt[1] == ".":
            self.next()
            attr = self.next()
            if attr[0] not in ("id", "kw"):
                raise ExpressionError(_describe(attr), attr[2])
            column = attr[1]
            if name == "row" and "row" not in self.names:
                if self.row_names is None:
                    raise ExpressionError("row.x is only available inside a repeat", col)
                if column not in self.row_names:
                    raise ExpressionError(f"unknown column 'row.{column}'", attr[2])
                typ = self.row_names[column]
                self.used_row.add(column)
                conv = _converter(typ)

                def f(v, r, t):
                    return conv(r.get(column)) if r else None
                return _Node(("row", column), typ, f)
            if name in self.columns:
                cols = self.columns[name]
                if column not in cols:
                    raise ExpressionError(f"unknown column '{column}' in repeat '{name}'", attr[2])
                typ = cols[column]
                self.used_names.add(name)
                conv = _converter(typ)

                def f(v, r, t):
                    rows = v.get(name)
                    if not rows or not isinstance(rows, (list, tuple)):
                        return []
                    return [conv(row.get(column)) if isinstance(row, dict) else None for row in rows]
                return _Node(("column", name, column), "list[any]" if _is_list(typ) else f"list[{typ}]", f)
            if name == "row" or name in self.names:
                raise ExpressionError(f"attribute access is not allowed ('{name}.{column}')", nxt[2])
            raise ExpressionError(f"unknown name '{name}'", col)
        if name in self.names:
            typ = self.names[name]
        elif name in self.columns:
            typ = "list[any]"
        elif name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function: write {name}(...)", col)
        else:
            raise ExpressionError(f"unknown name '{name}'", col)
        self.used_names.add(name)
        conv = _converter(typ)
        if conv is _norm:
            def f(v, r, t):
                x = v.get(name)
                return x if x.__class__ in _PLAIN_SCALARS else _norm(x)
        elif typ in ("date", "datetime"):
            def f(v, r, t):
                x = v.get(name)
                return x if x is None or x.__class__ is date or x.__class__ is datetime else conv(x)
        else:
            def f(v, r, t):
                return conv(v.get(name))
        return _Node(("name", name), typ, f)

    def call(self, name, col) -> _Node:
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function '{name}'", col)
        low, high, build = FUNCTIONS[name]
        self.expect("(")
        args: list[_Node] = []
        if self.peek()[0] == "op" and self.peek()[1] == ")":
            self.next()
        else:
            while True:
                tok = self.peek()
                if tok[0] in ("id", "kw") and self.peek(1)[0] == "op" and self.peek(1)[1] == "=":
                    raise ExpressionError(f"keyword arguments are not allowed ('{tok[1]}=' at column {tok[2]})",
                                          tok[2])
                args.append(self.expr(0))
                tok = self.next()
                if tok[0] == "op" and tok[1] == ")":
                    break
                if tok[0] == "op" and tok[1] == ",":
                    continue
                raise ExpressionError(_describe(tok) + " (expected ',' or ')')", tok[2])
        if len(args) < low or (high is not None and len(args) > high):
            if low == high:
                wanted = f"{low} argument{'s' if low != 1 else ''}"
            elif high is None:
                wanted = f"at least {low} argument{'s' if low != 1 else ''}"
            else:
                wanted = f"{low} to {high} arguments"
            raise ExpressionError(f"{name}() takes {wanted} ({len(args)} given)", col)
        typ, fn = build(args)
        return _Node(("call", name, tuple(a.tree for a in args)), typ, fn)

    # -- infix positions ---------------------------------------------------
    def led(self, tok, left: _Node) -> _Node:
        kind, value, col = tok
        if value == "or" or value == "and":
            right = self.expr(_BINDING[value])
            fa, fb = left.fn, right.fn
            if value == "or":
                def f(v, r, t):
                    return is_truthy(fa(v, r, t)) or is_truthy(fb(v, r, t))
            else:
                def f(v, r, t):
                    return is_truthy(fa(v, r, t)) and is_truthy(fb(v, r, t))
            return _Node((value, left.tree, right.tree), "boolean", f)
        if value in ("+", "-", "*", "/"):
            right = self.expr(_BINDING[value])
            return _arith(value, left, right, col)
        if value in _CMP_OPS or value == "in" or value == "not":
            if value == "not":
                follow = self.next()
                if follow[0] != "kw" or follow[1] != "in":
                    raise ExpressionError(_describe(tok), col)
            right = self.expr(40)
            if value in _CMP_OPS:
                node = _compare(value, left, right, col)
            else:
                node = _membership(value == "not", left, right, col)
            after = self.peek()
            if after[0] in ("op", "kw") and (after[1] in _CMP_OPS or after[1] in ("in",)
                                             or (after[1] == "not" and self.peek(1)[1] == "in")):
                raise ExpressionError(f"comparisons cannot be chained (column {after[2]})", after[2])
            return node
        if value == ".":
            raise ExpressionError(f"attribute access is not allowed ('.' at column {col})", col)
        if value == "[":
            raise ExpressionError(f"indexing is not allowed ('[' at column {col})", col)
        if value == "(":
            raise ExpressionError(f"only functions can be called ('(' at column {col})", col)
        raise ExpressionError(_describe(tok), col)


def _literal(value, typ) -> _Node:
    def f(v, r, t):
        return value
    return _Node(("lit", value), typ, f)


def _count_nodes(tree) -> int:
    kind = tree[0]
    if kind in ("lit", "name", "row", "column"):
        return 1
    if kind == "list":
        return 1 + sum(_count_nodes(i) for i in tree[1])
    if kind == "call":
        return 1 + sum(_count_nodes(i) for i in tree[2])
    if kind in ("arith", "cmp"):
        return 1 + _count_nodes(tree[2]) + _count_nodes(tree[3])
    return 1 + sum(_count_nodes(i) for i in tree[1:])


def _to_lists(tree):
    if isinstance(tree, tuple):
        return [_to_lists(i) for i in tree]
    return tree


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

_EMPTY: dict = {}


@dataclass(frozen=True)
class Expression:
    source: str
    tree: tuple
    type: str
    names: frozenset
    row_names: frozenset
    expect: str | None = None
    _fn: Callable = field(default=None, repr=False, compare=False)

    def evaluate(self, values: dict | None, row: dict | None = None, today: date | None = None) -> Any:
        """The value of the expression for these answers (and repeat row).

        With ``expect="boolean"`` the result is always a bool (null → False).
        """
        if today is not None and not (today.__class__ is date):
            today = _as_date(today) if isinstance(today, date) else _parse_date(today)
        result = self._fn(values if values is not None else _EMPTY, row, today)
        if self.expect == "boolean":
            return is_truthy(result)
        return result

    def to_json(self) -> list:
        """The tree as nested lists, for the browser evaluator."""
        return _to_lists(self.tree)


def compile_expression(source: str, names: dict[str, str], row_names: dict[str, str] | None = None,
                       columns: dict[str, dict[str, str]] | None = None,
                       expect: str | None = None) -> Expression:
    """Parse, type check and precompile ``source``; raises ExpressionError."""
    if not isinstance(source, str):
        raise ExpressionError("an expression must be a text")
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"expression too long ({len(source)} characters, at most {MAX_SOURCE})")
    if not source.strip():
        raise ExpressionError("empty expression")
    name_types = {k: _normalise_type(t, f"name '{k}'") for k, t in (names or {}).items()}
    row_types = None if row_names is None else {
        k: _normalise_type(t, f"column 'row.{k}'") for k, t in row_names.items()}
    column_types = {rep: {k: _normalise_type(t, f"column '{rep}.{k}'") for k, t in cols.items()}
                    for rep, cols in (columns or {}).items()}
    if expect is not None:
        expect = _normalise_type(expect, "the expected result")

    parser = _Parser(_tokenize(source), name_types, row_types, column_types)
    node = parser.expr(0)
    end = parser.peek()
    if end[0] != "end":
        if end[0] == "id" and end[1] == "for":
            raise ExpressionError("comprehensions are not allowed", end[2])
        if end[0] == "id" and end[1] == "if":
            raise ExpressionError("conditional expressions are not allowed; use if_else(cond, a, b)", end[2])
        if end[0] == "op" and end[1] == "=":
            raise ExpressionError(_describe(end) + " (use '==' to compare)", end[2])
        raise ExpressionError(_describe(end), end[2])
    count = _count_nodes(node.tree)
    if count > MAX_NODES:
        raise ExpressionError(f"expression too complex ({count} nodes, at most {MAX_NODES})")

    typ = node.type
    if expect is not None:
        if expect == "boolean":
            if typ not in ("boolean", "any"):
                raise ExpressionError(f"expected a boolean (true/false) expression, got {_article(typ)}")
            typ = "boolean"
        elif not _compatible(typ, expect):
            raise ExpressionError(f"expected {_article(expect)} expression, got {_article(typ)}")
    return Expression(source=source, tree=node.tree, type=typ, names=frozenset(parser.used_names),
                      row_names=frozenset(parser.used_row), expect=expect, _fn=node.fn)
