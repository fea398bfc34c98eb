"""Never crash, never wedge: idle crowds, failing handlers, invalid responses, log escaping.

Each failure must cost its own connection only: another kept-alive connection,
opened before, goes on being served.
"""

from __future__ import annotations

import gc
import logging
import re
import resource
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager

import anyio
import pytest

from microready import MicroReady, PlainTextResponse, Response, StreamingResponse
from microready.config import Config
from microready.server import Server
from tests.support.http import request
from tests.support.live import IO_TIMEOUT, RawClient, connect, exchange, port_of, serving

from .helpers import PING, captured_logs, get_ping, make_app

pytestmark = pytest.mark.anyio


def failing_app() -> MicroReady:
    app = make_app()

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("the handler failed")

    @app.get("/boom-sync")
    def boom_sync() -> str:
        raise RuntimeError("the sync handler failed")

    @app.get("/long")
    async def too_long() -> Response:  # declares more than it has
        return Response(b"hello", headers={"content-length": "10"})

    @app.get("/short")
    async def too_short() -> Response:  # declares less than it has
        return Response(b"hello", headers={"content-length": "3"})

    @app.get("/stream-long")
    async def stream_long() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"hello"

        response = StreamingResponse(body())
        response.headers["content-length"] = "3"  # the app says 3, then streams 5
        return response

    @app.get("/stream-fails")
    async def stream_fails() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first,"
            raise RuntimeError("the stream failed")

        return StreamingResponse(body())

    @app.get("/inject-value")
    async def inject_value() -> Response:
        response = PlainTextResponse("hi")
        response.raw_headers.append((b"x-note", b"a\r\nset-cookie: stolen=1"))
        return response

    @app.get("/inject-name")
    async def inject_name() -> Response:
        response = PlainTextResponse("hi")
        response.raw_headers.append((b"x-a\r\nset-cookie", b"stolen=1"))
        return response

    @app.get("/inject-lf")
    async def inject_lf() -> Response:
        response = PlainTextResponse("hi")
        response.raw_headers.append((b"x-note", b"a\nset-cookie: stolen=1"))
        return response

    @app.get("/inject-nul")
    async def inject_nul() -> Response:
        response = PlainTextResponse("hi")
        response.raw_headers.append((b"x-note", b"a\0b"))
        return response

    @app.get("/inject-stream")
    async def inject_stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"hi"

        response = StreamingResponse(body())
        response.raw_headers.append((b"x-note", b"a\r\nset-cookie: stolen=1"))
        return response

    return app


async def served_ping(client: RawClient) -> None:
    """One more request on an existing kept-alive connection; it must work."""
    with anyio.fail_after(IO_TIMEOUT):
        await client.send(PING)
        response = await client.read_response()
    assert (response.status, response.body) == (200, b'"pong"')
    assert response.header(b"connection") != b"close"


# -- a crowd of idle connections -------------------------------------------------------------------


@contextmanager
def open_files_at_least(count: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_500_idle_connections_do_not_delay_a_new_request() -> None:
    with open_files_at_least(4096), anyio.fail_after(10):
        async with serving(make_app()) as running, AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(connect(running.port)) for _ in range(500)]
            for client in clients[:250]:  # half kept alive after a request...
                await client.send(PING)
                assert (await client.read_response()).status == 200
            # ...half connected and silent. The server holds all 500.
            while len(running.server.connections) < 500:
                await anyio.sleep(0.01)
            started = anyio.current_time()
            await get_ping(running.port)
            elapsed = anyio.current_time() - started
            await served_ping(clients[0])
    assert elapsed < 1.0, f"a new request took {elapsed:.3f}s beside 500 idle connections"


# -- failures cost one connection -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/boom", "/boom-sync"])
async def test_a_handler_that_raises_gets_500_and_closes_only_its_connection(path: str) -> None:
    async with serving(failing_app()) as running, connect(running.port) as bystander:
        await served_ping(bystander)
        response, rest = await exchange(running.port, request("GET", path) + PING)
        assert response.status == 500
        assert response.header(b"connection") == b"close"
        assert b"the handler failed" not in response.body and b"Traceback" not in response.body
        assert rest == b""
        await served_ping(bystander)


