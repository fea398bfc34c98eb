"""FastAPI's keywords that microready does not act on yet, refused by name, or stored.

FastAPI code ports by changing its import line, so a FastAPI keyword must never
be swallowed: it either works, or (for OpenAPI, which another issue brings) is
stored on the object for the schema generator, or fails at once with one line
that says it is not supported yet. ``tests/app/test_fastapi_keywords.py`` walks
FastAPI's own signatures against these tables, so a keyword a new FastAPI adds
fails there until it is classified here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

__all__ = [
    "APP_NOT_YET",
    "AppOpenAPIOptions",
    "INCLUDE_NOT_YET",
    "ROUTER_NOT_YET",
    "ROUTE_NOT_YET",
    "RouterOpenAPIOptions",
    "split_openapi_options",
]


class RouterOpenAPIOptions(TypedDict, total=False):
    """What a router (and ``include_router``) keeps for OpenAPI."""

    callbacks: list[Any] | None
    deprecated: bool | None
    include_in_schema: bool
    generate_unique_id_function: Any


class AppOpenAPIOptions(RouterOpenAPIOptions, total=False):
    """What ``MicroReady(...)`` keeps for OpenAPI and /docs (the OpenAPI issue serves them)."""

    summary: str | None
    openapi_url: str | None
    openapi_tags: list[dict[str, Any]] | None
    servers: list[dict[str, Any]] | None
    docs_url: str | None
    redoc_url: str | None
    swagger_ui_oauth2_redirect_url: str | None
    swagger_ui_init_oauth: dict[str, Any] | None
    swagger_ui_parameters: dict[str, Any] | None
    terms_of_service: str | None
    contact: dict[str, Any] | None
    license_info: dict[str, Any] | None
    root_path_in_servers: bool
    responses: dict[Any, Any] | None
    webhooks: Any
    separate_input_output_schemas: bool
    openapi_external_docs: dict[str, Any] | None


# Keyword -> what to use meanwhile (or the issue that brings it).
APP_NOT_YET: Mapping[str, str] = {
    "debug": "tracebacks are never sent to clients; they go to the microready.error log",
    "routes": "register routes with the decorators or app.include_router()",
    "telemetry": "OpenTelemetry support is not there yet",
    "max_body_size": "the server's --max-body-size (Config.max_body_size) bounds every body",
    "form_limits": "await request.form(max_files=..., max_fields=..., max_part_size=...)",
}
ROUTER_NOT_YET: Mapping[str, str] = {
    "routes": "register routes with the decorators",
    "redirect_slashes": "set it on the app: MicroReady(redirect_slashes=False)",
    "default": "an app for unmatched paths comes with issue 14 (sub-apps)",
    "dependency_overrides_provider": "use app.dependency_overrides",
    "lifespan": "give the app the lifespan: MicroReady(lifespan=...)",
    "max_body_size": APP_NOT_YET["max_body_size"],
    "form_limits": APP_NOT_YET["form_limits"],
}
ROUTE_NOT_YET: Mapping[str, str] = {
    "max_body_size": APP_NOT_YET["max_body_size"],
    "form_limits": APP_NOT_YET["form_limits"],
}
INCLUDE_NOT_YET: Mapping[str, str] = ROUTE_NOT_YET


def split_openapi_options(callee: str, options: Mapping[str, Any], stored: frozenset[str],
                          not_yet: Mapping[str, str]) -> dict[str, Any]:
    """The ``options`` OpenAPI will read; raise for the rest, naming each."""
    for name in options:
        if name in not_yet:
            raise TypeError(
                f"{callee}({name}=...) is not supported by microready yet; remove it "
                f"({not_yet[name]})"
            )
        if name not in stored:
            raise TypeError(f"{callee}() got an unexpected keyword argument {name!r}")
    return dict(options)
