"""The one narrow interface between the server and the application.

The transport builds a ``Request`` and awaits ``app.handle(request)``; it gets
back a ``Reply``: the response to send, and the work to run once that response
has been flushed. The server and the test client know nothing else about the
app, which is what lets ``TestClient`` drive the very same connection code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .background.runner import BackgroundRunner
    from .background.tasks import BackgroundTask
    from .requests import Request
    from .responses import Response

__all__ = ["Reply", "RequestHandler", "ServedApp"]


@dataclass(slots=True)
class Reply:
    """What handling one request produced.

    ``tasks`` run in order after the response's last byte is written, then
    ``cleanup`` (the teardown of ``yield`` dependencies) runs. ``error`` is an
    unhandled exception that the app already turned into a 500 response; the
    server has logged it, and the test client re-raises it. ``on_sent`` is
    called once the response is written, or could not be (an ASGI app's last
    ``send()`` returns then, so what it runs after it starts after the last byte).
    """

    response: Response
    tasks: list[BackgroundTask[Any]] = field(default_factory=list)
    cleanup: Callable[[], Awaitable[None]] | None = None
    error: BaseException | None = None
    on_sent: Callable[[], None] | None = None
    # Set for a streamed response whose app wants to know: the connection then
    # watches the socket while it streams, and calls this if the client closes.
    on_client_gone: Callable[[], None] | None = None


class RequestHandler(Protocol):
    """One layer of an app: the routing itself, or a middleware around the rest.

    A native middleware (``microready.middleware``) is a class built as
    ``cls(app, **options)`` over the next layer, with this one method. It returns
    the inner ``Reply`` with its response replaced or edited, or a ``Reply`` of
    its own; it keeps ``tasks``, ``cleanup`` and ``error`` as they are, so the
    server still runs the tasks after the last byte.
    """

    async def handle(self, request: Request) -> Reply: ...


@runtime_checkable
class ServedApp(Protocol):
    """What the server needs from an application object."""

    @property
    def background(self) -> BackgroundRunner: ...

    async def handle(self, request: Request) -> Reply: ...

    async def serve_websocket(self, scope: MutableMapping[str, Any],
                              receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
                              send: Callable[[Any], Awaitable[None]]) -> None:
        """One accepted-or-refused WebSocket connection, as an ASGI ``websocket`` call."""
        ...

    def lifespan_context(self) -> AbstractAsyncContextManager[None]: ...
