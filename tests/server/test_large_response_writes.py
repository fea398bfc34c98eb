"""A large body goes out without being copied, and arrives whole.

Issue 16, defect 4: the core joined every response's head and body into a new
buffer, so a client that never read held a full extra copy of the body for as
long as its connection lived. Now a body of ``JOIN_LIMIT`` bytes or more comes
out of the sans-IO core as the app's own object (``is``), beside its head, and
the transport writes both with one ``sendmsg``; a small body is still joined,
one buffer for one ``send``. The bodies are checked by their hash through the
real server (asyncio and trio) and through ``TestClient`` (whose in-memory
stream has no vectored send, so the transport writes the buffers one by one).
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator

import anyio
import pytest

from microready import MicroReady, Response, StreamingResponse
from microready.server import socket_stream
from microready.server.protocol import ConnectionCore, Limits, RequestComplete, RequestReceived
from microready.server.protocol.writer import JOIN_LIMIT
from microready.server.socket_stream import RawSocketStream
from microready.testing import TestClient
from tests.support.http import parse_response
from tests.support.live import IO_TIMEOUT, connect, serving

LARGE = bytes(range(256)) * (5 * 1024 * 1024 // 256)  # 5 MiB, not all one byte
CHUNK = LARGE[: 1024 * 1024]
GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def core_after(request: bytes) -> ConnectionCore:
    core = ConnectionCore(Limits(), 0.0)
    core.receive_data(request, 0.0)
    assert isinstance(core.next_event(0.0), RequestReceived)
    assert isinstance(core.next_event(0.0), RequestComplete)
    return core


# -- the sans-IO core: no copy of a large body ---------------------------------------------


def test_a_large_complete_body_comes_out_as_the_apps_own_object() -> None:
    core = core_after(GET)
    out = core.send_response(200, [(b"content-type", b"application/octet-stream")], LARGE)
    assert len(out) == 2
    head, body = out
    assert body is LARGE  # not a copy: a reader that never reads holds no extra 5 MiB
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert b"content-length: %d\r\n" % len(LARGE) in head


def test_a_body_just_under_the_limit_is_joined_into_one_buffer() -> None:
    body = LARGE[: JOIN_LIMIT - 1]
    (data,) = core_after(GET).send_response(200, [], body)
    assert data.endswith(b"\r\n\r\n" + body)
    _head, body_at_limit = core_after(GET).send_response(200, [], LARGE[:JOIN_LIMIT])
    assert len(body_at_limit) == JOIN_LIMIT


def test_a_head_request_for_a_large_body_gets_the_head_alone() -> None:
    out = core_after(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").send_response(200, [], LARGE)
    assert len(out) == 1
    assert parse_response(out[0], "HEAD").header(b"content-length") == b"%d" % len(LARGE)


def test_a_large_streamed_chunk_is_passed_through_between_its_framing() -> None:
    core = core_after(GET)
    head = b"".join(core.send_response(200, [], complete=False))
    assert b"transfer-encoding: chunked" in head.lower()
    framed = core.send_body(CHUNK)
    assert [piece is CHUNK for piece in framed] == [False, True, False]
    assert b"".join(framed) == b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"
    (small,) = core.send_body(b"tiny")  # small chunks stay one joined buffer
    assert small == b"4\r\ntiny\r\n"


# -- the socket stream: scatter-gather with partial writes ---------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("has_sendmsg", [True, False], ids=["sendmsg", "no-sendmsg"])
async def test_send_buffers_delivers_every_buffer_in_order_through_partial_writes(
    has_sendmsg: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without sendmsg (Windows) the buffers go out one send at a time.
    monkeypatch.setattr(socket_stream, "_HAS_SENDMSG", has_sendmsg)
    server_end, client_end = socket.socketpair()
    # A small send buffer: every sendmsg is partial and some end inside a buffer.
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    buffers = [b"head\r\n", LARGE[:300_001], b"", b"\r\n", CHUNK]
    expected = b"".join(buffers)
    received = bytearray()
    stream = RawSocketStream(server_end)
    client = RawSocketStream(client_end)
    async with stream, client:
        async def read_all() -> None:
            while len(received) < len(expected):
                received.extend(await client.receive(65536))

        with anyio.fail_after(IO_TIMEOUT):
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(read_all)
                await stream.send_buffers(buffers)
    assert sha256(bytes(received)) == sha256(expected)


@pytest.mark.anyio
async def test_send_buffers_on_a_closed_stream_raises_closed_resource_error() -> None:
    server_end, client_end = socket.socketpair()
    stream = RawSocketStream(server_end)
    await stream.aclose()
    client_end.close()
    with pytest.raises(anyio.ClosedResourceError):
        await stream.send_buffers([b"head", LARGE])


# -- the whole server: the body arrives intact ---------------------------------------------


def make_app() -> MicroReady:
    app = MicroReady()

    @app.get("/large")
    async def large() -> Response:
        return Response(LARGE, media_type="application/octet-stream")

    @app.get("/streamed")
    async def streamed() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(LARGE), len(CHUNK)):
                yield LARGE[start:start + len(CHUNK)]
            yield b"tail"

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.get("/small")
    async def small() -> Response:
        return Response(b"small", media_type="text/plain")

    return app


@pytest.mark.anyio
async def test_the_server_sends_large_bodies_whole_and_keeps_the_connection() -> None:
    async with serving(make_app(), access_log=False) as served, connect(served.port) as client:
        await client.send(b"GET /large HTTP/1.1\r\nHost: a\r\n\r\n")
        response = await client.read_response()
        assert response.status == 200 and sha256(response.body) == sha256(LARGE)
        await client.send(b"GET /streamed HTTP/1.1\r\nHost: a\r\n\r\n")
        response = await client.read_response()
        assert response.header(b"transfer-encoding") == b"chunked"
        assert sha256(response.body) == sha256(LARGE + b"tail")
        # The framing stayed exact: the next response on the connection parses.
        await client.send(b"GET /small HTTP/1.1\r\nHost: a\r\n\r\n")
        assert (await client.read_response()).body == b"small"


def test_the_test_client_gets_large_bodies_whole() -> None:
    client = TestClient(make_app())
    assert sha256(client.get("/large").content) == sha256(LARGE)
    assert sha256(client.get("/streamed").content) == sha256(LARGE + b"tail")
    assert client.get("/small").content == b"small"
