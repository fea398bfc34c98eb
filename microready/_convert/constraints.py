"""Constraints: the checks a converted value must also pass (``gt``, ``max_length``...).

They come from ``Query(max_length=3)`` and the other markers, or from
``Annotated`` extras: annotated-types objects and pydantic ``Field``. A failed
check gives pydantic's error type, message and ``ctx``, with the value as it
arrived (before conversion) as the error's ``input``.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from ..params import Constraints
from .errors import ConversionError, Converter, ErrorDict, error_dict

__all__ = ["constraints_from_metadata", "with_constraints"]

# The names a marker or a metadata object may carry, as Constraints declares them.
_CONSTRAINT_NAMES = tuple(field.name for field in dataclasses.fields(Constraints))

# A check takes the converted value and the value as it arrived (for the error).
_Check = Callable[[Any, Any], ErrorDict | None]


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


# The checks on a scalar (a number or a string), one row per Constraints field,
# in the order pydantic runs them, so the error reported is the one it reports:
#   (field, error type, passes(value, bound), message for the bound)
# The error's ctx is always {field: bound}. A test that raises TypeError (a
# length check on an int) does not apply to that value and passes.
_SCALAR_RULES: tuple[tuple[str, str, Callable[[Any, Any], bool], Callable[[Any], str]], ...] = (
    ("min_length", "string_too_short", lambda v, n: len(v) >= n,
     lambda n: f"String should have at least {_plural(n, 'character')}"),
    ("max_length", "string_too_long", lambda v, n: len(v) <= n,
     lambda n: f"String should have at most {_plural(n, 'character')}"),
    ("pattern", "string_pattern_mismatch", lambda v, regex: regex.search(v) is not None,
     lambda pattern: f"String should match pattern '{pattern}'"),
    ("multiple_of", "multiple_of", lambda v, m: v % m == 0,
     lambda m: f"Input should be a multiple of {m}"),
    ("le", "less_than_equal", operator.le,
     lambda le: f"Input should be less than or equal to {le}"),
    ("lt", "less_than", operator.lt, lambda lt: f"Input should be less than {lt}"),
    ("ge", "greater_than_equal", operator.ge,
     lambda ge: f"Input should be greater than or equal to {ge}"),
    ("gt", "greater_than", operator.gt, lambda gt: f"Input should be greater than {gt}"),
)


def _scalar_check(
    field: str, type_: str, passes: Callable[[Any, Any], bool], bound: Any, message: str
) -> _Check:
    # A pattern is compiled once, here; every other bound is used as it is.
    operand = re.compile(bound) if field == "pattern" else bound

    def check(value: Any, raw: Any) -> ErrorDict | None:
        try:
            ok = passes(value, operand)
        except TypeError:
            return None
        return None if ok else error_dict(type_, message, raw, {field: bound})

    return check


def _scalar_checks(constraints: Constraints) -> list[_Check]:
    """One check per constraint set, in the order of ``_SCALAR_RULES``."""
    checks: list[_Check] = []
    for field, type_, passes, message in _SCALAR_RULES:
        bound = getattr(constraints, field)
        if bound is not None:
            checks.append(_scalar_check(field, type_, passes, bound, message(bound)))
    return checks


def _sized_checks(constraints: Constraints) -> list[_Check]:
    """Length checks for lists and other collections ("List should have at least...")."""
    checks: list[_Check] = []
    low, high = constraints.min_length, constraints.max_length

    def check(value: Any, raw: Any) -> ErrorDict | None:
        kind = type(value).__name__.capitalize()
        size = len(value)
        if low is not None and size < low:
            return error_dict(
                "too_short",
                f"{kind} should have at least {_plural(low, 'item')} after validation, not {size}",
                raw, {"field_type": kind, "min_length": low, "actual_length": size},
            )
        if high is not None and size > high:
            return error_dict(
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
    scalar_checks = _scalar_checks(constraints)
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
