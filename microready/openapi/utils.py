"""``get_openapi``: the OpenAPI 3.1.0 document of an app's routes, as FastAPI 0.165 writes it.

Each route that is in the schema (``include_in_schema``) gives one operation
per method (``HEAD`` only when a route asks for it without ``GET``):

* ``operationId``: ``operation_id=``, else ``generate_unique_id_function(route)``,
  else FastAPI's ``generate_unique_id``: the name and the path with every
  non-word character made ``_``, then ``_`` and the (first) method;
* ``summary`` from the name (``read_item`` -> ``Read Item``), ``description``
  from the docstring up to a form feed (``\\f``), ``tags``, ``deprecated``;
* ``parameters``, ``requestBody`` and ``security`` from the plan (``_params``);
* ``responses``: the status code with ``response_description``, the response
  model's schema (in serialization mode; FastAPI's choice of model, ``-> Any``
  included, see ``_response_types``) or a stream's ``itemSchema`` (JSON Lines,
  server-sent events) from the annotation's item type, the ``responses=``
  entries merged in, and ``422`` with ``HTTPValidationError`` when the
  operation reads anything;
* ``openapi_extra`` merged last, deeply.

Schemas are made by one ``SchemaGenerator`` for the whole document, so every
record is one entry of ``components.schemas``. As FastAPI does (it encodes
the document with ``exclude_none``), no ``None`` value is left in any object.
"""

from __future__ import annotations

import copy
import http.client
import inspect
import re
import types
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..encoders import jsonable_encoder
from ..responses import JSONResponse
from ..routing import Route, Router
from ..sse import EventSourceResponse
from ._fields import Generator, Mode, title_of
from ._json_schema import SchemaGenerator
from ._params import parameters, reads_of, request_body, security_of
from ._response_types import NO_MODEL, response_type, stream_item_type
from .constants import METHODS_WITH_BODY, REF_PREFIX, REF_TEMPLATE

__all__ = ["deep_dict_update", "generate_unique_id", "get_openapi", "schema_generator"]

VALIDATION_ERROR = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        "loc": {"title": "Location", "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
    "required": ["loc", "msg", "type"],
}
HTTP_VALIDATION_ERROR = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {"title": "Detail", "type": "array",
                   "items": {"$ref": REF_PREFIX + "ValidationError"}},
    },
}
_STATUS_RANGES = {"1XX": "Information", "2XX": "Success", "3XX": "Redirection",
                  "4XX": "Client Error", "5XX": "Server Error", "DEFAULT": "Default Response"}
_SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"data": {"type": "string"}, "event": {"type": "string"},
                   "id": {"type": "string"}, "retry": {"type": "integer", "minimum": 0}},
}
_CONVERTOR = re.compile(r"\{([^{}:]*):[^{}]*\}")


def schema_generator() -> Generator:
    """A new ``_json_schema.SchemaGenerator``: pydantic's schemas, without needing pydantic."""
    return SchemaGenerator(ref_template=REF_TEMPLATE)


def deep_dict_update(main: dict[Any, Any], update: dict[Any, Any]) -> None:
    """FastAPI's merge: dicts merge, lists add up, anything else is replaced."""
    for key, value in update.items():
        if isinstance(main.get(key), dict) and isinstance(value, dict):
            deep_dict_update(main[key], value)
        elif isinstance(main.get(key), list) and isinstance(value, list):
            main[key] = main[key] + value
        else:
            main[key] = value


def path_format(path: str) -> str:
    """``/users/{user_id:int}`` -> ``/users/{user_id}``: the path as OpenAPI writes it."""
    return _CONVERTOR.sub(r"{\1}", path)


def _methods(route: Route) -> list[str]:
    methods = list(route.methods)
    if "GET" in methods:  # HEAD is served by GET routes; FastAPI documents GET alone
        methods.remove("HEAD")
    return methods


def route_view(route: Route) -> types.SimpleNamespace:
    """What a FastAPI ``generate_unique_id_function`` reads of an ``APIRoute``."""
    meta = route.metadata
    return types.SimpleNamespace(
        name=route.name, path=route.path, path_format=path_format(route.path),
        methods=set(_methods(route)), tags=list(meta.get("tags") or []),
        summary=meta.get("summary"), operation_id=meta.get("operation_id"),
        endpoint=route.endpoint, route=route,
    )


def generate_unique_id(route: Any) -> str:
    """FastAPI's default operation id: ``read_item_items__item_id__get``."""
    name = re.sub(r"\W", "_", f"{route.name}{route.path_format}")
    return f"{name}_{next(iter(route.methods)).lower()}"


