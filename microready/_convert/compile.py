"""The entry point: a type, inspected once, becomes a converter for its values.

``compile_converter(tp)`` is called once per parameter, when a route is
registered, and returns a plain function ``convert(value) -> converted`` (or
``None`` when the value passes through untouched, e.g. ``str`` from a query
string). Each request then only calls those functions: no type inspection on
the request path.

``_build`` dispatches on the shape of the type and compiles the parts of a
container, a union or a record recursively; the modules that build those
converters are handed the parts (or ``compile_converter`` itself), so none of
them imports this one. Converters are cached per type, which is also how a
self-referencing dataclass finds its own converter while it is being built.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections import abc
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ..datastructures import UploadFile
from ..params import Constraints
from .choices import enum_converter, literal_converter
from .constraints import constraints_from_metadata, with_constraints
from .containers import dict_converter, fixed_tuple_converter, sequence_converter, union_converter
from .errors import Converter, UnsupportedType, type_name
from .records import (
    dataclass_converter,
    is_pydantic_type,
    is_typeddict,
    pydantic_converter,
    typeddict_converter,
)
from .scalars import SCALARS
from .uploads import upload_converter
from .validators import has_validators, with_validators

__all__ = ["compile_converter", "is_body_type"]

_cache: dict[Any, Converter | None] = {}  # by type (a union: with its members' order)


class _Forward:
    """Stands in for a converter still being built (self-referencing dataclasses)."""

    __slots__ = ("target",)

    def __init__(self) -> None:
        self.target: Converter | None = None

    def __call__(self, value: Any) -> Any:
        assert self.target is not None  # set before any request can arrive
        return self.target(value)


def compile_converter(tp: Any, constraints: Constraints | None = None) -> Converter | None:
    """The converter for ``tp``; None means "use the value as it is"."""
    if constraints:
        return with_constraints(compile_converter(tp), constraints)
    # ``A | B`` and ``B | A`` are equal and hash alike, but the first member that
    # converts wins, so the order is part of the key.
    key = (tp, get_args(tp)) if get_origin(tp) in (Union, types.UnionType) else tp
    try:
        return _cache[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable Annotated extra: build without caching
        return _build(tp)
    forward = _Forward()
    _cache[key] = forward  # a self-referencing type finds this while it is being built
    try:
        converter = _build(tp)
    except BaseException:
        del _cache[key]
        raise
    forward.target = converter if converter is not None else _identity
    _cache[key] = converter
    return converter


def _identity(value: Any) -> Any:
    return value


# ``get_origin`` maps typing's aliases (List, Sequence...) to these.
_LIST_ORIGINS: frozenset[Any] = frozenset({list, abc.Sequence, abc.MutableSequence})
_SET_ORIGINS: frozenset[Any] = frozenset({set, abc.Set, abc.MutableSet})
_DICT_ORIGINS: frozenset[Any] = frozenset({dict, abc.Mapping, abc.MutableMapping})


def _build(tp: Any) -> Converter | None:
    if tp is Any or tp is object:
        return None
    scalar = SCALARS.get(tp) if _hashable(tp) else None
    if scalar is not None:
        return scalar
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Annotated:
        base = compile_converter(args[0])
        checked = with_constraints(base, constraints_from_metadata(args[1:]))
        return with_validators(checked, args[1:]) if has_validators(args[1:]) else checked
    if isinstance(tp, typing.NewType):
        return compile_converter(tp.__supertype__)
    if origin is Union or origin is types.UnionType:
        members = [a for a in args if a is not type(None)]
        converters = [compile_converter(member) for member in members]
        return union_converter(members, converters, nullable=type(None) in args)
    if origin is Literal:
        return literal_converter(tp)
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return enum_converter(tp)
        if issubclass(tp, UploadFile):
            return upload_converter(tp)
        if is_pydantic_type(tp):
            return pydantic_converter(tp)
        if dataclasses.is_dataclass(tp):
            return dataclass_converter(tp, compile_converter)
        if is_typeddict(tp):
            return typeddict_converter(tp, compile_converter)
    container = origin if origin is not None else tp
    item = compile_converter(args[0]) if args else None
    if container in _LIST_ORIGINS:
        return sequence_converter(item, _identity, "list_type", "Input should be a valid list")
    if container in _SET_ORIGINS:
        return sequence_converter(item, set, "set_type", "Input should be a valid set")
    if container is frozenset:
        return sequence_converter(item, frozenset, "frozen_set_type",
                                  "Input should be a valid frozenset")
    if container is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return sequence_converter(item, tuple, "tuple_type", "Input should be a valid tuple")
        return fixed_tuple_converter([compile_converter(a) for a in args])
    if container in _DICT_ORIGINS:
        return dict_converter(
            item, compile_converter(args[1]) if len(args) > 1 else None,
            key_exact=_exact(args[0]) if args else None,
            val_exact=_exact(args[1]) if len(args) > 1 else None,
        )
    raise UnsupportedType(
        f"microready cannot convert values to {type_name(tp)}; use str, int, float, bool, "
        "an Enum, UUID, a list, a dict, a dataclass or a TypedDict (or a pydantic model)"
    )


def _exact(tp: Any) -> type | None:
    """A type whose instances its converter returns unchanged (pydantic's exact match)."""
    return tp if tp in (str, int, bool) else None


def _hashable(tp: Any) -> bool:
    try:
        hash(tp)
    except TypeError:
        return False
    return True


def is_body_type(tp: Any) -> bool:
    """Whether FastAPI would read a parameter of this type from the request body.

    Records (dataclass, TypedDict, pydantic model) and mappings are body values,
    as are bare ``list``/``tuple``/``set`` and lists of records. ``list[str]`` and
    other lists of scalars are read from repeated query keys instead.
    """
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Annotated:
        return is_body_type(args[0])
    if origin is Union or origin is types.UnionType:
        return any(is_body_type(a) for a in args if a is not type(None))
    if isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or is_typeddict(tp) or is_pydantic_type(tp)
    ):
        return True
    container = origin if origin is not None else tp
    if container in _DICT_ORIGINS:
        return True
    if container in _LIST_ORIGINS or container in _SET_ORIGINS or container in (tuple, frozenset):
        return not args or any(is_body_type(a) for a in args if a is not Ellipsis)
    return False
