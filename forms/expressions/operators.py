"""Operators: the type rules and closures for arithmetic, comparison and membership."""
from __future__ import annotations

import operator

from ..translatable import _l
from .errors import ExpressionError
from .tree import _Node
from .types import _ORDERED, _article, _comparable, _elem, _is_list, _type_name
from .values import _contains, _eq, _le, _lt



_NUMERIC = {"-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _arith(op: str, a: _Node, b: _Node, col: int) -> _Node:
    ta, tb = a.type, b.type
    if op == "+":
        if ta in ("number", "any") and tb in ("number", "any"):
            typ = "any" if ta == tb == "any" else "number"
        elif ta in ("text", "any") and tb in ("text", "any"):
            typ = "text"
        else:
            raise ExpressionError(_l("'+' needs two numbers or two texts, got %(left)s and %(right)s",
                                     left=_type_name(ta), right=_type_name(tb)), col)
    else:
        if ta not in ("number", "any") or tb not in ("number", "any"):
            raise ExpressionError(_l("%(op)s needs numbers, got %(left)s and %(right)s", op=repr(op),
                                     left=_type_name(ta), right=_type_name(tb)), col)
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
            raise ExpressionError(_l("cannot compare %(left)s with %(right)s",
                                     left=_type_name(ta), right=_type_name(tb)), col)
    else:
        if not _comparable(ta, tb) or ta not in _ORDERED or tb not in _ORDERED:
            raise ExpressionError(_l("%(op)s needs two numbers, two texts or two dates, got %(left)s and %(right)s",
                                     op=repr(op), left=_type_name(ta), right=_type_name(tb)), col)
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
            raise ExpressionError(_l("'%(word)s' on a text needs a text on the left, got %(left)s",
                                     word=word, left=_type_name(ta)), col)
    elif _is_list(tb):
        if not _comparable(ta, _elem(tb)):
            raise ExpressionError(_l("'%(word)s' looks for %(left)s in %(right)s",
                                     word=word, left=_article(ta), right=_type_name(tb)), col)
    elif tb != "any":
        raise ExpressionError(_l("'%(word)s' needs a list or a text on the right, got %(right)s",
                                 word=word, right=_article(tb)), col)
    fa, fb = a.fn, b.fn
    if negate:
        def f(v, r, t):
            return not _contains(fa(v, r, t), fb(v, r, t))
    else:
        def f(v, r, t):
            return _contains(fa(v, r, t), fb(v, r, t))
    return _Node(("not_in" if negate else "in", a.tree, b.tree), "boolean", f)
