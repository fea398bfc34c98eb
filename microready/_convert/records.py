"""Records: dataclasses, TypedDicts and (when the app uses pydantic) pydantic models.

A dataclass or a TypedDict is read from a mapping field by field: each field
present is converted with the converter of its annotation, and every failing or
missing required field is reported, not only the first. The field converters
come from ``compile_type`` (``compile_converter``, handed in by the caller so
this module need not import it); a field that refers to its own record gets the
placeholder the caller keeps for a type still being built.

A pydantic model validates itself; its errors are passed on in our shape.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, get_args, get_origin

from .errors import (
    ConversionError,
    Converter,
    ErrorDict,
    UnsupportedType,
    fail,
    missing_error,
    pydantic_errors,
    relocate,
)

__all__ = [
    "CompileType",
    "dataclass_converter",
    "is_pydantic_type",
    "is_typeddict",
    "pydantic_converter",
    "record_fields",
    "typeddict_converter",
]

CompileType = Callable[[Any], Converter | None]
# A field as a record converter uses it: name, converter (None: taken as it is), required.
_Field = tuple[str, Converter | None, bool]


def _hints(tp: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except NameError as exc:
        raise UnsupportedType(
            f"cannot resolve the annotations of {tp.__qualname__}: {exc}. Define the types it "
            "refers to at module level (string annotations are looked up in the module)"
        ) from None


def _compile_fields(
    owner: Any, declared: Iterable[tuple[str, Any, bool]], compile_type: CompileType
) -> list[_Field]:
    """Compile each ``(name, annotation, required)``; errors name the field."""
    fields: list[_Field] = []
    for name, hint, required in declared:
        try:
            converter = compile_type(hint)
        except UnsupportedType as exc:
            raise UnsupportedType(f"field {owner.__qualname__}.{name}: {exc}") from None
        fields.append((name, converter, required))
    return fields


def _read_fields(fields: Sequence[_Field], value: Mapping[Any, Any]) -> dict[str, Any]:
    """The fields present in ``value``, converted; raises with every failure found."""
    out: dict[str, Any] = {}
    errors: list[ErrorDict] = []
    for name, converter, required in fields:
        if name in value:
            item = value[name]
            if converter is None:
                out[name] = item
                continue
            try:
                out[name] = converter(item)
            except ConversionError as exc:
                errors.extend(relocate(exc.errors, (name,)))
        elif required:
            errors.append(missing_error((name,), value))
    if errors:
        raise ConversionError(errors)
    return out


def dataclass_converter(tp: type[Any], compile_type: CompileType) -> Converter:
    """An instance of the dataclass ``tp``, given one or a mapping of its ``__init__`` fields."""
    hints = _hints(tp)
    fields = _compile_fields(tp, [
        (
            field.name,
            hints[field.name],
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
        )
        for field in dataclasses.fields(tp)
        if field.init
    ], compile_type)
    name = tp.__name__
    type_message = f"Input should be a dictionary or an instance of {name}"
    type_ctx = {"class_name": name}

    def convert(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise fail("dataclass_type", type_message, value, type_ctx)
        kwargs = _read_fields(fields, value)
        try:
            return tp(**kwargs)
        except (ValueError, AssertionError) as exc:  # raised by __post_init__ checks
            raise fail("value_error", f"Value error, {exc}", value, {"error": str(exc)}) from None

    return convert


def _unwrap_required(hint: Any) -> Any:
    origin = get_origin(hint)
    for wrapper in ("Required", "NotRequired", "ReadOnly"):
        if origin is not None and origin is getattr(typing, wrapper, None):
            return _unwrap_required(get_args(hint)[0])
    return hint


def typeddict_converter(tp: Any, compile_type: CompileType) -> Converter:
    """A plain dict of the TypedDict ``tp``'s keys, each value converted."""
    hints = _hints(tp)
    required_keys = frozenset(getattr(tp, "__required_keys__", hints))
    keys = _compile_fields(tp, [
        (key, _unwrap_required(hint), key in required_keys) for key, hint in hints.items()
    ], compile_type)

    def convert(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise fail("dict_type", "Input should be a valid dictionary", value)
        return _read_fields(keys, value)

    return convert


def is_typeddict(tp: Any) -> bool:
    """A ``TypedDict`` from ``typing`` or from ``typing_extensions`` (which pydantic asks
    for before Python 3.12, and ``typing.is_typeddict`` does not recognise there)."""
    return typing.is_typeddict(tp) or (
        isinstance(tp, type) and issubclass(tp, dict)
        and hasattr(tp, "__required_keys__") and hasattr(tp, "__optional_keys__")
    )


def is_pydantic_type(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model or pydantic dataclass."""
    # Only look if the app itself imported pydantic; we never import it first.
    return "pydantic_core" in sys.modules and isinstance(tp, type) and hasattr(
        tp, "__pydantic_validator__"
    )


def pydantic_converter(tp: Any) -> Converter:
    """Validation by the model's own validator, its errors passed on in our shape."""
    # Imported by name so that type checkers need no pydantic stubs.
    validation_error: type[Exception] = importlib.import_module("pydantic_core").ValidationError
    validator = tp.__pydantic_validator__

    def convert(value: Any) -> Any:
        try:
            return validator.validate_python(value)
        except validation_error as exc:
            raise ConversionError(pydantic_errors(exc)) from None

    return convert


def record_fields(tp: Any) -> list[tuple[str, str, Any]]:
    """The fields of a record type as ``(name, key, annotation)``, where ``key`` is what
    its converter reads the field under (a pydantic field's alias, if it has one)."""
    if is_pydantic_type(tp):
        fields = getattr(tp, "model_fields", None) or getattr(tp, "__pydantic_fields__", {})
        return [(name, info.alias or name, info.annotation) for name, info in fields.items()]
    hints = _hints(tp)
    if dataclasses.is_dataclass(tp):
        return [
            (field.name, field.name, hints[field.name])
            for field in dataclasses.fields(tp) if field.init
        ]
    return [(key, key, _unwrap_required(hint)) for key, hint in hints.items()]
