"""Exceptions a handler raises to answer with an error, and the validation error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from .websockets import WebSocketException  # FastAPI's `from fastapi.exceptions import ...`

__all__ = [
    "FastAPIError",
    "HTTPException",
    "MicroReadyError",
    "RequestValidationError",
    "ResponseValidationError",
    "ValidationException",
    "WebSocketException",
]


class MicroReadyError(RuntimeError):
    """A mistake in how the app uses microready (FastAPI's ``FastAPIError``)."""


FastAPIError = MicroReadyError  # the name FastAPI code imports


class HTTPException(Exception):
    """Answer ``status_code`` with ``{"detail": detail}``.

    ``raise HTTPException(status_code=404, detail="Item not found")``
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = HTTPStatus(status_code).phrase
            except ValueError:
                detail = ""
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ValidationException(Exception):
    """Values that did not convert: ``errors()`` in FastAPI's (pydantic v2's) shape,
    ``{"type", "loc", "msg", "input"}`` and, for some types, ``"ctx"``."""

    def __init__(self, errors: Sequence[Any], *, body: Any = None) -> None:
        super().__init__(errors)
        self._errors = errors
        self.body = body

    def errors(self) -> Sequence[Any]:
        return self._errors

    def __str__(self) -> str:
        count = len(self._errors)
        lines = [f"{count} validation error{'' if count == 1 else 's'}:"]
        for error in self._errors:
            if isinstance(error, Mapping):
                loc = " -> ".join(str(part) for part in error.get("loc", ()))
                lines.append(f"  {loc}\n    {error.get('msg')} (type={error.get('type')})")
            else:
                lines.append(f"  {error!r}")
        return "\n".join(lines)


class RequestValidationError(ValidationException):
    """The request's parameters or body did not convert; answered with 422 by default.

    ``errors()`` lists every failing parameter; ``body`` is the request body as
    it was parsed (None when there was none). Override the answer with
    ``@app.exception_handler(RequestValidationError)``.
    """


class ResponseValidationError(ValidationException):
    """What the endpoint returned does not fit its response model: a bug in the app.

    Answered 500 ``Internal Server Error`` and logged with the errors (their
    ``loc`` starts with ``"response"``); the client never sees a partial
    value. ``body`` is what the endpoint returned. ``TestClient`` raises it.
    """
