"""Scalars: str, int, float, bool, None, bytes, UUID, Decimal, datetime, date, time, timedelta.

Each converter takes a value from a query string, a header, a path or a JSON
body and returns the declared type, or raises ``ConversionError`` with the
error type and message pydantic v2's lax mode gives for the same input.
``SCALARS`` maps each type to its converter.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from .durations import to_timedelta
from .errors import Converter, fail

__all__ = ["SCALARS"]

# Python's integer syntax (digits with single underscores between them), which is
# also what pydantic accepts in strings; a trailing ".0..." is tolerated too.
_INT_RE = re.compile(r"[+-]?\d(?:_?\d)*", re.ASCII)
_INT_DECIMAL_ZEROS_RE = re.compile(r"([+-]?\d(?:_?\d)*)\.0*", re.ASCII)
_MAX_INT_DIGITS = 4300  # Python's own limit for str -> int conversion

_INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
_INT_FROM_FLOAT = "Input should be a valid integer, got a number with a fractional part"
_FLOAT_PARSING = "Input should be a valid number, unable to parse string as a number"


def _to_str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise fail("string_type", "Input should be a valid string", value)


def _str_to_int(value: str) -> int:
    text = value.strip()
    if len(text) > _MAX_INT_DIGITS:
        raise fail(
            "int_parsing_size",
            "Unable to parse input string as an integer, exceeded maximum size",
            value,
        )
    if _INT_RE.fullmatch(text):
        return int(text)
    zeros = _INT_DECIMAL_ZEROS_RE.fullmatch(text)
    if zeros:
        return int(zeros.group(1))
    raise fail("int_parsing", _INT_PARSING, value)


def _to_int(value: Any) -> Any:
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        if value.isdigit() and value.isascii():  # the common case, without a regex
            try:
                return int(value)
            except ValueError:  # more digits than Python converts: reported below
                pass
        return _str_to_int(value)
    if kind is float:
        if value.is_integer():
            return int(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise fail("finite_number", "Input should be a finite number", value)
        raise fail("int_from_float", _INT_FROM_FLOAT, value)
    if isinstance(value, int):  # bool, IntEnum and other int subclasses: lax mode takes them
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise fail("int_type", "Input should be a valid integer", value)


def _to_float(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value
    if kind is int or kind is bool:
        return float(value)
    if kind is str:
        try:
            return float(value.strip())
        except ValueError:
            raise fail("float_parsing", _FLOAT_PARSING, value) from None
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise fail("float_type", "Input should be a valid number", value)


# FastAPI's (pydantic's) true/false spellings, compared case-insensitively.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _to_bool(value: Any) -> Any:
    if value is True or value is False:
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    elif isinstance(value, int | float):
        if value == 1:
            return True
        if value == 0:
            return False
    else:
        raise fail("bool_type", "Input should be a valid boolean", value)
    raise fail("bool_parsing", "Input should be a valid boolean, unable to interpret input", value)


def _to_none(value: Any) -> Any:
    if value is None:
        return None
    raise fail("none_required", "Input should be None", value)


def _to_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise fail("bytes_type", "Input should be a valid bytes", value)


def _uuid_problem(text: str) -> str:
    """What is wrong with a UUID string, in the words pydantic (the uuid crate) uses."""
    body = text[9:] if text.lower().startswith("urn:uuid:") else text
    for index, char in enumerate(body, start=1):
        if char not in "0123456789abcdefABCDEF-{}":
            return (
                "invalid character: expected an optional prefix of `urn:uuid:` followed by "
                f"[0-9a-fA-F-], found `{char}` at {index}"
            )
    body = body.strip("{}")
    if "-" not in body:
        return f"invalid length: expected length 32 for simple format, found {len(body)}"
    groups = body.split("-")
    if len(groups) != 5:
        return f"invalid group count: expected 5, found {len(groups)}"
    for number, (group, expected) in enumerate(zip(groups, (8, 4, 4, 4, 12), strict=True)):
        if len(group) != expected:
            return (
                f"invalid group length in group {number}: expected {expected}, "
                f"found {len(group)}"
            )
    return "invalid UUID"


def _to_uuid(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            problem = _uuid_problem(value.strip())
            message = f"Input should be a valid UUID, {problem}"
            raise fail("uuid_parsing", message, value, {"error": problem}) from None
    raise fail("uuid_type", "UUID input should be a string, bytes or UUID object", value)


def _to_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else str(value))
        except InvalidOperation:
            raise fail("decimal_parsing", "Input should be a valid decimal", value) from None
        if not result.is_finite():
            raise fail("finite_number", "Input should be a finite number", value)
        return result
    raise fail(
        "decimal_type", "Decimal input should be an integer, float, string or Decimal object", value
    )


def _timestamp(value: float) -> dt.datetime:
    # pydantic reads numbers above 2e10 as milliseconds since the epoch.
    seconds = value / 1000 if abs(value) > 2e10 else value
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def _to_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            problem = "input is too short" if len(value.strip()) < 10 else "invalid datetime format"
            raise fail(
                "datetime_from_date_parsing",
                f"Input should be a valid datetime or date, {problem}", value, {"error": problem},
            ) from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _timestamp(value)
    raise fail("datetime_type", "Input should be a valid datetime", value)


def _to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date()
        raise fail(
            "date_from_datetime_inexact",
            "Datetimes provided to dates should have zero time - e.g. be exact dates", value,
        )
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return _to_date(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            problem = "input is too short" if len(text) < 10 else "invalid date format"
            raise fail(
                "date_from_datetime_parsing",
                f"Input should be a valid date or datetime, {problem}", value, {"error": problem},
            ) from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _to_date(_timestamp(value))
    raise fail("date_type", "Input should be a valid date", value)


def _to_time(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise fail(
                "time_parsing", "Input should be in a valid time format, invalid time format",
                value, {"error": "invalid time format"},
            ) from None
    raise fail("time_type", "Input should be a valid time", value)


SCALARS: dict[Any, Converter] = {
    str: _to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    bytes: _to_bytes,
    type(None): _to_none,
    None: _to_none,
    uuid.UUID: _to_uuid,
    Decimal: _to_decimal,
    dt.datetime: _to_datetime,
    dt.date: _to_date,
    dt.time: _to_time,
    dt.timedelta: to_timedelta,
}