@pytest.mark.parametrize("path", ["/long", "/short"])
async def test_a_response_whose_length_is_wrong_gets_500_and_a_close(path: str) -> None:
    async with serving(failing_app()) as running, connect(running.port) as bystander:
        await served_ping(bystander)
        response, rest = await exchange(running.port, request("GET", path) + PING)
        assert response.status == 500
        assert response.header(b"connection") == b"close"
        assert b"hello" not in response.body + rest
        assert rest == b""
        await served_ping(bystander)


async def test_a_streamed_body_longer_than_its_length_is_cut_and_closed() -> None:
    # The head is already out when the body breaks its Content-Length: the only
    # honest thing left is to close, so the client sees a short body.
    async with serving(failing_app()) as running, connect(running.port) as bystander:
        async with connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                await client.send(request("GET", "/stream-long") + PING)
                received = await client.read_until_eof()
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"\r\ncontent-length: 3" in head.lower()
        assert len(body) < 3, f"more than the declared length was sent: {received!r}"
        await served_ping(bystander)


async def test_a_stream_that_raises_midway_is_cut_without_its_last_chunk() -> None:
    async with serving(failing_app()) as running, connect(running.port) as bystander:
        async with connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                await client.send(request("GET", "/stream-fails") + PING)
                received = await client.read_until_eof()
        assert received.startswith(b"HTTP/1.1 200 ")
        assert b"first," in received
        # No terminating zero-size chunk: the client can tell the body is incomplete.
        assert not received.endswith(b"0\r\n\r\n"), received
        assert received.count(b"HTTP/1.1") == 1, "the pipelined request was served"
        await served_ping(bystander)


async def test_a_stream_cut_short_by_its_client_is_closed_promptly() -> None:
    # The client hangs up mid-stream. The app's generator must be closed (its
    # finally runs, say to release a file or a cursor) by the connection that
    # ran it, not left for the garbage collector.
    closed = anyio.Event()
    app = make_app()

    @app.get("/endless")
    async def endless() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x" * 65536
            finally:
                closed.set()

        return StreamingResponse(body())

    async with serving(app) as running, connect(running.port) as bystander:
        async with connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                await client.send(request("GET", "/endless"))
                while len(client.buffer) < 100_000:
                    await client.read_some()
        with anyio.fail_after(IO_TIMEOUT):
            await closed.wait()
        await served_ping(bystander)


# -- no CR or LF reaches the wire -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\rb", "a\0b"])
def test_response_headers_with_cr_lf_or_nul_are_refused_where_they_are_set(value: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response("hi", headers={"x-note": value})
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response("hi", headers={f"x-{value}": "ok"})
    response = Response("hi")
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        response.headers["x-note"] = value
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        response.headers.append("x-note", value)
    assert all(b"x-note" not in name for name, _ in response.raw_headers)


@pytest.mark.parametrize("path", ["/inject-value", "/inject-name", "/inject-lf", "/inject-nul"])
async def test_a_header_smuggled_into_raw_headers_never_reaches_the_wire(path: str) -> None:
    async with serving(failing_app()) as running, connect(running.port) as bystander:
        async with connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                await client.send(request("GET", path) + PING)
                received = await client.read_until_eof()
        assert b"stolen" not in received, received
        assert b"x-note" not in received.lower(), received
        assert received.startswith(b"HTTP/1.1 500 "), f"not a 500: {received!r}"
        assert received.count(b"HTTP/1.1") == 1, "the pipelined request was served"
        assert b"\r\nconnection: close\r\n" in received
        await served_ping(bystander)


async def test_a_streaming_response_with_a_smuggled_header_gets_500() -> None:
    # Nothing has been written when the head turns out invalid, so the client
    # can still be told (as for a complete response) rather than just hung up on.
    async with serving(failing_app()) as running, connect(running.port) as bystander:
        async with connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                await client.send(request("GET", "/inject-stream") + PING)
                received = await client.read_until_eof()
        assert b"stolen" not in received, received
        assert received.count(b"HTTP/1.1") <= 1, "the pipelined request was served"
        await served_ping(bystander)
        assert received.startswith(b"HTTP/1.1 500 "), f"not a 500: {received!r}"
        assert b"\r\nconnection: close\r\n" in received


# -- the access log ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/items/a%0d%0aINFO:%20forged%20entry",  # decodes to a CR LF: must not be decoded
        b'/items/a"%20200%20"forged',  # a quote would end the quoted request early
        b"/items/a%00b%1b[31mred",  # NUL and a terminal escape, once decoded
    ],
)
async def test_access_log_lines_stay_one_line_and_keep_their_quotes(
    caplog: pytest.LogCaptureFixture, target: bytes
) -> None:
    with captured_logs(caplog, "microready.access", logging.INFO) as records:
        async with serving(make_app()) as running:
            data = b"GET " + target + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
            response, _ = await exchange(running.port, data)
        assert response.status == 200
    lines = [record.getMessage() for record in records]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.isprintable(), repr(line)  # no CR, LF, NUL or ESC
    # The request is the only quoted part: a quote in the target is escaped.
    assert line.count('"') == 2, line
    # uvicorn's line, then the duration and the bytes sent.
    assert re.search(r'HTTP/1\.1" 200 \d+\.\dms \d+B$', line), line
    assert "forged entry" not in line and "\r" not in line and "\x1b" not in line


