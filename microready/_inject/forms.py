"""Values for parameter models and form fields, gathered the way FastAPI gathers them.

A parameter model (``Annotated[FilterParams, Query()]``, ``Header()``,
``Cookie()``, or a form model ``Annotated[FormData, Form()]``) is converted
from one mapping: each of its fields read under its key (every value of a
repeated key for a list field), plus every *other* key the request sent, so
that a model with ``extra="forbid"`` refuses them, as FastAPI 0.115 does.

Form fields follow FastAPI's form rules: an empty text field counts as absent
(a browser sends every input of a form, filled or not), and a ``bytes``
parameter declared with ``File()`` gets the uploaded file's content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._convert import ErrorDict
from ..datastructures import FormData, UploadFile
from .plan import ModelField, ParamPlan

__all__ = ["header_locations", "model_input", "read_form_params"]

Store = Callable[[ParamPlan, Any, dict[str, Any], list[ErrorDict]], None]


def model_input(fields: Sequence[ModelField], source: Mapping[str, Any], *,
                skip_empty: bool = False) -> dict[str, Any]:
    """The mapping a parameter model is converted from (see the module docstring)."""
    getlist: Callable[[str], list[Any]] | None = getattr(source, "getlist", None)
    values: dict[str, Any] = {}
    taken: set[str] = set()
    for field in fields:
        value: Any
        if field.many and getlist is not None:
            value = getlist(field.key) or None
        else:
            value = source.get(field.key)
            if skip_empty and value == "":
                value = None
        if value is not None:
            values[field.name] = value
        taken.add(field.key)
        taken.add(field.name)
    for key in source:
        if key not in taken:
            if getlist is None:
                values[key] = source[key]
            else:  # FastAPI 0.165: a repeated extra key is a list
                extra = getlist(key)
                values[key] = extra[0] if len(extra) == 1 else extra
    return values


def header_locations(fields: Sequence[ModelField], errors: list[ErrorDict]) -> None:
    """Name the header, not the model's field, in a header model's errors (as FastAPI):
    ``["header", "save-data"]`` for a field ``save_data``."""
    renamed = {field.name: field.key for field in fields if field.key != field.name}
    for error in errors:
        loc = error["loc"]
        if len(loc) > 1 and loc[1] in renamed:
            error["loc"] = (loc[0], renamed[loc[1]], *loc[2:])


async def _file_content(value: Any) -> Any:
    """An uploaded file's bytes; any other value (a text field) as it is."""
    if isinstance(value, UploadFile):
        return await value.read()
    if isinstance(value, list):
        return [await _file_content(item) for item in value]
    return value


async def read_form_params(params: Sequence[ParamPlan], form: FormData, kwargs: dict[str, Any],
                           errors: list[ErrorDict], store: Store) -> None:
    """Fill ``kwargs`` with each body parameter's value from ``form``, through ``store``."""
    for param in params:
        value: Any
        if param.fields is not None:
            value = model_input(param.fields, form, skip_empty=True)
            for field in param.fields:
                if field.reads_file and field.name in value:
                    value[field.name] = await _file_content(value[field.name])
        elif param.many:
            value = form.getlist(param.key) or None
        else:
            value = form.get(param.key)
            if value == "":
                value = None
        if param.reads_file and value is not None:
            value = await _file_content(value)
        store(param, value, kwargs, errors)
