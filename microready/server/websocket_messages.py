"""What the app sees of a WebSocket connection: its ASGI scope and its messages.

The ASGI websocket interface
(https://asgi.readthedocs.io/en/latest/specs/www.html#websocket), as far as it
is data, with no socket in sight:

* ``websocket_scope(head, client=..., server=...)``: the scope of an upgrade
  request, as uvicorn builds it;
* ``disconnect(code, reason)``: the ``websocket.disconnect`` message;
* ``Inbox``: the received messages on their way to the app, bounded in bytes
  (the reader waits for room, so a client cannot fill our memory faster than
  the app reads), then one last ``websocket.disconnect`` that every later
  ``get()`` returns again, as the spec asks of ``receive()`` after the end.

``websocket_session.WebSocketSession`` puts them to work over the socket;
it re-exports ``websocket_scope`` and the ``AppCall`` type.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

import anyio

from ..datastructures import Address
from .protocol import RequestReceived

__all__ = ["AppCall", "Inbox", "Message", "Receive", "Send", "disconnect", "websocket_scope"]

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
AppCall = Callable[[Receive, Send], Awaitable[None]]


def disconnect(code: int, reason: str = "") -> Message:
    return {"type": "websocket.disconnect", "code": code, "reason": reason}


def websocket_scope(
    head: RequestReceived, *, client: Address | None, server: Address | None,
    scheme: str = "ws", root_path: str = "", state: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ASGI websocket scope of an upgrade request (``path`` includes ``root_path``,
    as uvicorn has it)."""
    raw_path, _, query = head.target.partition(b"?")
    subprotocols = [item.strip().decode("latin-1") for name, value in head.headers
                    if name == b"sec-websocket-protocol" for item in value.split(b",")
                    if item.strip()]
    scope: dict[str, Any] = {
        "type": "websocket", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": head.http_version, "scheme": scheme,
        "path": root_path + unquote(raw_path.decode("latin-1")),
        "raw_path": root_path.encode() + raw_path, "query_string": query,
        "root_path": root_path, "headers": list(head.headers),
        "client": tuple(client) if client else None, "server": tuple(server) if server else None,
        "subprotocols": subprotocols,
    }
    if state is not None:
        scope["state"] = dict(state)  # each connection gets its own shallow copy
    return scope


class Inbox:
    """Received messages on their way to the app, up to ``high_water`` bytes (as the
    caller counts them), then one last ``websocket.disconnect`` that every later
    ``get()`` returns again."""

    def __init__(self, high_water: int) -> None:
        self.high_water = high_water
        self._items: deque[tuple[Message, int]] = deque()
        self._size = 0
        self.final: Message | None = None
        self._arrived = anyio.Event()
        self._room = anyio.Event()

    def put(self, message: Message, size: int) -> bool:
        """Queue a message; True when the reader should ``wait_for_room()``."""
        if self.final is not None:
            return False
        self._items.append((message, size))
        self._size += size
        self._arrived.set()
        return self._size >= self.high_water

    async def wait_for_room(self) -> None:
        while self._size >= self.high_water and self.final is None:
            self._room = anyio.Event()
            await self._room.wait()

    async def get(self) -> Message:
        while not self._items:
            if self.final is not None:
                return self.final
            self._arrived = anyio.Event()
            await self._arrived.wait()
        message, size = self._items.popleft()
        self._size -= size
        if self._size < self.high_water:
            self._room.set()
        return message

    def finish(self, final: Message, *, discard_pending: bool) -> None:
        """The end: ``final`` follows what is queued (or, with ``discard_pending``,
        replaces it); both waits wake, and later ``put()`` calls are dropped."""
        if self.final is None:
            self.final = final
            if discard_pending:  # the app closed: what it did not read, it never will
                self._items.clear()
                self._size = 0
            self._arrived.set()
            self._room.set()
