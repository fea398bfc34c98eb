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
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._convert import UnsupportedType
from ._events import EventHandler, EventHandlers
from ._fastapi_keywords import (
    INCLUDE_NOT_YET,
    ROUTER_NOT_YET,
    RouterOpenAPIOptions,
    split_openapi_options,
)
from ._inject import EndpointPlan, plan_endpoint
from ._mount import Mount
from ._path_template import PathTemplate
from ._response_model import ResponseModel, model_from_annotation
from ._route_handler import RouteHandler, checked_handler, original_handler
from ._route_options import (
    FROM_ANNOTATION,
    MODEL_OPTIONS,
    RouteKeywords,
    RouteOptions,
    check_dependencies,
    check_prefix,
    check_route_class,
    model_options,
    refuse_unknown_keywords,
)
from ._route_table import NoMatchFound, RouteTable, allowed_methods, fill_path, url_path_for
from ._streaming import StreamMaker, stream_maker
from .params import Dependency
from .responses import JSONResponse, Response

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
    "allowed_methods",
]

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


# -- routes --------------------------------------------------------------------------


class Route:
    """One path operation: a path, its methods, the endpoint and its plan.

    FastAPI's ``APIRoute`` (``microready.routing.APIRoute`` is this class). A
    subclass may override ``get_route_handler`` to wrap the handler that
    answers its requests; see ``_route_handler``.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        dependencies: Sequence[Dependency] = (),
        name: str | None = None,
        metadata: RouteOptions | None = None,
        strict_content_type: bool | None = None,
        response_model: Any = FROM_ANNOTATION,
        response_model_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(endpoint):
            raise TypeError(
                f"route {path!r}: the endpoint must be a function, got {type(endpoint).__name__}"
            )
        if isinstance(methods, str):
            raise TypeError(
                f"route {path!r}: methods= takes a list:\n"
                f"    wrong: methods={methods!r}\n"
                f"    right: methods=[{methods!r}]"
            )
        if status_code is not None and not (
            isinstance(status_code, int) and 100 <= status_code <= 599
        ):
            raise ValueError(f"route {path!r}: status_code must be an int from 100 to 599")
        if response_class is not None and not (
            isinstance(response_class, type) and issubclass(response_class, Response)
        ):
            raise TypeError(
                f"route {path!r}: response_class must be a Response class such as "
                f"HTMLResponse, not {response_class!r}"
            )
        self.path = path
        self.template = PathTemplate(path)
        self.endpoint = endpoint
        self.name = name if name is not None else getattr(endpoint, "__name__", repr(endpoint))
        ordered = [m.upper() for m in (methods or ["GET"])]
        if "GET" in ordered and "HEAD" not in ordered:
            ordered.append("HEAD")
        self.methods: tuple[str, ...] = tuple(dict.fromkeys(ordered))
        self.method_set = frozenset(self.methods)
        self.status_code = status_code
        self.response_class: type[Response] = response_class or JSONResponse
        self.response_class_explicit = response_class is not None
        self.dependencies = tuple(dependencies)
        self.metadata: RouteOptions = metadata or {}
        # None: not set on the route or its routers; the app's value applies.
        self.strict_content_type = strict_content_type
        where = f"{'/'.join(m for m in self.methods if m != 'HEAD') or 'HEAD'} {path}"
        self.plan: EndpointPlan = plan_endpoint(
            endpoint, frozenset(self.template.names), self.dependencies, where
        )
        self.response_model_declared = response_model
        self.response_model_options = dict(response_model_options or {})
        if self.plan.streams:  # its items are streamed as they come (no item model yet)
            response_model = None
        elif response_model is FROM_ANNOTATION:
            response_model = model_from_annotation(endpoint, where)
        try:
            self.response_model: ResponseModel | None = (
                None if response_model is None else ResponseModel(
                    response_model, **model_options(self.response_model_options))
            )
        except UnsupportedType as exc:
            raise TypeError(
                f"{where}: {exc}; to send the returned value as it is, say "
                f"response_model=None"
            ) from None
        # A generator endpoint: what turns its generator into the response.
        self.stream: StreamMaker | None = (
            stream_maker(self.response_class, where,
                         getattr(endpoint, "__name__", self.plan.root.name))
            if self.plan.streams else None
        )
        # None for a plain Route: the app runs the endpoint itself, at no extra cost.
        self.handler: RouteHandler | None = None if (
            type(self).get_route_handler is Route.get_route_handler
        ) else checked_handler(self, self.get_route_handler(), where)

    def get_route_handler(self) -> RouteHandler:
        """The async function that answers this route's requests: ``Request -> Response``.

        It runs the endpoint with the route's plan and makes its response. A
        subclass may override this to wrap it (FastAPI's ``APIRoute`` hook; see
        ``_route_handler``); it is called once, when the route is made. To hand
        the endpoint a ``Request`` subclass: ``MyRequest.from_request(request)``.
        """
        return original_handler(self)

    def copy_with(self, *, prefix: str, dependencies: Sequence[Dependency],
                  default_response_class: type[Response] | None,
                  metadata: RouteOptions, strict_content_type: bool | None = None) -> Route:
        """This route as mounted under ``prefix`` with extra leading dependencies."""
        response_class = self.response_class if self.response_class_explicit else (
            default_response_class
        )
        merged = merge_route_options(metadata, self.metadata)
        return type(self)(  # an included route keeps its class, as in FastAPI
            prefix + self.path,
            self.endpoint,
            methods=[m for m in self.methods if m != "HEAD" or "GET" not in self.methods],
            status_code=self.status_code,
            response_class=response_class,
            dependencies=(*dependencies, *self.dependencies),
            name=self.name,
            metadata=merged,
            strict_content_type=(
                self.strict_content_type if self.strict_content_type is not None
                else strict_content_type
            ),
            response_model=self.response_model_declared,
            response_model_options=self.response_model_options,
        )

    def url_path(self, name: str, params: dict[str, Any]) -> str | None:
        """This route's path with ``params`` in it, if it is called ``name`` and takes them."""
        if name != self.name or set(params) != set(self.template.names):
            return None
        return fill_path(self.path, params)

    def __repr__(self) -> str:
        return f"<Route {', '.join(self.methods)} {self.path} -> {self.name}>"