def unique_id(route: Route) -> str:
    meta = route.metadata
    if meta.get("operation_id"):
        return str(meta["operation_id"])
    view = route_view(route)
    view.methods = _methods(route)  # the first declared method, not a set's whim
    custom: Callable[[Any], str] | None = meta.get("generate_unique_id_function")
    return custom(view) if callable(custom) else generate_unique_id(view)


def _default_status(route: Route) -> str:
    if route.status_code is not None:
        return str(route.status_code)
    parameter = inspect.signature(route.response_class.__init__).parameters.get("status_code")
    default = parameter.default if parameter is not None else 200
    return str(default if isinstance(default, int) else 200)


def _body_allowed(status: str) -> bool:
    if status.upper() in _STATUS_RANGES:
        return True
    code = int(status)
    return not (code < 200 or code in (204, 205, 304))


class _Document:
    """The state one ``get_openapi`` call shares between its operations."""

    def __init__(self, separate_input_output_schemas: bool) -> None:
        self.generator = schema_generator()
        self.side = schema_generator()  # parameter models: their fields, never a component
        self.mode: Mode = "serialization" if separate_input_output_schemas else "validation"
        self.definitions: dict[str, Any] = {}
        self.security_schemes: dict[str, Any] = {}
        self.operation_ids: set[str] = set()
        self.param_models: set[str] = set()

    def model_schema(self, tp: Any, name: str) -> dict[str, Any]:
        schema = dict(self.generator.schema(tp, mode=self.mode))
        if "$ref" not in schema:
            schema["title"] = title_of(name)
        return schema

    def path_item(self, route: Route) -> dict[str, Any]:
        meta = route.metadata
        if not meta.get("include_in_schema", True):
            return {}
        reads = reads_of(route.plan.root)
        schemes, security = security_of(reads)
        self.security_schemes.update(schemes)
        params = parameters(self.generator, reads, self.side, self.param_models)
        reads_anything = bool(reads.body) or any(reads.params.values())
        uid = unique_id(route)
        item: dict[str, Any] = {}
        for method in _methods(route):
            operation = self._metadata(route, uid)
            if security:
                operation["security"] = copy.deepcopy(security)
            if params:
                operation["parameters"] = copy.deepcopy(params)
            if method in METHODS_WITH_BODY:
                body = request_body(self.generator, reads.body, uid, self.definitions)
                if body:
                    operation["requestBody"] = body
            callbacks = meta.get("callbacks")
            if callbacks:
                operation["callbacks"] = {
                    callback.name: {path_format(callback.path): self.path_item(callback)}
                    for callback in callbacks if isinstance(callback, Route)
                }
            operation["responses"] = self._responses(route, uid)
            if reads_anything and not {"422", "4XX", "default"} & set(operation["responses"]):
                operation["responses"]["422"] = {
                    "description": "Validation Error",
                    "content": {"application/json": {
                        "schema": {"$ref": REF_PREFIX + "HTTPValidationError"}}},
                }
                self.definitions.setdefault("ValidationError", VALIDATION_ERROR)
                self.definitions.setdefault("HTTPValidationError", HTTP_VALIDATION_ERROR)
            extra = meta.get("openapi_extra")
            if extra:
                deep_dict_update(operation, copy.deepcopy(extra))
            item[method.lower()] = operation
        return item

    def _metadata(self, route: Route, uid: str) -> dict[str, Any]:
        meta = route.metadata
        operation: dict[str, Any] = {}
        if meta.get("tags"):
            operation["tags"] = list(meta["tags"] or [])
        operation["summary"] = meta.get("summary") or route.name.replace("_", " ").title()
        description = meta.get("description") or inspect.cleandoc(route.endpoint.__doc__ or "")
        description = description.split("\f")[0].strip()
        if description:
            operation["description"] = description
        if uid in self.operation_ids:
            name = getattr(route.endpoint, "__name__", "<unnamed_endpoint>")
            message = f"Duplicate Operation ID {uid} for function {name}"
            file_name = getattr(route.endpoint, "__globals__", {}).get("__file__")
            warnings.warn(message + (f" at {file_name}" if file_name else ""), stacklevel=1)
        self.operation_ids.add(uid)
        operation["operationId"] = uid
        if meta.get("deprecated"):
            operation["deprecated"] = True
        return operation

    def _responses(self, route: Route, uid: str) -> dict[str, Any]:
        meta = route.metadata
        status = _default_status(route)
        responses: dict[str, Any] = {status: {
            "description": meta.get("response_description", "Successful Response")}}
        response_class = route.response_class
        media_type = response_class.media_type
        content = responses[status].setdefault("content", {})
        if route.status_code is not None and not _body_allowed(str(route.status_code)):
            pass
        elif route.plan.streams and issubclass(response_class, EventSourceResponse):
            event_schema = copy.deepcopy(_SSE_EVENT_SCHEMA)
            item_type = stream_item_type(route)
            if item_type is not NO_MODEL:  # each event's data is an item, as JSON
                event_schema["required"] = ["data"]
                event_schema["properties"]["data"] = {
                    "type": "string", "contentMediaType": "application/json",
                    "contentSchema": self.model_schema(item_type, f"StreamItem_{uid}")}
            content["text/event-stream"] = {"itemSchema": event_schema}
        elif route.plan.streams and not route.response_class_explicit:
            item_type = stream_item_type(route)
            content["application/jsonl"] = {"itemSchema": {} if item_type is NO_MODEL else
                                            self.model_schema(item_type, f"StreamItem_{uid}")}
        elif media_type:
            schema: dict[str, Any] = {"type": "string"}
            if issubclass(response_class, JSONResponse):
                model_type = response_type(route)
                schema = {} if model_type is NO_MODEL else self.model_schema(
                    model_type, f"Response_{uid}")
            content.setdefault(media_type, {})["schema"] = schema
        if not content:
            del responses[status]["content"]
        for code, declared in (meta.get("responses") or {}).items():
            extra = copy.deepcopy(declared)
            if not isinstance(extra, dict):
                raise TypeError(f"route {route.path!r}: responses[{code!r}] must be a dict, "
                                f"such as {{'description': 'Item not found'}}")
            model = extra.pop("model", None)
            key = str(code).upper()
            key = "default" if key == "DEFAULT" else key
            response = responses.setdefault(key, {})
            if model is not None:
                target = extra.setdefault("content", {}).setdefault(
                    media_type or "application/json", {}).setdefault("schema", {})
                deep_dict_update(target, self.model_schema(model, f"Response_{code}_{uid}"))
            text = _STATUS_RANGES.get(str(code).upper()) or (
                http.client.responses.get(int(code)) if str(code).isdigit() else None)
            description = (extra.get("description") or response.get("description") or text
                           or "Additional Response")
            deep_dict_update(response, extra)
            response["description"] = description
        return responses


