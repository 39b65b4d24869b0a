"""Tokenizer: source text → (kind, value, column) tuples, ending with an "end" token.

Inside text literals ``\\'``, ``\\"`` and ``\\\\`` are escapes; any other
backslash is kept as it is, so regular expressions read naturally:
``matches(phone, '1[3-9]\\d{9}')``.
"""
from __future__ import annotations

import re

from ..translatable import _l
from .errors import ExpressionError

_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|[-+*/<>()\[\],.=])"
)


def _describe(tok):
    kind, value, col = tok
    if kind == "end":
        return _l("unexpected end of expression")
    if kind == "str":
        return _l("unexpected text at column %(column)d", column=col)
    return _l("unexpected %(token)s at column %(column)d", token=repr(str(value)), column=col)


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
                    raise ExpressionError(_l("unterminated text starting at column %(column)d", column=start + 1),
                                          start + 1)
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
            raise ExpressionError(_l("unexpected %(token)s at column %(column)d", token=repr(ch), column=pos + 1),
                                  pos + 1)
        kind = m.lastgroup
        text = m.group()
        if kind == "num":
            tokens.append(("num", float(text) if "." in text else int(text), pos + 1))
        elif kind == "id":
            if text[0] == "_":
                rest = source[m.end():].lstrip()
                if rest.startswith("("):
                    raise ExpressionError(
                        _l("unknown function %(name)s (names starting with '_' are not allowed)", name=repr(text)),
                        pos + 1)
                raise ExpressionError(_l("names starting with '_' are not allowed"), pos + 1)
            tokens.append(("kw" if text in _KEYWORDS else "id", text, pos + 1))
        elif kind == "op":
            tokens.append(("op", text, pos + 1))
        pos = m.end()
    tokens.append(("end", None, n + 1))
    return tokens
