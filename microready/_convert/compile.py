"""Turn strings and JSON values into the types a handler declares, or explain why not.

``compile_converter(tp)`` is called once per parameter, when a route is
registered, and returns a plain function ``convert(value) -> converted`` (or
``None`` when the value passes through untouched, e.g. ``str`` from a query
string). Each request then only calls those functions: no type inspection on
the request path.

The rules follow pydantic v2's *lax* mode, which is what FastAPI applies, so
the same input is accepted or refused the same way, and refusals carry
pydantic's error ``type``, ``msg`` and ``ctx``::

    {"type": "int_parsing", "loc": ("limit",),
     "msg": "Input should be a valid integer, unable to parse string as an integer",
     "input": "abc"}

A converter raises ``ConversionError`` holding *every* error it found (all the
failing fields of a dataclass, all the bad items of a list), with ``loc``
relative to the value it was given; callers prefix their own location.

Supported: str, int, float, bool, bytes, None, Enum, Literal, UUID, Decimal,
datetime/date/time, X | None and other unions, list/tuple/set/frozenset/dict
(bare or parametrised), dataclasses and TypedDicts (recursively, including
self-referencing ones), ``Annotated`` constraints from annotated-types or
pydantic ``Field``, and any pydantic model or pydantic dataclass when pydantic
happens to be installed (it is never imported here unless the app uses it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import importlib
import re
import sys
import types
import typing
import uuid
from collections import abc, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ..params import Constraints

__all__ = [
    "ConversionError",
    "Converter",
    "ErrorDict",
    "UnsupportedType",
    "compile_converter",
    "constraints_from_metadata",
    "is_body_type",
    "missing_error",
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


def _error(type_: str, msg: str, value: Any, ctx: dict[str, Any] | None = None,
           loc: Loc = ()) -> ErrorDict:
    error: ErrorDict = {"type": type_, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        error["ctx"] = ctx
    return error


def _fail(type_: str, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> ConversionError:
    return ConversionError([_error(type_, msg, value, ctx)])


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


# -- scalars -------------------------------------------------------------------------

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
    raise _fail("string_type", "Input should be a valid string", value)


def _str_to_int(value: str) -> int:
    text = value.strip()
    if len(text) > _MAX_INT_DIGITS:
        raise _fail(
            "int_parsing_size",
            "Unable to parse input string as an integer, exceeded maximum size",
            value,
        )
    if _INT_RE.fullmatch(text):
        return int(text)
    zeros = _INT_DECIMAL_ZEROS_RE.fullmatch(text)
    if zeros:
        return int(zeros.group(1))
    raise _fail("int_parsing", _INT_PARSING, value)


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
            raise _fail("finite_number", "Input should be a finite number", value)
        raise _fail("int_from_float", _INT_FROM_FLOAT, value)
    if isinstance(value, int):  # bool, IntEnum and other int subclasses: lax mode takes them
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise _fail("int_type", "Input should be a valid integer", value)


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
            raise _fail("float_parsing", _FLOAT_PARSING, value) from None
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise _fail("float_type", "Input should be a valid number", value)


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
        raise _fail("bool_type", "Input should be a valid boolean", value)
    raise _fail("bool_parsing", "Input should be a valid boolean, unable to interpret input", value)


def _to_none(value: Any) -> Any:
    if value is None:
        return None
    raise _fail("none_required", "Input should be None", value)


def _to_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise _fail("bytes_type", "Input should be a valid bytes", value)


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
            raise _fail("uuid_parsing", message, value, {"error": problem}) from None
    raise _fail("uuid_type", "UUID input should be a string, bytes or UUID object", value)


def _to_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else str(value))
        except InvalidOperation:
            raise _fail("decimal_parsing", "Input should be a valid decimal", value) from None
        if not result.is_finite():
            raise _fail("finite_number", "Input should be a finite number", value)
        return result
    raise _fail(
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
            raise _fail(
                "datetime_from_date_parsing",
                f"Input should be a valid datetime or date, {problem}", value, {"error": problem},
            ) from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _timestamp(value)
    raise _fail("datetime_type", "Input should be a valid datetime", value)


def _to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date()
        raise _fail(
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
            raise _fail(
                "date_from_datetime_parsing",
                f"Input should be a valid date or datetime, {problem}", value, {"error": problem},
            ) from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _to_date(_timestamp(value))
    raise _fail("date_type", "Input should be a valid date", value)


def _to_time(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise _fail(
                "time_parsing", "Input should be in a valid time format, invalid time format",
                value, {"error": "invalid time format"},
            ) from None
    raise _fail("time_type", "Input should be a valid time", value)


_SCALARS: dict[Any, Converter] = {
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
}


def _expected(values: Sequence[Any]) -> str:
    """pydantic's list of allowed values: ``'a', 'b' or 'c'``."""
    shown = [repr(v.value if isinstance(v, enum.Enum) else v) for v in values]
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} or {shown[-1]}"