def merge_route_options(outer: RouteOptions, inner: RouteOptions) -> RouteOptions:
    """A route's options (``inner``) under its router's (``outer``), as FastAPI
    combines them: tags and callbacks add up, responses merge (the route's win),
    either's ``deprecated`` counts, ``include_in_schema`` needs both."""
    merged: RouteOptions = {**outer, **inner}
    tags = [*(outer.get("tags") or []), *(inner.get("tags") or [])]
    callbacks = [*(outer.get("callbacks") or []), *(inner.get("callbacks") or [])]
    merged.pop("tags", None)
    merged.pop("callbacks", None)
    if tags:
        merged["tags"] = tags
    if callbacks:
        merged["callbacks"] = callbacks
    if outer.get("responses") or inner.get("responses"):
        merged["responses"] = {**(outer.get("responses") or {}), **(inner.get("responses") or {})}
    else:
        merged.pop("responses", None)
    if outer.get("deprecated") or inner.get("deprecated"):
        merged["deprecated"] = True
    if "include_in_schema" in merged:
        merged["include_in_schema"] = bool(outer.get("include_in_schema", True)
                                           and inner.get("include_in_schema", True))
    if inner.get("generate_unique_id_function") is None and outer.get(
            "generate_unique_id_function") is not None:
        merged["generate_unique_id_function"] = outer["generate_unique_id_function"]
    return merged


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
        self.routes: list[Route | Mount] = []
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
        if path and not path.startswith("/"):
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
        """Hand ``path`` and every path under it to ``app``, e.g. ``StaticFiles``.

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
        if isinstance(app, Router):
            raise TypeError(
                f"mount({path!r}) cannot mount {type(app).__name__}: mounting an app is not "
                f"supported yet (issue 14). To serve a Router's routes under a prefix, "
                f"include it:\n"
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
