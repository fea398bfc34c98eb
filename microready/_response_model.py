"""A route's response model: the returned value checked and filtered through it, planned once.

``response_model=UserOut`` (or the return annotation, FastAPI 0.89+) means
the client gets what ``UserOut`` has, never more: a returned ``UserIn`` loses
its ``password``. The value is validated against the model; one that does not
fit is a ``ResponseValidationError`` (a 500, logged), never a partial answer.

Two ways, chosen at registration by the model's type:

* a type that holds a pydantic model goes through pydantic itself
  (``TypeAdapter.validate_python(value, from_attributes=True)``, then
  ``dump_python(mode="json", ...)``), exactly as FastAPI does, every
  ``response_model_*`` option included;
* any other type (dataclasses, TypedDicts, lists and dicts of them, scalars)
  goes through microready's own converters (``_convert``) and ``_dump``,
  which applies the options the way pydantic does for those types: a field is
  *default* when it equals its declared default, and, as pydantic counts them,
  every field of a dataclass is *set* (so ``exclude_unset`` only drops the keys
  a TypedDict value does not have, which are absent anyway).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union, get_args, get_origin

from ._convert import ConversionError, compile_converter, is_pydantic_type, is_typeddict, relocate
from ._convert.errors import pydantic_errors
from .encoders import jsonable_encoder
from .exceptions import ResponseValidationError
from .responses import Response

__all__ = ["ResponseModel", "model_from_annotation"]

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]
_MISSING: Any = object()


class ResponseModel:
    """``render(value)``: ``value`` validated against ``type`` and made JSON-ready."""

    __slots__ = ("type", "render")

    def __init__(self, tp: Any, *, include: IncEx | None = None, exclude: IncEx | None = None,
                 by_alias: bool = True, exclude_unset: bool = False,
                 exclude_defaults: bool = False, exclude_none: bool = False) -> None:
        self.type = tp
        options = _Options(include, exclude, by_alias, exclude_unset, exclude_defaults,
                           exclude_none)
        self.render: Callable[[Any], Any] = (
            _pydantic_renderer(tp, options) if _holds_pydantic(tp) else _own_renderer(tp, options)
        )

    def __repr__(self) -> str:
        return f"<ResponseModel {self.type!r}>"


@dataclasses.dataclass(frozen=True)
class _Options:
    include: IncEx | None
    exclude: IncEx | None
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool


def model_from_annotation(endpoint: Callable[..., Any], where: str) -> Any:
    """The return annotation as a response model (FastAPI 0.89), or None for none.

    None, ``Any``, a missing annotation and a ``Response`` class mean no model;
    a union that mixes a ``Response`` with data cannot be one, and says how to opt out.
    """
    try:
        annotation = inspect.signature(endpoint, eval_str=True).return_annotation
    except (NameError, TypeError, ValueError):
        return None  # the parameter planner reports unreadable signatures
    if annotation in (inspect.Signature.empty, None, type(None), Any):
        return None
    if _is_response(annotation):
        return None
    members = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else ()
    if any(_is_response(member) for member in members):
        raise TypeError(
            f"{where}: the return annotation {annotation!r} mixes a Response with data, so it "
            "cannot be the response model; say which model to use, or none:\n"
            "    right: @app.get(..., response_model=None)"
        )
    return annotation


def _is_response(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Response)


def _holds_pydantic(tp: Any) -> bool:
    """Whether ``tp`` is, or holds (in a list, dict, union...), a pydantic model."""
    if is_pydantic_type(tp):
        return True
    return any(_holds_pydantic(arg) for arg in get_args(tp) if arg is not Ellipsis)


# -- through pydantic --------------------------------------------------------------------


def _pydantic_renderer(tp: Any, options: _Options) -> Callable[[Any], Any]:
    pydantic = importlib.import_module("pydantic")
    validation_error: type[Exception] = pydantic.ValidationError
    adapter = pydantic.TypeAdapter(tp)

    def render(value: Any) -> Any:
        try:
            validated = adapter.validate_python(value, from_attributes=True)
        except validation_error as exc:
            raise ResponseValidationError(
                relocate(pydantic_errors(exc), ("response",)), body=value
            ) from None
        return adapter.dump_python(
            validated, mode="json", include=options.include, exclude=options.exclude,
            by_alias=options.by_alias, exclude_unset=options.exclude_unset,
            exclude_defaults=options.exclude_defaults, exclude_none=options.exclude_none,
        )

    return render


# -- through microready's converters -----------------------------------------------------


def _own_renderer(tp: Any, options: _Options) -> Callable[[Any], Any]:
    converter = compile_converter(tp)
    shape = _shape_of(tp)
    # Decided once, so the common case costs one converter call: dataclass
    # instances of other classes need reading by field only where the model has
    # records, and the options need a walk only when one is set.
    reads_records = _holds_records(tp)
    walks = any((options.include, options.exclude, options.exclude_defaults,
                 options.exclude_none))

    def render(value: Any) -> Any:
        prepared = _plain(value) if reads_records else value
        try:
            validated = converter(prepared) if converter is not None else prepared
        except ConversionError as exc:
            raise ResponseValidationError(relocate(exc.errors, ("response",)), body=value) from None
        if walks:
            return _dump(shape, validated, options, options.include, options.exclude)
        return validated  # the JSON encoder writes records by their fields only

    return render


def _holds_records(tp: Any) -> bool:
    """Whether ``tp`` is, or holds (in a list, dict, union...), a dataclass or TypedDict."""
    if (isinstance(tp, type) and dataclasses.is_dataclass(tp)) or is_typeddict(tp):
        return True
    return any(_holds_records(arg) for arg in get_args(tp) if arg is not Ellipsis)


def _plain(value: Any) -> Any:
    """Returned dataclass instances (of any class) as dicts of their fields, so the model's
    converter builds the model's own records from them (FastAPI reads attributes)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