def _choice_converter(
    choices: Sequence[Any], results: Sequence[Any], error_type: str, accept: Callable[[Any], bool]
) -> Converter:
    """A converter to one of ``results``, picked by the matching entry of ``choices``."""
    lookup: dict[Any, Any] = {}
    for choice, result in zip(choices, results, strict=True):
        # True == 1 for dict keys; keep the exact type, so 1 does not select True.
        lookup.setdefault((type(choice), choice), result)
    # A string from a query or path may spell a number choice: try those too.
    numeric = [(type(c), c) for c in choices if type(c) in (int, float)]
    expected = _expected(choices)
    ctx = {"expected": expected}
    message = f"Input should be {expected}"

    def convert(value: Any) -> Any:
        if accept(value):
            return value
        try:
            return lookup[(type(value), value)]
        except (KeyError, TypeError):
            pass
        if isinstance(value, str) and numeric:
            for kind, choice in numeric:
                try:
                    if kind(value) == choice:
                        return lookup[(kind, choice)]
                except ValueError:
                    continue
        raise _fail(error_type, message, value, ctx)

    return convert


def _enum_converter(tp: type[enum.Enum]) -> Converter:
    members = list(tp)
    if not members:
        raise UnsupportedType(f"enum {tp.__name__} has no members, so no value can match it")
    return _choice_converter(
        [m.value for m in members], members, "enum", lambda value: isinstance(value, tp)
    )


def _literal_converter(tp: Any) -> Converter:
    choices = list(get_args(tp))
    return _choice_converter(choices, choices, "literal_error", lambda value: False)


# -- containers ----------------------------------------------------------------------

_LIST_INPUTS = (list, tuple, set, frozenset, deque)


def _convert_items(items: Iterable[Any], item: Converter) -> list[Any]:
    out: list[Any] = []
    errors: list[ErrorDict] = []
    for index, value in enumerate(items):
        try:
            out.append(item(value))
        except ConversionError as exc:
            errors.extend(relocate(exc.errors, (index,)))
    if errors:
        raise ConversionError(errors)
    return out


def _sequence_converter(item: Converter | None, build: Callable[[list[Any]], Any],
                        error_type: str, message: str) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, _LIST_INPUTS):
            raise _fail(error_type, message, value)
        return build(list(value) if item is None else _convert_items(value, item))

    return convert


