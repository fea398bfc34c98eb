"""``--timeout-send``: a client that stops reading is cut off; a slow reader is not.

Issue 16, defect 4: there was no write deadline, so a client that sent a
request and never read the answer held its connection (and the response)
forever. The deadline counts only while a write makes no progress: it is
armed when the kernel's buffer is full and starts again whenever some bytes
go out. When it expires the connection is aborted, logged on
``microready.error`` with the client's address, and its access line says
``-`` with the reason; the request's background tasks still run, as after any
failed write.

These tests use a small ``timeout_send`` and a client with a small receive
buffer, so the server's writes block soon; they wait for the outcome with a
deadline, never on a sleep. A 5 MiB body is more than the kernel's largest
send buffer here (4 MiB) plus the client's receive buffer, so a write of it
must wait for the client.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from microready import BackgroundTasks, MicroReady, Response, StreamingResponse
from microready.server.socket_stream import RawSocketStream, SendTimeout
from tests.hardening.helpers import captured_logs
from tests.support.live import IO_TIMEOUT, serving

pytestmark = pytest.mark.anyio

LARGE = b"x" * (5 * 1024 * 1024)
TIMEOUT = 0.5
CUT_OFF_REASON = "the client stopped reading (send timeout)"


class Signals:
    def __init__(self) -> None:
        self.task_ran = anyio.Event()
        self.stream_closed = anyio.Event()


def make_app(signals: Signals) -> MicroReady:
    app = MicroReady()

    async def mark_task_ran() -> None:  # async: it runs on the loop, where the Event lives
        signals.task_ran.set()

    @app.get("/large")
    async def large(background_tasks: BackgroundTasks) -> Response:
        background_tasks.add_task(mark_task_ran)
        return Response(LARGE, media_type="application/octet-stream")

    @app.get("/endless")
    async def endless() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"y" * 65536
            finally:
                signals.stream_closed.set()

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    return app


@contextlib.contextmanager
def capturing(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The server's error and access lines, whatever an earlier test did to logging."""
    with captured_logs(caplog, "microready", logging.INFO), \
            captured_logs(caplog, "microready.access", logging.INFO):
        yield


def idle_client(port: int, path: str) -> socket.socket:
    """A client that sends its request and then reads nothing."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # before connect: the window
    sock.settimeout(IO_TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    return sock


async def wait_for_record(caplog: pytest.LogCaptureFixture, logger: str, text: str) -> str:
    """The first message of ``logger`` that contains ``text``, polled with a deadline."""
    with anyio.fail_after(IO_TIMEOUT):
        while True:
            for record in caplog.records:
                if record.name == logger and text in record.getMessage():
                    return record.getMessage()
            await anyio.sleep(0.02)


async def receive(sock: socket.socket, max_bytes: int = 65536) -> bytes:
    """The next bytes from a non-blocking socket; b"" once the server closed or reset it."""
    while True:
        try:
            return sock.recv(max_bytes)
        except BlockingIOError:
            await anyio.wait_readable(sock)
        except ConnectionError:
            return b""


async def read_to_the_end(sock: socket.socket) -> int:
    """Read until the server closes (or resets) the connection; how many bytes came."""
    sock.setblocking(False)
    received = 0
    with anyio.fail_after(IO_TIMEOUT):
        while data := await receive(sock):
            received += len(data)
    return received


async def test_a_client_that_never_reads_is_aborted_logged_and_its_tasks_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signals = Signals()
    with capturing(caplog):
        async with serving(make_app(signals), timeout_send=TIMEOUT) as served:
            sock = idle_client(served.port, "/large")
            try:
                client = f"127.0.0.1:{sock.getsockname()[1]}"
                message = await wait_for_record(caplog, "microready.error", "stopped reading")
                assert message.startswith(client) and "--timeout-send" in message
                access = await wait_for_record(caplog, "microready.access", CUT_OFF_REASON)
                assert '"GET /large HTTP/1.1" -' in access
                # The connection is gone: what was in flight ends in a reset or EOF, short.
                assert await read_to_the_end(sock) < len(LARGE)
            finally:
                sock.close()
            with anyio.fail_after(IO_TIMEOUT):
                await signals.task_ran.wait()  # the app's promise is kept


async def test_a_streamed_response_to_a_client_that_never_reads_is_aborted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signals = Signals()
    with capturing(caplog):
        async with serving(make_app(signals), timeout_send=TIMEOUT) as served:
            sock = idle_client(served.port, "/endless")
            try:
                with anyio.fail_after(IO_TIMEOUT):
                    await signals.stream_closed.wait()  # the app's generator was closed
                await wait_for_record(caplog, "microready.access", CUT_OFF_REASON)
            finally:
                sock.close()


async def test_a_slow_reader_that_keeps_reading_gets_the_whole_body() -> None:
    # Small bites with pauses take well over TIMEOUT in all (about 3 s), and
    # free so little room at a time that the server's socket is seldom
    # writable; but bytes leave its send queue all along, so nothing is cut off.
    signals = Signals()
    async with serving(make_app(signals), timeout_send=TIMEOUT, access_log=False) as served:
        sock = idle_client(served.port, "/large")
        sock.setblocking(False)
        received = bytearray()
        try:
            with anyio.fail_after(IO_TIMEOUT * 2):
                while not received.endswith(b"\r\n\r\n" + LARGE):
                    data = await receive(sock, 32768)
                    assert data, f"cut off after {len(received)} bytes"
                    received += data
                    await anyio.sleep(0.01)
        finally:
            sock.close()
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")


# -- the stream itself ----------------------------------------------------------------------


async def test_the_stream_raises_send_timeout_and_later_sends_fail_at_once() -> None:
    server_end, client_end = socket.socketpair()
    stream = RawSocketStream(server_end, send_timeout=0.2)
    try:
        async with stream:
            with anyio.fail_after(IO_TIMEOUT), pytest.raises(SendTimeout) as raised:
                await stream.send(LARGE)
            assert raised.value.timeout == 0.2
            assert isinstance(raised.value, anyio.BrokenResourceError)  # a failed write
            with anyio.fail_after(0.1), pytest.raises(anyio.BrokenResourceError):
                await stream.send(b"more")  # no second wait: this is what TLS's close sends
            with anyio.fail_after(0.1), pytest.raises(anyio.BrokenResourceError):
                await stream.send_buffers([b"a", LARGE])
    finally:
        client_end.close()


async def test_the_stream_without_a_send_timeout_waits_for_its_reader() -> None:
    server_end, client_end = socket.socketpair()
    stream, reader = RawSocketStream(server_end), RawSocketStream(client_end)
    received = 0
    async with stream, reader:
        async def read_after_a_pause() -> None:
            nonlocal received
            await anyio.sleep(0.3)  # longer than the other test's timeout
            while received < len(LARGE):
                received += len(await reader.receive(1 << 20))

        with anyio.fail_after(IO_TIMEOUT):
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(read_after_a_pause)
                await stream.send(LARGE)
    assert received == len(LARGE)
