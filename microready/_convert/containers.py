"""Containers and unions: list, set, frozenset, tuple, dict and ``X | Y``.

Each is built from the converters of its parts (items, keys, values, union
members), which the caller compiles and hands in; ``None`` for a part means it
is taken as it is. Errors name the failing part: an index, a key (with
``"[key]"`` when the key itself is wrong), or the union member's type name.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import ConversionError, Converter, ErrorDict, fail, missing_error, relocate, type_name

__all__ = ["dict_converter", "fixed_tuple_converter", "sequence_converter", "union_converter"]

# What lax mode takes for a list, a set or a tuple alike (never a str or a dict).
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


def sequence_converter(item: Converter | None, build: Callable[[list[Any]], Any],
                       error_type: str, message: str) -> Converter:
    """Any list-like input, each item converted, then made into the type by ``build``."""

    def convert(value: Any) -> Any:
        if not isinstance(value, _LIST_INPUTS):
            raise fail(error_type, message, value)
        return build(list(value) if item is None else _convert_items(value, item))

    return convert


def fixed_tuple_converter(items: list[Converter | None]) -> Converter:
    """``tuple[A, B, C]``: one converter per position; missing positions are reported."""
    size = len(items)

    def convert(value: Any) -> Any:
        if not isinstance(value, _LIST_INPUTS):
            raise fail("tuple_type", "Input should be a valid tuple", value)
        values = list(value)
        if len(values) > size:
            raise fail(
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


def dict_converter(key: Converter | None, val: Converter | None, *,
                   key_exact: type | None = None, val_exact: type | None = None) -> Converter:
    """Any mapping, each key and value converted.

    ``key_exact``/``val_exact``: a type whose values the key/value converter
    returns unchanged (``str`` for ``dict[str, str]``); a mapping made only of
    those is copied without a call per item, the common case of a handler's
    returned dict checked against its annotation.
    """
    # The types an item must have to pass unchanged (object: anything, no converter).
    pass_key = object if key is None else key_exact
    pass_val = object if val is None else val_exact
    fast = pass_key is not None and pass_val is not None

    def passes(value: Mapping[Any, Any]) -> bool:
        for k, v in value.items():
            if (pass_key is not object and type(k) is not pass_key) or (
                pass_val is not object and type(v) is not pass_val
            ):
                return False
        return True

    def convert(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise fail("dict_type", "Input should be a valid dictionary", value)
        if key is None and val is None:
            return dict(value)
        if fast and passes(value):
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


def union_converter(
    members: list[Any], converters: list[Converter | None], nullable: bool
) -> Converter | None:
    """The first member (``converters[i]`` for ``members[i]``) that takes the value.

    ``members`` leaves out ``None``; ``nullable`` says whether it was one of them.
    """
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
