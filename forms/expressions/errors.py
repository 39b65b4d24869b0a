"""The one error the expression language raises, always at load time."""
from __future__ import annotations


class ExpressionError(Exception):
    """A load-time error in an expression; ``message`` is a Translatable, ``str()`` it in the reader's language."""

    def __init__(self, message, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return str(self.message)
