"""The one application error type. Services raise it; the API turns it into one JSON shape."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request the platform refuses, with the field and value it refuses when there is one."""

    def __init__(
        self, message: str, *, field: str | None = None, value: Any = None, code: str = "invalid", status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.code = code
        self.status = status
