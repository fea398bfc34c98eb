"""Turn strings and JSON values into the types a handler declares, or explain why not.

The rules follow pydantic v2's *lax* mode, which is what FastAPI applies, so
the same input is accepted or refused the same way, and refusals carry
pydantic's error ``type``, ``msg`` and ``ctx``. A converter raises
``ConversionError`` holding *every* error it found (all the failing fields of a
dataclass, all the bad items of a list), with ``loc`` relative to the value it
was given; callers prefix their own location.

Supported: str, int, float, bool, bytes, None, Enum, Literal, UUID, Decimal,
datetime/date/time/timedelta, X | None and other unions, list/tuple/set/frozenset/dict
(bare or parametrised), dataclasses and TypedDicts (recursively, including
self-referencing ones), ``Annotated`` constraints from annotated-types or
pydantic ``Field``, and any pydantic model or pydantic dataclass when pydantic
happens to be installed (it is never imported here unless the app uses it).

One idea per module:

- ``errors``: the error dicts and the two exceptions;
- ``scalars``: str, int, float, bool, bytes, UUID, Decimal, dates and times;
- ``durations``: timedelta, from seconds and the strings pydantic reads as durations;
- ``choices``: Enum and Literal;
- ``containers``: lists, sets, tuples, dicts and unions, from their parts' converters;
- ``records``: dataclasses, TypedDicts and pydantic models;
- ``uploads``: ``UploadFile``, which only an uploaded file satisfies;
- ``constraints``: ``gt``, ``max_length``, ``pattern``... checked after conversion;
- ``validators``: pydantic's Before/After/Plain/WrapValidator from ``Annotated``;
- ``compile``: ``compile_converter``, which picks and caches the converter for a type.
"""

from .compile import compile_converter, is_body_type
from .constraints import constraints_from_metadata
from .errors import (
    ConversionError,
    Converter,
    ErrorDict,
    UnsupportedType,
    missing_error,
    relocate,
    type_name,
)
from .records import is_pydantic_type, is_typeddict, record_fields
from .validators import has_validators, with_validators

__all__ = [
    "ConversionError",
    "Converter",
    "ErrorDict",
    "UnsupportedType",
    "compile_converter",
    "constraints_from_metadata",
    "has_validators",
    "is_body_type",
    "is_pydantic_type",
    "is_typeddict",
    "missing_error",
    "record_fields",
    "relocate",
    "type_name",
    "with_validators",
]