# -- a cancelled server ---------------------------------------------------------------------------


async def test_a_cancelled_serve_closes_its_listening_socket() -> None:
    # serve() cancelled from outside (an enclosing task group failing, say) must
    # not leave the socket listening: the kernel would go on accepting clients
    # that nobody serves.
    server = Server(make_app(), Config(port=0))
    with anyio.move_on_after(IO_TIMEOUT) as scope:
        async with anyio.create_task_group() as task_group:
            addresses = await task_group.start(server.serve)
            port = port_of(addresses[0])
            await get_ping(port)
            task_group.cancel_scope.cancel()
    assert not scope.cancelled_caught, "serve() did not stop when cancelled"
    with pytest.raises(OSError):
        stream = await anyio.connect_tcp("127.0.0.1", port)
        await stream.aclose()


# -- back-pressure -------------------------------------------------------------------------------


async def test_a_client_that_never_reads_cannot_make_the_server_buffer_its_requests() -> None:
    # Big responses the client never reads: the server's writes wait for the
    # socket, and while they wait it reads nothing more, so the client's
    # pipelined requests soon stop being accepted by the kernel. A server that
    # kept reading (and buffering) would take all 32 MiB of them.
    app = make_app()

    @app.get("/big")
    async def big() -> Response:
        return Response(b"x" * (1024 * 1024))

    requests = request("GET", "/big") * (32 * 1024 * 1024 // len(request("GET", "/big")))
    sent = 0
    # The client outlives the server (its deadline cuts the blocked write), so
    # this test does not depend on how a failed write is cleaned up.
    async with serving(app, timeout_graceful_shutdown=0.5) as running:
        stream = await anyio.connect_tcp("127.0.0.1", running.port)
        with anyio.move_on_after(2.0):
            for start in range(0, len(requests), 65536):
                await stream.send(requests[start : start + 65536])
                sent += 65536
        async with connect(running.port) as other:  # and the server is still fine
            await served_ping(other)
    await stream.aclose()
    assert sent < len(requests) // 2, f"the server took {sent} bytes of requests unread"


async def test_a_connection_whose_write_fails_still_closes_its_socket() -> None:
    # The client hangs up while the server is writing a large response. The
    # server's socket must be closed by the server, not left to the garbage
    # collector (which warns, and holds the descriptor until it runs).
    app = make_app()

    @app.get("/big")
    async def big() -> Response:
        return Response(b"x" * (8 * 1024 * 1024))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()  # what earlier tests left behind is not this test's to judge
        async with serving(app) as running:
            port = running.port
            async with connect(port) as client:
                with anyio.fail_after(IO_TIMEOUT):
                    await client.send(request("GET", "/big"))
                    await client.read_some()  # the response has started
            # Sent with unread data, the close resets; the server's write fails.
            with anyio.fail_after(IO_TIMEOUT):
                while running.server.connections:
                    await anyio.sleep(0.01)
            await get_ping(running.port)
        gc.collect()
    ours = f"laddr=('127.0.0.1', {port})"  # the server's end of a connection
    leaked = [str(w.message) for w in caught if ours in str(w.message)]
    assert not leaked, leaked
