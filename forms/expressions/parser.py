"""Parser: a small Pratt parser from tokens to a type checked, precompiled tree.

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
"""
from __future__ import annotations

from datetime import date, datetime

from ..translatable import _l, lazy_ngettext
from .errors import ExpressionError
from .functions import FUNCTIONS
from .operators import _arith, _compare, _membership
from .tokens import _describe
from .tree import _literal, _Node
from .types import _article, _is_list, _unify
from .values import _PLAIN_SCALARS, _converter, _is_num, _norm, is_truthy

MAX_DEPTH = 20

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
            raise ExpressionError(_l("%(problem)s (expected %(expected)s)",
                                     problem=_describe(tok), expected=repr(value)), tok[2])
        return tok

    def expr(self, rbp=0) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(_l("expression nested too deeply (at most %(levels)d levels)", levels=MAX_DEPTH))
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
                    raise ExpressionError(_l("empty parentheses at column %(column)d", column=col), col)
                node = self.expr(0)
                self.expect(")")
                return node
            if value == "-":
                operand = self.expr(_UNARY_BP)
                if operand.type not in ("number", "any"):
                    raise ExpressionError(_l("'-' needs a number, got %(got)s", got=_article(operand.type)), col)
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
                    raise ExpressionError(_l("comprehensions are not allowed"), tok[2])
                raise ExpressionError(_l("%(problem)s (expected ',' or ']')", problem=_describe(tok)), tok[2])
        elem = _unify([i.type for i in items], "list")
        if _is_list(elem):
            raise ExpressionError(_l("lists of lists are not allowed"), col)
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
                    raise ExpressionError(_l("row.x is only available inside a repeat"), col)
                if column not in self.row_names:
                    raise ExpressionError(_l("unknown column 'row.%(name)s'", name=column), attr[2])
                typ = self.row_names[column]
                self.used_row.add(column)
                conv = _converter(typ)

                def f(v, r, t):
                    return conv(r.get(column)) if r else None
                return _Node(("row", column), typ, f)
            if name in self.columns:
                cols = self.columns[name]
                if column not in cols:
                    raise ExpressionError(_l("unknown column '%(column)s' in repeat '%(name)s'",
                                             column=column, name=name), attr[2])
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
                raise ExpressionError(_l("attribute access is not allowed ('%(name)s.%(column)s')",
                                         name=name, column=column), nxt[2])
            raise ExpressionError(_l("unknown name '%(name)s'", name=name), col)
        if name in self.names:
            typ = self.names[name]
        elif name in self.columns:
            typ = "list[any]"
        elif name in FUNCTIONS:
            raise ExpressionError(_l("%(name)s is a function: write %(name)s(...)", name=name), col)
        else:
            raise ExpressionError(_l("unknown name '%(name)s'", name=name), col)
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
            raise ExpressionError(_l("unknown function '%(name)s'", name=name), col)
        low, high, build = FUNCTIONS[name]
        self.expect("(")
        args: list[_Node] = []
        if self.peek()[0] == "op" and self.peek()[1] == ")":
            self.next()
        else:
            while True:
                tok = self.peek()
                if tok[0] in ("id", "kw") and self.peek(1)[0] == "op" and self.peek(1)[1] == "=":
                    raise ExpressionError(_l("keyword arguments are not allowed ('%(name)s=' at column %(column)d)",
                                             name=tok[1], column=tok[2]), tok[2])
                args.append(self.expr(0))
                tok = self.next()
                if tok[0] == "op" and tok[1] == ")":
                    break
                if tok[0] == "op" and tok[1] == ",":
                    continue
                raise ExpressionError(_l("%(problem)s (expected ',' or ')')", problem=_describe(tok)), tok[2])
        if len(args) < low or (high is not None and len(args) > high):
            if low == high:
                wanted = lazy_ngettext("%(name)s() takes %(num)d argument (%(given)d given)",
                                       "%(name)s() takes %(num)d arguments (%(given)d given)",
                                       low, name=name, given=len(args))
            elif high is None:
                wanted = lazy_ngettext("%(name)s() takes at least %(num)d argument (%(given)d given)",
                                       "%(name)s() takes at least %(num)d arguments (%(given)d given)",
                                       low, name=name, given=len(args))
            else:
                wanted = _l("%(name)s() takes %(low)d to %(high)d arguments (%(given)d given)",
                            name=name, low=low, high=high, given=len(args))
            raise ExpressionError(wanted, col)
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
                raise ExpressionError(_l("comparisons cannot be chained (column %(column)d)", column=after[2]),
                                      after[2])
            return node
        if value == ".":
            raise ExpressionError(_l("attribute access is not allowed ('.' at column %(column)d)", column=col), col)
        if value == "[":
            raise ExpressionError(_l("indexing is not allowed ('[' at column %(column)d)", column=col), col)
        if value == "(":
            raise ExpressionError(_l("only functions can be called ('(' at column %(column)d)", column=col), col)
        raise ExpressionError(_describe(tok), col)
