"""RFC 9112 framing rules, on raw bytes through the real server (asyncio and trio).

Each bad request must get its status, a ``connection: close`` header, and then
EOF. A second request pipelined behind it must never be answered: once the
server refuses to trust a head, it cannot know where the next request begins
(that is request smuggling).
"""

from __future__ import annotations

import anyio
import pytest

from tests.support.http import request
from tests.support.live import IO_TIMEOUT, connect, exchange, serving

from .helpers import SMUGGLED, make_app

pytestmark = pytest.mark.anyio


def post(path: str, *headers: str, body: bytes = b"") -> bytes:
    return request("POST", path, *headers, body=body)


BAD_HEADS = [
    # RFC 9112 6.1: both framings at once is a smuggling attempt.
    pytest.param(
        post("/upload", "Content-Length: 5", "Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
        400,
        id="content-length-and-transfer-encoding",
    ),
    pytest.param(
        post("/upload", "Transfer-Encoding: chunked", "Content-Length: 5", body=b"0\r\n\r\n"),
        400,
        id="transfer-encoding-and-content-length",
    ),
    # RFC 9112 6.3: differing or invalid Content-Length values are unrecoverable.
    pytest.param(
        post("/upload", "Content-Length: 5", "Content-Length: 6", body=b"hello!"),
        400,
        id="differing-duplicate-content-length",
    ),
    pytest.param(post("/upload", "Content-Length: 5, 6", body=b"hello!"), 400, id="list-length"),
    pytest.param(post("/upload", "Content-Length: +5", body=b"hello"), 400, id="plus-length"),
    pytest.param(post("/upload", "Content-Length: -5", body=b"hello"), 400, id="minus-length"),
    pytest.param(post("/upload", "Content-Length: five", body=b"hello"), 400, id="word-length"),
    pytest.param(post("/upload", "Content-Length: 0x5", body=b"hello"), 400, id="hex-length"),
    # RFC 9112 6.1: a server that does not understand a transfer coding answers 501.
    pytest.param(post("/upload", "Transfer-Encoding: gzip"), 501, id="te-gzip"),
    pytest.param(post("/upload", "Transfer-Encoding: identity"), 501, id="te-identity"),
    pytest.param(
        post("/upload", "Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"), 501, id="te-list"
    ),
    pytest.param(
        post("/upload", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked",
             body=b"0\r\n\r\n"),
        501,
        id="te-twice",
    ),
    # RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is a framing fault.
    pytest.param(
        b"POST /upload HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        id="te-in-http-1.0",
    ),
    # RFC 9112 5.2: obs-fold is rejected, not silently unfolded.
    pytest.param(
        b"GET /ping HTTP/1.1\r\nHost: test\r\nX-A: one\r\n two\r\n\r\n", 400, id="obs-fold-space"
    ),
    pytest.param(
        b"GET /ping HTTP/1.1\r\nHost: test\r\nX-A: one\r\n\ttwo\r\n\r\n", 400, id="obs-fold-tab"
    ),
    # RFC 9110 5.5: NUL, CR and LF never appear inside a field.
    pytest.param(b"GET /ping HTTP/1.1\r\nHost: test\r\nX-A: a\0b\r\n\r\n", 400, id="nul-value"),
    pytest.param(b"GET /ping HTTP/1.1\r\nHost: test\r\nX-\0A: ab\r\n\r\n", 400, id="nul-name"),
    pytest.param(b"GET /ping HTTP/1.1\r\nHost: test\r\nX-A: a\rb\r\n\r\n", 400, id="cr-value"),
    pytest.param(b"GET /ping HTTP/1.1\r\nHost: test\r\nX-A: a\nb\r\n\r\n", 400, id="lf-value"),
    # RFC 9112 3.2: exactly one Host on HTTP/1.1.
    pytest.param(b"GET /ping HTTP/1.1\r\n\r\n", 400, id="no-host"),
    pytest.param(
        b"GET /ping HTTP/1.1\r\nHost: test\r\nHost: other\r\n\r\n", 400, id="two-hosts"
    ),
    pytest.param(b"GET /ping HTTP/1.1\r\nHost: test\r\nhost: test\r\n\r\n", 400, id="same-two"),
    # RFC 9110 15.6.6: only HTTP/1.0 and 1.1 are spoken here.
    pytest.param(b"GET /ping HTTP/2.0\r\nHost: test\r\n\r\n", 505, id="http-2.0"),
    pytest.param(b"GET /ping HTTP/1.2\r\nHost: test\r\n\r\n", 505, id="http-1.2"),
    pytest.param(b"GET /ping HTTP/3.0\r\nHost: test\r\n\r\n", 505, id="http-3.0"),
    # A proxy-only method this server does not implement.
    pytest.param(
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, id="connect"
    ),
]


@pytest.mark.parametrize(("data", "status"), BAD_HEADS)
async def test_a_bad_head_is_answered_closed_and_nothing_after_it_is_served(
    data: bytes, status: int
) -> None:
    async with serving(make_app()) as running:
        response, rest = await exchange(running.port, data + SMUGGLED)
        assert response.status == status, response.body
        assert response.header(b"connection") == b"close"
        assert response.body.startswith(str(status).encode())
        assert rest == b"", "the pipelined request after a rejected one was answered"


async def test_smuggling_content_length_and_chunked_gets_only_the_400() -> None:
    # The classic CL.TE attack: to a front end trusting Content-Length the body
    # is "0\r\n\r\n" + a second request; to one trusting chunked, the body ends
    # at "0\r\n\r\n" and the second request is the attacker's. We answer neither.
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n"
    attack = request(
        "POST",
        "/upload",
        f"Content-Length: {5 + len(smuggled)}",
        "Transfer-Encoding: chunked",
        body=b"0\r\n\r\n" + smuggled,
    )
    async with serving(make_app()) as running:
        response, rest = await exchange(running.port, attack + SMUGGLED)
    assert response.status == 400
    assert response.header(b"connection") == b"close"
    assert b"HTTP/1.1" not in rest, f"a smuggled request was answered: {rest!r}"
    assert rest == b""


async def test_a_good_request_before_the_bad_one_is_still_answered() -> None:
    # Rejection is per request, in order: the valid pipelined request before the
    # bad one gets its 200, then the 400, then EOF.
    data = b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n" + request(
        "POST", "/upload", "Content-Length: 1", "Transfer-Encoding: chunked", body=b"0\r\n\r\n"
    ) + SMUGGLED
    async with serving(make_app()) as running:
        with anyio.fail_after(IO_TIMEOUT):
            async with connect(running.port) as client:
                await client.send(data)
                first = await client.read_response()
                second = await client.read_response()
                rest = await client.read_until_eof()
    assert first.status == 200 and first.body == b'"pong"'
    assert second.status == 400 and second.header(b"connection") == b"close"
    assert rest == b""


