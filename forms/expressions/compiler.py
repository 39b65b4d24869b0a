"""compile_expression: source → Expression (parsed, type checked, precompiled)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from ..translatable import _l
from .errors import ExpressionError
from .parser import _Parser
from .tokens import _describe, _tokenize
from .tree import _count_nodes, _to_lists
from .types import _article, _compatible, _normalise_type
from .values import _as_date, _parse_date, is_truthy

MAX_SOURCE = 500
MAX_NODES = 100

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
        raise ExpressionError(_l("an expression must be a text"))
    if len(source) > MAX_SOURCE:
        raise ExpressionError(_l("expression too long (%(length)d characters, at most %(most)d)",
                                 length=len(source), most=MAX_SOURCE))
    if not source.strip():
        raise ExpressionError(_l("empty expression"))
    name_types = {k: _normalise_type(t, _l("name '%(name)s'", name=k)) for k, t in (names or {}).items()}
    row_types = None if row_names is None else {
        k: _normalise_type(t, _l("column 'row.%(name)s'", name=k)) for k, t in row_names.items()}
    column_types = {rep: {k: _normalise_type(t, _l("column '%(repeat)s.%(name)s'", repeat=rep, name=k))
                          for k, t in cols.items()}
                    for rep, cols in (columns or {}).items()}
    if expect is not None:
        expect = _normalise_type(expect, _l("the expected result"))

    parser = _Parser(_tokenize(source), name_types, row_types, column_types)
    node = parser.expr(0)
    end = parser.peek()
    if end[0] != "end":
        if end[0] == "id" and end[1] == "for":
            raise ExpressionError(_l("comprehensions are not allowed"), end[2])
        if end[0] == "id" and end[1] == "if":
            raise ExpressionError(_l("conditional expressions are not allowed; use if_else(cond, a, b)"), end[2])
        if end[0] == "op" and end[1] == "=":
            raise ExpressionError(_l("%(problem)s (use '==' to compare)", problem=_describe(end)), end[2])
        raise ExpressionError(_describe(end), end[2])
    count = _count_nodes(node.tree)
    if count > MAX_NODES:
        raise ExpressionError(_l("expression too complex (%(count)d nodes, at most %(most)d)",
                                 count=count, most=MAX_NODES))

    typ = node.type
    if expect is not None:
        if expect == "boolean":
            if typ not in ("boolean", "any"):
                raise ExpressionError(_l("expected a boolean (true/false) expression, got %(got)s",
                                         got=_article(typ)))
            typ = "boolean"
        elif not _compatible(typ, expect):
            raise ExpressionError(_l("expected %(expected)s expression, got %(got)s",
                                     expected=_article(expect), got=_article(typ)))
    return Expression(source=source, tree=node.tree, type=typ, names=frozenset(parser.used_names),
                      row_names=frozenset(parser.used_row), expect=expect, _fn=node.fn)