"""Records: the definition of a dataclass or a TypedDict, as pydantic writes it.

``{"type": "object", "properties": {...}, "required": [...], "title": "Item"}``:

- a property per field, in declaration order (a dataclass's keyword-only
  fields last, as pydantic orders its arguments), named by its alias when a
  ``Field()`` gives one (the validation alias, or in serialization mode the
  serialization alias); a dataclass field with ``init=False`` and no default
  is left out, an ``InitVar`` kept; ``Field(exclude=True)`` leaves a field out
  of the serialization schema;
- each titled after its name (``item_id`` -> ``"Item Id"``) unless it holds
  a record, an Enum or ``X | None`` of one (those have their own title), with
  its ``default`` (none for a ``default_factory``) and what its ``Field()``
  says; keys equal to the referenced definition's are dropped
  (``handle_ref_overrides``);
- ``required``: the fields with no default (a TypedDict's: its required keys
  with no default), in both modes (pydantic's default
  ``json_schema_serialization_defaults_required=False``);
- the class's ``__name__`` as title, its docstring as description (not the
  signature a dataclass makes up), ``"deprecated": true`` under
  ``@warnings.deprecated`` (from pydantic 2.14 not on a subclass, nor over a
  ``json_schema_extra`` that says it), and from a ``__pydantic_config__``
  (``@pydantic.with_config``) only ``title``, ``extra`` and
  ``json_schema_extra``; a record with no config of its own takes the ``extra``
  of the record it is met in (shown on a TypedDict, and from 2.14 on a
  dataclass too, as pydantic's config stack does);
- a TypedDict's PEP 728 ``closed=True`` (``additionalProperties: false``) or
  ``extra_items=T`` (``T``'s schema), over any config.

A generic record's type variables are replaced by its arguments
(``Box[int]``); one left unbound is its bound, its constraints, or ``Any``.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Annotated, Any, Protocol, get_args, get_origin

from .._convert import UnsupportedType, is_typeddict
from ..params import REQUIRED
from ._schema_checks import BEFORE_PYDANTIC_2_14
from ._schema_metadata import Info, add_info, merge_infos
from ._schema_nodes import Context, Node, with_default

__all__ = ["FieldBuilder", "FieldSpec", "class_keys", "config_of", "dataclass_fields",
           "record_body", "records_in", "substitute", "title_of", "typeddict_extras",
           "typeddict_fields"]


class FieldBuilder(Context, Protocol):
    def annotated(self, base: Any, metadata: tuple[Any, ...],
                  *, field_level: bool) -> tuple[Node, list[Info]]:
        """The node of ``Annotated[base, *metadata]`` and the ``Info`` items it holds."""

    def body_of(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        """The finished definition ``ref`` points to (None while it is being built)."""


@dataclasses.dataclass
class FieldSpec:
    """A field of a record: its name, annotation (extras kept) and default."""

    name: str
    annotation: Any
    default: Any = REQUIRED
    factory: bool = False
    required: bool = True  # a TypedDict's NotRequired keys: False
    init_only: bool = False  # a dataclass InitVar: not serialized (pydantic 2.14 drops it there)


def title_of(name: str) -> str:
    """pydantic's field title: ``item_id`` -> ``Item Id``."""
    return name.title().replace("_", " ").strip()


