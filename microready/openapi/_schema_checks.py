"""Constraints on a schema node, as pydantic's ``apply_known_metadata`` lays them, and
the one switch between the pydantic versions whose schemas differ.

A constraint the node's core schema takes natively becomes its JSON keyword
(``max_length`` on a ``str`` -> ``maxLength``) or is checked unseen (bounds on
a date); any other is checked by a validator around the node and shown under
its own name (``{"type": "boolean", "gt": 0}``; a length as ``minLength`` or
``minItems``). pydantic's string steps (``pattern``, ``strip_whitespace``,
``to_lower``...) on a non-string are checked after it: the validation schema
does not show them, and the serialization schema is the last step's string.

pydantic 2.14 changed which core schemas take which constraints natively, and a
few other schemas; ``BEFORE_PYDANTIC_2_14`` says which rules to follow, read once
from the installed pydantic. Each place that differs names the change.
"""

from __future__ import annotations

import importlib.metadata
import math
import re
from typing import Any

from ._schema_defaults import NotEncodable, encode
from ._schema_nodes import Context, Node, wrap

__all__ = ["BEFORE_PYDANTIC_2_14", "KNOWN", "check", "decimal_json"]


def _pydantic_before(version: tuple[int, int]) -> bool:
    """Whether the installed pydantic is older than ``version`` (False without pydantic:
    then the newest behaviour is followed). Read from its metadata, never imported."""
    try:
        found = importlib.metadata.version("pydantic")
    except importlib.metadata.PackageNotFoundError:
        return False
    parts = tuple(int(part) for part in re.findall(r"\d+", found)[:2])
    return parts < version


# The switch: microready gives the schemas of the pydantic installed, the one FastAPI
# documents with. 2.14 changed: a Decimal's string has no pattern, a dataclass InitVar
# is not serialized, the natives below, a subclass of a @deprecated record is not
# deprecated, a TypedDict's PEP 728 extras are inherited, and a dataclass without a
# config of its own takes the enclosing record's ``extra``.
BEFORE_PYDANTIC_2_14 = _pydantic_before((2, 14))

_NUMBERS: dict[str, str | None] = {"gt": "exclusiveMinimum", "ge": "minimum",
                                   "lt": "exclusiveMaximum", "le": "maximum",
                                   "multiple_of": "multipleOf"}
_LENGTHS: dict[str, str | None] = {"min_length": "minLength", "max_length": "maxLength"}
_ITEMS: dict[str, str | None] = {"min_length": "minItems", "max_length": "maxItems"}
# pydantic's chain_schema_constraints: string steps, native on a str only.
_CHAINED = ("pattern", "strip_whitespace", "to_lower", "to_upper", "coerce_numbers_to_str",
            "ascii_only")
_STEPS: dict[str, str | None] = dict.fromkeys(_CHAINED)
_INF_NAN: dict[str, str | None] = {"allow_inf_nan": None}
# The constraints read from an extra (the others, such as strict, are checked only).
KNOWN = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "max_digits",
         "decimal_places", *_CHAINED, "allow_inf_nan")

# What each kind of core schema takes natively: constraint -> JSON keyword (None: checked,
# not shown), pydantic's CONSTRAINTS_TO_ALLOWED_SCHEMAS and ValidationsMapping. Before
# 2.14, a bytes took the string steps too, an int allow_inf_nan, and a date, time or
# datetime multiple_of (unseen); from 2.14 these are validators around them, shown.
_OLD = BEFORE_PYDANTIC_2_14
_NATIVE: dict[str, dict[str, str | None]] = {
    "str": {**_LENGTHS, **_STEPS, "pattern": "pattern"},
    "bytes": {**_LENGTHS, **(_STEPS if _OLD else {})},
    "list": _ITEMS, "tuple": _ITEMS, "set": _ITEMS, "frozenset": _ITEMS,
    "dict": {"min_length": "minProperties", "max_length": "maxProperties"},
    "int": {**_NUMBERS, **(_INF_NAN if _OLD else {})}, "float": {**_NUMBERS, **_INF_NAN},
    "timedelta": dict.fromkeys(_NUMBERS),
    "decimal": {**_NUMBERS, **_INF_NAN, "max_digits": None, "decimal_places": None},
}
_NATIVE.update(dict.fromkeys(("date", "time", "datetime"), dict.fromkeys(
    name for name in _NUMBERS if _OLD or name != "multiple_of")))


