"""``BaseHTTPMiddleware``: a middleware written as ``dispatch(request, call_next)``.

``@app.middleware("http")`` is this class over the decorated function. Unlike
Starlette's, it is a native layer (see ``_middleware_stack``): ``call_next``
returns the inner layers' own response object (a ``StreamingResponse`` stays
one, unread), and the request's background tasks stay in the ``Reply``, so
they start after the client has the last byte of the response ``dispatch``
returns, never before it, and never holding the next request (starlette#919,
starlette#3458).

As in Starlette, an unhandled error of the inner layers is raised from
``call_next``, so ``try: await call_next(request) except ...`` sees it; if
``dispatch`` lets it go, it is answered as it would have been without the
middleware (the app's 500, logged once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .._exchange import Reply, RequestHandler
from .._route_handler import task_list
from ..requests import Request
from ..responses import Response

__all__ = ["BaseHTTPMiddleware", "CallNext", "DispatchFunction"]

CallNext = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]


class BaseHTTPMiddleware:
    """Subclass it and define ``dispatch``, or pass ``dispatch=`` (as Starlette's)."""

    def __init__(self, app: RequestHandler, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: Any = self.dispatch if dispatch is None else dispatch
        if not callable(self.dispatch_func):
            raise TypeError(
                "BaseHTTPMiddleware needs a dispatch function:\n"
                "    right: @app.middleware(\"http\")\n"
                "           async def add_header(request, call_next):\n"
                "               response = await call_next(request); return response"
            )

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        raise NotImplementedError(
            f"{type(self).__name__} subclasses BaseHTTPMiddleware: define "
            "`async def dispatch(self, request, call_next)`, or pass dispatch=..."
        )

    async def handle(self, request: Request) -> Reply:
        inner: Reply | None = None

        async def call_next(next_request: Request) -> Response:
            nonlocal inner
            if inner is not None:
                raise RuntimeError("call_next() was called twice for one request")
            inner = await self.app.handle(next_request)
            if inner.error is not None:
                raise inner.error
            return inner.response

        try:
            response = await self.dispatch_func(request, call_next)
        except Exception as exc:
            if inner is not None and exc is inner.error:
                return inner  # the inner 500, already made and logged
            raise
        if not isinstance(response, Response):
            name = getattr(self.dispatch_func, "__name__", "dispatch")
            raise TypeError(
                f"middleware {name}() returned {type(response).__name__}, not a Response:\n"
                f"    right: response = await call_next(request); return response"
            )
        if inner is None:  # answered without calling the app
            background = response.background
            return Reply(response, task_list(background) if background is not None else [])
        if response is not inner.response:
            # Another response: the inner tasks still run, after this one's last
            # byte, and then this response's own.
            if response.background is not None:
                inner.tasks.extend(task_list(response.background))
            inner.response = response
        inner.error = None  # raised from call_next and handled by dispatch
        return inner