def _routes(routes: Iterable[Any]) -> list[Route]:
    return [route for route in routes if isinstance(route, Route)]


def _without_none(value: Any) -> Any:
    """FastAPI's ``exclude_none``: no ``None`` value in any object (list items stay)."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (``app.routes``), FastAPI's function and keywords."""
    info: dict[str, Any] = {"title": title, "version": version}
    for key, value in (("summary", summary), ("description", description),
                       ("termsOfService", terms_of_service), ("contact", contact),
                       ("license", license_info)):
        if value:
            info[key] = value
    output: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        output["servers"] = servers
    document = _Document(separate_input_output_schemas)
    sections: list[tuple[str, Sequence[Any]]] = [("paths", routes), ("webhooks", webhooks or [])]
    found: dict[str, dict[str, Any]] = {"paths": {}, "webhooks": {}}
    for section, members in sections:
        if isinstance(members, Router):
            members = members.routes
        for route in _routes(members):
            item = document.path_item(route)
            if item:
                found[section].setdefault(path_format(route.path), {}).update(item)
    definitions = {**document.side.definitions, **document.generator.definitions,
                   **document.definitions}
    for name in document.param_models - set(document.generator.definitions):
        definitions.pop(name, None)  # a parameter model is its fields, not a component
    components: dict[str, Any] = {}
    if definitions:
        components["schemas"] = {key: definitions[key] for key in sorted(definitions)}
    if document.security_schemes:
        components["securitySchemes"] = document.security_schemes
    if components:
        output["components"] = components
    output["paths"] = found["paths"]
    if found["webhooks"]:
        output["webhooks"] = found["webhooks"]
    # A schema copied before its record became Item-Input/Item-Output (both modes
    # asked for) still names the old definition: every $ref is brought up to date.
    document.generator.resolve_refs(output)
    document.side.resolve_refs(output)
    if tags:
        output["tags"] = tags
    if external_docs:
        output["externalDocs"] = external_docs
    result: dict[str, Any] = _without_none(jsonable_encoder(output))
    return result

