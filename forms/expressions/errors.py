"""The one error the expression language raises, always at load time."""
from __future__ import annotations


class ExpressionError(Exception):
    """A load-time error in an expression; ``str()`` is a short message."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return self.message
