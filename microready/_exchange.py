"""The one narrow interface between the server and the application.

The transport builds a ``Request`` and awaits ``app.handle(request)``; it gets
back a ``Reply``: the response to send, and the work to run once that response
has been flushed. The server and the test client know nothing else about the
app, which is what lets ``TestClient`` drive the very same connection code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .background.runner import BackgroundRunner
    from .background.tasks import BackgroundTask
    from .requests import Request
    from .responses import Response

__all__ = ["Reply", "ServedApp"]


@dataclass(slots=True)
class Reply:
    """What handling one request produced.

    ``tasks`` run in order after the response's last byte is written, then
    ``cleanup`` (the teardown of ``yield`` dependencies) runs. ``error`` is an
    unhandled exception that the app already turned into a 500 response; the
    server has logged it, and the test client re-raises it.
    """

    response: Response
    tasks: list[BackgroundTask[Any]] = field(default_factory=list)
    cleanup: Callable[[], Awaitable[None]] | None = None
    error: BaseException | None = None


@runtime_checkable
class ServedApp(Protocol):
    """What the server needs from an application object."""

    @property
    def background(self) -> BackgroundRunner: ...

    async def handle(self, request: Request) -> Reply: ...

    def lifespan_context(self) -> AbstractAsyncContextManager[None]: ...
