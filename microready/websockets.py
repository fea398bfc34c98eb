"""The WebSocket a websocket endpoint receives, as FastAPI's (Starlette's) ``WebSocket``.

``WebSocket(scope, receive, send)`` wraps an ASGI websocket connection: the
scope dict and the two message callables
(https://asgi.readthedocs.io/en/latest/specs/www.html#websocket). It knows
nothing of the server it runs on, so the same endpoint runs on microready's own
server (``microready.server.websocket_session``) and under uvicorn, hypercorn
or granian. ``WebSocketDisconnect`` is raised by the ``receive_*`` methods once
the client has gone; ``WebSocketException`` is what an endpoint raises to close
the connection with a code (FastAPI's ``fastapi.WebSocketException``).

The state machine is Starlette's: ``client_state`` follows what the client
said (connect, then messages, then disconnect) and ``application_state`` what
the app sent (accept or close, then messages, then close). A call in the wrong
state raises ``RuntimeError`` naming the call to make instead.
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from .datastructures import URL, Address, Headers, QueryParams, State, parse_cookies

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketException", "WebSocketState"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Close codes (RFC 6455 7.4.1) this module uses.
_NORMAL_CLOSURE = 1000
_ABNORMAL_CLOSURE = 1006  # the connection dropped without a close frame


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocketDisconnect(Exception):
    """The client closed the connection (``code``, ``reason``), or it dropped (1006)."""

    def __init__(self, code: int = _NORMAL_CLOSURE, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class WebSocketException(Exception):
    """Raise it in a websocket endpoint to close the connection with ``code``."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


def _raise_on_disconnect(message: Message) -> None:
    if message["type"] == "websocket.disconnect":
        # 1005: "no status code", the ASGI spec's default when the client gave none.
        raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))


class WebSocket:
    """One WebSocket connection, as an endpoint sees it."""

    def __init__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope.get("type") != "websocket":
            raise ValueError(f"a WebSocket needs a 'websocket' scope, not {scope.get('type')!r}")
        self.scope = scope
        self._receive = receive
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: State | None = None

    # -- what the client asked for ------------------------------------------------------

    @property
    def url(self) -> URL:
        """The path and the raw query string, as ``Request.url`` gives them."""
        query: bytes = self.scope.get("query_string", b"")
        return URL(self.scope.get("path", "/"), query.decode("latin-1"))

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers([(bytes(name).lower(), bytes(value))
                                     for name, value in self.scope.get("headers", ())])
        return self._headers

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as lower-case byte pairs (what header parameters are read from)."""
        return self.headers.raw

    @property
    def query_params(self) -> QueryParams:
        if self._query_params is None:
            self._query_params = QueryParams(self.scope.get("query_string", b""))
        return self._query_params

    @property
    def path_params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.scope.setdefault("path_params", {})
        return params

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = parse_cookies(self.headers.getlist("cookie"))
        return self._cookies

    @property
    def client(self) -> Address | None:
        peer = self.scope.get("client")
        return Address(str(peer[0]), int(peer[1])) if peer else None

    @property
    def app(self) -> Any:
        return self.scope.get("app")

    @property
    def state(self) -> State:
        """Per-connection attributes; starts with a copy of what the lifespan yielded."""
        if self._state is None:
            initial = self.scope.get("state")
            self._state = State(dict(initial) if initial else None)
        return self._state

    # -- ASGI messages, with the state checked ---------------------------------------------

    async def receive(self) -> Message:
        """The next ASGI message from the client."""
        if self.client_state is WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been '
                               "received: the client is gone (catch WebSocketDisconnect)")
        message = await self._receive()
        kind = message["type"]
        if self.client_state is WebSocketState.CONNECTING:
            if kind != "websocket.connect":
                raise RuntimeError(f'Expected ASGI message "websocket.connect", got {kind!r}')
            self.client_state = WebSocketState.CONNECTED
        elif kind not in ("websocket.receive", "websocket.disconnect"):
            raise RuntimeError('Expected ASGI message "websocket.receive" or '
                               f'"websocket.disconnect", got {kind!r}')
        elif kind == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        return message

    async def send(self, message: Message) -> None:
        """Send one ASGI message to the client."""
        kind = message["type"]
        if self.application_state is WebSocketState.CONNECTING:
            if kind not in ("websocket.accept", "websocket.close"):
                raise RuntimeError(f"Cannot send {kind!r} before the connection is accepted: "
                                   'call "await websocket.accept()" first')
            self.application_state = (WebSocketState.CONNECTED if kind == "websocket.accept"
                                      else WebSocketState.DISCONNECTED)
            await self._send(message)
        elif self.application_state is WebSocketState.CONNECTED:
            if kind not in ("websocket.send", "websocket.close"):
                raise RuntimeError(f"Cannot send {kind!r} on an accepted connection: use "
                                   '"send_text", "send_bytes", "send_json" or "close"')
            if kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            try:
                await self._send(message)
            except OSError:  # the server says the client is gone (ASGI: an IOError)
                self.application_state = WebSocketState.DISCONNECTED
                raise WebSocketDisconnect(code=_ABNORMAL_CLOSURE) from None
        else:
            raise RuntimeError('Cannot call "send" once a close message has been sent '
                               "(the connection is closed)")

    async def accept(self, subprotocol: str | None = None,
                     headers: Iterable[tuple[bytes, bytes]] | None = None) -> None:
        """Accept the connection, with a subprotocol the client offered and extra headers."""
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()  # the "websocket.connect" message
        await self.send({"type": "websocket.accept", "subprotocol": subprotocol,
                         "headers": list(headers or ())})

    async def close(self, code: int = _NORMAL_CLOSURE, reason: str | None = None) -> None:
        """Close the connection (before ``accept``: refuse it, an HTTP 403)."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    # -- messages ----------------------------------------------------------------------------

    def _check_accepted(self) -> None:
        if self.application_state is WebSocketState.CONNECTING:
            raise RuntimeError('WebSocket is not connected: call "await websocket.accept()" '
                               "first")
        if self.application_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("WebSocket is closed (by close(), or a send found the client "
                               "gone): nothing more can be received")

    async def _receive_data(self, key: str, other: str) -> Any:
        self._check_accepted()
        message = await self.receive()
        _raise_on_disconnect(message)
        value = message.get(key)
        if value is None:
            raise RuntimeError(f"expected a {key} message, but the client sent {other}: "
                               f'use "receive_{"bytes" if other == "bytes" else "text"}()"')
        return value

    async def receive_text(self) -> str:
        text: str = await self._receive_data("text", "bytes")
        return text

    async def receive_bytes(self) -> bytes:
        data: bytes = await self._receive_data("bytes", "text")
        return data

    async def receive_json(self, mode: str = "text") -> Any:
        """A JSON message, sent as text (``mode="text"``) or as UTF-8 bytes (``"binary"``)."""
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        if mode == "text":
            return json.loads(await self.receive_text())
        return json.loads((await self.receive_bytes()).decode("utf-8"))

    async def iter_text(self) -> AsyncIterator[str]:
        """Every text message until the client disconnects (then the loop just ends)."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """``data`` as compact JSON (non-ASCII kept as is), in a text or a binary message."""
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": text})
        else:
            await self.send({"type": "websocket.send", "bytes": text.encode("utf-8")})
