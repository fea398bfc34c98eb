"""``jsonable_encoder``: turn a value into plain JSON types (FastAPI's function of that name).

Useful in exception handlers, e.g. ``jsonable_encoder({"detail": exc.errors(),
"body": exc.body})``: dataclasses, pydantic models, enums, UUIDs, dates,
decimals, sets and tuples become dicts, lists, strings and numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

__all__ = ["jsonable_encoder"]


def _decimal(value: Decimal) -> int | float:
    # FastAPI's rule: a Decimal without a fractional exponent is sent as an int.
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


def jsonable_encoder(obj: Any) -> Any:
    """``obj`` as dicts, lists, str, int, float, bool and None, recursively."""
    if obj is None or isinstance(obj, str | int | float):
        return obj.value if isinstance(obj, enum.Enum) else obj
    if isinstance(obj, enum.Enum):
        return jsonable_encoder(obj.value)
    if isinstance(obj, Mapping):
        return {jsonable_encoder(k): jsonable_encoder(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable_encoder(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable_encoder(dataclasses.asdict(obj))
    dump = getattr(obj, "model_dump", None)  # a pydantic v2 model, when the app uses one
    if callable(dump):
        return dump(mode="json")
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, dt.timedelta):
        return obj.total_seconds()
    if isinstance(obj, Decimal):
        return _decimal(obj)
    if isinstance(obj, uuid.UUID | PurePath):
        return str(obj)
    if isinstance(obj, BaseException):
        return str(obj)
    try:
        return jsonable_encoder(dict(obj))
    except (TypeError, ValueError):
        pass
    try:
        return jsonable_encoder(vars(obj))
    except TypeError:
        raise ValueError(f"cannot encode {type(obj).__name__} as JSON") from None
