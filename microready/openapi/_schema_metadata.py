"""``Annotated`` extras, as pydantic applies them to a schema.

``expand`` reads the extras of an ``Annotated`` (annotated-types objects,
pydantic's ``Field()`` and validators, microready's ``Query()``-style markers
and ``Constraints``) into a list of items, in order, the way pydantic's
``expand_grouped_metadata`` and ``collect_known_metadata`` do;
``apply`` lays one item on a node as pydantic's
``_known_annotated_metadata.apply_known_metadata`` would:

- constraints (``Gt``, ``Field(max_length=...)``, ``pattern``...) as
  ``_schema_checks`` lays them: natively (``maxLength`` on a ``str``, unseen
  bounds on a date), or under their own name by a validator around the type;
- on ``X | None``, all of these apply to ``X``;
- ``Field()``'s (or a marker's) ``title``, ``description``, ``examples``,
  ``deprecated`` and ``json_schema_extra`` join the schema (``Info``); on a
  reference (a record, an Enum) they are dropped when a constraint follows, as
  pydantic then checks a copy of the referenced schema, without them;
- validators: a ``PlainValidator``'s validation schema is its
  ``json_schema_input_type`` (``Any``: ``{}``) and its serialization schema
  the bare type's; a Before or Wrap validator's validation schema is its
  ``json_schema_input_type``, when it has one.

pydantic is never imported here: its classes are looked up in ``sys.modules``,
where they are whenever an annotation holds one of them.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from ..params import REQUIRED, Constraints, Param
from ._schema_checks import KNOWN, check
from ._schema_defaults import NotEncodable, encode
from ._schema_nodes import Context, Node, wrap

__all__ = ["Check", "Info", "Item", "Override", "Validator", "add_info", "apply", "expand",
           "info_keys", "merge_infos"]


class Check(NamedTuple):
    """The constraints one extra carries (``Gt(1)``; ``Query(gt=1, max_length=3)``)."""

    pairs: tuple[tuple[str, Any], ...]


class Validator(NamedTuple):
    """A pydantic functional validator: ``kind`` is ``before``, ``after``, ``plain`` or ``wrap``."""

    kind: str
    input_type: Any
    has_input: bool


class Override(NamedTuple):
    """pydantic's ``WithJsonSchema`` (``examples`` None) or ``Examples`` (``json`` None)."""

    json: dict[str, Any] | None
    examples: Any
    mode: str | None


@dataclasses.dataclass
class Info:
    """What a ``Field()`` or a marker says besides its checks; None: not said."""

    title: str | None = None
    description: str | None = None
    examples: Any = None
    deprecated: bool | None = None
    extra: dict[str, Any] | Callable[..., Any] | None = None
    default: Any = REQUIRED
    factory: bool = False
    validation_alias: Any = None
    serialization_alias: str | None = None
    exclude: bool | None = None
    exclude_if: Any = None


_PREDICATE = object()  # annotated-types' Predicate or Not: a check pydantic runs after
Item = Check | Info | Validator | Override | object


