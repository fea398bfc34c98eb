"""One connection's I/O loop: read, dispatch, write, then hand off the tasks.

``HTTPConnection.run()`` drives a ``ConnectionCore`` over an anyio byte stream.
It (with its writing half, ``ResponseWriting`` in response_writing.py) is the
only place that reads and writes sockets, and it is the same code for the real
server and for ``TestClient`` (which hands it an in-memory stream). Its loop
follows h11's own example server:

1. read until the core yields a request head (with a deadline from the core);
2. build a ``Request`` whose body is read lazily from the same core;
3. await ``app.handle(request)`` and write the response: one write for a
   complete response (a large body beside its head, not copied), one per
   chunk for a streaming one;
4. close the socket if the connection is ending, then submit the request's
   background tasks, so they start only after the last byte is out;
5. start the next keep-alive cycle, or finish.
"""

from __future__ import annotations

import functools
import logging
import math
from functools import partial

import anyio
import anyio.abc
import h11

from ..datastructures import Address
from ..requests import ClientDisconnect, Request
from .access import AccessLog
from .event_loop import event_loop_clock
from .log import RequestLine, where
from .protocol import (
    NEED_DATA,
    BodyReceived,
    ConnectionCore,
    ConnectionEnded,
    Rejected,
    RequestComplete,
    RequestReceived,
)
from .protocol.websocket import WSPROTO_AVAILABLE, wants_websocket
from .proxy_headers import forwarded
from .response_writing import IO_ERRORS, READ_SIZE, ResponseWriting
from .settings import ConnectionSettings
from .websocket_session import WebSocketSession, websocket_scope

__all__ = ["ConnectionSettings", "HTTPConnection"]

error_logger = logging.getLogger("microready.error")

# A body is read in larger pieces: every piece costs a trip through h11, the app's
# receive and (for an upload) python-multipart, so a 1 MiB upload read 64 KiB at a
# time spent more in those trips than in moving bytes. 256 KiB is what asyncio's
# own transports (and so uvicorn) read at once.
BODY_READ_SIZE = 256 * 1024
# How long a connection that has sent nothing yet may take to send its first
# request once shutdown has begun (see HTTPConnection._first_request_at_shutdown).
FIRST_REQUEST_AT_SHUTDOWN = 1.0


@functools.cache
def _warn_no_wsproto() -> None:
    error_logger.warning("a client asked for a WebSocket, but wsproto is not installed: "
                         "pip install 'microready[websockets]'; answering it as plain HTTP")


class _StopConnection(Exception):
    """Internal: this connection is finished; unwind to ``run()``."""


class _WaitStopped(Exception):
    """Internal: shutdown cancelled the wait for a head that has begun to arrive."""


class _HeadTimeout(Exception):
    """Internal: the wait for a request head passed its deadline."""


class _BodyAborted(ClientDisconnect):
    """Raised into the app when its request body cannot be read to the end."""


