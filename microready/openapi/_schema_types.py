"""Types to schema nodes, one rule per kind of type, as pydantic's ``GenerateSchema``
and ``GenerateJsonSchema`` would make them.

- ``str`` ``{"type": "string"}``, ``int`` ``integer``, ``float`` ``number``, ``bool``
  ``boolean``, ``None`` ``null``, ``Any``/``object`` ``{}``; dates and times are
  strings with a ``format`` (``date-time``, ``date``, ``time``, ``duration``),
  as is ``UUID`` (``uuid``); ``Decimal`` is ``anyOf`` number/string (the string
  pattern-checked before pydantic 2.14) when validating, the string when serializing;
- ``bytes``: ``{"type": "string", "contentMediaType": "application/octet-stream"}``
  as FastAPI writes it (the ``"fastapi"`` flavour), ``format: binary`` as plain
  pydantic does; ``UploadFile``: FastAPI's, the former, in both flavours;
- ``list``/``Sequence``: ``array`` with ``items``; ``set``/``frozenset``: also
  ``uniqueItems``; ``tuple[A, B]``: ``prefixItems`` and its length; ``dict``:
  ``object`` with ``additionalProperties`` (``propertyNames`` when its keys
  are constrained, ``patternProperties`` for a pattern);
- ``X | Y``: ``anyOf`` (nested ones flattened, duplicates dropped), ``None``
  last; ``Literal``: ``const`` or ``enum``, with ``type`` when all values share one;
- an Enum, a dataclass and a TypedDict (generic ones too) are definitions,
  given as a ``$ref`` (``_schema_records``); a pydantic model is pydantic's
  (``Registry.delegate``);
- ``Annotated[T, ...]``: ``T`` with its extras laid on (``_schema_metadata``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import inspect
import types
import typing
import uuid
from collections import abc
from collections.abc import Callable, Hashable
from typing import Annotated, Any, Literal, Protocol, Union, get_args, get_origin

from .._convert import UnsupportedType, is_pydantic_type, is_typeddict, type_name
from ..datastructures import UploadFile
from ..params import REQUIRED
from ._schema_checks import BEFORE_PYDANTIC_2_14, decimal_json
from ._schema_defaults import NotEncodable, encode
from ._schema_metadata import Info, Override, apply, expand
from ._schema_nodes import Mode, Node, any_of, with_default
from ._schema_records import (
    class_keys,
    config_of,
    dataclass_fields,
    record_body,
    typeddict_extras,
    typeddict_fields,
)

__all__ = ["Builder", "Flavor", "Registry"]

Flavor = Literal["fastapi", "pydantic"]

_FILE = {"type": "string", "contentMediaType": "application/octet-stream"}
# type -> (JSON Schema, pydantic's core schema type)
_SCALARS: dict[Any, tuple[dict[str, Any], str]] = {
    str: ({"type": "string"}, "str"),
    int: ({"type": "integer"}, "int"),
    float: ({"type": "number"}, "float"),
    bool: ({"type": "boolean"}, "bool"),
    dt.datetime: ({"type": "string", "format": "date-time"}, "datetime"),
    dt.date: ({"type": "string", "format": "date"}, "date"),
    dt.time: ({"type": "string", "format": "time"}, "time"),
    dt.timedelta: ({"type": "string", "format": "duration"}, "timedelta"),
    uuid.UUID: ({"type": "string", "format": "uuid"}, "uuid"),
}
# The JSON type of a Literal's or an Enum's values, when they all have one type.
_VALUE_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number",
                                 bool: "boolean", list: "array"}
# What ``get_origin`` gives for each container, and pydantic's core schema type for it.
_ARRAYS: dict[Any, str] = {list: "list", abc.MutableSequence: "list", abc.Sequence: "sequence",
                           set: "set", abc.MutableSet: "set", frozenset: "frozenset",
                           abc.Set: "frozenset"}
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)


class Registry(Protocol):
    """What the builder needs of the generator: definitions and pydantic."""

    flavor: Flavor

    def ref(self, tp: Any, mode: Mode, body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A new ``{"$ref": ...}`` to the definition of ``tp``, built by ``body()`` once."""

    def delegate(self, tp: Any, mode: Mode) -> dict[str, Any]:
        """pydantic's schema of ``tp`` (a pydantic model), its definitions kept."""

    def pydantic_owns(self, tp: Any) -> bool:
        """Whether pydantic describes the record ``tp`` (see ``_schema_pydantic``)."""

    def hashable(self, value: Any) -> Hashable:
        """``value`` as a hashable, each reference standing for its definition."""

    def body_of(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        """The finished definition ``ref`` points to."""


class Builder:
    """Builds nodes in one mode, the generator keeping the definitions."""

    def __init__(self, registry: Registry, mode: Mode) -> None:
        self.registry = registry
        self.mode: Mode = mode
        # The config ``extra`` of the record being built, which one without a config of its
        # own inside it takes (pydantic's config stack).
        self.extra: Any = None

    def hashable(self, value: Any) -> Hashable:
        return self.registry.hashable(value)

    def body_of(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        return self.registry.body_of(ref)

    def build(self, tp: Any) -> Node:
        if tp is Any or tp is object:
            return Node({}, "any")
        if tp is None or tp is type(None):
            return Node({"type": "null"}, "none")
        origin, args = get_origin(tp), get_args(tp)
        if origin is Annotated:
            return self.annotated(args[0], args[1:], field_level=False)[0]
        scalar = _scalar(tp)
        if scalar is not None:
            return Node(dict(scalar[0]), scalar[1])
        if tp is bytes:
            return Node(dict(_FILE) if self.registry.flavor == "fastapi"
                        else {"type": "string", "format": "binary"}, "bytes")
        if tp is decimal.Decimal:
            return Node(decimal_json({}, self.mode), "decimal")
        if isinstance(tp, typing.NewType):
            return self.build(tp.__supertype__)
        if isinstance(tp, typing.TypeVar):
            return self._typevar(tp)
        if origin is Union or origin is types.UnionType:
            return self._union(args)
        if origin is Literal:
            return _literal(tp)
        if is_pydantic_type(tp) or is_pydantic_type(origin):
            return Node(self.registry.delegate(tp, self.mode), "model", titled=False)
        if isinstance(tp, type) and issubclass(tp, UploadFile):
            return Node(dict(_FILE), "function-plain")
        record = origin if origin is not None else tp
        kind = _record_kind(record)
        if kind is None:
            return self._container(tp, origin, args)
        if self.registry.pydantic_owns(tp):
            return Node(self.registry.delegate(tp, self.mode), kind, titled=False)
        if kind == "enum":
            return Node(self.registry.ref(tp, self.mode, lambda: _enum_body(tp)), kind,
                        titled=False)
        return self._record(tp, record, kind)

    def annotated(self, base: Any, metadata: tuple[Any, ...],
                  *, field_level: bool) -> tuple[Node, list[Info]]:
        """``Annotated[base, *metadata]``; on a field (``field_level``) the ``Info``
        items are the field's, returned and not applied (nor their defaults)."""
        node = self.build(base)
        items = list(expand(metadata))
        infos: list[Info] = []
        deferred: list[Override] = []  # pydantic applies these over the finished schema
        for item in items:
            if isinstance(item, Info):
                infos.append(item)
                if field_level:
                    continue
            if isinstance(item, Override):
                deferred.append(item)
                continue
            node = apply(node, item, self, lambda: self.build(base))
        for override in deferred:
            node = apply(node, override, self, lambda: self.build(base))
        if not field_level:
            for info in infos:  # each default wraps what is inside: the last one shows
                if info.default is not REQUIRED and not info.factory:
                    node = with_default(node, info.default, self)
        return node, infos

    def _typevar(self, tp: typing.TypeVar) -> Node:
        """An unbound type variable: its default, its constraints, its bound or ``Any``."""
        default = getattr(tp, "__default__", None)
        if default is not None and type(default).__name__ != "NoDefaultType":
            return self.build(default)
        if tp.__constraints__:
            return self._union(tp.__constraints__)
        return self.build(tp.__bound__) if tp.__bound__ is not None else Node({}, "any")

    def _union(self, args: tuple[Any, ...]) -> Node:
        members = [arg for arg in args if arg is not None and arg is not type(None)]
        if not members:
            return Node({"type": "null"}, "none")
        nodes = [self.build(member) for member in members]
        node = nodes[0] if len(nodes) == 1 else Node(
            any_of(self, [member.render(self) for member in nodes]), "union")
        return Node.nullable(node) if len(members) < len(args) else node

    def _record(self, tp: Any, cls: type, kind: str) -> Node:
        def body() -> dict[str, Any]:
            fields = dataclass_fields(tp) if kind == "dataclass" else typeddict_fields(tp)
            if self.mode == "serialization" and not BEFORE_PYDANTIC_2_14:  # 2.14 drops InitVars
                fields = [spec for spec in fields if not spec.init_only]
            config, inherited = config_of(cls), self.extra
            self.extra = config.get("extra") if config is not None else inherited
            try:
                json = record_body(self, fields)
                if kind == "typed-dict":
                    self._extra_items(json, tp)
            finally:
                self.extra = inherited
            class_keys(json, cls, inherited)
            return json

        return Node(self.registry.ref(tp, self.mode, body), kind, titled=False)

    def _extra_items(self, json: dict[str, Any], tp: Any) -> None:
        """PEP 728: a closed TypedDict forbids other keys; ``extra_items`` types them."""
        closed, items = typeddict_extras(tp)
        if closed:
            json["additionalProperties"] = False
        elif items is not REQUIRED:
            node = self.build(items)
            schema = node.render(self)
            json["additionalProperties"] = schema if schema or node.kind != "any" else True

    def _container(self, tp: Any, origin: Any, args: tuple[Any, ...]) -> Node:
        container = origin if origin is not None else tp
        if container in _ARRAYS:
            kind = _ARRAYS[container]
            json: dict[str, Any] = {"type": "array",
                                    "items": self.build(args[0]).render(self) if args else {}}
            if kind in ("set", "frozenset"):
                json["uniqueItems"] = True
            if kind == "sequence":  # pydantic: json-or-python, a list in JSON
                return Node(json, "json-or-python", inner_kind="list")
            return Node(json, kind)
        if container is tuple:
            return Node(self._tuple(tp, args), "tuple")
        if container in _MAPPINGS:
            return Node(self._dict(args), "dict")
        raise UnsupportedType(
            f"microready cannot describe {type_name(tp)} in a JSON Schema; use str, int, float, "
            "bool, bytes, an Enum, a Literal, UUID, Decimal, a date or time, a list, set, tuple "
            "or dict, a dataclass or a TypedDict (or a pydantic model)"
        )

    def _tuple(self, tp: Any, args: tuple[Any, ...]) -> dict[str, Any]:
        if not args and tp in (tuple, typing.Tuple):  # noqa: UP006 - bare, as pydantic tells
            return {"type": "array", "items": {}}
        if args == ((),):  # typing.Tuple[()] before Python 3.11
            args = ()
        if args and args[-1] is Ellipsis:
            return {"type": "array", "items": self.build(args[0]).render(self)}
        json: dict[str, Any] = {"type": "array"}
        if args:
            json["prefixItems"] = [self.build(arg).render(self) for arg in args]
        json["minItems"] = json["maxItems"] = len(args)
        return json

    def _dict(self, args: tuple[Any, ...]) -> dict[str, Any]:
        """pydantic's ``dict_schema``: keys' constraints as ``propertyNames``."""
        keys = self.build(args[0]).render(self) if args else {}
        pattern = None
        if "$ref" not in keys:
            pattern = keys.pop("pattern", None)
            keys.pop("title", None)
        values = self.build(args[1]).render(self) if len(args) > 1 else {}
        values.pop("title", None)
        json: dict[str, Any] = {"type": "object"}
        if pattern is not None:
            json["patternProperties"] = {pattern: values}
        else:
            json["additionalProperties"] = values or True
        if (keys.get("type") == "string" and len(keys) > 1) or "$ref" in keys:
            keys.pop("type", None)
            json["propertyNames"] = keys
        return json


def _record_kind(cls: Any) -> str | None:
    """pydantic's core schema type for a class with a definition, if ``cls`` is one."""
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return "enum"
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return "dataclass"
    return "typed-dict" if is_typeddict(cls) else None


def _scalar(tp: Any) -> tuple[dict[str, Any], str] | None:
    try:
        return _SCALARS.get(tp)
    except TypeError:  # unhashable
        return None


def _json_value(value: Any) -> Any:
    try:
        return encode(value.value if isinstance(value, enum.Enum) else value)
    except NotEncodable:
        return repr(value)


def _typed(json: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    kinds = {type(value) for value in values}
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind in _VALUE_TYPES:
            json["type"] = _VALUE_TYPES[kind]
        elif kind is type(None):
            json["type"] = "null"
    return json


def _literal(tp: Any) -> Node:
    values = [_json_value(value) for value in _literal_values(tp)]
    json = {"const": values[0]} if len(values) == 1 else {"enum": values}
    return Node(_typed(json, values), "literal")


def _literal_values(tp: Any) -> list[Any]:
    values: list[Any] = []
    for arg in get_args(tp):
        values.extend(_literal_values(arg) if get_origin(arg) is Literal else [arg])
    return values


def _enum_body(tp: type[enum.Enum]) -> dict[str, Any]:
    json: dict[str, Any] = {"title": tp.__name__}
    description = inspect.cleandoc(tp.__doc__) if tp.__doc__ else None
    if description and description != "An enumeration.":  # Python's default before 3.11
        json["description"] = description
    values = [_json_value(member.value) for member in tp.__members__.values()]
    json["enum"] = values
    kinds = {type(value) for value in values}
    if len(kinds) == 1 and (kind := kinds.pop()) in _VALUE_TYPES:
        json["type"] = _VALUE_TYPES[kind]
    return json
