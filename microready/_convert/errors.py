"""What a failed conversion says: pydantic v2's error dicts, and the two exceptions.

An error is a plain dict in pydantic's key order, so it can go straight into a
422 response the way FastAPI writes it::

    {"type": "int_parsing", "loc": ("limit",),
     "msg": "Input should be a valid integer, unable to parse string as an integer",
     "input": "abc"}

``loc`` is relative to the value a converter was given; whoever called it puts
its own location in front (``relocate``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, get_args

__all__ = [
    "ConversionError",
    "Converter",
    "ErrorDict",
    "Loc",
    "UnsupportedType",
    "error_dict",
    "fail",
    "json_ctx",
    "missing_error",
    "pydantic_errors",
    "relocate",
    "type_name",
]

ErrorDict = dict[str, Any]
Loc = tuple[Any, ...]
Converter = Callable[[Any], Any]


class ConversionError(Exception):
    """A value did not convert; ``errors`` lists every reason, ``loc`` relative to it."""

    __slots__ = ("errors",)

    def __init__(self, errors: list[ErrorDict]) -> None:
        super().__init__(errors)
        self.errors = errors


class UnsupportedType(TypeError):
    """A type microready cannot convert to; raised at registration, never per request."""


def error_dict(type_: str, msg: str, value: Any, ctx: dict[str, Any] | None = None,
               loc: Loc = ()) -> ErrorDict:
    """One error, with ``ctx`` only when the error type has one (as pydantic does)."""
    error: ErrorDict = {"type": type_, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        error["ctx"] = ctx
    return error


def fail(type_: str, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> ConversionError:
    """The exception for a single error at the value itself; the caller raises it."""
    return ConversionError([error_dict(type_, msg, value, ctx)])


def missing_error(loc: Loc, value: Any = None) -> ErrorDict:
    """pydantic's error for an absent required field; ``value`` is the enclosing input."""
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": value}


def relocate(errors: Iterable[ErrorDict], prefix: Loc) -> list[ErrorDict]:
    """The same errors, with ``prefix`` put in front of each location."""
    # Rebuilding the dict keeps the key order of FastAPI's output (type, loc, msg...).
    return [{**error, "loc": prefix + tuple(error["loc"])} for error in errors]


def type_name(tp: Any) -> str:
    """A short name for a type, as pydantic prints it in union error locations."""
    if isinstance(tp, type) and not get_args(tp):
        return tp.__name__
    return str(tp).replace("typing.", "")


def json_ctx(value: Any) -> Any:
    """A ``ctx`` as FastAPI's encoder writes it into a 422 (an exception object is ``{}``)."""
    if isinstance(value, BaseException):
        return {}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [json_ctx(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_ctx(v) for k, v in value.items()}
    return str(value)


def pydantic_errors(exc: Any) -> list[ErrorDict]:
    """A ``pydantic_core.ValidationError``'s errors as ours (pydantic is the user's, not ours)."""
    errors: list[ErrorDict] = []
    for error in exc.errors(include_url=False):
        converted = error_dict(error["type"], error["msg"], error.get("input"),
                               loc=tuple(error["loc"]))
        if "ctx" in error:
            converted["ctx"] = json_ctx(error["ctx"])
        errors.append(converted)
    return errors