# A shape is what _dump needs of the type: ("record", fields) with fields as
# (name, default or _MISSING, shape); ("list", item shape); ("dict", value shape);
# or ("leaf",), encoded as it is.
Shape = tuple[Any, ...]
_LEAF: Shape = ("leaf",)


def _shape_of(tp: Any) -> Shape:
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is typing.Annotated:
        return _shape_of(args[0])
    if origin in (Union, types.UnionType):
        members = [arg for arg in args if arg is not type(None)]
        return _shape_of(members[0]) if len(members) == 1 else _LEAF
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return ("record", tuple(
            (f.name, _dataclass_default(f), _shape_of(hints[f.name]))
            for f in dataclasses.fields(tp)
        ))
    if is_typeddict(tp):
        hints = typing.get_type_hints(tp)
        return ("record", tuple((key, _MISSING, _shape_of(hint)) for key, hint in hints.items()))
    container = origin if origin is not None else tp
    if container in (list, tuple, set, frozenset, Sequence) and args:
        return ("list", _shape_of(args[0]))
    if container in (dict, Mapping) and len(args) == 2:
        return ("dict", _shape_of(args[1]))
    return _LEAF


def _dataclass_default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return _MISSING


def _spec(spec: IncEx | None) -> Mapping[Any, Any] | None:
    """pydantic's include/exclude: a set of keys, or a dict of key -> True or a nested spec."""
    if spec is None or isinstance(spec, Mapping):
        return spec
    return dict.fromkeys(spec, True)


def _child(spec: Mapping[Any, Any] | None, key: Any) -> tuple[bool, Any]:
    """Whether ``key`` is named by ``spec`` (``__all__`` names every key), and its nested spec."""
    if spec is None:
        return False, None
    entry = spec.get(key, spec.get("__all__", _MISSING))
    if entry is _MISSING:
        return False, None
    return True, (None if entry is True or entry is ... else entry)


def _dump(shape: Shape, value: Any, options: _Options,
          include: IncEx | None, exclude: IncEx | None) -> Any:
    kind = shape[0]
    if kind == "leaf" or value is None:
        return jsonable_encoder(value)
    including, excluding = _spec(include), _spec(exclude)

    def kept(key: Any) -> tuple[bool, Any, Any]:
        """Whether ``key`` survives include/exclude, and the specs for its value."""
        named, sub_include = _child(including, key)
        if including is not None and not named:
            return False, None, None
        dropped, sub_exclude = _child(excluding, key)
        return not (dropped and sub_exclude is None), sub_include, sub_exclude

    if kind == "record":
        out: dict[str, Any] = {}
        for name, default, child in shape[1]:
            item = value.get(name, _MISSING) if isinstance(value, dict) else getattr(
                value, name, _MISSING)
            if item is _MISSING:
                continue
            keep, sub_include, sub_exclude = kept(name)
            if not keep:
                continue
            if options.exclude_defaults and default is not _MISSING and item == default:
                continue
            if options.exclude_none and item is None:
                continue
            out[name] = _dump(child, item, options, sub_include, sub_exclude)
        return out
    if kind == "list":
        items = []
        for index, item in enumerate(value):
            keep, sub_include, sub_exclude = kept(index)
            if keep:
                items.append(_dump(shape[1], item, options, sub_include, sub_exclude))
        return items
    mapping: dict[Any, Any] = {}  # "dict"
    for key, item in value.items():
        keep, sub_include, sub_exclude = kept(key)
        if keep:
            mapping[jsonable_encoder(key)] = _dump(shape[1], item, options, sub_include,
                                                   sub_exclude)
    return mapping