def _fixed_tuple_converter(items: list[Converter | None]) -> Converter:
    size = len(items)

    def convert(value: Any) -> Any:
        if not isinstance(value, _LIST_INPUTS):
            raise _fail("tuple_type", "Input should be a valid tuple", value)
        values = list(value)
        if len(values) > size:
            raise _fail(
                "too_long",
                f"Tuple should have at most {size} item{'s' if size != 1 else ''} after "
                f"validation, not {len(values)}",
                value, {"field_type": "Tuple", "max_length": size, "actual_length": len(values)},
            )
        out: list[Any] = []
        errors: list[ErrorDict] = []
        for index, item in enumerate(items):
            if index >= len(values):
                errors.append(missing_error((index,), value))
                continue
            try:
                out.append(values[index] if item is None else item(values[index]))
            except ConversionError as exc:
                errors.extend(relocate(exc.errors, (index,)))
        if errors:
            raise ConversionError(errors)
        return tuple(out)

    return convert


def _dict_converter(key: Converter | None, val: Converter | None) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise _fail("dict_type", "Input should be a valid dictionary", value)
        if key is None and val is None:
            return dict(value)
        out: dict[Any, Any] = {}
        errors: list[ErrorDict] = []
        for k, v in value.items():
            new_key = k
            if key is not None:
                try:
                    new_key = key(k)
                except ConversionError as exc:
                    errors.extend(relocate(exc.errors, (k, "[key]")))
                    continue
            if val is None:
                out[new_key] = v
                continue
            try:
                out[new_key] = val(v)
            except ConversionError as exc:
                errors.extend(relocate(exc.errors, (k,)))
        if errors:
            raise ConversionError(errors)
        return out

    return convert


def _union_converter(members: list[Any], nullable: bool) -> Converter | None:
    converters = [compile_converter(member) for member in members]
    if len(members) == 1:
        inner = converters[0]
        if inner is None:
            return None

        def convert_optional(value: Any) -> Any:
            return None if value is None else inner(value)

        return convert_optional if nullable else inner
    if any(c is None for c in converters):
        return None  # one member takes anything
    # pydantic's "smart" unions: a value whose type is exactly a member's is kept.
    exact = {m for m in members if m in (str, int, float, bool, bytes)}
    pairs = list(zip(members, converters, strict=True))

    def convert(value: Any) -> Any:
        if value is None and nullable:
            return None
        if type(value) in exact:
            return value
        errors: list[ErrorDict] = []
        for member, converter in pairs:
            assert converter is not None  # checked above; narrows for mypy
            try:
                return converter(value)
            except ConversionError as exc:
                errors.extend(relocate(exc.errors, (type_name(member),)))
        raise ConversionError(errors)

    return convert


# -- records -------------------------------------------------------------------------


class _Forward:
    """Stands in for a converter still being built (self-referencing dataclasses)."""

    __slots__ = ("target",)

    def __init__(self) -> None:
        self.target: Converter | None = None

    def __call__(self, value: Any) -> Any:
        assert self.target is not None  # set before any request can arrive
        return self.target(value)


