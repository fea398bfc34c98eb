"""What a parameter's annotation says about how to read it, asked once by the planner.

``list[str] | None`` takes every value of a repeated key (``is_many``); an
``UploadFile`` is a file by its type alone (``is_upload``); a dataclass,
TypedDict or pydantic model with ``Query()`` is a parameter model
(``record_type``). ``Annotated`` and ``X | None`` are seen through.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from .._convert import is_pydantic_type, is_typeddict
from ..datastructures import UploadFile

__all__ = ["is_bare_list", "is_many", "is_upload", "item_type", "record_type", "strip_optional"]


def strip_optional(tp: Any) -> Any:
    if get_origin(tp) is Annotated:
        return strip_optional(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return strip_optional(members[0])
    return tp


_MANY_ORIGINS = frozenset({list, tuple, set, frozenset, Sequence})


def is_many(tp: Any) -> bool:
    """``list[str]``, ``set[int] | None``...: read every value of a repeated key."""
    inner = strip_optional(tp)
    return get_origin(inner) in _MANY_ORIGINS or inner in (list, tuple, set, frozenset)


def is_bare_list(tp: Any) -> bool:
    """``list``, ``typing.List`` (or ``list | None``): with Query()/Header(), FastAPI reads
    repeated keys into it, its items left as strings."""
    inner = strip_optional(tp)
    return inner is list or (get_origin(inner) is list and not get_args(inner))


def item_type(tp: Any) -> Any:
    """``X`` for ``list[X]`` (or ``list[X] | None``), else the type itself, unwrapped."""
    inner = strip_optional(tp)
    if get_origin(inner) in _MANY_ORIGINS and get_args(inner):
        return strip_optional(get_args(inner)[0])
    return inner


def is_upload(tp: Any) -> bool:
    """``UploadFile``, ``UploadFile | None``, ``list[UploadFile]``: a File() by its type alone."""
    item = item_type(tp)
    return isinstance(item, type) and issubclass(item, UploadFile)


def record_type(tp: Any) -> Any:
    """The dataclass, TypedDict or pydantic model ``tp`` is (optional or not), or None."""
    inner = strip_optional(tp)
    if isinstance(inner, type) and (
        dataclasses.is_dataclass(inner) or is_typeddict(inner) or is_pydantic_type(inner)
    ):
        return inner
    return None
