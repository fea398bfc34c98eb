"""A byte stream over one accepted socket, built on anyio's readiness waits.

The server reads and writes every connection through this class rather than
anyio's ``SocketStream``. Both are anyio byte streams and both run on asyncio,
uvloop and trio; the difference is what a request costs. anyio's stream makes
every ``send`` and ``receive`` a checkpoint and, on asyncio, goes through a
transport, a protocol and two events: three task wake-ups per keep-alive
request. Here ``send`` writes to the socket at once, and waits
(``anyio.wait_writable``) only when the kernel's buffer is full.

``receive`` yields once (a checkpoint) and then tries the socket, waiting
(``anyio.wait_readable``) only if nothing has come. The yield is for fairness:
a client on another core can send its next request before we are back from
sending the last response, and a ``receive`` that returned it at once would
serve that connection again and again while the others wait (measured: a p50
of 12 ms but a p90 of 80 ms). Under load the next request usually arrives
during the yield, so no readiness wait is needed at all.

``send`` checkpoints every ``_CHECKPOINT_EVERY`` calls that did not wait, so a
long streamed response cannot starve the other connections either, and
cancellation still gets through. ``send_buffers`` writes several buffers with
one ``sendmsg`` (scatter-gather), so a large body goes out without being
joined to its head.

``send_timeout`` (``--timeout-send``) bounds how long a write may make no
progress. It is armed only when the kernel's buffer is full, around the
readiness wait; a write that completes at once costs nothing for it. Progress
is bytes leaving the kernel's send queue, not only our wake-ups: a client that
reads a little at a time frees too little room to make the socket writable
(Linux waits for a third of the buffer), yet it is reading. So a blocked write
looks at the queue's length (``SIOCOUTQ``, where the platform has it; without
it, a wake-up is the only progress there is) a few times per timeout, and
gives up once it has not shrunk for ``send_timeout`` seconds. Then ``send``
raises ``SendTimeout`` and the socket is set to be reset when it is closed, so
the kernel drops the bytes the client never read instead of keeping them.
"""

from __future__ import annotations

import array
import contextlib
import errno
import socket
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.abc import SocketAttribute

from .event_loop import event_loop_sleep

try:
    import fcntl
    import termios
except ImportError:  # pragma: no cover - Windows
    fcntl = termios = None  # type: ignore[assignment]

__all__ = ["RawSocketStream", "SendTimeout"]

_CHECKPOINT_EVERY = 16
# A large body is handed to the kernel at most this much per call, with a turn
# for the other connections between slices. On loopback the kernel takes about
# 2.8 MiB in one sendmsg(); 500 clients asking for 5 MiB at once made one pass
# of the event loop copy 1.4 GB before anyone else was served (a 5 s stall).
_SEND_SLICE = 256 * 1024
# Errors that mean the peer is gone (reset, or a write after its close).
_BROKEN = (ConnectionError, TimeoutError)
_HAS_SENDMSG = hasattr(socket.socket, "sendmsg")  # not on Windows
# The ioctl that says how many bytes the send queue holds (Linux's SIOCOUTQ is
# TIOCOUTQ; so is the BSDs' and macOS's); None where there is none.
_UNSENT_BYTES_REQUEST: int | None = getattr(termios, "TIOCOUTQ", None) if termios else None
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
# A blocked write looks this many times per send_timeout for bytes that left the
# queue, so a client is cut off at most a few seconds (of 30) after its last byte.
_PROGRESS_LOOKS = 8
_CLOCK_SLACK = 1e-6  # eight eighths of a timeout may add up to a hair less than one


