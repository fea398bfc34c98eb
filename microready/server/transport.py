"""One connection's I/O loop: read, dispatch, write, then hand off the tasks.

``HTTPConnection.run()`` drives a ``ConnectionCore`` over an anyio byte stream.
It is the only place that reads and writes sockets, and it is the same code
for the real server and for ``TestClient`` (which hands it an in-memory
stream). Its loop follows h11's own example server:

1. read until the core yields a request head (with a deadline from the core);
2. build a ``Request`` whose body is read lazily from the same core;
3. await ``app.handle(request)`` and write the response: one write for a
   complete response, one per chunk for a streaming one;
4. close the socket if the connection is ending, then submit the request's
   background tasks, so they start only after the last byte is out;
5. start the next keep-alive cycle, or finish.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import h11

from ..datastructures import Address
from ..requests import ClientDisconnect, Request
from ..responses import StreamingResponse
from .access import AccessLog
from .log import request_line, where
from .protocol import (
    NEED_DATA,
    BodyReceived,
    ConnectionCore,
    ConnectionEnded,
    InvalidResponse,
    Rejected,
    RequestComplete,
    RequestReceived,
)
from .protocol.websocket import WSPROTO_AVAILABLE, wants_websocket
from .settings import ConnectionSettings
from .websocket_session import WebSocketSession, websocket_scope

if TYPE_CHECKING:
    from .._exchange import Reply

__all__ = ["ConnectionSettings", "HTTPConnection"]

error_logger = logging.getLogger("microready.error")

READ_SIZE = 64 * 1024  # a request head, or the start of a body, fits several times over
# A body is read in larger pieces: every piece costs a trip through h11, the app's
# receive and (for an upload) python-multipart, so a 1 MiB upload read 64 KiB at a
# time spent more in those trips than in moving bytes. 256 KiB is what asyncio's
# own transports (and so uvicorn) read at once.
BODY_READ_SIZE = 256 * 1024
# How long a connection closed at shutdown waits for the client to close its side.
LINGER_AT_SHUTDOWN = 1.0
_WRITE_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)
_READ_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


@functools.cache
def _warn_no_wsproto() -> None:
    error_logger.warning("a client asked for a WebSocket, but wsproto is not installed: "
                         "pip install 'microready[websockets]'; answering it as plain HTTP")


class _StopConnection(Exception):
    """Internal: this connection is finished; unwind to ``run()``."""


class _HeadTimeout(Exception):
    """Internal: the wait for a request head passed its deadline."""


class _BodyAborted(ClientDisconnect):
    """Raised into the app when its request body cannot be read to the end."""


class HTTPConnection:
    """Serves one client connection until it closes; see the module docstring."""

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        settings: ConnectionSettings,
        client: Address | None,
        *,
        over_capacity: bool = False,
        server: Address | None = None,
    ) -> None:
        self.stream = stream
        self.server = server  # the local address the client connected to
        # Past --limit-concurrency: read the request (so the client is not reset
        # mid-send), answer 503 and close.
        self.over_capacity = over_capacity
        self.settings = settings
        self.client = client
        # When bytes last arrived: the "now" for events parsed from them, so a
        # pipelined request does not need a clock read of its own.
        self._last_read_at = anyio.current_time()
        self.core = ConnectionCore(settings.limits, self._last_read_at)
        # Waiting for a request head is the hot path, so it gets no cancel scope
        # of its own: while we wait, ``head_deadline`` says until when, and the
        # server's watchdog cancels ``_head_scope`` once that time has passed
        # (see Server._enforce_head_deadlines). Shutdown uses the same scope to
        # close connections that are between requests.
        self.head_deadline = math.inf
        self._head_scope = anyio.CancelScope()
        self._rejection: Rejected | None = None
        self._closed = False
        self._websocket: WebSocketSession | None = None
        self._stopping = False  # close_if_idle() was called
        self._answering_last = False  # shutting down, and answering one last request
        self.access = AccessLog(client, settings.access_log)

    # -- the loop --------------------------------------------------------------

    async def run(self) -> None:
        try:
            with self._head_scope:
                while await self._serve_one_request():
                    pass
            if self._head_scope.cancel_called and self._stopping:
                # Shutdown stopped the wait for a request: look once more, in a
                # scope of its own; a request that has reached us is answered.
                self._head_scope = anyio.CancelScope()
                with self._head_scope:
                    while await self._serve_one_request():
                        pass
            if self._head_scope.cancel_called:
                raise _HeadTimeout
        except _HeadTimeout:
            # 408 for a head that is late, or nothing for an idle keep-alive
            # connection (the core knows which).
            await self._send_error(self.core.on_read_timeout(), 408)
        except _StopConnection:
            pass
        except Exception:  # a bug of ours must cost one connection, never the server
            error_logger.exception("unexpected error on connection from %s", where(self.client))
        finally:
            await self._close()

    def enforce_head_deadline(self, now: float) -> None:
        """Called by the server's watchdog: give up on a head that is overdue."""
        if self.head_deadline <= now:
            self._head_scope.cancel()

    def close_if_idle(self) -> None:
        """Shutdown: stop waiting for a request (what has arrived is still
        answered, see ``_next_event``); a WebSocket closes with 1001 once the
        frames being written are out."""
        self._stopping = True
        if self._websocket is not None:
            self._websocket.close_for_shutdown()
        elif self.head_deadline != math.inf:
            self.head_deadline = -math.inf
            self._head_scope.cancel()

    async def _serve_one_request(self) -> bool:
        """Handle one request cycle; return True to keep the connection open."""
        core = self.core
        event = await self._next_event()
        if isinstance(event, ConnectionEnded):
            return False
        if isinstance(event, Rejected):
            await self._reject(event)
            return False
        if not isinstance(event, RequestReceived):  # pragma: no cover - the core guarantees it
            raise _StopConnection

        if self.over_capacity:
            await self._reject(Rejected(503, "the server is at its connection limit", event))
            return False
        if event.upgrade and wants_websocket(event.headers):
            if WSPROTO_AVAILABLE:
                return await self._serve_websocket(event)  # the session logs its own line
            _warn_no_wsproto()  # served as plain HTTP, as uvicorn does
        self.access.begin(event, self._last_read_at)
        target = event.target
        root_path = self.settings.root_path
        if root_path and target.startswith(b"/"):
            target = self.settings._root_path_bytes + target
        request = Request(
            method=event.method,
            target=target,
            http_version=event.http_version,
            raw_headers=event.headers,  # type: ignore[arg-type]  # a read-only sequence
            client=self.client,
            receive=self._receive_body,
            app=self.settings.app,
            server=self.server,
        )
        if root_path:
            request.scope["root_path"] = root_path
        if self.settings.scheme != "http":
            request.scope["scheme"] = self.settings.scheme
        reply = await self.settings.app.handle(request)
        if self._rejection is not None:
            # The body broke a rule while the app read it: that answer wins,
            # and the request's tasks are dropped with the request (but the
            # teardown of its dependencies still runs).
            await self._reject(self._rejection)
            if reply.on_sent is not None:
                reply.on_sent()
            if reply.cleanup is not None:
                self.settings.app.background.submit([], reply.cleanup, request_line(event))
            return False

        if reply.error is not None and self.settings.on_app_error is not None:
            self.settings.on_app_error(reply.error)
        if self.settings.is_shutting_down() or reply.error is not None:
            # In flight at shutdown: the last response. After an unhandled error
            # we cannot vouch for the connection's state: close it, and only it.
            core.close_after_response = True
        if reply.on_sent is None:
            status = await self._send_reply(reply)
        else:
            try:
                status = await self._send_reply(reply)
            finally:
                reply.on_sent()
        # A no-op if the line is written already (a 500 we made, a failed write).
        self.access.finish(status, "the connection closed before the response was complete")
        if self.settings.on_request_done is not None:
            self.settings.on_request_done()

        keep_alive = status != 0
        if keep_alive and core.request_body_pending:
            # Usually just the end of a body-less request, already buffered;
            # only an unread body needs the (awaiting) drain.
            event_after = core.next_event(self._last_read_at)
            if isinstance(event_after, Rejected | ConnectionEnded):
                keep_alive = False
            elif not isinstance(event_after, RequestComplete):
                keep_alive = await self._finish_request_body()
        if keep_alive:
            keep_alive = core.start_next_cycle(anyio.current_time())
        if not keep_alive:
            await self._close()  # "On Connection: close, the socket is closed first."
        if reply.tasks or reply.cleanup is not None:
            runner = self.settings.app.background
            runner.submit(reply.tasks, reply.cleanup, request_line(event))
            if keep_alive and runner.backlogged:
                # Backpressure: tasks arrive faster than they run; this client
                # waits for the queue to shrink before we read its next request.
                await runner.wait_for_capacity()
        return keep_alive

    async def _serve_websocket(self, event: RequestReceived) -> bool:
        """Hand the connection to a WebSocket session; it ends with the session."""
        trailing = self.core.take_over()
        if trailing is None:
            await self._reject(
                Rejected(400, "a WebSocket upgrade request cannot have a body", event))
            return False
        settings = self.settings
        scope = websocket_scope(event, client=self.client, server=self.server,
                                root_path=settings.root_path)
        session = self._websocket = WebSocketSession(
            self.stream, event, trailing, settings.websocket, client=self.client,
            on_app_error=settings.on_app_error)
        await session.run(partial(settings.app.serve_websocket, scope))
        self._closed = True  # the session has closed the socket (and logged the connection)
        if settings.on_request_done is not None:
            settings.on_request_done()
        return False

    # -- reading ------------------------------------------------------------------

    async def _next_event(self) -> object:
        """Read until the core has the next request head (or a reason to stop)."""
        core = self.core
        stream = self.stream
        while True:
            event = core.next_event(self._last_read_at)
            if event is not NEED_DATA:
                return event
            if self.settings.is_shutting_down() and not self._answering_last:
                # Shutting down. A request that has reached us (in the kernel's
                # buffer, or begun in the core's) is answered, as the last one on
                # this connection; with nothing received, the connection closes
                # politely, so a request on its way meets a FIN, not a reset.
                receive_nowait = getattr(stream, "receive_nowait", None)
                data = receive_nowait(READ_SIZE) if receive_nowait is not None else None
                if not data and not core.request_started:
                    await self._close_politely()
                    raise _StopConnection
                self._answering_last = True
                core.close_after_response = True
                if data:
                    self._last_read_at = now = anyio.current_time()
                    core.receive_data(data, now)
                continue
            self.head_deadline = core.read_deadline or math.inf
            try:
                data = await stream.receive(READ_SIZE)
            except (anyio.EndOfStream, *_READ_ERRORS):
                data = b""
            finally:
                self.head_deadline = math.inf
            if self._head_scope.cancel_called:
                # The deadline passed while these bytes were on their way in.
                raise _HeadTimeout
            self._last_read_at = now = anyio.current_time()
            core.receive_data(data, now)

    async def _read_more(self) -> None:
        """Read more of a request body, within the core's body deadline."""
        core = self.core
        deadline = core.read_deadline
        data: bytes | None = None
        with anyio.CancelScope(deadline=deadline if deadline is not None else float("inf")):
            try:
                data = await self.stream.receive(BODY_READ_SIZE)
            except anyio.EndOfStream:
                data = b""
            except _READ_ERRORS:
                data = b""
        if data is None:  # the deadline passed
            await self._send_error(core.on_read_timeout(), 408)
            raise _StopConnection
        self._last_read_at = now = anyio.current_time()
        core.receive_data(data, now)

    async def _receive_body(self) -> bytes:
        """The next chunk of the request body for the app, b"" at its end."""
        core = self.core
        if self._rejection is not None:
            raise _BodyAborted(self._rejection.reason)
        if core.request_complete:
            return b""
        if core.they_are_waiting_for_100_continue:
            await self._write(core.send_continue())
        while True:
            event = core.next_event(anyio.current_time())
            if isinstance(event, BodyReceived):
                return event.data
            if isinstance(event, RequestComplete) or event is h11.PAUSED:
                return b""
            if isinstance(event, Rejected):
                self._rejection = event
                raise _BodyAborted(event.reason)
            if isinstance(event, ConnectionEnded):
                raise ClientDisconnect("the client closed the connection mid-body")
            try:
                await self._read_more()
            except _StopConnection:
                self._rejection = Rejected(408, "request body timed out")
                raise _BodyAborted("request body timed out") from None

    async def _finish_request_body(self) -> bool:
        """Discard what the app left unread of the body, so the connection can be reused.

        The body limit and the stall timeout still apply; past them we close.
        """
        core = self.core
        while core.request_body_pending:
            event = core.next_event(anyio.current_time())
            if isinstance(event, Rejected | ConnectionEnded):
                return False
            if event is NEED_DATA:
                try:
                    await self._read_more()
                except _StopConnection:
                    return False
        return True

    # -- writing ------------------------------------------------------------------

    async def _write(self, data: bytes) -> bool:
        if not data or self._closed:
            return not self._closed
        try:
            await self.stream.send(data)
        except _WRITE_ERRORS:
            self.core.send_failed()
            self.access.finish(0, "the client disconnected")
            await self._close()  # our end must still be closed (and only once)
            return False
        if self.access.pending:
            self.access.sent += len(data)
        return True

    async def _send_reply(self, reply: Reply) -> int:
        """Write the response. Returns its status, or 0 if it could not be sent whole."""
        response = reply.response
        core = self.core
        streaming = isinstance(response, StreamingResponse)
        try:
            data = core.send_response(
                response.status_code,
                response.raw_headers,
                b"" if streaming else response.body,
                complete=not streaming,
            )
        except (InvalidResponse, h11.LocalProtocolError) as exc:
            # Nothing has been written yet, so the client can still get a 500.
            error_logger.error("cannot send the app's response to %s: %s", where(self.client), exc)
            await self._send_error(core.send_error(500, "the app's response was invalid"), 500)
            return 0
        if not await self._write(data):
            return 0
        if isinstance(response, StreamingResponse):
            if reply.on_client_gone is not None and core.request_complete:
                return await self._stream_body_watching(response, reply.on_client_gone)
            return await self._stream_body(response)
        return response.status_code

    async def _stream_body_watching(self, response: StreamingResponse,
                                    on_client_gone: Callable[[], None]) -> int:
        """Stream the body while reading the socket, to hear the client close.

        Only once the request body is all in, so this is the one reader. What
        arrives meanwhile (a pipelined request) goes to the core, which keeps
        it for the next cycle; past ``READ_SIZE`` of it we stop looking.
        """
        async def watch() -> None:
            buffered = 0
            while buffered < READ_SIZE:
                try:
                    data = await self.stream.receive(READ_SIZE)
                except (anyio.EndOfStream, *_READ_ERRORS):
                    data = b""
                self._last_read_at = now = anyio.current_time()
                self.core.receive_data(data, now)
                if not data:
                    on_client_gone()
                    return
                buffered += len(data)

        async with anyio.create_task_group() as watching:
            watching.start_soon(watch)
            status = await self._stream_body(response)
            watching.cancel_scope.cancel()
        return status

    async def _stream_body(self, response: StreamingResponse) -> int:
        core = self.core
        try:
            # aclosing: a stream we stop early (client gone, bad length) is
            # closed now, so the app's generator runs its finally blocks.
            async with contextlib.aclosing(response.iterate()) as chunks:
                async for chunk in chunks:
                    if not await self._write(core.send_body(chunk)):
                        return 0
            return response.status_code if await self._write(core.end_response()) else 0
        except h11.LocalProtocolError as exc:
            # The body broke HTTP (say, longer than its Content-Length), and the
            # head is already out: the only honest answer left is to close.
            error_logger.error(
                "invalid response to %s: %s; closing the connection", where(self.client), exc
            )
            self.access.finish(0, "the app's response broke HTTP")
            return 0
        except Exception:
            error_logger.exception("error while streaming the response to %s",
                                   where(self.client))
            self.access.finish(0, "the app failed while streaming")
            return 0

    async def _reject(self, rejection: Rejected) -> None:
        error_logger.debug("rejecting request from %s: %s", where(self.client), rejection.reason)
        await self._send_error(self.core.send_error(rejection.status_code, rejection.reason),
                               rejection.status_code, rejection.head)

    async def _send_error(self, data: bytes, status: int,
                          head: RequestReceived | None = None) -> None:
        """Write an error the server made, and its access line (``data`` may be
        b"": nothing to say, or a response is already under way)."""
        if not data:
            return
        if not self.access.pending:  # no request had begun: a head refused, or late
            self.access.begin(head, self._last_read_at)
        if await self._write(data):
            self.access.finish(status)

    async def _close_politely(self) -> None:
        """RFC 9112 section 9.6: half-close, read what the client still sends
        until it closes too (bounded), then close."""
        with anyio.move_on_after(LINGER_AT_SHUTDOWN):
            with contextlib.suppress(Exception):
                await self.stream.send_eof()
                while await self.stream.receive(READ_SIZE):
                    pass
        await self._close()

    async def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Shielded: a cancelled connection still closes its socket politely.
        with anyio.CancelScope(shield=True):
            # The peer may already be gone; there is nothing left to do then.
            with contextlib.suppress(Exception):
                await self.stream.aclose()
