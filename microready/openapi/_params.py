"""What an operation reads: its parameters, its request body and its security.

All three come from the endpoint's plan (``_inject.plan``), walked the way
FastAPI walks its dependant tree: depth first, each dependency before the
next one, a dependency met twice counted once (twice when it is met under
other OAuth2 scopes, since the scopes change what it documents).
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

from .._inject.plan import CallPlan, ParamPlan
from ..encoders import jsonable_encoder
from ..params import BodyParam, FileParam, FormParam
from ..security.base import SecurityBase
from ._fields import Generator, field_schema, title_of

__all__ = ["Reads", "parameters", "reads_of", "request_body", "security_of"]

_GROUPS = ("path", "query", "header", "cookie")


@dataclass
class Reads:
    """The parameters, body fields and security schemes of one endpoint's tree."""

    params: dict[str, list[ParamPlan]] = field(
        default_factory=lambda: {group: [] for group in _GROUPS})
    body: list[ParamPlan] = field(default_factory=list)
    security: list[tuple[SecurityBase, list[str]]] = field(default_factory=list)


def reads_of(root: CallPlan) -> Reads:
    """Walk ``root``'s tree as FastAPI's ``_get_openapi_dependency_data`` does."""
    reads = Reads()
    visited: set[tuple[int, tuple[str, ...]]] = set()
    pending: list[tuple[CallPlan, list[str], bool]] = [(root, [], True)]
    while pending:
        plan, scopes, is_root = pending.pop()
        key = (id(plan), tuple(scopes) if plan.uses_scopes else ())
        if key in visited:
            continue
        visited.add(key)
        for group in _GROUPS:
            reads.params[group].extend(getattr(plan, group))
        for model in plan.models:
            reads.params[model.loc[0]].append(model)
        reads.body.extend(plan.body)
        if not is_root and isinstance(plan.call, SecurityBase):
            reads.security.append((plan.call, scopes))
        for dependency in reversed(plan.dependencies):
            below = [*scopes, *(s for s in dependency.own_scopes if s not in scopes)]
            pending.append((dependency.plan, below, False))
    return reads


def security_of(reads: Reads) -> tuple[dict[str, Any], list[dict[str, list[str]]]]:
    """``components.securitySchemes`` entries and the operation's ``security``."""
    schemes: dict[str, Any] = {}
    required: dict[str, list[str]] = {}
    for scheme, scopes in reads.security:
        schemes[scheme.scheme_name] = scheme.model.openapi()
        merged = required.setdefault(scheme.scheme_name, [])
        merged.extend(scope for scope in scopes if scope not in merged)
    return schemes, [{name: scopes} for name, scopes in required.items()]


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(tp, False)``; ``Annotated`` unwrapped."""
    if get_origin(tp) is Annotated:
        return _strip_optional(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        members = [arg for arg in get_args(tp) if arg is not type(None)]
        if len(members) == 1:
            return members[0], True
    return tp, False


def _model_parameters(param: ParamPlan, group: str, side: Generator,
                      expanded: set[str]) -> list[dict[str, Any]]:
    """A parameter model's fields, one parameter each; its name joins ``expanded``
    (its schema is no component, unless something else uses it)."""
    model, optional = _strip_optional(param.annotation)
    name = str(side.schema(model, mode="validation").get("$ref", "")).rsplit("/", 1)[-1]
    expanded.add(name)
    definition = side.definitions.get(name, {})
    properties: dict[str, Any] = definition.get("properties", {})
    required = definition.get("required", [])
    found = []
    for model_field in param.fields or ():
        schema = dict(properties.get(model_field.name, {}))
        parameter: dict[str, Any] = {
            "name": model_field.key, "in": group,
            "required": model_field.name in required and not optional, "schema": schema,
        }
        if schema.get("description"):
            parameter["description"] = schema["description"]
        if schema.get("deprecated"):
            parameter["deprecated"] = True
        found.append(parameter)
    return found


def parameters(generator: Generator, reads: Reads, side: Generator,
               expanded: set[str]) -> list[dict[str, Any]]:
    """The operation's ``parameters``: path, then query, header and cookie
    (``side`` makes the schemas of parameter models, see ``_model_parameters``)."""
    found: list[dict[str, Any]] = []
    for group in _GROUPS:
        for param in reads.params[group]:
            marker = param.marker
            if marker is not None and not marker.include_in_schema:
                continue
            if param.fields is not None:
                found.extend(_model_parameters(param, group, side, expanded))
                continue
            name = param.loc[1]
            parameter: dict[str, Any] = {
                "name": name, "in": group, "required": param.required,
                "schema": field_schema(generator, param, name),
            }
            if marker is not None:
                if marker.description:
                    parameter["description"] = marker.description
                if marker.openapi_examples:
                    parameter["examples"] = jsonable_encoder(marker.openapi_examples)
                elif marker.example is not None:
                    parameter["example"] = jsonable_encoder(marker.example)
                if marker.deprecated:
                    parameter["deprecated"] = True
            found.append(parameter)
    # One per (in, name); a required declaration wins over an optional one.
    unique = {(p["in"], p["name"]): p for p in found}
    unique.update({(p["in"], p["name"]): p for p in found if p["required"]})
    return list(unique.values())


def _media_type(body: list[ParamPlan]) -> str:
    if any(isinstance(param.marker, FileParam) for param in body):
        return "multipart/form-data"
    if any(param.from_form for param in body):
        if len(body) == 1 and isinstance(body[0].marker, FormParam):
            return body[0].marker.media_type
        return "application/x-www-form-urlencoded"
    declared = {param.marker.media_type for param in body if isinstance(param.marker, BodyParam)}
    return declared.pop() if len(declared) == 1 else "application/json"


def request_body(generator: Generator, body: list[ParamPlan], unique_id: str,
                 definitions: dict[str, Any]) -> dict[str, Any] | None:
    """The ``requestBody``: one body parameter's schema, or ``Body_<unique id>``
    (put in ``definitions``) for several, an embedded one, or form fields."""
    if not body:
        return None
    content: dict[str, Any] = {}
    if len(body) == 1 and not body[0].embed:
        param = body[0]
        content["schema"] = field_schema(generator, param, param.key)
        marker = param.marker
        if marker is not None and marker.openapi_examples:
            content["examples"] = jsonable_encoder(marker.openapi_examples)
        elif marker is not None and marker.example is not None:
            content["example"] = jsonable_encoder(marker.example)
        required = param.required
    else:
        name = f"Body_{unique_id}"
        properties = {}
        for param in body:
            schema = field_schema(generator, param, param.name)
            if "$ref" not in schema and (param.marker is None or not param.marker.title):
                schema["title"] = title_of(param.name)
            properties[param.key] = schema
        combined: dict[str, Any] = {"properties": properties, "type": "object"}
        names = [param.key for param in body if param.required]
        if names:
            combined["required"] = names
        combined["title"] = name
        definitions[name] = combined
        content["schema"] = {"$ref": f"#/components/schemas/{name}"}
        required = bool(names)
    request: dict[str, Any] = {"content": {_media_type(body): content}}
    if required:
        request["required"] = True
    return request
