"""MicroReady: the application object.

It is a ``Router`` (the same decorators, ``include_router``, ``dependencies=``)
plus what an application adds: ``handle(request) -> Reply`` (the contract with
the server, see ``_exchange``), exception handlers, the lifespan, ``state`` and
the background-task runner.

One request, in ``handle``:

1. find: the route table finds the route (a dict lookup for static paths) or
   answers 404/405 through the exception handlers;
2. run: ``_inject.run_endpoint`` calls the endpoint with what its plan asks
   for: nothing, path/query/header/cookie values, or the full dependency
   solver (a route whose class overrides ``get_route_handler`` runs through
   that handler instead, see ``_route_handler``);
3. respond: the result becomes a response (JSON unless the route says
   otherwise), and the ``Reply`` carries the response, the request's background tasks (the
   injected ``BackgroundTasks`` first, then the response's own ``background``:
   both run, unlike FastAPI) and the teardown of ``yield`` dependencies, which
   the server runs after the tasks.

If the endpoint or a dependency raises, the tasks queued so far are dropped
(FastAPI's documented behaviour), the ``yield`` dependencies are closed with
the exception thrown in, and the exception handlers answer. An exception with
no handler answers 500 ``Internal Server Error``; its traceback goes to the
``microready.error`` log, never to the client.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from ._asgi.entry import serve_http, serve_lifespan
from ._asgi.scope import Receive, Scope, Send, route_path
from ._events import EventHandler
from ._exception_handling import ExceptionHandler, ExceptionHandling, describe
from ._exchange import Reply, RequestHandler
from ._fastapi_keywords import APP_NOT_YET, AppOpenAPIOptions, split_openapi_options
from ._inject import ActiveOverrides, OverridePlans, RequestState, close_failed, run_endpoint
from ._lifespan import Lifespan, checked_lifespan, running_lifespan
from ._middleware_stack import Middleware, MiddlewareHost, build_stack
from ._offload_reply import offloading_reply
from ._route_handler import respond, run_route_handler, task_list, then
from ._websocket_route import WEBSOCKET, WebSocketRoute, serve_websocket
from .background.offload import Offloader, current_offloader
from .background.runner import BackgroundRunner
from .datastructures import State
from .exceptions import HTTPException
from .openapi._app import configure as configure_openapi
from .requests import Request
from .responses import FileResponse, RedirectResponse, Response
from .routing import Mount, Route, Router, RouteTable, allowed_methods

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:  # pragma: no cover - 3.10: only type checkers need it; they bundle it
    from typing_extensions import Unpack

__all__ = ["ExceptionHandler", "Lifespan", "MicroReady"]

_APP_OPENAPI = AppOpenAPIOptions.__optional_keys__

error_logger = logging.getLogger("microready.error")
background_logger = logging.getLogger("microready.background")

def _slash_redirect(request: Request) -> str:
    """The request's URL with the trailing slash added or removed, absolute as
    Starlette sends it: the request's scheme (``https`` over TLS or from a
    trusted proxy), the ``Host``, then the path and query as the client wrote
    them. Without a ``Host`` (HTTP/1.0) the path alone, which RFC 9110 section
    10.2.2 allows."""
    raw_path, question, query = request.raw_target.partition(b"?")
    raw_path = raw_path[:-1] if raw_path.endswith(b"/") else raw_path + b"/"
    location = (raw_path + question + query).decode("latin-1")
    host = request.headers.get("host")
    scheme = "https" if request.scope.get("scheme") in ("https", "wss") else "http"
    return f"{scheme}://{host}{location}" if host else location


class MicroReady(Router, ExceptionHandling, MiddlewareHost):
    """The application: ``app = MicroReady()``; ``@app.get("/")``; ``microready.run(app)``.

    ``MicroReady(dependencies=[Depends(...)], lifespan=fn, exception_handlers={...},
    default_response_class=JSONResponse, redirect_slashes=True, strict_content_type=True,
    route_class=Route, on_startup=[...], on_shutdown=[...], middleware=[Middleware(...)],
    root_path="", offload=CeleryOffload(celery_app))`` (``_offload_reply``)

    It is also an ASGI 3 application: ``uvicorn main:app`` serves it (see ``_asgi``).
    """

    _label = "app"

    def __init__(
        self,
        *,
        dependencies: Sequence[Any] | None = None,
        lifespan: Lifespan | None = None,
        exception_handlers: Mapping[type[BaseException] | int, ExceptionHandler] | None = None,
        default_response_class: type[Response] | None = None,
        redirect_slashes: bool = True,
        strict_content_type: bool = True,
        title: str = "MicroReady",
        description: str = "",
        version: str = "0.1.0",
        route_class: type[Route] | None = None,
        on_startup: Sequence[EventHandler] | None = None,
        on_shutdown: Sequence[EventHandler] | None = None,
        middleware: Sequence[Middleware] | None = None,
        root_path: str = "",
        offload: Offloader | None = None,
        **openapi: Unpack[AppOpenAPIOptions],
    ) -> None:
        super().__init__(dependencies=dependencies, default_response_class=default_response_class,
                         strict_content_type=strict_content_type, route_class=route_class,
                         on_startup=on_startup, on_shutdown=on_shutdown)
        # For the OpenAPI generator (another issue); FastAPI keywords microready does
        # not act on yet are refused here, by name.
        self.openapi_options = split_openapi_options(
            "MicroReady", openapi, _APP_OPENAPI, APP_NOT_YET)
        self.responses = dict(self.openapi_options.get("responses") or {})
        self.title = title
        self.description = description
        self.version = version
        self.redirect_slashes = redirect_slashes
        self.state = State()
        self.background = BackgroundRunner()
        self._offload = offload
        if offload is not None:
            self.background.use_offloader(offload)
        # FastAPI's: replace a dependency, at any depth, for the requests that follow.
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._override_plans = OverridePlans()
        self._init_exception_handlers(exception_handlers)
        self._init_middleware(middleware)
        if root_path and (not isinstance(root_path, str) or not root_path.startswith("/")):
            raise ValueError(
                f"root_path is the path prefix a proxy strips, starting with '/':\n"
                f"    wrong: MicroReady(root_path={root_path!r})\n"
                f"    right: MicroReady(root_path={'/' + str(root_path).strip('/')!r})"
            )
        # FastAPI's (deprecated there in favour of the server's --root-path, which
        # microready has too): every request is treated as served under it.
        self.root_path = root_path.rstrip("/")
        self._lifespan = checked_lifespan(lifespan)
        self._lifespan_state: dict[str, Any] | None = None
        self._table: RouteTable[Route | Mount] = RouteTable(())
        self._websocket_table: RouteTable[WebSocketRoute | Mount] = RouteTable(())
        self._table_version = -1
        # OpenAPI: FastAPI's attributes, and the docs routes (kept out of self.routes).
        self.openapi_version = "3.1.0"
        self.openapi_schema: dict[str, Any] | None = None
        self.openapi_url: str | None
        self.docs_url: str | None
        self.redoc_url: str | None
        self.swagger_ui_oauth2_redirect_url: str | None
        self.swagger_ui_init_oauth: dict[str, Any] | None
        self.swagger_ui_parameters: dict[str, Any] | None
        self._docs_routes = configure_openapi(self)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the app's routes, built once and kept in
        ``self.openapi_schema``; replace it as FastAPI's "Extending OpenAPI" does
        (``app.openapi = custom_openapi``, which fills ``app.openapi_schema``)."""
        if not self.openapi_schema:
            from .openapi.utils import get_openapi  # only apps that serve the document

            options = self.openapi_options
            webhooks = options.get("webhooks")
            self.openapi_schema = get_openapi(
                title=self.title, version=self.version, openapi_version=self.openapi_version,
                summary=options.get("summary"), description=self.description,
                terms_of_service=options.get("terms_of_service"),
                contact=options.get("contact"), license_info=options.get("license_info"),
                routes=self.routes, webhooks=webhooks.routes if isinstance(
                    webhooks, Router) else webhooks,
                tags=options.get("openapi_tags"), servers=options.get("servers"),
                separate_input_output_schemas=options.get("separate_input_output_schemas", True),
                external_docs=options.get("openapi_external_docs"),
            )
        return self.openapi_schema

    def active_overrides(self) -> ActiveOverrides | None:
        """What the solver asks about each dependency; None when nothing is overridden."""
        overrides = self.dependency_overrides
        return ActiveOverrides(overrides, self._override_plans) if overrides else None

    @property
    def router(self) -> Router:
        """The app itself (FastAPI code reads ``app.router.routes``)."""
        return self

    # -- lifespan --------------------------------------------------------------------

    def lifespan_context(self) -> AbstractAsyncContextManager[None]:
        """Startup before the block, shutdown after it; the server runs it around serving.

        The ``lifespan=`` context, or else the ``on_event`` handlers (``_lifespan``).
        """
        return self._run_lifespan()

    @asynccontextmanager
    async def _run_lifespan(self) -> AsyncIterator[None]:
        self._route_table()  # build it now, not during the first request
        self.build_middleware_stack()  # and the stack: its configuration errors show here
        async with running_lifespan(
            self, self._lifespan, self.on_startup, self.on_shutdown
        ) as state:
            self._lifespan_state = state
            try:
                yield
            finally:
                self._lifespan_state = None

    # -- serving ---------------------------------------------------------------------

    def _route_table(self) -> RouteTable[Route | Mount]:
        if self._table_version != self.revision:
            for route in self.routes:
                if isinstance(route, Route) and route.strict_content_type is None:
                    # Set on neither the route nor its routers: the app's value holds.
                    route.strict_content_type = self.strict_content_type is not False
            http = [route for route in self.routes if isinstance(route, Route | Mount)]
            self._table = RouteTable([*self._docs_routes, *http])
            # A mount takes WebSocket connections too: its app may have routes for them.
            self._websocket_table = RouteTable(
                [route for route in self.routes if isinstance(route, WebSocketRoute | Mount)])
            self._table_version = self.revision
        return self._table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app as an ASGI 3 application (``uvicorn main:app``); see ``_asgi.entry``."""
        kind = scope["type"]
        if kind == "http":
            await serve_http(self, self, scope, receive, send)
        elif kind == "websocket":
            await self.serve_websocket(scope, receive, send)
        elif kind == "lifespan":
            await serve_lifespan(self, scope, receive, send)
        else:
            raise RuntimeError(f"microready cannot answer an ASGI {kind!r} connection")

    @property
    def websocket_routes(self) -> list[WebSocketRoute]:
        """The app's WebSocket routes (the server checks at start-up that it can serve them)."""
        return [route for route in self.routes if isinstance(route, WebSocketRoute)]

    async def serve_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One WebSocket connection, as an ASGI ``websocket`` call (see ``_websocket_route``)."""
        scope.setdefault("app", self)
        if self.root_path:
            scope["root_path"] = self.root_path
        if self._lifespan_state and "state" not in scope:
            scope["state"] = self._lifespan_state
        if self._table_version != self.revision:
            self._route_table()
        route, params, _ = self._websocket_table.find(WEBSOCKET, route_path(scope))
        await serve_websocket(self, route, params, scope, receive, send)

    def handle(self, request: Request) -> Coroutine[Any, Any, Reply]:
        """Answer one request: through the middleware, if any, to the routes.

        See the module docstring. Never raises an ``Exception``. A plain
        function that returns the coroutine to await (``await app.handle(r)``),
        so the common case, no middleware, runs in one coroutine frame less.
        """
        offload = self._offload
        if offload is not None and current_offloader().get() is not offload:
            return offloading_reply(self, offload, request)  # which comes back here
        if request.app is None:
            request.app = self
        if self._lifespan_state:
            request.scope["state"] = self._lifespan_state
        if self.root_path:
            request.scope["root_path"] = self.root_path
        stack = self.middleware_stack
        if stack is None:
            if not self.user_middleware:  # no middleware: no stack, nothing to pay
                return self._handle_routes(request)
            stack = self.middleware_stack = build_stack(self, self.user_middleware)
        return self._handle_through(stack, request)

    async def _handle_through(self, stack: RequestHandler, request: Request) -> Reply:
        try:
            return await stack.handle(request)
        except Exception as exc:  # a middleware failed: the handlers answer it
            response, error = await self._answer(request, exc)
            return Reply(response, error=error)

    async def _handle_routes(self, request: Request) -> Reply:
        """Find the route, run the endpoint, respond (the innermost layer)."""
        table = self._table if self._table_version == self.revision else self._route_table()
        path = request.url.path if "root_path" not in request.scope else request.route_path
        route, params, other_methods = table.find(request.method, path)
        if route is None:
            return await self._no_route(request, other_methods)
        if params:
            request.path_params = params
        if isinstance(route, Mount):
            return await route.answer(request, params["path"], self._failed)
        handler = route.handler
        if handler is not None:  # a Route subclass with its own get_route_handler()
            return await run_route_handler(self, route, handler, request)
        plan = route.plan
        state = RequestState(
            request, route.status_code, route.strict_content_type is not False,
            self.active_overrides() if self.dependency_overrides else None,
        ) if plan.needs_state else None
        try:
            result = await run_endpoint(plan, request, state)
            reply = respond(route, result, state)
            if isinstance(reply.response, FileResponse):
                # Its size, time and the requested range are read now, in a worker
                # thread, so a missing file is a 500 the handlers see, not a broken body.
                reply.response = await reply.response.for_request(request)
        except Exception as exc:
            reply = await self._failed(request, exc, state)
        except BaseException as exc:  # cancelled: still close the yield dependencies
            with anyio.CancelScope(shield=True):
                if state is not None and state.stack is not None:
                    await close_failed(state.stack, exc)
                await request.close()
            raise
        if request._form is not None:
            # Uploads stay open for the background tasks, and close after them.
            reply.cleanup = then(reply.cleanup, request.close)
        return reply

    async def _no_route(self, request: Request, other_methods: tuple[Route, ...]) -> Reply:
        if other_methods:
            exc = HTTPException(405, headers={"Allow": allowed_methods(other_methods)})
        else:
            path = request.route_path
            if self.redirect_slashes and path != "/":
                other = path[:-1] if path.endswith("/") else path + "/"
                if self._route_table().matches_any(other):
                    return Reply(RedirectResponse(_slash_redirect(request)))
            exc = HTTPException(404)
        response, error = await self._answer(request, exc)
        return Reply(response, error=error)

    async def _failed(self, request: Request, exc: Exception, state: RequestState | None) -> Reply:
        if state is not None:
            if state.tasks is not None and state.tasks.tasks and background_logger.isEnabledFor(
                logging.DEBUG
            ):
                background_logger.debug(
                    "discarding %d background task(s) (%s) queued by %s: the request failed "
                    "with %s", len(state.tasks.tasks), ", ".join(t.name for t in state.tasks),
                    describe(request), type(exc).__name__,
                )
            if state.stack is not None:
                outcome = await close_failed(state.stack, exc)
                if outcome is not None and outcome is not exc:
                    if not isinstance(outcome, Exception):
                        raise outcome
                    exc = outcome  # e.g. a dependency turned it into an HTTPException
        response, error = await self._answer(request, exc)
        background = response.background
        return Reply(response, task_list(background) if background is not None else [],
                     None, error)
