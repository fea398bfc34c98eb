"""JSON Schemas as pydantic gives them, without pydantic: what FastAPI puts in an
OpenAPI document's ``components/schemas``.

One ``SchemaGenerator`` serves a whole document: every record (dataclass,
TypedDict, Enum, pydantic model) it meets becomes one definition, named as
pydantic names it (``_schema_names``), and is referred to by a ``$ref``::

    generator = SchemaGenerator()
    generator.schema(Item)                   # {"$ref": "#/components/schemas/Item"}
    generator.schema(list[Item] | None)      # {"anyOf": [{"type": "array", ...}, ...]}
    generator.schema(Item, mode="serialization")
    generator.definitions                    # {"Item": {...}} (or Item-Input/Item-Output)

A name can change as more schemas are asked for: ``Item`` becomes
``Item-Input`` and ``Item-Output`` once its two modes give different schemas,
as in FastAPI, which names all definitions at once. Every ``$ref`` dict the
generator has handed out is renamed in place then (each ``schema()`` returns
new dicts, yours to change); a copy is not, so pass the finished document to
``resolve_refs`` (a name once given up is never given to another definition),
and read ``definitions`` (a copy) once every schema has been asked for.

A pydantic model (or pydantic dataclass), and a record holding one or held by
one, is left to pydantic (``_schema_pydantic``), which is imported only then.
Every other type is described by the modules next to this one
(``_schema_types``, ``_schema_records``, ``_schema_metadata``,
``_schema_checks``), rule for rule as the installed pydantic does (2.13 or
2.14, whose few changes ``_schema_checks.BEFORE_PYDANTIC_2_14`` switches), keys
sorted as pydantic sorts them. Where they knowingly differ, see the docstring
of ``tests/app/test_json_schema.py``.

The ``"fastapi"`` flavour (the default) is FastAPI's patch of pydantic:
``bytes`` is ``{"type": "string", "contentMediaType": "application/octet-stream"}``
(pydantic: ``"format": "binary"``), and a definition's description stops at
a form feed (``\\f``). ``flavor="pydantic"`` gives pydantic's own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Annotated, Any, NamedTuple, get_args, get_origin

from ..params import REQUIRED, Param
from ._schema_metadata import add_info, merge_infos
from ._schema_names import Namer, choose_names, core_ref, sort_schema
from ._schema_nodes import Mode, with_default
from ._schema_pydantic import PydanticSide
from ._schema_records import FieldSpec, record_body
from ._schema_types import Builder, Flavor

__all__ = ["FieldSpec", "ModelField", "SchemaGenerator"]

_Key = tuple[Any, Mode]  # a definition: the type (or a made-up model's token) and the mode


class ModelField(NamedTuple):
    """A field of a made-up model (``model_schema``): FastAPI's ``Body_...`` models."""

    name: str  # the property name (the alias, if any)
    annotation: Any
    default: Any = REQUIRED  # REQUIRED: the marker's (Form("x"), default_factory), if any
    marker: Param | None = None  # title, description, examples, checks...


class _Definition:
    __slots__ = ("body", "candidates", "shape")

    def __init__(self, candidates: list[str]) -> None:
        self.candidates = candidates
        self.body: dict[str, Any] | None = None  # None while it is being built
        self.shape: _Shape | None = None  # the body, once done, for comparing (_shape)


class _Shape(NamedTuple):
    """A schema for comparing: its form with references left blank (numbered: equal forms
    get one number) and its ``$ref`` dicts, in the order of the blanks."""

    form: int
    refs: tuple[dict[str, Any], ...]


