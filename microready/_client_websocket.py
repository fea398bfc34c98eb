"""``TestClient.websocket_connect``: a WebSocket session with the app, in memory.

As Starlette's test client does, it talks to the app in ASGI ``websocket``
messages (``app.serve_websocket(scope, receive, send)``), so a test sees the
exact close codes and reasons the app chose; the frames and the handshake on
the wire are tested through the real server (``tests/server/``). The session
runs in the test client's event loop thread; its methods block until the app
answers.

    with client.websocket_connect("/ws") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_text() == "Message text was: hello"

A connection the app refuses (it closes before accepting) raises
``WebSocketDisconnect`` with its code from ``websocket_connect``'s ``with``.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import anyio
import anyio.from_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._client_url import merge_url, with_params
from ._websocket_route import ENDED_BY
from .websockets import WebSocketDisconnect

if TYPE_CHECKING:
    from .testing import TestClient

__all__ = ["WebSocketTestSession"]

Message = dict[str, Any]


class WebSocketTestSession:
    """One test WebSocket connection; see the module docstring."""

    def __init__(self, client: TestClient, url: str, subprotocols: Sequence[str] | None,
                 headers: dict[str, str] | None, params: Any = None,
                 cookies: dict[str, str] | None = None) -> None:
        self._client = client
        self.scope = _scope(client, url, subprotocols or [], headers or {}, params, cookies)
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._stack = ExitStack()
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._to_app: MemoryObjectSendStream[Message] | None = None
        self._from_app: MemoryObjectReceiveStream[Message] | None = None
        self._app_error: BaseException | None = None
        self._closed = False

    def __enter__(self) -> WebSocketTestSession:
        client = self._client
        portal = self._portal = _acquire_loop(client, self._stack)
        try:
            self._stack.enter_context(portal.wrap_async_context_manager(self._running()))
            message = self.receive()
            if message["type"] == "websocket.close":
                self._closed = True
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            if message["type"] != "websocket.accept":  # pragma: no cover - the app's contract
                raise RuntimeError(f"the app answered the connection with {message['type']!r}")
        except BaseException:
            self._stack.close()
            raise
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = [(bytes(k), bytes(v)) for k, v in message.get("headers") or ()]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if not self._closed:
                self.close()
        finally:
            self._stack.close()
        if exc is not None or not self._client.raise_server_exceptions:
            return
        if self._app_error is not None:
            raise self._app_error
        ended_by = self.scope.get(ENDED_BY)
        if ended_by is not None:
            # The endpoint ended on the disconnect (it did not catch it): as
            # Starlette's test client, the test sees it leave the with block.
            raise ended_by

    @asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        to_app, app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        app_outbox, from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app, self._from_app = to_app, from_app
        async with to_app, app_inbox, from_app:
            await to_app.send({"type": "websocket.connect"})
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(self._run_app, app_inbox, app_outbox)
                yield
                await to_app.send({"type": "websocket.disconnect", "code": 1000})

    async def _run_app(self, inbox: MemoryObjectReceiveStream[Message],
                       outbox: MemoryObjectSendStream[Message]) -> None:
        app = self._client.app
        async with outbox:
            try:
                with app.background.as_current():
                    await app.serve_websocket(self.scope, inbox.receive, outbox.send)
            except Exception as exc:
                self._app_error = exc
                await outbox.send({"type": "websocket.close", "code": 1011, "reason": ""})
            else:
                # Returned without closing: a server closes with 1000 then.
                await outbox.send({"type": "websocket.close", "code": 1000, "reason": ""})

    # -- what a test calls ------------------------------------------------------------

    def _live(self) -> tuple[anyio.from_thread.BlockingPortal, MemoryObjectSendStream[Message],
                             MemoryObjectReceiveStream[Message]]:
        if self._portal is None or self._to_app is None or self._from_app is None:
            raise RuntimeError(
                "websocket_connect() gives a context manager; use it in a with block:\n"
                "    right: with client.websocket_connect(\"/ws\") as websocket: ..."
            )
        return self._portal, self._to_app, self._from_app

    def send(self, message: Message) -> None:
        portal, to_app, _ = self._live()
        portal.call(to_app.send, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: str = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "binary":
            self.send_bytes(text.encode("utf-8"))
        else:
            self.send_text(text)

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self._closed = True
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    def receive(self) -> Message:
        """The app's next message, as it sent it."""
        portal, _, from_app = self._live()
        try:
            message: Message = portal.call(from_app.receive)
        except anyio.EndOfStream:  # read past the close the app (or we) already gave
            raise WebSocketDisconnect(1000, "the connection is closed") from None
        return message

    def _received_data(self) -> Message:
        message = self.receive()
        if message["type"] == "websocket.close":
            self._closed = True
            if self._app_error is not None and self._client.raise_server_exceptions:
                raise self._app_error
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    def receive_text(self) -> str:
        text: str = self._received_data()["text"]
        return text

    def receive_bytes(self) -> bytes:
        data: bytes = self._received_data()["bytes"]
        return data

    def receive_json(self, mode: str = "text") -> Any:
        message = self._received_data()
        text = message["text"] if mode == "text" else message["bytes"].decode("utf-8")
        return json.loads(text)

    def __iter__(self) -> Iterator[str]:  # pragma: no cover - convenience
        while True:
            try:
                yield self.receive_text()
            except WebSocketDisconnect:
                return


def _acquire_loop(client: TestClient, stack: ExitStack) -> anyio.from_thread.BlockingPortal:
    """The event loop (and open runner) a session runs in: the lifespan's inside
    ``with TestClient(app)``, else one the client's open sessions share, closed by
    the last of them (two sessions at once must share one runner)."""
    if client._portal is not None:
        return client._portal
    if client._sessions_portal is None:
        shared = ExitStack()
        portal = shared.enter_context(anyio.from_thread.start_blocking_portal(client.backend))
        shared.enter_context(portal.wrap_async_context_manager(client._serving(False)))
        client._sessions_portal, client._sessions_stack = portal, shared
    client._open_sessions += 1
    stack.callback(_release_loop, client)
    return client._sessions_portal


def _release_loop(client: TestClient) -> None:
    client._open_sessions -= 1
    if client._open_sessions == 0 and client._sessions_stack is not None:
        shared, client._sessions_stack, client._sessions_portal = (
            client._sessions_stack, None, None)
        shared.close()


def _scope(client: TestClient, url: str, subprotocols: Sequence[str],
           headers: dict[str, str], params: Any = None,
           cookies: dict[str, str] | None = None) -> dict[str, Any]:
    merged = merge_url(client.base_url, url)
    if params:
        merged = with_params(merged, params)
    parts = urlsplit(merged)
    host = parts.netloc or "testserver"
    raw_headers = [(b"host", host.encode("latin-1"))]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in {**dict(client.headers.items()), **headers}.items()
                    if k.lower() != "host"]
    jar = {**dict(client.cookies.items()), **(cookies or {})}
    cookie = "; ".join(f"{name}={value}" for name, value in jar.items())
    if cookie:
        raw_headers.append((b"cookie", cookie.encode("latin-1")))
    if subprotocols:
        raw_headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
    path = parts.path or "/"
    return {
        "type": "websocket", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1", "scheme": "ws", "path": unquote(path),
        "raw_path": path.encode("ascii"), "query_string": parts.query.encode("ascii"),
        "root_path": "", "headers": raw_headers,
        "client": tuple(client.client_address), "server": ("testserver", 80),
        "subprotocols": list(subprotocols),
    }