def _hints(tp: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except NameError as exc:
        raise UnsupportedType(
            f"cannot resolve the annotations of {tp.__qualname__}: {exc}. Define the types it "
            "refers to at module level (string annotations are looked up in the module)"
        ) from None


def _field_converter(owner: Any, name: str, hint: Any) -> Converter | None:
    try:
        return compile_converter(hint)
    except UnsupportedType as exc:
        raise UnsupportedType(f"field {owner.__qualname__}.{name}: {exc}") from None


def _dataclass_converter(tp: type[Any]) -> Converter:
    hints = _hints(tp)
    fields: list[tuple[str, Converter | None, bool]] = []
    for field in dataclasses.fields(tp):
        if not field.init:
            continue
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        fields.append((field.name, _field_converter(tp, field.name, hints[field.name]), required))
    name = tp.__name__
    type_message = f"Input should be a dictionary or an instance of {name}"
    type_ctx = {"class_name": name}

    def convert(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise _fail("dataclass_type", type_message, value, type_ctx)
        kwargs: dict[str, Any] = {}
        errors: list[ErrorDict] = []
        for field_name, converter, required in fields:
            if field_name in value:
                item = value[field_name]
                if converter is None:
                    kwargs[field_name] = item
                    continue
                try:
                    kwargs[field_name] = converter(item)
                except ConversionError as exc:
                    errors.extend(relocate(exc.errors, (field_name,)))
            elif required:
                errors.append(missing_error((field_name,), value))
        if errors:
            raise ConversionError(errors)
        try:
            return tp(**kwargs)
        except (ValueError, AssertionError) as exc:  # raised by __post_init__ checks
            raise _fail("value_error", f"Value error, {exc}", value, {"error": str(exc)}) from None

    return convert


def _unwrap_required(hint: Any) -> Any:
    origin = get_origin(hint)
    for wrapper in ("Required", "NotRequired", "ReadOnly"):
        if origin is not None and origin is getattr(typing, wrapper, None):
            return _unwrap_required(get_args(hint)[0])
    return hint


def _typeddict_converter(tp: Any) -> Converter:
    hints = _hints(tp)
    required_keys = frozenset(getattr(tp, "__required_keys__", hints))
    keys = [
        (key, _field_converter(tp, key, _unwrap_required(hint)), key in required_keys)
        for key, hint in hints.items()
    ]

    def convert(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise _fail("dict_type", "Input should be a valid dictionary", value)
        out: dict[str, Any] = {}
        errors: list[ErrorDict] = []
        for key, converter, required in keys:
            if key in value:
                item = value[key]
                if converter is None:
                    out[key] = item
                    continue
                try:
                    out[key] = converter(item)
                except ConversionError as exc:
                    errors.extend(relocate(exc.errors, (key,)))
            elif required:
                errors.append(missing_error((key,), value))
        if errors:
            raise ConversionError(errors)
        return out

    return convert


def _is_pydantic_type(tp: Any) -> bool:
    # Only look if the app itself imported pydantic; we never import it first.
    return "pydantic_core" in sys.modules and isinstance(tp, type) and hasattr(
        tp, "__pydantic_validator__"
    )


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def _pydantic_converter(tp: Any) -> Converter:
    # Imported by name so that type checkers need no pydantic stubs.
    validation_error: type[Exception] = importlib.import_module("pydantic_core").ValidationError
    validator = tp.__pydantic_validator__

    def convert(value: Any) -> Any:
        try:
            return validator.validate_python(value)
        except validation_error as exc:
            assert hasattr(exc, "errors")  # pydantic_core.ValidationError; narrows for mypy
            errors: list[ErrorDict] = []
            for error in exc.errors(include_url=False):
                converted = _error(error["type"], error["msg"], error.get("input"),
                                   loc=tuple(error["loc"]))
                if "ctx" in error:
                    converted["ctx"] = _json_safe(error["ctx"])
                errors.append(converted)
            raise ConversionError(errors) from None

    return convert


# -- constraints ---------------------------------------------------------------------

_CONSTRAINT_NAMES = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


def constraints_from_metadata(metadata: Iterable[Any]) -> Constraints:
    """Collect checks from ``Annotated`` extras (annotated-types objects, pydantic Field)."""
    found: dict[str, Any] = {}

    def visit(item: Any) -> None:
        nested = getattr(item, "metadata", None)
        if isinstance(nested, list):  # pydantic's FieldInfo keeps its checks here
            for inner in nested:
                visit(inner)
        for name in _CONSTRAINT_NAMES:
            value = getattr(item, name, None)
            if value is not None and not callable(value):
                found[name] = value

    for item in metadata:
        if not isinstance(item, str | int | float | bytes):
            visit(item)
    return Constraints(**found)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _checks(constraints: Constraints) -> list[Callable[[Any, Any], ErrorDict | None]]:
    """One check per constraint, in pydantic's order; each gives an error or None."""
    checks: list[Callable[[Any, Any], ErrorDict | None]] = []
    c = constraints

    def add(test: Callable[[Any], bool], type_: str, message: Callable[[Any], str],
            ctx: Callable[[Any], dict[str, Any]]) -> None:
        def check(value: Any, raw: Any) -> ErrorDict | None:
            try:
                ok = test(value)
            except TypeError:  # e.g. a length check on an int: nothing to check
                return None
            return None if ok else _error(type_, message(value), raw, ctx(value))

        checks.append(check)

    if c.min_length is not None:
        n = c.min_length
        add(lambda v: len(v) >= n, "string_too_short",
            lambda v: f"String should have at least {_plural(n, 'character')}",
            lambda v: {"min_length": n})
    if c.max_length is not None:
        m = c.max_length
        add(lambda v: len(v) <= m, "string_too_long",
            lambda v: f"String should have at most {_plural(m, 'character')}",
            lambda v: {"max_length": m})
    if c.pattern is not None:
        pattern = c.pattern
        compiled = re.compile(pattern)
        add(lambda v: compiled.search(v) is not None, "string_pattern_mismatch",
            lambda v: f"String should match pattern '{pattern}'", lambda v: {"pattern": pattern})
    if c.multiple_of is not None:
        mo = c.multiple_of
        add(lambda v: v % mo == 0, "multiple_of", lambda v: f"Input should be a multiple of {mo}",
            lambda v: {"multiple_of": mo})
    if c.le is not None:
        le = c.le
        add(lambda v: v <= le, "less_than_equal",
            lambda v: f"Input should be less than or equal to {le}", lambda v: {"le": le})
    if c.lt is not None:
        lt = c.lt
        add(lambda v: v < lt, "less_than", lambda v: f"Input should be less than {lt}",
            lambda v: {"lt": lt})
    if c.ge is not None:
        ge = c.ge
        add(lambda v: v >= ge, "greater_than_equal",
            lambda v: f"Input should be greater than or equal to {ge}", lambda v: {"ge": ge})
    if c.gt is not None:
        gt = c.gt
        add(lambda v: v > gt, "greater_than", lambda v: f"Input should be greater than {gt}",
            lambda v: {"gt": gt})
    return checks


def _sized_checks(constraints: Constraints) -> list[Callable[[Any, Any], ErrorDict | None]]:
    """Length checks for lists and other collections ("List should have at least...")."""
    checks: list[Callable[[Any, Any], ErrorDict | None]] = []
    low, high = constraints.min_length, constraints.max_length

    def check(value: Any, raw: Any) -> ErrorDict | None:
        kind = type(value).__name__.capitalize()
        size = len(value)
        if low is not None and size < low:
            return _error(
                "too_short",
                f"{kind} should have at least {_plural(low, 'item')} after validation, not {size}",
                raw, {"field_type": kind, "min_length": low, "actual_length": size},
            )
        if high is not None and size > high:
            return _error(
                "too_long",
                f"{kind} should have at most {_plural(high, 'item')} after validation, not {size}",
                raw, {"field_type": kind, "max_length": high, "actual_length": size},
            )
        return None

    if low is not None or high is not None:
        checks.append(check)
    return checks


def with_constraints(converter: Converter | None, constraints: Constraints) -> Converter | None:
    """Wrap ``converter`` so the result must also satisfy ``constraints``."""
    if not constraints:
        return converter
    scalar_checks = _checks(constraints)
    sized_checks = _sized_checks(constraints)

    def convert(value: Any) -> Any:
        result = value if converter is None else converter(value)
        if result is None:
            return result
        checks = sized_checks if isinstance(result, list | tuple | set | frozenset | dict) else (
            scalar_checks
        )
        for check in checks:
            error = check(result, value)
            if error is not None:
                raise ConversionError([error])
        return result

    return convert


# -- the entry point -----------------------------------------------------------------

_cache: dict[Any, Converter | None] = {}


def compile_converter(tp: Any, constraints: Constraints | None = None) -> Converter | None:
    """The converter for ``tp``; None means "use the value as it is"."""
    if constraints:
        return with_constraints(compile_converter(tp), constraints)
    try:
        return _cache[tp]
    except KeyError:
        pass
    except TypeError:  # an unhashable Annotated extra: build without caching
        return _build(tp)
    forward = _Forward()
    _cache[tp] = forward  # a self-referencing type finds this while it is being built
    try:
        converter = _build(tp)
    except BaseException:
        del _cache[tp]
        raise
    forward.target = converter if converter is not None else _identity
    _cache[tp] = converter
    return converter


def _identity(value: Any) -> Any:
    return value


# ``get_origin`` maps typing's aliases (List, Sequence...) to these.
_LIST_ORIGINS: frozenset[Any] = frozenset({list, abc.Sequence, abc.MutableSequence})
_SET_ORIGINS: frozenset[Any] = frozenset({set, abc.Set, abc.MutableSet})
_DICT_ORIGINS: frozenset[Any] = frozenset({dict, abc.Mapping, abc.MutableMapping})


def _build(tp: Any) -> Converter | None:
    if tp is Any or tp is object:
        return None
    scalar = _SCALARS.get(tp) if _hashable(tp) else None
    if scalar is not None:
        return scalar
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Annotated:
        base = compile_converter(args[0])
        return with_constraints(base, constraints_from_metadata(args[1:]))
    if isinstance(tp, typing.NewType):
        return compile_converter(tp.__supertype__)
    if origin is Union or origin is types.UnionType:
        nullable = type(None) in args
        return _union_converter([a for a in args if a is not type(None)], nullable)
    if origin is Literal:
        return _literal_converter(tp)
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return _enum_converter(tp)
        if _is_pydantic_type(tp):
            return _pydantic_converter(tp)
        if dataclasses.is_dataclass(tp):
            return _dataclass_converter(tp)
        if typing.is_typeddict(tp):
            return _typeddict_converter(tp)
    container = origin if origin is not None else tp
    item = compile_converter(args[0]) if args else None
    if container in _LIST_ORIGINS:
        return _sequence_converter(item, _identity, "list_type", "Input should be a valid list")
    if container in _SET_ORIGINS:
        return _sequence_converter(item, set, "set_type", "Input should be a valid set")
    if container is frozenset:
        return _sequence_converter(item, frozenset, "frozen_set_type",
                                   "Input should be a valid frozenset")
    if container is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return _sequence_converter(item, tuple, "tuple_type", "Input should be a valid tuple")
        return _fixed_tuple_converter([compile_converter(a) for a in args])
    if container in _DICT_ORIGINS:
        return _dict_converter(item, compile_converter(args[1]) if len(args) > 1 else None)
    raise UnsupportedType(
        f"microready cannot convert request data to {type_name(tp)}; use str, int, float, bool, "
        "an Enum, UUID, a list, a dict, a dataclass or a TypedDict (or a pydantic model)"
    )


def _hashable(tp: Any) -> bool:
    try:
        hash(tp)
    except TypeError:
        return False
    return True


# -- what goes in the body -----------------------------------------------------------


def is_body_type(tp: Any) -> bool:
    """Whether FastAPI would read a parameter of this type from the request body.

    Records (dataclass, TypedDict, pydantic model) and mappings are body values,
    as are bare ``list``/``tuple``/``set`` and lists of records. ``list[str]`` and
    other lists of scalars are read from repeated query keys instead.
    """
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Annotated:
        return is_body_type(args[0])
    if origin is Union or origin is types.UnionType:
        return any(is_body_type(a) for a in args if a is not type(None))
    if isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or typing.is_typeddict(tp) or _is_pydantic_type(tp)
    ):
        return True
    container = origin if origin is not None else tp
    if container in _DICT_ORIGINS:
        return True
    if container in _LIST_ORIGINS or container in _SET_ORIGINS or container in (tuple, frozenset):
        return not args or any(is_body_type(a) for a in args if a is not Ellipsis)
    return False
