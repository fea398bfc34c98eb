"""One upgraded WebSocket connection's I/O, served to the app as ASGI messages.

``WebSocketSession`` drives a ``protocol.websocket`` core over an anyio byte
stream and gives the app the ASGI websocket interface
(https://asgi.readthedocs.io/en/latest/specs/www.html#websocket): ``receive()``
returns ``websocket.connect`` first, then ``websocket.receive`` (``text`` or
``bytes``, the other one None) and finally ``websocket.disconnect`` (``code``,
``reason``), again on every later call; ``send()`` takes ``websocket.accept``
(``subprotocol``, ``headers``), ``websocket.send`` and ``websocket.close``
(``code``, ``reason``). A send after the client has gone raises
``ClientDisconnected``, an ``OSError`` as the spec asks. So any ASGI websocket
app (Starlette's, microready's ``WebSocket``) runs on it unchanged. The data
side of that interface (the scope, the messages, the bounded ``Inbox`` between
the reader and the app) is ``websocket_messages``; ``websocket_scope`` and
``AppCall`` are re-exported here.

What the transport does, when ``protocol.websocket.wants_websocket(head.headers)``:

1. stop using h11 for this connection: take the head (a ``RequestReceived``)
   and the bytes h11 read past it (``h11.Connection.trailing_data[0]``, once
   h11 has returned the request's ``EndOfMessage`` and then ``PAUSED``);
2. if wsproto is missing (``protocol.websocket.WSPROTO_AVAILABLE`` is false),
   log ``INSTALL_HINT`` once and serve the request as plain HTTP, as uvicorn
   does with no WebSocket library;
3. build the scope with ``websocket_scope(head, client=..., server=...)`` and
   find the app; ``session = WebSocketSession(stream, head, trailing_data,
   settings, client=...)``; register it, so a graceful shutdown can call
   ``session.close_for_shutdown()``; then ``await session.run(app_call)``,
   where ``app_call(receive, send)`` awaits the app;
4. after ``run()`` returns the socket is closed: no keep-alive cycle follows,
   and there are no background tasks to submit.

``run()`` answers a bad handshake itself (400, 426), a close before accept
with 403, and an app that fails (or returns) before accepting with 500. After
accept, an app error closes with 1011 and an app that returns without closing
closes with 1000. It raises nothing for the app's or the client's errors (it
logs them and calls ``on_app_error``). At the end it half-closes the socket and
reads until the client closes its end too, for at most ``close_timeout`` per
wait (a peer, such as a test client's in-memory stream, must close its end, or
``run()`` waits that long).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import anyio
import anyio.abc

from ..datastructures import Address
from .log import access_logger, printable, where
from .protocol import NEED_DATA, RequestReceived
from .protocol.websocket import (
    APP_FAILED,
    REFUSED,
    BytesReceived,
    Disconnected,
    Handshake,
    HandshakeRejection,
    TextReceived,
    WebSocketClosed,
    WebSocketCore,
    WebSocketSettings,
    check_close_code,
    read_handshake,
)
from .protocol.writer import DEFAULT_SERVER_HEADERS, DateCache, ServerHeaders
from .websocket_messages import AppCall, Inbox, Message, disconnect, websocket_scope

__all__ = ["AppCall", "ClientDisconnected", "WebSocketSession", "WebSocketSettings",
           "serve_websocket", "websocket_scope"]

error_logger = logging.getLogger("microready.error")

READ_SIZE: Final = 64 * 1024
# Received messages wait for the app up to this many bytes; past it we stop
# reading the socket, so a client cannot fill our memory faster than the app reads.
_INBOX_HIGH_WATER: Final = 1024 * 1024
_MESSAGE_OVERHEAD: Final = 64  # so a flood of empty messages still counts
_IO_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)
_HANDSHAKE, _REFUSED, _ACCEPTED = "handshake", "refused", "accepted"


class ClientDisconnected(OSError):
    """``send()`` on a WebSocket the client closed, or that is gone."""


class WebSocketSession:
    """One WebSocket connection, from its upgrade request to its closed socket."""

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        head: RequestReceived,
        trailing_data: bytes = b"",
        settings: WebSocketSettings | None = None,
        *,
        client: Address | None = None,
        on_app_error: Callable[[BaseException], None] | None = None,
        wall_clock: Callable[[], float] = time.time,
        server_headers: ServerHeaders = DEFAULT_SERVER_HEADERS,
    ) -> None:
        self._stream = stream
        self._head = head
        self._trailing_data = trailing_data
        self.settings = settings if settings is not None else WebSocketSettings()
        self.client = client
        self._on_app_error = on_app_error
        # Date, Server and --header lines, for the 101 or a refusal, as on HTTP responses.
        self._server_lines = DateCache(wall_clock, server_headers)
        self._handshake: Handshake | None = None
        self._phase = _HANDSHAKE
        self.core: WebSocketCore | None = None  # once accepted
        self._connect_delivered = False
        self._app_closed = False
        self._inbox = Inbox(_INBOX_HIGH_WATER)
        self._write_lock = anyio.Lock()
        self._read_scope: anyio.CancelScope | None = None
        self._reader_done = anyio.Event()
        self._shutdown = anyio.Event()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._stream_closed = False

    # -- the ASGI interface ---------------------------------------------------------------

    async def receive(self) -> Message:
        if not self._connect_delivered:
            self._connect_delivered = True
            return {"type": "websocket.connect"}
        if self._phase is _HANDSHAKE:
            raise RuntimeError("answer 'websocket.connect' first: send 'websocket.accept' "
                               "(or 'websocket.close' to refuse), then receive")
        return await self._inbox.get()

    async def send(self, message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if self._phase is _HANDSHAKE:
            if kind == "websocket.accept":
                await self._accept(message.get("subprotocol"), message.get("headers") or ())
            elif kind == "websocket.close":
                await self._refuse(message)
            else:
                raise RuntimeError(f"expected 'websocket.accept' or 'websocket.close' to answer "
                                   f"'websocket.connect', got {kind!r}")
        elif self._app_closed or self._phase is _REFUSED:
            raise RuntimeError(f"cannot send {kind!r}: this app already sent 'websocket.close'")
        elif kind == "websocket.send":
            await self._send_message(message)
        elif kind == "websocket.close":
            code = message.get("code") or 1000
            check_close_code(code)
            await self._close_from_app(code, message.get("reason") or "")
        else:
            raise RuntimeError(f"expected 'websocket.send' or 'websocket.close', got {kind!r}"
                               + (" (the connection is already accepted)"
                                  if kind == "websocket.accept" else ""))

    def close_for_shutdown(self) -> None:
        """Graceful shutdown: close with 1001 once the frames being written are out.

        Before the app has accepted, the close follows its accept at once.
        """
        self._shutdown.set()

    # -- the connection's life ------------------------------------------------------------

    async def run(self, app_call: AppCall) -> None:
        handshake = read_handshake(self._head)
        try:
            if isinstance(handshake, HandshakeRejection):
                error_logger.debug("refusing the WebSocket handshake of %s: %s",
                                   self._where(), handshake.reason)
                await self._reject(handshake)
                return
            self._handshake = handshake
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                await self._run_app(app_call)
                if self.core is not None:
                    await self._reader_done.wait()  # the closing handshake, bounded
                task_group.cancel_scope.cancel()  # the shutdown watcher
        finally:
            await self._close_stream(linger=self._phase is _REFUSED)

    async def _run_app(self, app_call: AppCall) -> None:
        try:
            await app_call(self.receive, self.send)
        except Exception as exc:
            error_logger.error("exception in the WebSocket app of %s", self._where(),
                               exc_info=exc)
            if self._on_app_error is not None:
                self._on_app_error(exc)
            if self._phase is _HANDSHAKE:
                await self._reject(APP_FAILED)
            elif not self._app_closed:
                await self._close_from_app(1011, "")
            return
        if self._phase is _HANDSHAKE:
            error_logger.error("the WebSocket app of %s returned without accepting or "
                               "closing the connection", self._where())
            await self._reject(APP_FAILED)
        elif not self._app_closed:
            await self._close_from_app(1000, "")

    async def _accept(self, subprotocol: str | None, headers: Any) -> None:
        assert self._handshake is not None and self._task_group is not None
        response, core = self._handshake.accept(
            subprotocol, headers, settings=self.settings, now=anyio.current_time(),
            trailing_data=self._trailing_data, server_headers=self._server_lines.header_pairs)
        self._phase = _ACCEPTED
        self.core = core
        self._log_access("[accepted]")
        async with self._write_lock:
            written = await self._write(response)
        self._task_group.start_soon(self._read_frames, core)
        self._task_group.start_soon(self._close_on_shutdown)
        if not written:
            raise ClientDisconnected("the client went away during the WebSocket handshake")

    async def _refuse(self, message: Mapping[str, Any]) -> None:
        await self._reject(REFUSED)
        self._inbox.finish(disconnect(message.get("code") or 1000, message.get("reason") or ""),
                           discard_pending=True)

    async def _reject(self, rejection: HandshakeRejection) -> None:
        """Answer HTTP instead; ``run()`` closes the socket once the app has returned."""
        self._phase = _REFUSED
        self._log_access(str(rejection.status_code))
        if await self._write(rejection.response_bytes(self._server_lines.header_pairs())):
            with contextlib.suppress(Exception):
                await self._stream.send_eof()  # the client sees the end of the response now

    async def _send_message(self, message: Mapping[str, Any]) -> None:
        text: Any = message.get("text")
        data: Any = message.get("bytes")
        if (text is None) == (data is None):
            raise ValueError("'websocket.send' needs exactly one of 'text' or 'bytes'")
        core = self.core
        assert core is not None
        async with self._write_lock:
            try:
                frame = core.send_bytes(data) if data is not None else core.send_text(text)
            except WebSocketClosed as exc:
                raise ClientDisconnected(str(exc)) from None
            pending = core.data_to_send()  # our own pongs first, in the order they were made
            if (pending and not await self._write(pending)) or not await self._write(frame):
                raise ClientDisconnected("the client went away")

    async def _close_from_app(self, code: int, reason: str) -> None:
        self._app_closed = True
        self._inbox.finish(disconnect(code, reason), discard_pending=True)
        await self._send_close(code, reason)

    async def _close_on_shutdown(self) -> None:
        await self._shutdown.wait()
        self._inbox.finish(disconnect(1001, "server shutting down"), discard_pending=False)
        await self._send_close(1001, "server shutting down")

    async def _send_close(self, code: int, reason: str) -> None:
        core = self.core
        if core is None:
            return
        async with self._write_lock:  # after the frame being written, if any
            if core.is_open:
                frame = core.close(code, reason, now=anyio.current_time())
                await self._write(core.data_to_send() + frame)
        if self._read_scope is not None:  # wait for the client's close, not the next ping
            deadline = core.timer_deadline
            self._read_scope.deadline = deadline if deadline is not None else math.inf

    # -- reading --------------------------------------------------------------------------

    async def _read_frames(self, core: WebSocketCore) -> None:
        try:
            while True:
                event = core.next_event()
                if event is NEED_DATA:
                    pending = core.data_to_send()
                    if pending:
                        async with self._write_lock:
                            await self._write(pending)
                    if core.closed or self._stream_closed:
                        return
                    data = await self._receive(core.timer_deadline)
                    if data is None:
                        core.on_timer(anyio.current_time())
                    else:
                        core.receive_data(data)
                elif isinstance(event, Disconnected):
                    self._inbox.finish(disconnect(event.code, event.reason),
                                       discard_pending=False)
                elif isinstance(event, BytesReceived | TextReceived):
                    message: Message = {"type": "websocket.receive", "bytes": None, "text": None}
                    if isinstance(event, BytesReceived):
                        message["bytes"] = event.data
                        size = len(event.data)
                    else:
                        message["text"] = event.text
                        size = len(event.text)
                    if self._inbox.put(message, size + _MESSAGE_OVERHEAD):
                        await self._inbox.wait_for_room()
                        core.restart_pong_wait(anyio.current_time())
        except Exception:  # a bug of ours must cost this connection, never the server
            error_logger.exception("unexpected error on the WebSocket of %s", where(self.client))
        finally:
            self._inbox.finish(disconnect(1006), discard_pending=False)
            await self._close_stream(linger=True)  # the server closes TCP first (RFC 6455 7.1.1)
            self._reader_done.set()

    async def _receive(self, deadline: float | None) -> bytes | None:
        """Bytes from the socket (b"" at its end), or None once ``deadline`` has passed."""
        with anyio.CancelScope(deadline=deadline if deadline is not None else math.inf) as scope:
            self._read_scope = scope
            try:
                return await self._stream.receive(READ_SIZE)
            except (anyio.EndOfStream, *_IO_ERRORS):
                return b""
            finally:
                self._read_scope = None
        return None

    # -- writing and closing --------------------------------------------------------------

    async def _write(self, data: bytes) -> bool:
        if self._stream_closed:
            return False
        try:
            await self._stream.send(data)
        except _IO_ERRORS:
            self._inbox.finish(disconnect(1006), discard_pending=False)
            await self._close_stream()
            return False
        return True

    async def _close_stream(self, *, linger: bool = False) -> None:
        """Close the socket; with ``linger``, half-close it first and read until the
        client closes too (at most ``close_timeout``).

        Closing a socket that still has unread bytes makes the kernel send a
        reset, which can destroy our last frames before the client reads them:
        a client still sending a message we refused (1009) would see 1006.
        """
        if self._stream_closed:
            return
        self._stream_closed = True
        if linger:
            with anyio.move_on_after(self.settings.close_timeout), \
                    contextlib.suppress(Exception):
                await self._stream.send_eof()
                while await self._stream.receive(READ_SIZE):
                    pass
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await self._stream.aclose()

    def _where(self) -> str:
        return where(self.client)

    def _log_access(self, outcome: str) -> None:
        if access_logger.isEnabledFor(logging.INFO):
            access_logger.info('%s - "WebSocket %s" %s', self._where(),
                               printable(self._head.target), outcome)


async def serve_websocket(
    stream: anyio.abc.ByteStream,
    head: RequestReceived,
    trailing_data: bytes,
    settings: WebSocketSettings,
    app_call: AppCall,
    *,
    client: Address | None = None,
    on_app_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Serve one upgrade request to its end (a transport that needs
    ``close_for_shutdown`` builds the ``WebSocketSession`` itself)."""
    session = WebSocketSession(stream, head, trailing_data, settings, client=client,
                               on_app_error=on_app_error)
    await session.run(app_call)
