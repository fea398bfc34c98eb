"""Routes, routers, mounts, and the table that finds a request's route.

A path template is parsed once into a regular expression (``/items/{item_id}``,
``/files/{file_path:path}``, ``/users/{user_id:int}``; see ``_path_template``).
A route whose path has no parameter is *static*. The ``RouteTable`` built from
an app's routes finds a static path with one dict lookup, and only scans the
dynamic routes for other paths. The answer is the one FastAPI (Starlette)
gives for the same routes:

* routes are tried in registration order; the first whose path *and* method
  match wins. For each static path the table precomputes, at build time, the
  ordered list of every route that matches it (dynamic ones included), so the
  lookup stays a dict access and the order rule still holds;
* a path that matches with the wrong method answers 405 with an ``Allow``
  header listing the methods the path supports (RFC 9110 section 15.5.6);
* ``HEAD`` is served by ``GET`` routes (RFC 9110 section 9.3.2: the same
  headers as GET, without content; the connection drops the body);
* no match at all answers 404, or a 307 redirect when the same path with or
  without a trailing slash exists (FastAPI's ``redirect_slashes``);
* a mount (``app.mount("/static", StaticFiles(...))``, see ``_mount``) is an
  entry in the same order that matches its prefix's paths with every method.

A path operation that is a generator streams its items (``_streaming``).
The table itself, and the way back from a route's name to its path
(``url_path_for``), are in ``_route_table``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._events import EventHandler, EventHandlers
from ._fastapi_keywords import (
    INCLUDE_NOT_YET,
    ROUTER_NOT_YET,
    RouterOpenAPIOptions,
    split_openapi_options,
)
from ._mount import Mount
from ._path_template import PathTemplate
from ._route import Route
from ._route_handler import RouteHandler
from ._route_options import (
    FROM_ANNOTATION,
    MODEL_OPTIONS,
    RouteKeywords,
    RouteOptions,
    check_dependencies,
    check_prefix,
    check_route_class,
    merge_route_options,
    refuse_unknown_keywords,
)
from ._route_table import NoMatchFound, RouteTable, allowed_methods, url_path_for
from ._websocket_route import WebSocketRoute
from .responses import Response

_ROUTER_OPENAPI = RouterOpenAPIOptions.__optional_keys__

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:  # pragma: no cover - 3.10: only type checkers need it; they bundle it
    from typing_extensions import Unpack

__all__ = [
    "APIRoute",
    "Mount",
    "NoMatchFound",
    "PathTemplate",
    "Route",
    "RouteHandler",
    "RouteKeywords",
    "RouteOptions",
    "RouteTable",
    "Router",
    "WebSocketRoute",
    "allowed_methods",
]

APIWebSocketRoute = WebSocketRoute  # FastAPI's name

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


# -- routers -------------------------------------------------------------------------


class Router(EventHandlers):
    """A group of routes with a common prefix and dependencies (FastAPI's ``APIRouter``).

    ``router = Router(prefix="/items", dependencies=[Depends(verify_token)])``;
    decorate endpoints with ``@router.get("/{item_id}")``; mount it with
    ``app.include_router(router)``. ``route_class=`` is the class its routes
    are made of (FastAPI's; a ``Route`` subclass, see ``Route.get_route_handler``).
    """

    _label = "router"  # how error messages name this object

    def __init__(self, *, prefix: str = "", dependencies: Sequence[Any] | None = None,
                 default_response_class: type[Response] | None = None,
                 tags: list[Any] | None = None, responses: dict[Any, Any] | None = None,
                 strict_content_type: bool | None = None,
                 route_class: type[Route] | None = None,
                 on_startup: Sequence[EventHandler] | None = None,
                 on_shutdown: Sequence[EventHandler] | None = None,
                 **openapi: Unpack[RouterOpenAPIOptions]) -> None:
        # Kept for the OpenAPI generator; FastAPI's others are refused by name.
        self.openapi_options = split_openapi_options(
            type(self).__name__, openapi, _ROUTER_OPENAPI, ROUTER_NOT_YET)
        self.route_class = check_route_class(route_class or Route, Route,
                                             f"{type(self).__name__}()")
        self._init_event_handlers(on_startup, on_shutdown)
        self.prefix = check_prefix(prefix, "Router()")
        # FastAPI's: False lets a JSON body without a Content-Type be read as JSON.
        self.strict_content_type = strict_content_type
        self.dependencies = check_dependencies(dependencies, "Router()")
        self.default_response_class = default_response_class
        self.tags = list(tags or [])
        self.responses = dict(responses or {})
        self.routes: list[Route | Mount | WebSocketRoute] = []
        self.revision = 0  # bumped on every change, so an app knows to rebuild its table

    def _route_defaults(self) -> RouteOptions:
        """What this router adds to each route's options (FastAPI's tags, responses,
        deprecated, include_in_schema, callbacks and generate_unique_id_function)."""
        defaults: dict[str, Any] = {
            key: value for key, value in self.openapi_options.items() if key in _ROUTER_OPENAPI
        }
        defaults.update(tags=self.tags, responses=self.responses)
        return cast(RouteOptions, defaults)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], *,
                      methods: Sequence[str] | None = None,
                      route_class_override: type[Route] | None = None,
                      **options: Unpack[RouteKeywords]) -> Route:
        """Register ``endpoint`` for ``path`` (what the decorators call).

        The route is a ``self.route_class`` (or ``route_class_override``), read
        now: setting ``app.router.route_class`` affects the routes added after.
        """
        if path and not path.startswith(("/", "{$")):
            raise ValueError(
                f"route path {path!r} must start with '/':\n"
                f"    wrong: @{self._label}.get({path!r})\n"
                f"    right: @{self._label}.get({'/' + path!r})"
            )
        if not path and not self.prefix:
            raise ValueError("a route path cannot be empty; use '/'")
        where = f"route {path!r}"
        refuse_unknown_keywords(options, self._label, path)
        status_code = options.pop("status_code", None)
        response_class = options.pop("response_class", None)
        dependencies = options.pop("dependencies", None)
        name = options.pop("name", None)
        strict_content_type = options.pop("strict_content_type", None)
        response_model = options.pop("response_model", FROM_ANNOTATION)
        model_keywords = {
            key: options.pop(key)  # type: ignore[misc]
            for key in MODEL_OPTIONS if key in options
        }
        # What is left: the documentation-only options, under the router's own.
        metadata = merge_route_options(self._route_defaults(), options)
        route_class = check_route_class(route_class_override or self.route_class, Route, where)
        route = route_class(
            self.prefix + path,
            endpoint,
            methods=methods,
            status_code=status_code,
            response_class=response_class or self.default_response_class,
            dependencies=(*self.dependencies, *check_dependencies(dependencies, where)),
            name=name,
            metadata=metadata,
            strict_content_type=(
                strict_content_type if strict_content_type is not None
                else self.strict_content_type
            ),
            response_model=response_model,
            response_model_options=model_keywords,
        )
        route.response_class_explicit = response_class is not None
        self.routes.append(route)
        self.revision += 1
        return route

    def add_api_websocket_route(self, path: str, endpoint: Callable[..., Any],
                                name: str | None = None, *,
                                dependencies: Sequence[Any] | None = None) -> WebSocketRoute:
        """Register ``endpoint`` for WebSocket connections to ``path``."""
        where = f"WEBSOCKET {path}"
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(
                f"websocket path {path!r} must start with '/':\n"
                f"    right: @{self._label}.websocket({'/' + str(path).lstrip('/')!r})"
            )
        route = WebSocketRoute(self.prefix + path, endpoint, name=name, dependencies=(
            *self.dependencies, *check_dependencies(dependencies, where)))
        self.routes.append(route)
        self.revision += 1
        return route

    def websocket(self, path: str, name: str | None = None, *,
                  dependencies: Sequence[Any] | None = None) -> Callable[[Endpoint], Endpoint]:
        """``@app.websocket("/ws")`` over ``async def endpoint(websocket: WebSocket)``."""
        if callable(path):
            raise TypeError(
                "the websocket decorator needs a path:\n"
                "    wrong: @app.websocket\n"
                "    right: @app.websocket(\"/ws\")"
            )

        def register(endpoint: Endpoint) -> Endpoint:
            self.add_api_websocket_route(path, endpoint, name, dependencies=dependencies)
            return endpoint

        return register

    def api_route(self, path: str, *, methods: Sequence[str] | None = None,
                  **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        """``@router.api_route("/items", methods=["GET", "POST"])``"""
        if callable(path):
            raise TypeError(
                "the route decorator needs a path:\n"
                "    wrong: @app.get\n"
                "    right: @app.get(\"/items\")"
            )

        def register(endpoint: Endpoint) -> Endpoint:
            self.add_api_route(path, endpoint, methods=methods, **options)
            return endpoint

        return register

    # One per method, as FastAPI has; each takes every keyword of RouteKeywords.

    def get(self, path: str, **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        """``@router.get("/items/{item_id}")``; a GET route answers HEAD too."""
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["DELETE"], **options)

    def head(self, path: str, **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["HEAD"], **options)

    def options(self, path: str,
                **options: Unpack[RouteKeywords]) -> Callable[[Endpoint], Endpoint]:
        return self.api_route(path, methods=["OPTIONS"], **options)

    def include_router(self, router: Router, *, prefix: str = "",
                       dependencies: Sequence[Any] | None = None,
                       default_response_class: type[Response] | None = None,
                       tags: list[Any] | None = None,
                       responses: dict[Any, Any] | None = None,
                       **openapi: Unpack[RouterOpenAPIOptions]) -> None:
        """Mount ``router``'s routes here, under ``prefix`` and after ``dependencies``.

        The routes are copied as they are now, as FastAPI does: routes added to
        ``router`` later are not seen. Each keeps its class (the ``route_class``
        of the router it was declared on), and ``router``'s startup and shutdown
        handlers join this one's (once each: FastAPI 0.165 runs them twice).
        """
        included = split_openapi_options(
            "include_router", openapi, _ROUTER_OPENAPI, INCLUDE_NOT_YET)
        if not isinstance(router, Router):
            raise TypeError(
                f"include_router() takes a Router, not {type(router).__name__}:\n"
                f"    right: app.include_router(items.router)"
            )
        if router is self:
            raise ValueError("a router cannot include itself")
        where = "include_router()"
        prefix = check_prefix(prefix, where)
        extra = (*self.dependencies, *check_dependencies(dependencies, where))
        metadata: RouteOptions = {**included}  # type: ignore[typeddict-item]
        if tags:
            metadata["tags"] = list(tags)
        if responses:
            metadata["responses"] = dict(responses)
        metadata = merge_route_options(self._route_defaults(), metadata)
        default_class = default_response_class or self.default_response_class
        for route in router.routes:
            if not (self.prefix + prefix + route.path) and not isinstance(route, Mount):
                raise ValueError(f"{where}: a route mounted with no prefix needs a path, not ''")
            self.routes.append(route.copy_with(
                prefix=self.prefix + prefix, dependencies=extra,
                default_response_class=default_class, metadata=metadata,
                strict_content_type=self.strict_content_type,
            ))
        self.on_startup.extend(router.on_startup)
        self.on_shutdown.extend(router.on_shutdown)
        self.revision += 1

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Hand ``path`` and every path under it to ``app``: ``StaticFiles``, a
        ``MicroReady`` sub-app, or any ASGI app.

        ``app.mount("/static", StaticFiles(directory="static"), name="static")``;
        ``name`` lets ``url_for("static", path="/site.css")`` build its URLs.
        Routes registered before the mount still win for their own paths.
        """
        if isinstance(path, Router) or not isinstance(path, str):
            raise TypeError(
                "mount() takes the path first, then what to mount:\n"
                "    right: app.mount(\"/static\", StaticFiles(directory=\"static\"), "
                "name=\"static\")"
            )
        if isinstance(app, Router) and not hasattr(app, "handle"):
            raise TypeError(
                f"mount({path!r}) mounts apps; a {type(app).__name__} is included instead:\n"
                f"    wrong: app.mount({path!r}, router)\n"
                f"    right: app.include_router(router, prefix={path.rstrip('/')!r})"
            )
        self.routes.append(Mount(self.prefix + path, app, name))
        self.revision += 1

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route (or mount) called ``name``, with ``path_params`` in it.

        ``app.url_path_for("read_item", item_id=3)`` -> ``"/items/3"``. Raises
        ``NoMatchFound`` when no route has that name and exactly those parameters.
        """
        return url_path_for(self.routes, name, path_params)


APIRoute = Route  # FastAPI's name: `from fastapi.routing import APIRoute` -> this