def _module_class(module: str, name: str) -> Any:
    """A class of an imported module (None if the module is not imported)."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def _field_info(item: Any) -> Info:
    undefined = sys.modules["pydantic_core"].PydanticUndefined
    deprecated = item.deprecated
    return Info(
        title=item.title, description=item.description, examples=item.examples,
        deprecated=True if deprecated or deprecated == "" else None,
        extra=item.json_schema_extra,
        default=REQUIRED if item.default is undefined else item.default,
        factory=item.default_factory is not None,
        validation_alias=item.validation_alias, serialization_alias=item.serialization_alias,
        exclude=item.exclude, exclude_if=getattr(item, "exclude_if", None),
    )


def _marker_info(marker: Param) -> Info:
    return Info(
        title=marker.title, description=marker.description, examples=marker.examples,
        deprecated=True if marker.deprecated else None, extra=marker.json_schema_extra,
        default=marker.default, factory=marker.default_factory is not None,
        validation_alias=marker.alias,
        serialization_alias=marker.serialization_alias or marker.schema_alias,
    )


def _checks(constraints: Constraints) -> Check:
    """A marker's checks, in the order ``Constraints`` lists them (FastAPI's too)."""
    return Check(tuple((field.name, getattr(constraints, field.name))
                       for field in dataclasses.fields(constraints)
                       if getattr(constraints, field.name) is not None))


def _validator(item: Any) -> Validator | None:
    for kind in ("Before", "After", "Plain", "Wrap"):
        cls = _module_class("pydantic.functional_validators", f"{kind}Validator")
        if cls is not None and isinstance(item, cls):
            input_type = getattr(item, "json_schema_input_type", None)
            undefined = type(input_type).__name__ == "PydanticUndefinedType"
            return Validator(kind.lower(), input_type, kind != "After" and not undefined)
    return None


def expand(metadata: Iterable[Any]) -> Iterator[Item]:
    """The items of ``Annotated`` extras, grouped ones (``Len``, ``Interval``) unpacked."""
    at = sys.modules.get("annotated_types")
    field_info = _module_class("pydantic.fields", "FieldInfo")
    pydantic_metadata = _module_class("pydantic._internal._fields", "PydanticMetadata")
    with_json_schema = _module_class("pydantic.json_schema", "WithJsonSchema")
    examples = _module_class("pydantic.json_schema", "Examples")
    singles: dict[type, str] = {} if at is None else {
        at.Gt: "gt", at.Ge: "ge", at.Lt: "lt", at.Le: "le", at.MultipleOf: "multiple_of",
        at.MinLen: "min_length", at.MaxLen: "max_length",
    }
    for item in metadata:
        if item is None or isinstance(item, str | bytes | int | float):
            continue
        if at is not None and isinstance(item, at.GroupedMetadata):
            yield from expand(item)
        elif field_info is not None and isinstance(item, field_info):
            yield from expand(item.metadata)
            yield _field_info(item)
        elif isinstance(item, Param):
            yield _checks(item.constraints)
            yield _marker_info(item)
        elif isinstance(item, Constraints):
            yield _checks(item)
        elif pydantic_metadata is not None and isinstance(item, pydantic_metadata):
            found = getattr(item, "__dict__", {})
            yield Check(tuple((k, v) for k, v in found.items() if k in KNOWN and v is not None))
        elif type(item) in singles:
            yield Check(((singles[type(item)], getattr(item, singles[type(item)])),))
        elif at is not None and isinstance(item, at.Predicate | at.Not):
            yield _PREDICATE
        elif with_json_schema is not None and isinstance(item, with_json_schema):
            yield Override(item.json_schema, None, item.mode)
        elif examples is not None and isinstance(item, examples):
            yield Override(None, item.examples, item.mode)
        else:
            found_validator = _validator(item)
            if found_validator is not None:
                yield found_validator
            # Anything else (Timezone, Strict, a plain string...) shows nothing, as in pydantic.


def info_keys(info: Info) -> dict[str, Any]:
    """The keys ``info`` adds to a schema (pydantic's ``pydantic_js_updates``)."""
    keys: dict[str, Any] = {}
    for name in ("title", "description", "deprecated"):
        if getattr(info, name) is not None:
            keys[name] = getattr(info, name)
    if info.examples is not None:
        try:
            keys["examples"] = encode(info.examples)
        except NotEncodable:
            keys["examples"] = info.examples
    return keys


def add_info(json: dict[str, Any], info: Info) -> None:
    """``info``'s keys, then its ``json_schema_extra`` (a dict or a function of the schema)."""
    json.update(info_keys(info))
    if isinstance(info.extra, dict):
        json.update(encode(info.extra))
    elif callable(info.extra):
        info.extra(json)


def merge_infos(infos: Iterable[Info]) -> Info:
    """One ``Info`` from several, a later one's statements winning (pydantic's merge)."""
    merged = Info()
    for info in infos:
        for field in dataclasses.fields(Info):
            value = getattr(info, field.name)
            if value is not field.default:
                setattr(merged, field.name, value)
    return merged


def _validate(node: Node, item: Validator, ctx: Context, bare: Callable[[], Node]) -> Node:
    if item.kind == "plain":
        shown = bare() if ctx.mode == "serialization" else ctx.build(item.input_type)
        return wrap(node, "function-plain", ctx, shown.render(ctx))
    if item.has_input and ctx.mode == "validation":
        return wrap(node, f"function-{item.kind}", ctx, ctx.build(item.input_type).render(ctx))
    return wrap(node, f"function-{item.kind}", ctx)


def apply(node: Node, item: Item, ctx: Context, bare: Callable[[], Node]) -> Node:
    """``node`` with ``item`` laid on it (``bare()``: the ``Annotated`` type without extras,
    which a ``PlainValidator`` serializes as)."""
    if isinstance(item, Check | Info) or item is _PREDICATE:
        if node.member is not None and not isinstance(item, Info):
            node.member = apply(node.member, item, ctx, bare)  # X | None: on X
            return node
        if isinstance(item, Info):
            info = item
            node.update(lambda json: add_info(json, info))
            return node
        if isinstance(item, Check) and not item.pairs:
            return node
        node.drop_updates()
        if isinstance(item, Check):
            return check(node, item.pairs, ctx)
        return wrap(node, "function-after", ctx)
    if isinstance(item, Validator):
        return _validate(node, item, ctx, bare)
    if isinstance(item, Override) and item.mode in (None, ctx.mode):
        if item.json is not None:
            node.json = dict(item.json)
            node.member = None
        elif item.examples is not None:
            examples = item.examples
            node.update(lambda json: _add_examples(json, examples))
    return node


def _add_examples(json: dict[str, Any], examples: Any) -> None:
    existing = json.get("examples")
    if existing is None:
        json["examples"] = encode(examples)
    elif isinstance(existing, list) and isinstance(examples, list):
        json["examples"] = encode(existing + examples)
