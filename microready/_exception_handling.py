"""Exception handlers: which handler answers an exception, and how its answer is made.

``MicroReady`` inherits ``ExceptionHandling``: ``app.exception_handlers``, the
``@app.exception_handler(...)`` decorator and ``add_exception_handler``, and
``_answer``, which the app calls for every exception a request ends in. The
handler for an exception class is found once (along its MRO) and cached.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio.to_thread

from ._utils import is_async_callable
from .exception_handlers import http_exception_handler, request_validation_exception_handler
from .exceptions import HTTPException, RequestValidationError
from .requests import ClientDisconnect, Request
from .responses import PlainTextResponse, Response

__all__ = ["ExceptionHandler", "ExceptionHandling", "describe"]

error_logger = logging.getLogger("microready.error")

ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def describe(request: Request) -> str:
    # The target is client-controlled: repr() keeps a log line on one line.
    return f"{request.method} {request.raw_target.decode('latin-1')!r}"


class ExceptionHandling:
    """An app's exception handlers (see the module docstring)."""

    def _init_exception_handlers(
        self, handlers: Mapping[type[BaseException] | int, ExceptionHandler] | None
    ) -> None:
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = {
            HTTPException: http_exception_handler,
            RequestValidationError: request_validation_exception_handler,
        }
        self._handler_cache: dict[type[BaseException], tuple[ExceptionHandler | None, bool]] = {}
        for key, handler in (handlers or {}).items():
            self.add_exception_handler(key, handler)

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
                error_logger.debug("client disconnected during %s", describe(request))
                return PlainTextResponse("Client Disconnected", 400), None
            error_logger.error("Exception in handler for %s", describe(request), exc_info=exc)
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
                type(exc).__name__, describe(request), exc_info=handler_error,
            )
            return PlainTextResponse("Internal Server Error", 500), handler_error
        if catch_all:
            # Starlette's rule: the catch-all handler shapes the 500, but the error
            # is still logged and re-raised by the test client.
            error_logger.error("Exception in handler for %s", describe(request), exc_info=exc)
            return response, exc
        return response, None