def _hints(cls: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError as exc:
        raise UnsupportedType(
            f"cannot resolve the annotations of {cls.__qualname__}: {exc}. Define the types it "
            "refers to at module level (string annotations are looked up in the module)"
        ) from None


def substitute(hint: Any, mapping: dict[Any, Any]) -> Any:
    """``hint`` with the type variables of ``mapping`` replaced (``list[T]`` -> ``list[int]``)."""
    if isinstance(hint, typing.TypeVar):
        return mapping.get(hint, hint)
    parameters = getattr(hint, "__parameters__", ())
    if mapping and parameters and get_origin(hint) is not None:
        return hint[tuple(mapping.get(p, p) for p in parameters)]
    return hint


def _typevars(tp: Any) -> tuple[Any, dict[Any, Any]]:
    origin = get_origin(tp)
    if origin is None:
        return tp, {}
    return origin, dict(zip(getattr(origin, "__parameters__", ()), get_args(tp), strict=False))


def _field_info_default(default: Any) -> bool:
    cls = getattr(sys.modules.get("pydantic.fields"), "FieldInfo", None)
    return isinstance(cls, type) and isinstance(default, cls)


def dataclass_fields(tp: Any) -> list[FieldSpec]:
    """The fields pydantic sees in a dataclass, in its order."""
    cls, mapping = _typevars(tp)
    hints = _hints(cls)
    regular = {f.name for f in dataclasses.fields(cls)}
    first: list[FieldSpec] = []
    last: list[FieldSpec] = []
    for name, field in cls.__dataclass_fields__.items():
        hint = hints.get(name, field.type)
        init_only = isinstance(hint, dataclasses.InitVar)
        if init_only:
            hint = hint.type
        elif name not in regular:  # a ClassVar
            continue
        if (not field.init and field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING):
            continue
        spec = FieldSpec(name, substitute(hint, mapping),
                         factory=field.default_factory is not dataclasses.MISSING,
                         init_only=init_only)
        if _field_info_default(field.default):  # ``x: int = Field(3, description=...)``
            spec.annotation = Annotated[spec.annotation, field.default]
        elif field.default is not dataclasses.MISSING:
            spec.default = field.default
        (last if getattr(field, "kw_only", False) is True else first).append(spec)
    return first + last


def _qualifiers() -> dict[Any, str]:
    found: dict[Any, str] = {}
    for module in (typing, sys.modules.get("typing_extensions")):
        for name, qualifier in (("Required", "required"), ("NotRequired", "not_required"),
                                ("ReadOnly", "read_only")):
            wrapper = getattr(module, name, None)
            if wrapper is not None:
                found[wrapper] = qualifier
    return found


def _strip_qualifiers(hint: Any, qualifiers: dict[Any, str]) -> tuple[Any, set[str]]:
    origin = get_origin(hint)
    if origin is Annotated:
        args = get_args(hint)
        inner, found = _strip_qualifiers(args[0], qualifiers)
        params = (inner, *args[1:])
        annotated: Any = Annotated
        return (annotated[params] if found else hint), found
    if origin in qualifiers:
        inner, found = _strip_qualifiers(get_args(hint)[0], qualifiers)
        return inner, {qualifiers[origin], *found}
    return hint, set()


def typeddict_fields(tp: Any) -> list[FieldSpec]:
    """The keys of a TypedDict, required or not as pydantic reads them."""
    cls, mapping = _typevars(tp)
    required_keys = frozenset(getattr(cls, "__required_keys__", ()))
    qualifiers = _qualifiers()
    specs = []
    for name, hint in _hints(cls).items():
        hint, found = _strip_qualifiers(hint, qualifiers)
        required = (name in required_keys or "required" in found) and "not_required" not in found
        specs.append(FieldSpec(name, substitute(hint, mapping), required=required))
    return specs


def _sentinel(value: Any, name: str) -> bool:
    """Whether ``value`` is ``typing``'s or ``typing_extensions``' object ``name``."""
    modules = (typing, sys.modules.get("typing_extensions"))
    return any(value is getattr(module, name, object()) for module in modules)


def _classes(cls: Any) -> list[Any]:
    """A TypedDict and the TypedDicts it extends (``__orig_bases__``: its ``__bases__`` are
    ``dict``'s), each once, nearest first: pydantic's MRO for a line of bases."""
    found: list[Any] = []
    todo = [cls]
    while todo:
        tp = todo.pop(0)
        origin = get_origin(tp) or tp
        if isinstance(origin, type) and origin not in found and is_typeddict(origin):
            found.append(origin)
            todo[:0] = list(getattr(origin, "__orig_bases__", ()))
    return found


def _no_items(items: Any) -> bool:
    return items is None or _sentinel(items, "NoExtraItems")


def typeddict_extras(tp: Any) -> tuple[bool, Any]:
    """``(closed, extra items' type)`` of a TypedDict (PEP 728), REQUIRED for no extra
    items. pydantic 2.14 reads them from the first class of its bases saying either, 2.13
    from the class; ``extra_items=Never`` is closed, ``ReadOnly`` dropped (2.13 refuses
    both)."""
    cls, mapping = _typevars(tp)
    if BEFORE_PYDANTIC_2_14:  # each TypedDict class sets both, None when not said
        closed, items = getattr(cls, "__closed__", None), getattr(cls, "__extra_items__", None)
    else:
        for base in _classes(cls):
            closed, items = base.__dict__.get("__closed__"), base.__dict__.get("__extra_items__")
            if closed is not None or not _no_items(items):
                break
        else:
            return False, REQUIRED
    if closed:
        return True, REQUIRED
    if _no_items(items):
        return False, REQUIRED
    items, _ = _strip_qualifiers(items, _qualifiers())
    if _sentinel(items, "Never") or _sentinel(items, "NoReturn"):  # PEP 728: closed
        return True, REQUIRED
    return False, substitute(items, mapping)


def _alias(name: str, info: Info, mode: str) -> str:
    """pydantic's ``_get_alias_name``: the alias a schema names a field by."""
    if mode == "serialization":
        return info.serialization_alias or name
    alias = info.validation_alias
    if isinstance(alias, str):
        return alias
    convert = getattr(alias, "convert_to_aliases", None)
    # AliasChoices: its first one-key path; an AliasPath is one path, of keys, so never.
    for path in convert() if callable(convert) else ():
        if isinstance(path, list) and len(path) == 1 and isinstance(path[0], str):
            return path[0]
    return name


def _drop_ref_overrides(json: dict[str, Any], builder: FieldBuilder) -> None:
    """Keys beside a ``$ref`` that the definition already has (pydantic's
    ``handle_ref_overrides``)."""
    if "$ref" not in json:
        return
    body = builder.body_of(json)
    if body is None:
        return
    for key, value in list(json.items()):
        if key != "$ref" and key in body and body[key] == value:
            del json[key]


def field_schema(builder: FieldBuilder, spec: FieldSpec) -> tuple[str, dict[str, Any], bool] | None:
    """``(property name, schema, required)``; None for a field left out of this mode."""
    base, metadata = spec.annotation, ()
    if get_origin(base) is Annotated:
        base, *extras = get_args(base)
        metadata = tuple(extras)
    node, infos = builder.annotated(base, metadata, field_level=True)
    info = merge_infos(infos)
    if builder.mode == "serialization" and info.exclude:
        return None
    default = spec.default if spec.default is not REQUIRED else info.default
    if default is not REQUIRED:
        node = with_default(node, default, builder)
    json = node.render(builder)
    add_info(json, info)
    key = _alias(spec.name, info, builder.mode)
    if "title" not in json and node.titled:
        json["title"] = title_of(key)
    _drop_ref_overrides(json, builder)
    required = spec.required and default is REQUIRED and not spec.factory and not info.factory
    if builder.mode == "serialization" and info.exclude_if is not None:
        required = False
    return key, json, required


def record_body(builder: FieldBuilder, fields: list[FieldSpec]) -> dict[str, Any]:
    """``{"type": "object", "properties": ..., "required": ...}`` of ``fields``."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec in fields:
        found = field_schema(builder, spec)
        if found is not None:
            key, json, is_required = found
            properties[key] = json
            if is_required:
                required.append(key)
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = required
    return body


def config_of(cls: Any) -> dict[str, Any] | None:
    """A record's ``__pydantic_config__`` (its own or a base class's: a TypedDict's through
    ``__orig_bases__``, as pydantic looks), None without one."""
    config = getattr(cls, "__pydantic_config__", None)
    if config is None and is_typeddict(cls):
        found = [base.__dict__["__pydantic_config__"] for base in _classes(cls)
                 if "__pydantic_config__" in base.__dict__]
        config = found[0] if found else None
    return config if isinstance(config, dict) else None


def class_keys(json: dict[str, Any], cls: Any, inherited_extra: Any = None) -> None:
    """Title, description and the rest a record's class adds (``_update_class_schema``);
    ``inherited_extra``: the ``extra`` a record without a config takes from the one it is
    met in."""
    config: dict[str, Any] = config_of(cls) or {}
    name: str = cls.__name__
    if config.get("title") is not None:
        json.setdefault("title", config["title"])
    json.setdefault("title", name)
    doc = cls.__doc__
    if dataclasses.is_dataclass(cls) and doc is not None and doc.startswith(f"{name}("):
        doc = None  # the signature dataclasses write when there is no docstring
    if doc:
        json.setdefault("description", inspect.cleandoc(doc))
    extra = config.get("extra")
    if config_of(cls) is None and (is_typeddict(cls) or not BEFORE_PYDANTIC_2_14):
        extra = inherited_extra  # pydantic: the core config's extra_fields_behavior
    if "additionalProperties" not in json and extra in ("allow", "forbid"):
        json["additionalProperties"] = extra == "allow"
    schema_extra = config.get("json_schema_extra")
    if isinstance(schema_extra, dict):
        json.update(schema_extra)
    elif callable(schema_extra):
        call: Callable[..., Any] = schema_extra
        if len(inspect.signature(call).parameters) > 1:
            call(json, cls)
        else:
            call(json)
    if BEFORE_PYDANTIC_2_14:
        if hasattr(cls, "__deprecated__"):
            json["deprecated"] = True
    elif "__deprecated__" in cls.__dict__:  # 2.14: a subclass inherits it, not the warning
        json.setdefault("deprecated", True)


def records_in(tp: Any) -> list[Any]:
    """Every record ``tp`` refers to, itself included, through fields and arguments:
    dataclasses, TypedDicts, Enums and pydantic models (whose fields are followed too)."""
    found: list[Any] = []
    seen: set[Any] = set()

    def visit(hint: Any) -> None:
        if isinstance(hint, dataclasses.InitVar):
            hint = hint.type
        origin = get_origin(hint)
        if origin is Annotated:
            visit(get_args(hint)[0])
            return
        if origin is not None and origin is not typing.Literal:
            for arg in get_args(hint):
                visit(arg)
        cls = origin if origin is not None else hint
        if not isinstance(cls, type):
            return
        try:
            if hint in seen:  # records refer to each other: each is looked into once
                return
            seen.add(hint)
        except TypeError:  # an unhashable argument somewhere: not a record
            return
        pydantic_fields = getattr(cls, "__pydantic_fields__", None)
        if isinstance(pydantic_fields, dict):
            found.append(hint)
            for info in pydantic_fields.values():
                visit(getattr(info, "annotation", None))
        elif dataclasses.is_dataclass(cls) or is_typeddict(cls):
            found.append(hint)
            _, mapping = _typevars(hint)
            try:
                hints = _hints(cls)
            except UnsupportedType:
                return
            for field_hint in hints.values():
                visit(substitute(field_hint, mapping))
        elif issubclass(cls, enum.Enum):
            found.append(hint)

    visit(tp)
    return found