class SchemaGenerator:
    """JSON Schemas for many types, sharing one set of definitions (components/schemas)."""

    def __init__(self, *, ref_template: str = "#/components/schemas/{model}",
                 flavor: Flavor = "fastapi") -> None:
        self.ref_template = ref_template
        self.flavor: Flavor = flavor
        self._namer = Namer()
        self._definitions: dict[_Key, _Definition] = {}
        self._names: dict[_Key, str] = {}
        self._refs: dict[_Key, list[dict[str, Any]]] = {}  # every $ref handed out, live
        self._ref_keys: dict[int, _Key] = {}  # id of such a $ref dict -> its definition
        self._new: list[_Key] = []  # definitions made since they were last named
        self._rename_all = False  # pydantic's side changed: name everything again
        self._claimed: set[str] = set()  # every candidate name of the named definitions
        self._made_up = 0
        self._forms: dict[Hashable, int] = {}  # a blanked schema -> its number (_shape)
        self._past: dict[str, _Key] = {}  # a $ref value no longer given -> its definition
        self._pydantic = PydanticSide(ref_template, flavor)

    # -- the interface -------------------------------------------------------------------

    def schema(self, tp: Any, *, mode: Mode = "validation") -> dict[str, Any]:
        """The schema of ``tp``: a ``{"$ref": ...}`` for a record (its definition added),
        inline otherwise."""
        builder = Builder(self, mode)
        json = builder.build(tp).render(builder)
        return self._finish(json)

    @property
    def definitions(self) -> dict[str, dict[str, Any]]:
        """Every definition so far, by name, sorted as FastAPI sorts components (a copy)."""
        self._settle()
        found: dict[str, dict[str, Any]] = {}
        for key, definition in self._definitions.items():
            if definition.body is not None:
                found.setdefault(self._names[key], copy.deepcopy(definition.body))
        for name, body in self._pydantic.definitions.items():
            found.setdefault(name, copy.deepcopy(body))
        if self.flavor == "fastapi":
            for body in found.values():  # FastAPI's get_definitions: up to a form feed
                if isinstance(body.get("description"), str):
                    body["description"] = body["description"].split("\f")[0]
        return {name: found[name] for name in sorted(found)}

    def resolve_refs(self, document: Any) -> None:
        """Rename, in place, every ``$ref`` in ``document`` that still names a definition by
        a name it no longer has (a copy of a ``schema()`` made before it became
        ``Item-Input``, say): call it on the finished document. A name once given up
        is never given to another definition, so the rename is never ambiguous."""
        self._settle()
        names = [self._names[key] for key in self._definitions] + list(self._pydantic.definitions)
        current = {self.ref_template.format(model=name) for name in names}
        stack = [document]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                ref = value.get("$ref")
                if isinstance(ref, str) and ref not in current:
                    value["$ref"] = self._current_ref(ref)
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)

    def _current_ref(self, ref: str) -> str:
        if ref in self._past:
            key = self._past[ref]
            if key in self._definitions:
                return self.ref_template.format(model=self._names[key])
            return self._pydantic.current(key) or ref  # moved to pydantic's side
        if ref in self._pydantic.past:
            return self._pydantic.current(self._pydantic.past[ref]) or ref
        return ref

    def param_schema(self, tp: Any, *, name: str, marker: Param | None = None,
                     default: Any = REQUIRED, mode: Mode = "validation") -> dict[str, Any]:
        """A parameter's schema as FastAPI writes it (``get_schema_from_model_field``).

        ``tp`` is the annotation (``Annotated`` extras kept), ``marker`` the
        ``Query()``/``Path()``/``Header()``/``Cookie()``/``Body()`` object if any (its
        checks, title, description, examples, deprecated and json_schema_extra join
        the schema; its own default is not read), ``default`` the parameter's default
        (``REQUIRED``: none; pass ``REQUIRED`` for a default_factory too) and
        ``name`` the key it is read under. FastAPI's title rule: the marker's title,
        else ``name`` title-cased (``user-agent`` -> ``User-Agent``), unless the
        schema is a ``$ref``.
        """
        builder = Builder(self, mode)
        extras = (marker,) if marker is not None else ()
        base, metadata = tp, extras
        if get_origin(tp) is Annotated:
            base, *inner = get_args(tp)
            metadata = (*inner, *extras)
        node, infos = builder.annotated(base, metadata, field_level=True)
        info = merge_infos(infos)
        if default is not REQUIRED:
            node = with_default(node, default, builder)
        json = node.render(builder)
        add_info(json, info)
        if "$ref" not in json:
            json["title"] = info.title or name.title().replace("_", " ")
        return self._finish(json)

    def model_schema(self, name: str, fields: Sequence[ModelField], *,
                     mode: Mode = "validation") -> dict[str, Any]:
        """A ``$ref`` to a made-up model named ``name`` (FastAPI's ``Body_read_items_get``
        for several body parameters or form fields), its properties titled, defaulted
        and required as a pydantic model's."""
        builder = Builder(self, mode)
        self._made_up += 1
        token = (_MadeUp(name), self._made_up)

        def body() -> dict[str, Any]:
            specs = [FieldSpec(f.name, _with_marker(f.annotation, f.marker), default=f.default)
                     for f in fields]
            json = record_body(builder, specs)
            json["title"] = name
            return json

        return self._finish(self.ref(token, mode, body))

    # -- what the builder asks for (Registry) ---------------------------------------------

    def ref(self, tp: Any, mode: Mode, body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A new ``{"$ref": ...}`` to the definition of ``tp``, built by ``body()`` once."""
        key = (_hashable_type(tp), mode)
        if key not in self._definitions:
            made_up = isinstance(tp, tuple) and isinstance(tp[0], _MadeUp)
            ref = f"microready.openapi.{tp[0]}:{id(tp)}" if made_up else core_ref(tp)
            definition = _Definition(self._namer.candidates(ref, mode))
            self._definitions[key] = definition
            self._names[key] = definition.candidates[-1]
            self._new.append(key)
            try:
                definition.body = body()
            except BaseException:
                del self._definitions[key]
                raise
            sort_schema(definition.body)
            definition.shape = self._shape(definition.body)
        json = {"$ref": self.ref_template.format(model=self._names[key])}
        self._refs.setdefault(key, []).append(json)
        self._ref_keys[id(json)] = key
        return json

    def pydantic_owns(self, tp: Any) -> bool:
        """Whether pydantic describes the record ``tp`` (it refers to a pydantic model, or
        a pydantic model refers to it)."""
        return self._pydantic.owns(_hashable_type(tp))

    def delegate(self, tp: Any, mode: Mode) -> dict[str, Any]:
        """pydantic's schema of ``tp``; the definitions of the records it refers to that
        were made here move to pydantic's side, their ``$ref``s with them."""
        changed = self._pydantic.add(tp, mode)
        moved = [key for found in self._pydantic.adopt(tp) for key in self._definitions
                 if key[0] == _hashable_type(found) and self._definitions[key].body is not None]
        for found, found_mode in moved:
            changed = self._pydantic.add(found, found_mode) or changed
        if changed:
            self._pydantic.regenerate()
            self._rename_all = True
        for key in moved:
            self._past[self.ref_template.format(model=self._names[key])] = key
            del self._definitions[key]
            refs = self._refs.pop(key, [])
            for json in refs:
                del self._ref_keys[id(json)]
            self._pydantic.take(key, refs)
        return self._pydantic.ref(tp, mode)

    def hashable(self, value: Any) -> Hashable:
        """``value`` hashable, each reference standing for its definition (union members
        are told apart by what they refer to, not by their names so far)."""
        refs: list[dict[str, Any]] = []
        form = _blank(value, refs)
        return form, tuple(self._ref_keys.get(id(ref), ref["$ref"]) for ref in refs)

    def body_of(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        """The finished definition ``ref`` points to (None while it is being built)."""
        key = self._ref_keys.get(id(ref))
        if key is not None:
            return self._definitions[key].body
        return self._pydantic.body_of(ref)

    # -- naming ---------------------------------------------------------------------------

    def _shape(self, body: dict[str, Any]) -> _Shape:
        refs: list[dict[str, Any]] = []
        form = _blank(body, refs)
        return _Shape(self._forms.setdefault(form, len(self._forms)), tuple(refs))

    def _name_in(self, ref: Any) -> str:
        """The definition name in a ``$ref`` value."""
        prefix, _, suffix = self.ref_template.partition("{model}")
        text = str(ref)
        if text.startswith(prefix) and text.endswith(suffix):
            return text[len(prefix):len(text) - len(suffix)]
        return text

    def _finish(self, json: dict[str, Any]) -> dict[str, Any]:
        self._settle()
        sort_schema(json)
        return json

    def _settle(self) -> None:
        """Name the definitions made since last time and rename the ``$ref``s to them;
        all of them when a new one can take a name another could (or pydantic's changed),
        as pydantic names all of them at once."""
        new = [key for key in self._new if key in self._definitions]
        if not new and not self._rename_all:
            return
        candidates = {key: self._definitions[key].candidates for key in new}
        every = self._rename_all or any(
            name in self._claimed for names in candidates.values() for name in names)
        if every:
            candidates = {key: definition.candidates
                          for key, definition in self._definitions.items()}
            self._claimed = set(self._pydantic.definitions)

        def frozen(key: Any, names: Mapping[Any, str]) -> Hashable:
            shape = self._definitions[key].shape
            assert shape is not None  # only finished definitions are named
            keys = self._ref_keys
            return shape.form, tuple(
                (names.get(keys[id(ref)]) or self._names[keys[id(ref)]]) if id(ref) in keys
                else self._name_in(ref["$ref"]) for ref in shape.refs)

        fixed: dict[str, Hashable] = {}
        for name, body in self._pydantic.definitions.items():
            shape = self._shape(body)
            fixed[name] = shape.form, tuple(self._name_in(ref["$ref"]) for ref in shape.refs)
        for key, name in choose_names(candidates, frozen, fixed).items():
            if self._names[key] != name:
                self._past[self.ref_template.format(model=self._names[key])] = key
                self._names[key] = name
        self._claimed.update(name for names in candidates.values() for name in names)
        self._new.clear()
        self._rename_all = False
        for key in candidates:
            for json in self._refs.get(key, ()):
                json["$ref"] = self.ref_template.format(model=self._names[key])


class _MadeUp(str):
    """The name of a model ``model_schema`` makes up (a ``str``, told apart by type)."""

    __slots__ = ()


def _blank(value: Any, refs: list[dict[str, Any]]) -> Hashable:
    """``value`` hashable, each ``$ref`` left blank and its dict appended to ``refs``
    (keys in sorted order, so equal schemas give equal forms and references)."""
    if isinstance(value, dict):
        items: list[tuple[str, Hashable]] = []
        for key, item in sorted(value.items(), key=lambda pair: pair[0]):
            if key == "$ref" and isinstance(item, str):
                refs.append(value)
                items.append((key, None))
            else:
                items.append((key, _blank(item, refs)))
        return tuple(items)
    if isinstance(value, list):
        return tuple(_blank(item, refs) for item in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[no-any-return]


def _hashable_type(tp: Any) -> Any:
    try:
        hash(tp)
    except TypeError:
        return ("unhashable", id(tp))
    return tp


def _with_marker(tp: Any, marker: Param | None) -> Any:
    return tp if marker is None else Annotated[tp, marker]