class SendTimeout(anyio.BrokenResourceError):
    """A write made no progress for ``send_timeout`` seconds: the client stopped reading."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"no byte could be sent for {timeout:g} s")
        self.timeout = timeout


class RawSocketStream(anyio.abc.ByteStream):
    """A connected, non-blocking stream socket as an anyio ``ByteStream``.

    It takes ownership of ``sock``. One task may receive and one may send at a
    time, as with anyio's own streams; the server uses one task for both.
    """

    def __init__(self, sock: socket.socket, *, send_timeout: float | None = None) -> None:
        sock.setblocking(False)
        self._socket = sock
        self._closed = False
        self._send_broken = False  # a send timed out: later sends fail at once
        self._sends_without_waiting = 0
        self.send_timeout = send_timeout
        self._sleep = event_loop_sleep()  # await self._sleep(0): anyio's checkpoint, cheaper

    async def receive(self, max_bytes: int = 65536) -> bytes:
        sock = self._socket
        # Yield first: fair to the other connections, and under load the
        # client's next bytes arrive meanwhile, so no readiness wait is needed.
        await self._sleep(0)
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                data = sock.recv(max_bytes)
            except BlockingIOError:
                await anyio.wait_readable(sock)
                continue
            except _BROKEN as exc:
                raise anyio.BrokenResourceError from exc
            except OSError as exc:
                raise self._error_after_close(exc) from exc
            if not data:
                raise anyio.EndOfStream
            return data

    def receive_nowait(self, max_bytes: int = 65536) -> bytes | None:
        """What the kernel already holds for us, without waiting: None when
        nothing has arrived, b"" when the peer has closed (or the socket failed)."""
        if self._closed:
            return b""
        try:
            return self._socket.recv(max_bytes)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    async def send(self, item: bytes) -> None:
        sock = self._socket
        view = memoryview(item)
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            if self._send_broken:
                raise anyio.BrokenResourceError
            try:
                sent = sock.send(view)
            except BlockingIOError:
                sent = 0
            except _BROKEN as exc:
                raise anyio.BrokenResourceError from exc
            except OSError as exc:
                raise self._error_after_close(exc) from exc
            if sent == len(view):
                # Inline, not a call to _count_send(): this is every response's
                # path, and a coroutine frame here costs as much as the test.
                self._sends_without_waiting += 1
                if self._sends_without_waiting >= _CHECKPOINT_EVERY:
                    self._sends_without_waiting = 0
                    await self._sleep(0)
                return
            # The kernel's buffer is full: wait for room, then send the rest.
            view = view[sent:]
            await self._wait_writable()

    async def send_buffers(self, buffers: Sequence[bytes]) -> None:
        """Send ``buffers`` in order as one byte stream, with no copy: one
        ``sendmsg`` call (scatter-gather) for as much as the kernel takes."""
        if not _HAS_SENDMSG:
            for buffer in buffers:
                await self.send(buffer)
            return
        sock = self._socket
        views = [memoryview(buffer).cast("B") for buffer in buffers if buffer]
        while views:
            if self._closed:
                raise anyio.ClosedResourceError
            if self._send_broken:
                raise anyio.BrokenResourceError
            batch = _first_bytes(views, _SEND_SLICE)
            try:
                sent = sock.sendmsg(batch)
            except BlockingIOError:
                sent = 0
            except _BROKEN as exc:
                raise anyio.BrokenResourceError from exc
            except OSError as exc:
                raise self._error_after_close(exc) from exc
            whole_batch = sent == sum(len(view) for view in batch)
            # Drop what went out: whole buffers first, then the start of the next.
            while views and sent >= len(views[0]):
                sent -= len(views.pop(0))
            if not views:
                await self._count_send()
                return
            if sent:
                views[0] = views[0][sent:]
            if whole_batch:
                # A slice is out and the kernel may take more: let the other
                # connections run first (see _SEND_SLICE).
                self._sends_without_waiting = 0
                await self._sleep(0)
            else:
                await self._wait_writable()

    async def _count_send(self) -> None:
        """A send completed without waiting; every few of those, let others run."""
        self._sends_without_waiting += 1
        if self._sends_without_waiting >= _CHECKPOINT_EVERY:
            self._sends_without_waiting = 0
            await self._sleep(0)

    async def _wait_writable(self) -> None:
        """Wait for room in the kernel's buffer; give up once ``send_timeout``
        seconds have passed in which not one byte left it."""
        self._sends_without_waiting = 0
        timeout = self.send_timeout
        sock = self._socket
        if timeout is None:
            await anyio.wait_writable(sock)
            return
        unsent = self._unsent_bytes()
        # With the queue's length to go by, look for progress a few times per
        # timeout: bytes that left just after the wait began (the client's
        # window filling up) must not buy the client a second whole timeout.
        look_every = timeout if unsent is None else timeout / _PROGRESS_LOOKS
        progress_seen_at = anyio.current_time()
        while True:
            with anyio.move_on_after(look_every) as waiting:
                await anyio.wait_writable(sock)
            if not waiting.cancelled_caught:
                return
            now = anyio.current_time()
            still_unsent = self._unsent_bytes() if unsent is not None else None
            if still_unsent is not None and unsent is not None and still_unsent < unsent:
                unsent, progress_seen_at = still_unsent, now  # it reads, slowly
            elif now - progress_seen_at >= timeout - _CLOCK_SLACK:
                break
        self._send_broken = True
        # Reset, not FIN, at close: the unread bytes are dropped, not kept.
        with contextlib.suppress(OSError):  # the socket may be gone already
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        raise SendTimeout(timeout)

    def _unsent_bytes(self) -> int | None:
        """How many bytes the kernel still holds to send (None: it cannot say)."""
        if _UNSENT_BYTES_REQUEST is None:
            return None
        count = array.array("i", [0])
        try:
            fcntl.ioctl(self._socket.fileno(), _UNSENT_BYTES_REQUEST, count, True)
        except OSError:
            return None
        return count[0]

    async def send_eof(self) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            self._socket.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise anyio.BrokenResourceError from exc
        await anyio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            # Wakes (with ClosedResourceError) any task still waiting on it.
            anyio.notify_closing(self._socket)
            self._socket.close()
        await anyio.lowlevel.checkpoint()

    def _error_after_close(self, exc: OSError) -> Exception:
        if self._closed or exc.errno == errno.EBADF:
            return anyio.ClosedResourceError()
        return anyio.BrokenResourceError()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        sock = self._socket
        attributes: dict[Any, Callable[[], Any]] = {
            SocketAttribute.family: lambda: sock.family,
            SocketAttribute.local_address: sock.getsockname,
            SocketAttribute.raw_socket: lambda: sock,
            SocketAttribute.remote_address: sock.getpeername,
        }
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attributes[SocketAttribute.local_port] = lambda: sock.getsockname()[1]
            attributes[SocketAttribute.remote_port] = lambda: sock.getpeername()[1]
        return attributes


def _first_bytes(views: list[memoryview], limit: int) -> list[memoryview]:
    """The start of ``views``, at most ``limit`` bytes of it (no copy: views of views)."""
    batch: list[memoryview] = []
    for view in views:
        if len(view) >= limit:
            batch.append(view[:limit])
            return batch
        batch.append(view)
        limit -= len(view)
    return batch
