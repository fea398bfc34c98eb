"""Definition names and key order, as pydantic's ``GenerateJsonSchema`` gives them.

A record's definition gets the shortest name no other definition with a
different schema could also take, from pydantic's list of candidates for it
(``json_schema.GenerateJsonSchema.get_defs_ref``): the class name (``Item``),
then with the mode (``Item-Input``, ``Item-Output``), then module-qualified
(``app__models__Item``), then numbered. A parametrised generic is named with
its arguments (``Box[int]`` -> ``Box_int_``). The choice is made over every
definition at once and repeated until it is stable (``choose_names``): two
records that only differ by the names of the records they refer to become
equal once those get the same name. So ``Item`` is ``Item`` while only one
mode was asked for, or when both modes give the same schema, and becomes
``Item-Input`` and ``Item-Output`` once they differ, as in FastAPI.

``sort_schema`` orders keys as pydantic does before returning a schema:
alphabetically at every level, except the keys of ``properties`` (field order)
and of a ``default`` (the value as it is).
"""

from __future__ import annotations

import re
import types
import typing
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

__all__ = ["Namer", "choose_names", "core_ref", "sort_schema"]

Mode = Literal["validation", "serialization"]
_MODE_TITLE = {"validation": "Input", "serialization": "Output"}


def _display(tp: Any) -> str:
    """pydantic's ``_repr.display_as_type``: how a generic argument is spelled in a name."""
    if isinstance(tp, types.FunctionType | types.BuiltinFunctionType):
        return tp.__name__
    if tp is ...:
        return "..."
    if isinstance(tp, typing.ForwardRef):
        return str(tp)
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return f"Union[{', '.join(_display(arg) for arg in get_args(tp))}]"
    if origin is not None:
        if origin is Literal:
            args = ", ".join(repr(arg) for arg in get_args(tp))
        else:
            args = ", ".join(_display(arg) for arg in get_args(tp))
        qualname = getattr(tp, "__qualname__", None)
        if qualname is None:
            return str(tp).replace("typing.", "").replace("typing_extensions.", "")
        return f"{qualname}[{args}]"
    if isinstance(tp, type):
        return tp.__qualname__
    return repr(tp).replace("typing.", "").replace("typing_extensions.", "")


def core_ref(tp: Any) -> str:
    """pydantic's ``get_type_ref``: ``module.Qualname:id``, then ``[arg:id,...]`` for a
    parametrised generic. The ids keep apart classes of the same name."""
    origin = get_origin(tp) or tp
    args = get_args(tp) if get_origin(tp) is not None else ()
    module = getattr(origin, "__module__", "<No __module__>")
    qualname = getattr(origin, "__qualname__", f"<No __qualname__: {origin}>")
    ref = f"{module}.{qualname}:{id(origin)}"
    parts = [f"{arg}:str-{id(arg)}" if isinstance(arg, str) else f"{_display(arg)}:{id(arg)}"
             for arg in args]
    return f"{ref}[{','.join(parts)}]" if parts else ref


def _normalize(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", name).replace(".", "__")


class Namer:
    """The candidate names of each definition, numbered as one pydantic generator numbers them."""

    def __init__(self) -> None:
        self._counter: Counter[str] = Counter()
        self._index: dict[str, int] = {}

    def candidates(self, ref: str, mode: Mode) -> list[str]:
        """Simplest first; the last one names this definition alone."""
        components = [part.rsplit(":", 1)[0] for part in re.split(r"([\][,])", ref)]
        no_id = "".join(components)
        short = "".join(re.sub(r"(?:[^.[\]]+\.)+((?:[^.[\]]+))", r"\1", part)
                        for part in components)
        mode_title = _MODE_TITLE[mode]
        name = _normalize(short)
        qualified = _normalize(no_id)
        with_id = _normalize(ref)
        occurrence = self._index.get(with_id)
        if occurrence is None:
            self._counter[qualified] += 1
            occurrence = self._index[with_id] = self._counter[qualified]
        return [name, f"{name}-{mode_title}", qualified, f"{qualified}-{mode_title}",
                f"{qualified}__{occurrence}", f"{qualified}-{mode_title}__{occurrence}"]


def choose_names(
    candidates: Mapping[Any, list[str]],
    frozen: Callable[[Any, Mapping[Any, str]], Hashable],
    fixed: Mapping[str, Hashable],
) -> dict[Any, str]:
    """The name of each definition (``candidates``: key -> its names, simplest first).

    ``frozen(key, names)`` is a definition's schema, hashable, with its references
    spelled by ``names``; ``fixed`` are definitions already named (pydantic's own,
    for pydantic models), which a candidate may share only with an equal schema.
    A definition takes its first candidate that only one distinct schema claims
    (pydantic's ``_DefinitionsRemapping.from_prioritized_choices``).
    """
    names = {key: choices[-1] for key, choices in candidates.items()}
    for _ in range(100):  # pydantic's bound; a fixed point comes in two or three rounds
        claims: dict[str, set[Hashable]] = {}
        for name, schema in fixed.items():
            claims.setdefault(name, set()).add(schema)
        for key, choices in candidates.items():
            schema = frozen(key, names)
            for choice in choices:
                claims.setdefault(choice, set()).add(schema)
        chosen = {
            key: next((c for c in choices if len(claims[c]) == 1), choices[-1])
            for key, choices in candidates.items()
        }
        if chosen == names:
            break
        names = chosen
    return names


def sort_schema(value: Any, parent_key: str | None = None) -> None:
    """Order the keys of every dict in ``value`` in place, as ``GenerateJsonSchema.sort``
    would (the dicts stay the same objects, so references to them stay valid)."""
    if isinstance(value, dict):
        if parent_key not in ("properties", "default"):
            items = sorted(value.items())
            value.clear()
            value.update(items)
        for key, item in value.items():
            sort_schema(item, key)
    elif isinstance(value, list):
        for item in value:
            sort_schema(item, parent_key)
