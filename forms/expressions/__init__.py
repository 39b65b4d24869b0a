"""The form definition expression language.

A tiny, safe language for ``visible_if``, ``required``, constraints and
computed values. An expression is tokenized and parsed once, at load time,
by a small Pratt parser into a tree of nested lists (sent to the browser as
JSON and evaluated there by ``workflows/static/js/expressions.js``), type
checked against the types of the names it uses, and precompiled into nested
Python closures for evaluation on the server. Nothing is ever ``eval``-ed.

The invariant every module here keeps: parsed once into a tree at load time,
nothing ever ``eval``-ed, and the browser evaluates the same compiled tree
the server does, so both sides agree on every answer.

One module per stage, in the order an expression goes through them:

- ``tokens``     source text → tokens (text literal escapes, refused ``_`` names)
- ``parser``     tokens → tree, by a Pratt parser (the grammar, binding powers)
- ``tree``       the tree's nodes and their JSON form: the contract with the browser
- ``types``      the type names and how types combine
- ``operators``  type rules and closures for arithmetic, comparison and membership
- ``functions``  the allow-list of functions: arity, argument types, closure
- ``values``     run-time semantics all closures share (null, equality, order)
- ``compiler``   ``compile_expression`` and ``Expression``: limits, expected type

Parsing, type checking and precompiling happen in one pass: the parser checks
each node and builds its closure as it builds the node, so an error is
reported at the first place it occurs.
"""
from .compiler import Expression, compile_expression
from .errors import ExpressionError
from .functions import FUNCTIONS
from .types import TYPES
from .values import is_truthy

__all__ = ["Expression", "ExpressionError", "compile_expression", "is_truthy", "FUNCTIONS", "TYPES"]
