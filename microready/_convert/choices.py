"""Choices: an Enum's members or a Literal's values, matched the way pydantic does.

A value matches a choice of exactly its own type (``1`` does not select ``True``);
a string, as a query or a path gives, may also spell a number choice (``"2"``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, get_args

from .errors import Converter, UnsupportedType, fail

__all__ = ["enum_converter", "literal_converter"]


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
        raise fail(error_type, message, value, ctx)

    return convert


def enum_converter(tp: type[enum.Enum]) -> Converter:
    """A member of ``tp``, given the member itself or its value."""
    members = list(tp)
    if not members:
        raise UnsupportedType(f"enum {tp.__name__} has no members, so no value can match it")
    return _choice_converter(
        [m.value for m in members], members, "enum", lambda value: isinstance(value, tp)
    )


def literal_converter(tp: Any) -> Converter:
    """One of the values of ``Literal[...]``, returned as the Literal spells it."""
    choices = list(get_args(tp))
    return _choice_converter(choices, choices, "literal_error", lambda value: False)
