"""The middleware stack: what ``add_middleware`` and ``@app.middleware("http")`` build.

A request goes down the stack and its ``Reply`` comes back up. Each layer is
a ``RequestHandler`` (``async def handle(request) -> Reply``, see
``_exchange``): the innermost is the app's routing, each middleware wraps the
layers under it, and the last one added is the outermost, as in Starlette.

A middleware class is one of two kinds, told apart by its methods:

* **native** (it has ``async def handle(self, request) -> Reply``): microready's
  own ``CORSMiddleware``, ``GZipMiddleware``..., ``BaseHTTPMiddleware`` and
  ``@app.middleware("http")``. It edits the ``Reply`` on its way up, and the
  request's background tasks ride in it untouched, so they still start after
  the client has the last byte of whatever response the stack settles on;
* **ASGI** (anything else: ``cls(app, **options)`` is an ASGI app): Sentry's,
  OpenTelemetry's, Starlette's. It is given the layers under it as an ASGI app
  and called through ``AsgiHandler``; the tasks come back through the scope
  (see ``_asgi``), with the same guarantee.

An app with no middleware has no stack: ``handle`` goes straight to routing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._asgi.entry import serve_http
from ._asgi.handler import AsgiHandler
from ._exchange import Reply, RequestHandler

if TYPE_CHECKING:
    from ._asgi.scope import ASGIApp, Receive, Scope, Send
    from .app import MicroReady
    from .requests import Request

__all__ = ["Middleware", "MiddlewareHost", "build_stack", "is_native"]

DispatchT = TypeVar("DispatchT", bound=Callable[..., Any])


class Middleware:
    """One middleware and its options: ``Middleware(CORSMiddleware, allow_origins=["*"])``.

    For ``MicroReady(middleware=[...])``, as Starlette's ``Middleware``; it
    unpacks as ``cls, args, kwargs``.
    """

    __slots__ = ("cls", "args", "kwargs")

    def __init__(self, cls: Any, /, *args: Any, **kwargs: Any) -> None:
        _check_class(cls)
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        options = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        name = getattr(self.cls, "__name__", repr(self.cls))
        return f"Middleware({', '.join([name, *options])})"


def _check_class(cls: Any) -> None:
    if not callable(cls) or not (inspect.isclass(cls) or inspect.isfunction(cls)):
        shown = type(cls).__name__
        raise TypeError(
            f"add_middleware() takes the middleware class and its options, not a {shown} "
            f"instance:\n"
            f"    wrong: app.add_middleware({shown}(...))\n"
            f"    right: app.add_middleware({shown}, allow_origins=[\"https://example.com\"])"
        )


def is_native(cls: Any) -> bool:
    """Whether ``cls`` is a microready middleware (it answers ``handle(request)``)."""
    return inspect.iscoroutinefunction(getattr(cls, "handle", None))


class _Routing:
    """The innermost layer: the app's own routing."""

    __slots__ = ("app",)

    def __init__(self, app: MicroReady) -> None:
        self.app = app

    async def handle(self, request: Request) -> Reply:
        return await self.app._handle_routes(request)


def _as_asgi(app: MicroReady, layer: RequestHandler) -> ASGIApp:
    """The layers under an ASGI middleware, as the ASGI app it wraps."""
    if isinstance(layer, AsgiHandler):
        return layer.app  # two ASGI middlewares in a row speak ASGI to each other

    async def inner_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"microready's middleware stack got an ASGI {scope['type']!r} "
                               "call; only http goes through it")
        await serve_http(app, layer, scope, receive, send)

    return inner_app


def build_stack(app: MicroReady, entries: Sequence[Middleware]) -> RequestHandler:
    """The layers for ``entries`` (outermost first) over the app's routing."""
    layer: RequestHandler = _Routing(app)
    for cls, args, kwargs in reversed(entries):
        if is_native(cls):
            layer = cls(layer, *args, **kwargs)
        else:
            layer = AsgiHandler(cls(_as_asgi(app, layer), *args, **kwargs))
    return layer


class MiddlewareHost:
    """The middleware half of ``MicroReady``: ``add_middleware`` and ``@app.middleware``."""

    user_middleware: list[Middleware]
    middleware_stack: RequestHandler | None

    def _init_middleware(self, middleware: Sequence[Middleware] | None) -> None:
        entries = list(middleware or [])
        for entry in entries:
            if not isinstance(entry, Middleware):
                raise TypeError(
                    f"middleware= takes Middleware entries, not {type(entry).__name__}:\n"
                    f"    right: MicroReady(middleware=[Middleware(CORSMiddleware, "
                    f"allow_origins=[\"*\"])])"
                )
        self.user_middleware = entries
        self.middleware_stack = None
        self._middleware_locked = False  # the app has started: the stack is final

    def add_middleware(self, middleware_class: Any, /, *args: Any, **kwargs: Any) -> None:
        """Wrap the app in ``middleware_class(app, *args, **kwargs)``; the last added runs first.

        ``middleware_class`` is a microready middleware (``microready.middleware``)
        or a pure ASGI middleware class.
        """
        if self._middleware_locked or self.middleware_stack is not None:
            raise RuntimeError(
                "cannot add middleware after the app has started serving: call "
                "app.add_middleware(...) where the app is built, before it is served"
            )
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def middleware(self, middleware_type: str) -> Callable[[DispatchT], DispatchT]:
        """``@app.middleware("http")`` over ``async def m(request, call_next) -> Response``."""
        if middleware_type != "http":
            raise ValueError(
                f"only HTTP middleware can be declared this way, not {middleware_type!r}:\n"
                f"    right: @app.middleware(\"http\")"
            )
        from .middleware.base import BaseHTTPMiddleware

        def register(dispatch: DispatchT) -> DispatchT:
            self.add_middleware(BaseHTTPMiddleware, dispatch=dispatch)
            return dispatch

        return register

    def build_middleware_stack(self) -> RequestHandler | None:
        """Build the stack once (at startup, or the first request); None without middleware."""
        self._middleware_locked = True
        if self.middleware_stack is None and self.user_middleware:
            app: MicroReady = self  # type: ignore[assignment]  # mixed into MicroReady only
            self.middleware_stack = build_stack(app, self.user_middleware)
        return self.middleware_stack
