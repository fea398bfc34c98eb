"""The JSON Schema of one parameter or body field, as FastAPI (pydantic) writes it.

The type's own schema comes from the schema generator (``_json_schema``);
this module adds what the *field* says on top, the way pydantic's field
schema does and FastAPI then patches it:

* the checks (``Query(max_length=50)``, ``Path(ge=1)``) go on the member of
  the type they apply to: ``str | None`` with ``max_length=50`` is
  ``{"anyOf": [{"type": "string", "maxLength": 50}, {"type": "null"}]}``;
* ``default`` (JSON-encoded; never for a ``default_factory``), ``description``,
  ``examples``, ``deprecated`` and ``json_schema_extra`` join the schema;
* ``title`` is the marker's, or the key title-cased (``user-agent`` ->
  ``User-Agent``, ``item_id`` -> ``Item Id``), unless the schema is a ``$ref``
  (FastAPI's rule, kept from pydantic v1).

An uploaded file (``File()`` as ``bytes``, or ``UploadFile``) is
``{"type": "string", "contentMediaType": "application/octet-stream"}``.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol, Union, get_args, get_origin

from .._inject.plan import ParamPlan
from ..datastructures import UploadFile
from ..encoders import jsonable_encoder
from ..params import REQUIRED, Constraints, FileParam

__all__ = ["Generator", "Mode", "field_schema", "title_of"]

Mode = Literal["validation", "serialization"]

_FILE_SCHEMA: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}

# (constraint, JSON Schema keyword) for each kind of schema the constraint applies to.
_NUMBER_KEYS = (("gt", "exclusiveMinimum"), ("ge", "minimum"), ("lt", "exclusiveMaximum"),
                ("le", "maximum"), ("multiple_of", "multipleOf"))
_CONSTRAINT_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "integer": _NUMBER_KEYS,
    "number": _NUMBER_KEYS,
    "string": (("min_length", "minLength"), ("max_length", "maxLength"), ("pattern", "pattern")),
    "array": (("min_length", "minItems"), ("max_length", "maxItems")),
    "object": (("min_length", "minProperties"), ("max_length", "maxProperties")),
}


class Generator(Protocol):
    """What this package needs of ``_json_schema.SchemaGenerator``."""

    def schema(self, tp: Any, *, mode: Mode = "validation") -> dict[str, Any]: ...

    @property
    def definitions(self) -> dict[str, dict[str, Any]]: ...

    def resolve_refs(self, document: Any) -> None: ...


def title_of(key: str) -> str:
    """pydantic v1's title, which FastAPI keeps for parameters: ``item_id`` -> ``Item Id``."""
    return key.title().replace("_", " ")


def _file_schema(tp: Any) -> dict[str, Any]:
    """``bytes``, ``UploadFile``, a list of them, either optional: the upload's schema."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _file_schema(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        members = [_file_schema(arg) for arg in get_args(tp) if arg is not type(None)]
        has_null = type(None) in get_args(tp)
        if len(members) == 1 and not has_null:
            return members[0]
        return {"anyOf": [*members, *([{"type": "null"}] if has_null else [])]}
    if origin in (list, tuple, set, frozenset, Sequence):
        args = get_args(tp)
        return {"type": "array", "items": _file_schema(args[0]) if args else dict(_FILE_SCHEMA)}
    return dict(_FILE_SCHEMA)


def _is_file_type(tp: Any) -> bool:
    if get_origin(tp) is not None:
        return any(_is_file_type(arg) for arg in get_args(tp) if arg is not type(None))
    return tp is bytes or (isinstance(tp, type) and issubclass(tp, UploadFile))


def constrain(schema: dict[str, Any], constraints: Constraints | None) -> None:
    """Put ``constraints`` on the members of ``schema`` whose type they check."""
    if not constraints:
        return
    members = schema.get("anyOf")
    for member in members if isinstance(members, list) else [schema]:
        kind = member.get("type")
        for name, keyword in _CONSTRAINT_KEYS.get(kind if isinstance(kind, str) else "", ()):
            value = getattr(constraints, name)
            if value is not None:
                member[keyword] = value


def field_schema(generator: Generator, param: ParamPlan, key: str,
                 mode: Mode = "validation") -> dict[str, Any]:
    """The schema of ``param`` as FastAPI documents it, titled after ``key``."""
    marker = param.marker
    tp = param.annotation
    if (isinstance(marker, FileParam) or param.from_form) and _is_file_type(tp):
        schema = _file_schema(tp)
    else:
        schema = dict(generator.schema(tp, mode=mode))
    constrain(schema, param.constraints)
    if marker is not None:
        if marker.description:
            schema["description"] = marker.description
        if marker.examples is not None:
            schema["examples"] = jsonable_encoder(marker.examples)
        if marker.deprecated:
            schema["deprecated"] = True
        if marker.title:
            schema["title"] = marker.title
    if not param.required and param.default_factory is None and param.default is not REQUIRED:
        schema["default"] = jsonable_encoder(param.default)
    if marker is not None and marker.json_schema_extra:
        schema.update(marker.json_schema_extra)
    if "$ref" not in schema:
        schema["title"] = (marker.title if marker is not None else None) or title_of(key)
    return schema
