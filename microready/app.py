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

import inspect
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from ._events import EventHandler, run_event_handlers
from ._exchange import Reply
from ._fastapi_keywords import APP_NOT_YET, AppOpenAPIOptions, split_openapi_options
from ._inject import ActiveOverrides, OverridePlans, RequestState, close_failed, run_endpoint
from ._route_handler import respond, run_route_handler, task_list, then
from ._utils import is_async_callable
from .background.runner import BackgroundRunner
from .datastructures import State
from .exception_handlers import http_exception_handler, request_validation_exception_handler
from .exceptions import HTTPException, RequestValidationError
from .openapi._app import configure as configure_openapi
from .requests import ClientDisconnect, Request
from .responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from .routing import Mount, Route, Router, RouteTable, allowed_methods

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:  # pragma: no cover - 3.10: only type checkers need it; they bundle it
    from typing_extensions import Unpack

__all__ = ["ExceptionHandler", "Lifespan", "MicroReady"]

_APP_OPENAPI = AppOpenAPIOptions.__optional_keys__

error_logger = logging.getLogger("microready.error")
background_logger = logging.getLogger("microready.background")

ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def _slash_redirect(request: Request) -> str:
    """The request's URL with the trailing slash added or removed, absolute as
    Starlette sends it: ``http://`` (the one scheme the server speaks), the
    ``Host``, then the path and query as the client wrote them. Without a
    ``Host`` (HTTP/1.0) the path alone, which RFC 9110 section 10.2.2 allows."""
    raw_path, question, query = request.raw_target.partition(b"?")
    raw_path = raw_path[:-1] if raw_path.endswith(b"/") else raw_path + b"/"
    location = (raw_path + question + query).decode("latin-1")
    host = request.headers.get("host")
    return f"http://{host}{location}" if host else location


def _describe(request: Request) -> str:
    # The target is client-controlled: repr() keeps a log line on one line.
    return f"{request.method} {request.raw_target.decode('latin-1')!r}"