BAD_CHUNKS = [
    pytest.param(b"zz\r\nhello\r\n0\r\n\r\n", id="non-hex-size"),
    pytest.param(b"-5\r\nhello\r\n0\r\n\r\n", id="negative-size"),
    pytest.param(b"5 5\r\nhello\r\n0\r\n\r\n", id="space-in-size"),
    pytest.param(b"5\r\nhelloXY0\r\n\r\n", id="bad-chunk-terminator"),
    pytest.param(b"5\r\nhello\n\n0\r\n\r\n", id="bare-lf-terminator"),
    pytest.param(b"ffffffffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", id="huge-size"),
]


@pytest.mark.parametrize("chunks", BAD_CHUNKS)
async def test_a_bad_chunk_read_by_the_app_is_a_400_and_a_close(chunks: bytes) -> None:
    data = request("POST", "/echo", "Transfer-Encoding: chunked", body=chunks)
    async with serving(make_app()) as running:
        response, rest = await exchange(running.port, data + SMUGGLED)
    assert response.status == 400, response.body
    assert response.header(b"connection") == b"close"
    assert rest == b"", "a request after a broken chunked body was answered"


@pytest.mark.parametrize("chunks", BAD_CHUNKS)
async def test_a_bad_chunk_the_app_never_read_still_ends_the_connection(chunks: bytes) -> None:
    # The app answers before reading; the server then drains the body to reuse
    # the connection, finds the framing broken, and must close: the bytes after
    # the broken chunk are not a request.
    data = request("POST", "/upload", "Transfer-Encoding: chunked", body=chunks)
    async with serving(make_app()) as running:
        response, rest = await exchange(running.port, data + SMUGGLED)
    assert (response.status, response.body) == (200, b'{"ok":true}')
    assert rest == b"", f"a request after a broken chunked body was answered: {rest!r}"


# RFC 9112 2.2: a recipient MAY accept a bare LF as a line end, and h11 does.
# The head then ends at the first blank line, whatever bytes follow in the same
# read (a body may well contain CR LF CR LF, or a line starting with a space).
BARE_LF_HEADS = [
    pytest.param(
        b"POST /echo HTTP/1.1\nHost: test\nContent-Length: 9\nConnection: close\n\n",
        b"x\n y\r\n\r\nz",
        id="body-looks-folded",
    ),
    pytest.param(
        b"POST /echo HTTP/1.1\nHost: test\nContent-Length: 20005\nConnection: close\n\n",
        b"a" * 20000 + b"\r\n\r\nz",
        id="large-body",
    ),
]


@pytest.mark.parametrize(("head", "body"), BARE_LF_HEADS)
async def test_a_bare_lf_head_is_measured_up_to_its_own_end(head: bytes, body: bytes) -> None:
    async with serving(make_app()) as running:
        response, _ = await exchange(running.port, head + body)
    assert (response.status, response.body) == (200, body)
