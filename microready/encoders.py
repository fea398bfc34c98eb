"""The one JSON encoder: what a handler's return value becomes, and ``jsonable_encoder``.

What a client receives follows FastAPI: a ``Decimal`` is an int when it has no
fractional digits and a float otherwise, a ``timedelta`` is its total seconds,
dates and times are ISO 8601 strings, an ``Enum`` is its value, UUIDs, paths and
IP addresses are strings, bytes are decoded, sets, tuples and generators are
lists, a dataclass or a pydantic model is a dict (a model by its aliases).

One table of rules serves two entry points:

- ``json_default(value)`` is the ``default=`` hook of the response path's
  ``json.JSONEncoder``. The C encoder writes dicts, lists, tuples, str, numbers,
  bool and None itself and calls the hook only for anything else, so a plain
  response never runs a line of Python per value. The hook takes one step
  toward JSON (a dataclass -> a dict of its fields) and the encoder goes on.
- ``jsonable_encoder(obj)`` (FastAPI's function of that name, e.g. for an
  exception handler's ``{"detail": exc.errors(), "body": exc.body}``) walks the
  whole value and applies the same step to everything that is not plain yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import ipaddress
import json
import re
import sys
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import PurePath
from types import GeneratorType
from typing import Any

__all__ = ["jsonable_encoder"]

Rule = Callable[[Any], Any]


class UnencodableError(TypeError, ValueError):
    """No rule turns this value into JSON.

    A ``TypeError``, as ``json``'s ``default=`` hook must raise, and a
    ``ValueError``, as FastAPI's ``jsonable_encoder`` raises.
    """


def _decimal(value: Decimal) -> int | float:
    # FastAPI's rule: no fractional exponent -> int (Decimal("2"), Decimal("2E+1")),
    # else float (Decimal("1.5"), Decimal("2.0")). NaN and infinities become floats,
    # which JSON refuses (allow_nan=False), as FastAPI's JSONResponse does.
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


def _isoformat(value: dt.date | dt.time) -> str:
    return value.isoformat()


def _total_seconds(value: dt.timedelta) -> float:
    return value.total_seconds()


def _decoded(value: bytes) -> str:
    return value.decode()  # strict UTF-8, as FastAPI: undecodable bytes are an error


def _pattern(value: re.Pattern[Any]) -> Any:
    return value.pattern


def _none(value: object) -> None:
    return None


# The standard library's types, most specific first (datetime is a date).
_STDLIB_RULES: tuple[tuple[tuple[type, ...], Rule], ...] = (
    ((bytes,), _decoded),
    ((dt.datetime, dt.date, dt.time), _isoformat),
    ((dt.timedelta,), _total_seconds),
    ((Decimal,), _decimal),
    ((uuid.UUID, PurePath), str),
    ((ipaddress.IPv4Address, ipaddress.IPv4Interface, ipaddress.IPv4Network), str),
    ((ipaddress.IPv6Address, ipaddress.IPv6Interface, ipaddress.IPv6Network), str),
    ((set, frozenset, deque, GeneratorType), list),
    ((re.Pattern,), _pattern),
)

# Types of libraries microready does not depend on, by (module, name). A value of
# such a type can only exist once its module is imported, so the module is looked
# up in sys.modules, never imported here.
_LIBRARY_RULES: tuple[tuple[str, str, Rule], ...] = (
    ("pydantic_core", "PydanticUndefinedType", _none),
    ("pydantic_core", "Url", str),
    ("pydantic_core", "MultiHostUrl", str),
    ("pydantic.networks", "AnyUrl", str),
    ("pydantic.networks", "NameEmail", str),
    ("pydantic.types", "SecretStr", str),  # str() masks the secret
    ("pydantic.types", "SecretBytes", str),
    ("pydantic.color", "Color", str),
    ("pydantic_extra_types.color", "Color", str),
    ("pydantic_extra_types.coordinate", "Coordinate", str),
)


def _model_dump(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True)


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _fields_of(kind: type) -> Rule:
    # Shallow, unlike dataclasses.asdict (which deep-copies every value): the
    # encoder comes back for the nested values anyway.
    names = tuple(field.name for field in dataclasses.fields(kind))

    def fields(value: Any) -> dict[str, Any]:
        return {name: getattr(value, name) for name in names}

    return fields


def _attributes(value: Any) -> Any:
    # FastAPI's last resort for an object of no known type: dict(value) (pairs),
    # else its instance attributes.
    try:
        return dict(value)
    except (TypeError, ValueError):
        pass
    try:
        return vars(value)
    except TypeError:
        raise UnencodableError(
            f"cannot encode {type(value).__qualname__} as JSON: return dicts, lists, str, "
            "numbers, bool, None, or a dataclass or pydantic model of those (or convert the "
            "value first)"
        ) from None


def _library_rule(kind: type) -> Rule | None:
    for module_name, name, rule in _LIBRARY_RULES:
        module = sys.modules.get(module_name)
        cls = getattr(module, name, None) if module is not None else None
        if isinstance(cls, type) and issubclass(kind, cls):
            return rule
    return None


@functools.lru_cache(maxsize=512)
def _rule_for(kind: type) -> Rule:
    """The step toward JSON for a value of type ``kind`` (found once per type)."""
    pydantic_main = sys.modules.get("pydantic.main")
    if pydantic_main is not None and issubclass(kind, pydantic_main.BaseModel):
        return _model_dump
    rule = _library_rule(kind)  # before dataclasses: some of these types are dataclasses
    if rule is not None:
        return rule
    if dataclasses.is_dataclass(kind):
        return _fields_of(kind)
    if issubclass(kind, enum.Enum):
        return _enum_value
    for classes, rule in _STDLIB_RULES:
        if issubclass(kind, classes):
            return rule
    if issubclass(kind, Mapping):
        return dict
    if issubclass(kind, Sequence):  # bytearray, memoryview, range, UserList...
        return list
    if issubclass(kind, BaseException):  # an error inside a validation error's ctx
        return str
    return _attributes


def json_default(value: Any) -> Any:
    """``value`` one step closer to JSON; raises ``TypeError`` when no rule applies."""
    kind: type = type(value)
    return _rule_for(kind)(value)


def jsonable_encoder(obj: Any) -> Any:
    """``obj`` as dicts, lists, str, int, float, bool and None, recursively."""
    if isinstance(obj, enum.Enum):  # first: an IntEnum is an int, a StrEnum a str
        return jsonable_encoder(obj.value)
    if obj is None or isinstance(obj, str | int | float):
        return obj
    if isinstance(obj, dict):
        return {jsonable_encoder(key): jsonable_encoder(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable_encoder(value) for value in obj]
    return jsonable_encoder(json_default(obj))


# One encoder for every response (json.dumps with options builds one per call),
# with FastAPI's JSONResponse settings: UTF-8 as is, no NaN, no spaces.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=json_default
)


def json_bytes(content: Any) -> bytes:
    """``content`` as compact UTF-8 JSON, the way FastAPI sends it."""
    try:
        text = _ENCODER.encode(content)
    except UnencodableError:
        raise
    except TypeError:
        # json writes dict keys only when they are str, int, float, bool or None,
        # and never calls default= for one; FastAPI encodes an Enum, UUID or date
        # key too. Only such a value pays for the walk.
        text = _ENCODER.encode(jsonable_encoder(content))
    return text.encode("utf-8")