def decimal_json(core: dict[str, Any], mode: str) -> dict[str, Any]:
    """pydantic's ``decimal_schema``: a string (pattern-checked before pydantic 2.14),
    or a number too, in validation."""
    text: dict[str, Any] = {"type": "string"}
    if BEFORE_PYDANTIC_2_14:
        text["pattern"] = _decimal_pattern(core)
    if mode == "serialization":
        return text
    number: dict[str, Any] = {"type": "number"}
    for name, keyword in _NUMBERS.items():
        bound = core.get(name)
        if keyword and bound is not None and float(bound) not in (math.inf, -math.inf):
            number[keyword] = float(bound)
    return {"anyOf": [number, text]}


def _decimal_pattern(core: dict[str, Any]) -> str:
    pattern = r"^(?!^[-+.]*$)[+-]?0*"
    digits, places = core.get("max_digits"), core.get("decimal_places")
    if digits is not None and places is not None:
        whole = max(0, digits - places)
        pattern += (rf"(?:\d{{0,{whole}}}|(?=[\d.]{{1,{digits + 1}}}0*$)"
                    rf"\d{{0,{whole}}}\.\d{{0,{places}}}0*$)")
    elif digits is not None:
        pattern += rf"(?:\d{{0,{digits}}}|(?=[\d.]{{1,{digits + 1}}}0*$)\d*\.\d*0*$)"
    elif places is not None:
        pattern += rf"\d*\.?\d{{0,{places}}}0*$"
    else:
        pattern += r"\d*\.?\d*$"
    return pattern


def _jsonable(value: Any) -> Any:
    """pydantic's ``as_jsonable_value`` for a bound shown under its own name."""
    if type(value) in (int, str, float, bytes, bool, type(None)):
        return value
    try:
        return encode(value)
    except NotEncodable:
        return str(value)


def _native(node: Node, name: str, value: Any, keyword: str | None, ctx: Context) -> None:
    if node.kind == "decimal":  # its JSON is made from all its constraints
        node.core[name] = value
        for key in ("anyOf", "type", "pattern"):
            node.json.pop(key, None)
        node.json.update(decimal_json(node.core, ctx.mode))
    elif keyword is not None and not (name in _NUMBERS and value in (math.inf, -math.inf)):
        node.json[keyword] = value.pattern if isinstance(value, re.Pattern) else value


def check(node: Node, pairs: tuple[tuple[str, Any], ...], ctx: Context) -> Node:
    """``node`` with the constraints of one extra laid on, in their order."""
    step: tuple[str, Any] | None = None  # the last string step: what serializes
    for name, value in pairs:
        native = _NATIVE.get(node.kind, {})
        if name in native:
            _native(node, name, value, native[name], ctx)
        elif name in _STEPS:
            step = (name, value)  # pydantic chains the steps after this extra's others
        elif name == "allow_inf_nan":
            if value is False:  # a validator, showing nothing (True: pydantic refuses)
                node = wrap(node, "function-after", ctx)
        else:
            keyword = name
            if name in _LENGTHS:
                keyword = str((_ITEMS if node.inner_kind == "list" else _LENGTHS)[name])
            node = wrap(node, "function-after", ctx)
            node.json[keyword] = _jsonable(value)
    if step is not None:
        shown: dict[str, Any] | None = None
        if ctx.mode == "serialization":
            shown = {"type": "string"}
            if step[0] == "pattern":
                value = step[1]
                shown["pattern"] = value.pattern if isinstance(value, re.Pattern) else value
        node = wrap(node, "chain", ctx, shown)
    return node