class MicroReady(Router):
    """The application: ``app = MicroReady()``; ``@app.get("/")``; ``microready.run(app)``.

    ``MicroReady(dependencies=[Depends(...)], lifespan=fn, exception_handlers={...},
    default_response_class=JSONResponse, redirect_slashes=True, strict_content_type=True,
    route_class=Route, on_startup=[...], on_shutdown=[...])``
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
        # FastAPI's: replace a dependency, at any depth, for the requests that follow.
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._override_plans = OverridePlans()
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = {
            HTTPException: http_exception_handler,
            RequestValidationError: request_validation_exception_handler,
        }
        self._handler_cache: dict[type[BaseException], tuple[ExceptionHandler | None, bool]] = {}
        for key, handler in (exception_handlers or {}).items():
            self.add_exception_handler(key, handler)
        self._lifespan = self._checked_lifespan(lifespan)
        self._lifespan_state: dict[str, Any] | None = None
        self._table = RouteTable(())
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

    # -- configuration -------------------------------------------------------------

    def add_exception_handler(self, key: type[BaseException] | int,
                              handler: ExceptionHandler) -> None:
        """Answer exceptions of class ``key`` (or HTTPExceptions with status ``key``)."""
        if not (isinstance(key, int) or (isinstance(key, type) and issubclass(key, BaseException))):
            raise TypeError(
                f"exception_handler() takes an exception class or a status code, not {key!r}:\n"
                f"    right: @app.exception_handler(ValueError) or @app.exception_handler(404)"
            )
        if not callable(handler):
            raise TypeError(
                f"the handler for {key!r} must be a function (request, exc) -> Response"
            )
        self.exception_handlers[key] = handler
        self._handler_cache.clear()

    def exception_handler(
        self, key: type[BaseException] | int
    ) -> Callable[[HandlerT], HandlerT]:
        """``@app.exception_handler(UnicornException)`` over ``async def h(request, exc)``."""
        if inspect.isfunction(key):
            raise TypeError(
                "exception_handler needs the exception class:\n"
                "    wrong: @app.exception_handler\n"
                "    right: @app.exception_handler(UnicornException)"
            )

        def register(handler: HandlerT) -> HandlerT:
            self.add_exception_handler(key, handler)
            return handler

        return register

    @staticmethod
    def _checked_lifespan(lifespan: Any) -> Lifespan | None:
        if lifespan is None:
            return None
        if not callable(lifespan):
            raise TypeError(
                f"lifespan must be a function that takes the app, not {type(lifespan).__name__}:\n"
                f"    right: @asynccontextmanager\n"
                f"           async def lifespan(app): ...; yield; ...\n"
                f"           app = MicroReady(lifespan=lifespan)"
            )
        if inspect.isasyncgenfunction(lifespan):  # forgot @asynccontextmanager: forgive it
            wrapped: Lifespan = asynccontextmanager(lifespan)
            return wrapped
        checked: Lifespan = lifespan
        return checked

    # -- lifespan --------------------------------------------------------------------

    def lifespan_context(self) -> AbstractAsyncContextManager[None]:
        """Startup before the block, shutdown after it; the server runs it around serving.

        The ``lifespan=`` context, or else the ``on_event`` handlers (``_events``).
        """
        return self._run_lifespan()

    @asynccontextmanager
    async def _run_lifespan(self) -> AsyncIterator[None]:
        self._route_table()  # build it now, not during the first request
        if self._lifespan is None:
            await run_event_handlers(self.on_startup)
            try:
                yield
            finally:
                await run_event_handlers(self.on_shutdown)
            return
        if self.on_startup or self.on_shutdown:  # FastAPI's rule, said out loud
            error_logger.warning(
                "the app has a lifespan=, so its %d startup and %d shutdown handler(s) "
                "(on_event, add_event_handler) are not run, as in FastAPI: move them "
                "into the lifespan", len(self.on_startup), len(self.on_shutdown),
            )
        manager = self._lifespan(self)
        if not isinstance(manager, AbstractAsyncContextManager) and not hasattr(
            manager, "__aenter__"
        ):
            raise TypeError(
                f"lifespan(app) returned {type(manager).__name__}, not an async context manager; "
                "decorate it with @contextlib.asynccontextmanager and make it an async def "
                "that yields once"
            )
        async with manager as value:
            if value is not None:
                if not isinstance(value, Mapping):
                    raise TypeError(
                        "the lifespan may yield a dict of state for request.state, or nothing; "
                        f"it yielded {type(value).__name__}"
                    )
                self._lifespan_state = dict(value)
            try:
                yield
            finally:
                self._lifespan_state = None

    # -- serving ---------------------------------------------------------------------

    def _route_table(self) -> RouteTable:
        if self._table_version != self.revision:
            for route in self.routes:
                if isinstance(route, Route) and route.strict_content_type is None:
                    # Set on neither the route nor its routers: the app's value holds.
                    route.strict_content_type = self.strict_content_type is not False
            self._table = RouteTable([*self._docs_routes, *self.routes])
            self._table_version = self.revision
        return self._table

    async def handle(self, request: Request) -> Reply:
        """Answer one request: find the route, run the endpoint, respond.

        See the module docstring. Never raises an ``Exception``.
        """
        if request.app is None:
            request.app = self
        if self._lifespan_state:
            request.scope["state"] = self._lifespan_state
        table = self._table if self._table_version == self.revision else self._route_table()
        route, params, other_methods = table.find(request.method, request.url.path)
        if route is None:
            return await self._no_route(request, other_methods)
        if params:
            request.path_params = params
        if isinstance(route, Mount):  # e.g. StaticFiles: it answers, the handlers catch
            try:
                response = await route.app.serve(request, params["path"])
                if isinstance(response, FileResponse):
                    response = await response.for_request(request)
            except Exception as exc:
                return await self._failed(request, exc, None)
            background = response.background
            return Reply(response, task_list(background) if background is not None else [])
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
            path = request.url.path
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
                    _describe(request), type(exc).__name__,
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

    def _handler_for(self, exc: BaseException) -> tuple[ExceptionHandler | None, bool]:
        """The handler for ``exc`` and whether it is the catch-all (``Exception``/500) one."""
        handlers = self.exception_handlers
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code], False
        kind = type(exc)
        cached = self._handler_cache.get(kind)
        if cached is not None:
            return cached
        found: tuple[ExceptionHandler | None, bool] = (None, False)
        for klass in kind.__mro__:
            if klass in handlers:
                found = (handlers[klass], klass in (Exception, BaseException))
                break
        else:
            if 500 in handlers:
                found = (handlers[500], True)
        self._handler_cache[kind] = found
        return found

    async def _answer(self, request: Request,
                      exc: Exception) -> tuple[Response, BaseException | None]:
        """The response for ``exc``, and the error to report (None when it was handled)."""
        handler, catch_all = self._handler_for(exc)
        if handler is None:
            if isinstance(exc, ClientDisconnect):  # nobody is listening; not our bug
                error_logger.debug("client disconnected during %s", _describe(request))
                return PlainTextResponse("Client Disconnected", 400), None
            error_logger.error("Exception in handler for %s", _describe(request), exc_info=exc)
            return PlainTextResponse("Internal Server Error", 500), exc
        try:
            if is_async_callable(handler):
                response = await handler(request, exc)  # type: ignore[misc]
            else:
                response = await anyio.to_thread.run_sync(handler, request, exc)
            if not isinstance(response, Response):
                name = getattr(handler, "__name__", repr(handler))
                raise TypeError(
                    f"exception handler {name} returned {type(response).__name__}, not a "
                    f"Response; return e.g. JSONResponse(status_code=418, content={{...}})"
                )
        except Exception as handler_error:
            error_logger.error(
                "the exception handler for %s failed while answering %s",
                type(exc).__name__, _describe(request), exc_info=handler_error,
            )
            return PlainTextResponse("Internal Server Error", 500), handler_error
        if catch_all:
            # Starlette's rule: the catch-all handler shapes the 500, but the error
            # is still logged and re-raised by the test client.
            error_logger.error("Exception in handler for %s", _describe(request), exc_info=exc)
            return response, exc
        return response, None
