"""The app's OpenAPI settings and its docs routes (``/openapi.json``, ``/docs``, ``/redoc``).

``configure(app)`` reads FastAPI's keywords from ``app.openapi_options`` into
the attributes FastAPI has (``app.openapi_url``, ``app.docs_url``...) and
returns the docs routes. They are ordinary routes with ``include_in_schema``
off, tried before the app's own (as FastAPI registers them first), but kept
out of ``app.routes``, which lists only what the app declared. The document
is built on the first request for it (``app.openapi()``), so no other
request pays for it; ``openapi_url=None`` turns off the docs pages too.

Behind a proxy or mounted as a sub-app, the pages point at the document
under the request's ``root_path``, and the document served lists that path
first in ``servers`` (FastAPI's ``root_path_in_servers``, on by default).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..requests import Request
from ..responses import JSONResponse, Response
from ..routing import Route
from .docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html

__all__ = ["configure"]


class _App(Protocol):
    title: str
    version: str
    openapi_options: dict[str, Any]
    openapi_url: str | None
    docs_url: str | None
    redoc_url: str | None
    swagger_ui_oauth2_redirect_url: str | None
    swagger_ui_init_oauth: dict[str, Any] | None
    swagger_ui_parameters: dict[str, Any] | None

    def openapi(self) -> dict[str, Any]: ...


_DEFAULT_URLS = {
    "openapi_url": "/openapi.json",
    "docs_url": "/docs",
    "redoc_url": "/redoc",
    "swagger_ui_oauth2_redirect_url": "/docs/oauth2-redirect",
}


def _route(path: str, endpoint: Any) -> Route:
    return Route(path, endpoint, methods=["GET"], metadata={"include_in_schema": False},
                 response_model=None)


def configure(app: _App) -> tuple[Route, ...]:
    """Set ``app``'s OpenAPI attributes from its options; the docs routes it serves."""
    options = app.openapi_options
    for name, default in _DEFAULT_URLS.items():
        url = options.get(name, default)
        if url is not None and not (isinstance(url, str) and url.startswith("/")):
            raise ValueError(
                f"MicroReady({name}={url!r}): a URL path starts with '/', or is None to turn "
                f"the page off:\n    right: MicroReady({name}={default!r})"
            )
        setattr(app, name, url)
    app.swagger_ui_init_oauth = options.get("swagger_ui_init_oauth")
    app.swagger_ui_parameters = options.get("swagger_ui_parameters")
    openapi_url = app.openapi_url
    if openapi_url is None:
        return ()
    if not app.title or not app.version:
        raise ValueError("OpenAPI needs a title and a version: MicroReady(title='My API', "
                         "version='1.0.0'), or openapi_url=None to serve no document")
    routes = []

    in_servers = options.get("root_path_in_servers", True)

    async def openapi(request: Request) -> Response:
        document = app.openapi()
        root_path = request.root_path.rstrip("/")
        if root_path and in_servers:
            servers = document.get("servers", [])
            if root_path not in {server.get("url") for server in servers}:
                # A copy: the cached document stays the app's, whatever path asked.
                document = {**document, "servers": [{"url": root_path}, *servers]}
        return JSONResponse(document)

    routes.append(_route(openapi_url, openapi))
    if app.docs_url is not None:
        redirect_url = app.swagger_ui_oauth2_redirect_url

        async def swagger_ui_html(request: Request) -> Response:
            root_path = request.root_path.rstrip("/")
            return get_swagger_ui_html(
                openapi_url=root_path + openapi_url, title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=root_path + redirect_url if redirect_url else None,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )

        routes.append(_route(app.docs_url, swagger_ui_html))
        if redirect_url is not None:
            async def swagger_ui_redirect() -> Response:
                return get_swagger_ui_oauth2_redirect_html()

            routes.append(_route(redirect_url, swagger_ui_redirect))
    if app.redoc_url is not None:
        async def redoc_html(request: Request) -> Response:
            return get_redoc_html(openapi_url=request.root_path.rstrip("/") + openapi_url,
                                  title=f"{app.title} - ReDoc")

        routes.append(_route(app.redoc_url, redoc_html))
    return tuple(routes)
