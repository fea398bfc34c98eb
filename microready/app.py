"""MicroReady: the application object.

PLACEHOLDER (foundation): path templates without converters, path parameters
passed as strings, and ``BackgroundTasks`` injected by annotation. The
application-layer work replaces the dispatch with signature plans.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar, get_type_hints

import anyio.to_thread

from ._background_runner import BackgroundRunner
from ._exchange import Reply
from .background import BackgroundTasks
from .datastructures import State
from .requests import Request
from .responses import JSONResponse, PlainTextResponse, Response

__all__ = ["MicroReady"]

logger = logging.getLogger("microready.error")

Handler = TypeVar("Handler", bound=Callable[..., Any])
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


class _Route:
    def __init__(self, path: str, methods: set[str], endpoint: Callable[..., Any]) -> None:
        self.path = path
        self.methods = methods
        self.endpoint = endpoint
        self.parts = path.strip("/").split("/")
        hints = get_type_hints(endpoint)
        self.tasks_params = [n for n, t in hints.items() if t is BackgroundTasks]
        self.is_async = inspect.iscoroutinefunction(endpoint)

    def match(self, path: str) -> dict[str, str] | None:
        parts = path.strip("/").split("/")
        if len(parts) != len(self.parts):
            return None
        params: dict[str, str] = {}
        for template, actual in zip(self.parts, parts, strict=True):
            if template.startswith("{") and template.endswith("}"):
                params[template[1:-1]] = actual
            elif template != actual:
                return None
        return params


class MicroReady:
    def __init__(self, *, lifespan: Lifespan | None = None) -> None:
        self.routes: list[_Route] = []
        self.state = State()
        self.background = BackgroundRunner()
        self._lifespan = lifespan

    def api_route(self, path: str, *, methods: list[str]) -> Callable[[Handler], Handler]:
        def register(endpoint: Handler) -> Handler:
            self.routes.append(_Route(path, {m.upper() for m in methods}, endpoint))
            return endpoint

        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.api_route(path, methods=["GET"])

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.api_route(path, methods=["POST"])

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.api_route(path, methods=["PUT"])

    def patch(self, path: str) -> Callable[[Handler], Handler]:
        return self.api_route(path, methods=["PATCH"])

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.api_route(path, methods=["DELETE"])

    @asynccontextmanager
    async def _no_lifespan(self) -> AsyncIterator[None]:
        yield

    def lifespan_context(self) -> AbstractAsyncContextManager[None]:
        if self._lifespan is None:
            return self._no_lifespan()
        return self._lifespan(self)

    async def handle(self, request: Request) -> Reply:
        method = "GET" if request.method == "HEAD" else request.method
        for route in self.routes:
            params = route.match(request.url.path)
            if params is None or method not in route.methods:
                continue
            tasks = BackgroundTasks()
            kwargs: dict[str, Any] = dict(params)
            for name in route.tasks_params:
                kwargs[name] = tasks
            try:
                if route.is_async:
                    result = await route.endpoint(**kwargs)
                else:
                    result = await anyio.to_thread.run_sync(lambda: route.endpoint(**kwargs))
            except Exception as exc:
                logger.exception("Exception in handler for %s", request)
                return Reply(PlainTextResponse("Internal Server Error", 500), error=exc)
            response = result if isinstance(result, Response) else JSONResponse(result)
            return Reply(response, tasks.tasks)
        return Reply(JSONResponse({"detail": "Not Found"}, status_code=404))