class HTTPConnection(ResponseWriting):
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
        self.clock = event_loop_clock()
        self._last_read_at = self.clock()
        self.core = ConnectionCore(settings.limits, self._last_read_at,
                                   server_headers=settings.server_headers)
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
        self._fresh = True  # no request has arrived on this connection yet
        self.access = AccessLog(client, settings, self.clock)

    # -- the loop --------------------------------------------------------------

    async def run(self) -> None:
        try:
            try:
                with self._head_scope:
                    while await self._serve_one_request():
                        pass
            except _WaitStopped:
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
        self._fresh = False

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
        client, scheme = self.client, self.settings.scheme
        proxies = self.settings.trusted_proxies
        if proxies is not None and event.forwarded:  # a trusted proxy's X-Forwarded-*
            client, scheme = forwarded(event.headers, proxies, client, scheme)
            self.access.client = client  # the access line names the client, as uvicorn's
        request = Request(
            method=event.method,
            target=target,
            http_version=event.http_version,
            raw_headers=event.headers,  # type: ignore[arg-type]  # a read-only sequence
            client=client,
            receive=self._receive_body,
            app=self.settings.app,
            server=self.server,
        )
        if root_path:
            request.scope["root_path"] = root_path
        if scheme != "http":
            request.scope["scheme"] = scheme
        metrics = self.settings.metrics
        if metrics is not None and metrics.is_scrape(event.target):
            reply = metrics.reply(event.method)  # --metrics-path: the app never sees it
        else:
            reply = await self.settings.app.handle(request)
        if self._rejection is not None:
            # The body broke a rule while the app read it: that answer wins,
            # and the request's tasks are dropped with the request (but the
            # teardown of its dependencies still runs).
            await self._reject(self._rejection)
            if reply.on_sent is not None:
                reply.on_sent()
            if reply.cleanup is not None:
                self.settings.app.background.submit([], reply.cleanup, RequestLine(event))
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
            keep_alive = core.start_next_cycle(self.clock())
        if not keep_alive:
            await self._close()  # "On Connection: close, the socket is closed first."
        if reply.tasks or reply.cleanup is not None:
            runner = self.settings.app.background
            runner.submit(reply.tasks, reply.cleanup, RequestLine(event))
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
        client, scheme = self.client, "wss" if settings.scheme == "https" else "ws"
        if settings.trusted_proxies is not None:
            client, scheme = forwarded(event.headers, settings.trusted_proxies, client, scheme,
                                       websocket=True)
        scope = websocket_scope(event, client=client, server=self.server, scheme=scheme,
                                root_path=settings.root_path)
        session = self._websocket = WebSocketSession(
            self.stream, event, trailing, settings.websocket, client=client,
            on_app_error=settings.on_app_error, server_headers=settings.server_headers)
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
                if data is None and self._fresh and not core.request_started:
                    data = await self._first_request_at_shutdown()
                if not data and not core.request_started:
                    await self._close_politely()
                    raise _StopConnection
                self._answering_last = True
                core.close_after_response = True
                if data:
                    self._last_read_at = now = self.clock()
                    core.receive_data(data, now)
                continue
            self.head_deadline = core.read_deadline or math.inf
            try:
                data = await stream.receive(READ_SIZE)
            except (anyio.EndOfStream, *IO_ERRORS):
                data = b""
            finally:
                self.head_deadline = math.inf
            self._last_read_at = now = self.clock()
            if self._head_scope.cancel_called:
                if not self._stopping:
                    # The deadline passed while these bytes were on their way in.
                    raise _HeadTimeout
                # Shutdown stopped the wait just as these bytes came in: they
                # are kept, and run() answers them in a scope of its own.
                core.receive_data(data, now)
                raise _WaitStopped
            core.receive_data(data, now)

    async def _first_request_at_shutdown(self) -> bytes | None:
        """A connection accepted but silent when shutdown began: wait a little for its request.

        Its client connected before we stopped accepting, and nearly always has
        a request on the way (a proxy connects, then sends). Closing it now would
        answer that request with an EOF: to nginx a 502 it cannot retry, since
        the connection was new. With ``--workers``, a worker that is being
        replaced takes such connections off the shared queue too. So it gets
        ``FIRST_REQUEST_AT_SHUTDOWN`` seconds (within the shutdown deadline);
        a connection that has already served requests is closed at once.
        """
        with anyio.move_on_after(FIRST_REQUEST_AT_SHUTDOWN):
            try:
                return await self.stream.receive(READ_SIZE)
            except (anyio.EndOfStream, *IO_ERRORS):
                return b""
        return None

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
            except IO_ERRORS:
                data = b""
        if data is None:  # the deadline passed
            await self._send_error(core.on_read_timeout(), 408)
            raise _StopConnection
        self._last_read_at = now = self.clock()
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
            event = core.next_event(self.clock())
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
            event = core.next_event(self.clock())
            if isinstance(event, Rejected | ConnectionEnded):
                return False
            if event is NEED_DATA:
                try:
                    await self._read_more()
                except _StopConnection:
                    return False
        return True
