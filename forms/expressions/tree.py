"""The tree an expression is parsed into, and its JSON form for the browser.

Each node is built together with its type and its precompiled closure
(``_Node``); the tree alone is what the browser gets. Tree nodes (JSON)::

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
"""
from __future__ import annotations


class _Node:
    __slots__ = ("tree", "type", "fn")

    def __init__(self, tree, type_, fn):
        self.tree = tree
        self.type = type_
        self.fn = fn


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
