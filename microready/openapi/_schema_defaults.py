"""Default values, examples and constraint bounds as JSON, the way pydantic writes them
in a schema (``GenerateJsonSchema.encode_default``, i.e. ``to_jsonable_python``).

This is pydantic's JSON mode, not ``jsonable_encoder``'s: a ``timedelta`` is an
ISO 8601 duration (``PT1M30S``, ``P1Y35D``, ``-P1D``), a UTC datetime ends in
``Z``, a ``Decimal`` and a ``UUID`` are strings, ``bytes`` are read as UTF-8,
an Enum is its value and a dataclass instance the dict of its fields. A
pydantic model is left to pydantic. A value with no JSON form raises
``NotEncodable``: pydantic leaves such a default out of the schema.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import sys
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["NotEncodable", "encode", "iso_duration"]


class NotEncodable(Exception):
    """The value has no JSON form (pydantic warns and leaves it out)."""


def iso_duration(value: dt.timedelta) -> str:
    """pydantic's (speedate's) duration: years of 365 days, no months, ``PT0S`` for zero."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    days, rest = divmod(abs(micros), 86_400_000_000)
    years, days = divmod(days, 365)
    seconds, fraction = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    date = (f"{years}Y" if years else "") + (f"{days}D" if days else "")
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if fraction:
        time += f"{seconds}.{fraction:06d}".rstrip("0") + "S"
    elif seconds:
        time += f"{seconds}S"
    if not date and not time:
        return "PT0S"
    return f"{sign}P{date}" + (f"T{time}" if time else "")


def _zulu(text: str) -> str:
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _key(value: Any) -> str:
    """A mapping key as pydantic writes it in JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _key(value.value)
    if isinstance(value, tuple):
        return ",".join(_key(item) for item in value)
    if value is None:
        return "None"
    encoded = encode(value)
    return encoded if isinstance(encoded, str) else str(encoded)


def encode(value: Any) -> Any:
    """``value`` in pydantic's JSON mode (raises ``NotEncodable``)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise NotEncodable(f"{value!r} is not UTF-8") from None
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.time):
        return _zulu(value.isoformat())
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {_key(key): encode(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "__pydantic_serializer__") and "pydantic_core" in sys.modules:
        try:
            return sys.modules["pydantic_core"].to_jsonable_python(value, by_alias=True)
        except Exception as exc:  # pydantic's PydanticSerializationError
            raise NotEncodable(str(exc)) from None
    raise NotEncodable(f"{type(value).__name__} has no JSON form")
