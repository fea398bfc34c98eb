"""Writing one connection's responses: complete ones, streamed ones, errors, the close.

``ResponseWriting`` is the writing half of ``HTTPConnection`` (transport.py keeps
the loop and the reading). The connection core turns a response into bytes;
this module puts them on the socket, keeps the access line's count, and turns
a write that fails into the end of the connection: ``send_failed()`` on the
core, a cut-off access line, and a close that happens once.

A large body comes from the core as its own buffer beside the head; it goes
out with the stream's ``send_buffers`` (one ``sendmsg``) when the stream has
one, and buffer by buffer otherwise (the test client's in-memory stream, TLS),
never joined. A client that stops reading is cut off by the stream's
``send_timeout`` (``--timeout-send``): the write raises ``SendTimeout``, which
ends the connection like any failed write, with its own log line.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import h11

from ..responses import StreamingResponse
from .log import where
from .protocol import InvalidResponse, Rejected, RequestReceived
from .socket_stream import SendTimeout

if TYPE_CHECKING:
    from .._exchange import Reply
    from ..datastructures import Address
    from .access import AccessLog
    from .protocol import ConnectionCore
    from .protocol.writer import Buffers
    from .settings import ConnectionSettings

__all__ = ["IO_ERRORS", "READ_SIZE", "ResponseWriting"]

error_logger = logging.getLogger("microready.error")

READ_SIZE = 64 * 1024  # a request head, or the start of a body, fits several times over
# How long a connection closed at shutdown waits for the client to close its side.
LINGER_AT_SHUTDOWN = 1.0
# What a read or a write raises when the peer is gone or our end is closed.
IO_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


class ResponseWriting:
    """The writing half of a connection; ``HTTPConnection`` sets these attributes."""

    stream: anyio.abc.ByteStream
    settings: ConnectionSettings
    client: Address | None
    core: ConnectionCore
    access: AccessLog
    _closed: bool
    _last_read_at: float
    clock: Callable[[], float]  # the event loop's (event_loop.py)

    async def _write(self, data: bytes) -> bool:
        """Write one buffer; False (and the connection closed) if it failed."""
        if not data or self._closed:
            return not self._closed
        try:
            await self.stream.send(data)
        except IO_ERRORS as exc:
            await self._write_failed(exc)
            return False
        if self.access.pending:
            self.access.sent += len(data)
        return True

    async def _write_buffers(self, buffers: Buffers) -> bool:
        """Write what the core returned: one buffer (the usual case) or several,
        the large ones as themselves."""
        if len(buffers) == 1:
            return await self._write(buffers[0])
        if not buffers or self._closed:  # nothing to write (a HEAD's chunk), or too late
            return not self._closed
        stream = self.stream
        send_buffers = getattr(stream, "send_buffers", None)
        try:
            if send_buffers is not None:
                await send_buffers(buffers)
            else:
                for buffer in buffers:
                    await stream.send(buffer)
        except IO_ERRORS as exc:
            await self._write_failed(exc)
            return False
        if self.access.pending:
            self.access.sent += sum(len(buffer) for buffer in buffers)
        return True

    async def _write_failed(self, exc: BaseException) -> None:
        self.core.send_failed()
        if isinstance(exc, SendTimeout):
            error_logger.info(
                "%s stopped reading: nothing could be sent to it for %g s (--timeout-send); "
                "aborting the connection", where(self.client), exc.timeout)
            self.access.finish(0, "the client stopped reading (send timeout)")
        else:
            self.access.finish(0, "the client disconnected")
        await self._close()  # our end must still be closed (and only once)

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
        # One buffer is the usual case (a small body joined to its head): written
        # directly, without the extra frame of _write_buffers.
        if not await (self._write(data[0]) if len(data) == 1 else self._write_buffers(data)):
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
                except (anyio.EndOfStream, *IO_ERRORS):
                    data = b""
                self._last_read_at = now = self.clock()
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
                    if not await self._write_buffers(core.send_body(chunk)):
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
