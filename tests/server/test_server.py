"""The server through real sockets on 127.0.0.1, on asyncio and on trio.

HTTP details are checked on raw bytes: the requests are written by hand and
the responses parsed with h11 playing the client (see ``tests/support/``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import SocketAttribute

from microready import MicroReady, PlainTextResponse, Request, StreamingResponse
from tests.support.http import parse_response, raw_header_names, request
from tests.support.live import IO_TIMEOUT, connect, queued_clients, raw_exchange, serving

pytestmark = pytest.mark.anyio


def make_app() -> MicroReady:
    app = MicroReady()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/items/{item_id}")
    async def read_item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    @app.post("/upload")
    async def upload() -> dict[str, bool]:  # never reads the request body
        return {"ok": True}

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("hello, world")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            for word in (b"one,", b"two,", b"three"):
                yield word

        return StreamingResponse(numbers(), media_type="text/plain")

    return app


class BodyReader:
    """The app from ``make_app()``, behind a layer that reads every request body first.

    It speaks the server's app interface (``handle(request) -> reply``) and reads
    through the public ``Request.body()``, so the server's body handling (framing,
    ``100 Continue``, stall timeouts) is tested without handlers that take a
    ``Request``.
    """

    def __init__(self) -> None:
        self.app = make_app()
        self.bodies: list[bytes] = []

    @property
    def background(self) -> Any:
        return self.app.background

    def lifespan_context(self) -> AbstractAsyncContextManager[None]:
        return self.app.lifespan_context()

    async def handle(self, request: Request) -> Any:
        self.bodies.append(await request.body())
        return await self.app.handle(request)

    async def serve_websocket(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app.serve_websocket(scope, receive, send)  # pragma: no cover - HTTP only


# -- answers --------------------------------------------------------------------------------


async def test_json_answer() -> None:
    async with serving(make_app()) as served:
        data = await raw_exchange(served.port, request("GET", "/items/foo", "Connection: close"))
    response = parse_response(data)
    assert response.status == 200
    assert response.reason == b"OK"
    assert response.header(b"content-type") == b"application/json"
    assert response.header(b"content-length") == b"17"
    assert response.body == b'{"item_id":"foo"}'
    names = raw_header_names(data)
    assert sorted(set(names)) == sorted(names), f"a header sent twice: {data!r}"


async def test_unknown_path_is_a_json_404() -> None:
    async with serving(make_app()) as served:
        data = await raw_exchange(served.port, request("GET", "/nowhere", "Connection: close"))
    response = parse_response(data)
    assert response.status == 404
    assert response.json() == {"detail": "Not Found"}


async def test_date_and_server_headers() -> None:
    async with serving(make_app()) as served:
        data = await raw_exchange(served.port, request("GET", "/", "Connection: close"))
    response = parse_response(data)
    assert raw_header_names(data).count(b"date") == 1
    assert raw_header_names(data).count(b"server") == 1
    assert response.header(b"server") == b"microready"
    date = response.header(b"date")
    assert date is not None
    # RFC 9110 section 5.6.7: IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
    assert re.fullmatch(
        rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
        rb" \d{4} \d\d:\d\d:\d\d GMT",
        date,
    ), date
    sent = parsedate_to_datetime(date.decode())
    assert abs((datetime.now(timezone.utc) - sent).total_seconds()) < 60


# -- keep-alive and pipelining ----------------------------------------------------------------


async def test_keep_alive_reuses_the_connection() -> None:
    async with serving(make_app()) as served:
        async with served.connect() as client:
            for number in range(3):
                await client.send(request("GET", f"/items/{number}"))
                response = await client.read_response()
                assert response.json() == {"item_id": str(number)}
                assert response.header(b"connection") is None
                assert len(served.server.connections) == 1
        assert served.server.requests_served == 3


async def test_a_burst_of_connections_queued_at_once_is_served() -> None:
    # The acceptor takes every waiting connection in one pass (the latency
    # tail of a burst depends on it); each must still be wrapped and served.
    async with serving(make_app()) as served:
        requests = [request("GET", f"/items/{number}") for number in range(64)]
        async with queued_clients(served.port, requests) as clients:
            with anyio.fail_after(IO_TIMEOUT):
                for number, client in enumerate(clients):
                    response = await client.read_response()
                    assert (response.status, response.json()) == (200, {"item_id": str(number)})


async def test_pipelined_requests_are_answered_in_order() -> None:
    async with serving(make_app()) as served, served.connect() as client:
        await client.send(
            request("GET", "/items/1")
            + request("POST", "/upload", "Content-Length: 5", body=b"hello")
            + request("GET", "/items/2")
            + request("HEAD", "/text")
            + request("GET", "/items/3")
        )
        assert (await client.read_response()).json() == {"item_id": "1"}
        assert (await client.read_response("POST")).json() == {"ok": True}
        assert (await client.read_response()).json() == {"item_id": "2"}
        head = await client.read_response("HEAD")
        assert (head.status, head.body, head.header(b"content-length")) == (200, b"", b"12")
        assert (await client.read_response()).json() == {"item_id": "3"}


# -- request bodies ----------------------------------------------------------------------------


async def test_content_length_body_is_read() -> None:
    app = BodyReader()
    async with serving(app) as served, served.connect() as client:
        await client.send(request("POST", "/upload", "Content-Length: 11", body=b"hello"))
        await client.send(b" world")
        assert (await client.read_response("POST")).json() == {"ok": True}
        await client.send(request("GET", "/items/next"))
        assert (await client.read_response()).json() == {"item_id": "next"}
    assert app.bodies == [b"hello world", b""]


async def test_chunked_body_is_read() -> None:
    app = BodyReader()
    async with serving(app) as served, served.connect() as client:
        await client.send(
            request("POST", "/upload", "Transfer-Encoding: chunked", body=b"5\r\nhello\r\n")
        )
        await client.send(b"6\r\n world\r\n0\r\n\r\n")
        assert (await client.read_response("POST")).json() == {"ok": True}
        await client.send(request("GET", "/items/next"))
        assert (await client.read_response()).json() == {"item_id": "next"}
    assert app.bodies == [b"hello world", b""]


@pytest.mark.parametrize(
    "body_headers",
    [
        pytest.param(("Content-Length: 11",), id="content-length"),
        pytest.param(("Transfer-Encoding: chunked",), id="chunked"),
    ],
)
async def test_an_unread_body_is_skipped_and_the_connection_stays_usable(
    body_headers: tuple[str, ...],
) -> None:
    chunked = "chunked" in body_headers[0]
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" if chunked else b"hello world"
    async with serving(make_app()) as served, served.connect() as client:
        await client.send(request("POST", "/upload", *body_headers, body=body))
        assert (await client.read_response("POST")).json() == {"ok": True}
        await client.send(request("GET", "/items/after"))
        assert (await client.read_response()).json() == {"item_id": "after"}


async def test_expect_100_continue_when_the_app_reads_the_body() -> None:
    app = BodyReader()
    async with serving(app) as served, served.connect() as client:
        await client.send(
            request("POST", "/upload", "Expect: 100-continue", "Content-Length: 5")
        )
        # The client holds its body back until the server asks for it.
        interim = await client.read_until(b"\r\n\r\n")
        assert interim.startswith(b"HTTP/1.1 100 ")
        await client.send(b"hello")
        response = await client.read_response("POST")
        assert response.json() == {"ok": True}
    assert app.bodies == [b"hello"]


async def test_no_100_continue_when_the_app_answers_without_reading() -> None:
    async with serving(make_app()) as served, served.connect() as client:
        await client.send(
            request("POST", "/upload", "Expect: 100-continue", "Content-Length: 5")
        )
        response = await client.read_response("POST")
        assert (response.informational, response.json()) == ([], {"ok": True})
        # RFC 9110 section 10.1.1: the client may still send the body.
        await client.send(b"hello" + request("GET", "/items/after"))
        assert (await client.read_response()).json() == {"item_id": "after"}


async def test_a_stalled_body_gets_408_and_a_close() -> None:
    async with serving(BodyReader(), timeout_body=0.2) as served, served.connect() as client:
        await client.send(request("POST", "/upload", "Content-Length: 10", body=b"123"))
        response = await client.read_response("POST")
        assert response.status == 408
        assert response.header(b"connection") == b"close"
        assert await client.read_until_eof() == b""


async def test_responses_are_not_delayed_by_nagle() -> None:
    async with serving(make_app()) as served, served.connect() as client:
        await client.send(request("GET", "/"))
        await client.read_response()
        (connection,) = served.server.connections
        raw = connection.stream.extra(SocketAttribute.raw_socket)
        assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


# -- HEAD, HTTP/1.0, Connection: close -----------------------------------------------------------


async def test_head_gets_the_headers_and_no_body() -> None:
    async with serving(make_app()) as served:
        get = parse_response(
            await raw_exchange(served.port, request("GET", "/text", "Connection: close"))
        )
        data = await raw_exchange(served.port, request("HEAD", "/text", "Connection: close"))
    assert data.endswith(b"\r\n\r\n")  # nothing after the head
    head = parse_response(data, "HEAD")
    assert raw_header_names(data).count(b"content-length") == 1
    assert head.status == 200
    assert head.body == b""
    assert head.header(b"content-length") == get.header(b"content-length") == b"12"
    assert head.header(b"content-type") == get.header(b"content-type")


async def test_http_1_0_is_answered_and_closed() -> None:
    async with serving(make_app()) as served:
        old = request("GET", "/items/old", version="1.0", host=None)
        data = await raw_exchange(served.port, old)
    response = parse_response(data)
    assert response.json() == {"item_id": "old"}
    assert (response.header(b"connection") or b"").lower() == b"close"


async def test_connection_close_is_honoured() -> None:
    async with serving(make_app()) as served, served.connect() as client:
        # Tokens are case-insensitive (RFC 9110 section 7.6.1); what follows is never read.
        await client.send(
            request("GET", "/items/last", "Connection: Close") + request("GET", "/items/more")
        )
        response = await client.read_response()
        assert response.json() == {"item_id": "last"}
        assert response.header(b"connection") == b"close"
        assert await client.read_until_eof() == b""


async def test_a_half_closed_client_still_gets_its_answer() -> None:
    # Like `printf 'GET / ...' | nc`: the request, then EOF on the client's side.
    async with serving(make_app()) as served, connect(served.port) as client:
        await client.send(request("GET", "/items/half"))
        await client.stream.send_eof()
        data = await client.read_until_eof()
    assert parse_response(data).json() == {"item_id": "half"}


# -- streaming ------------------------------------------------------------------------------------


async def test_streaming_response_arrives_chunked() -> None:
    async with serving(make_app()) as served:
        data = await raw_exchange(served.port, request("GET", "/stream", "Connection: close"))
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"\r\ntransfer-encoding: chunked" in head.lower()
    assert b"content-length" not in head.lower()
    assert body == b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n"
    assert parse_response(data).body == b"one,two,three"


async def test_head_of_a_streaming_response_has_no_body() -> None:
    async with serving(make_app()) as served, served.connect() as client:
        await client.send(request("HEAD", "/stream") + request("GET", "/items/next"))
        head = await client.read_response("HEAD")
        assert (head.status, head.body) == (200, b"")
        assert (await client.read_response()).json() == {"item_id": "next"}


async def test_streaming_response_to_http_1_0_is_close_delimited() -> None:
    async with serving(make_app()) as served:
        old = request("GET", "/stream", version="1.0", host=None)
        data = await raw_exchange(served.port, old)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()  # HTTP/1.0 has no chunked encoding
    assert body == b"one,two,three"


# -- errors and timeouts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GARBAGE\r\n\r\n", id="bad-request-line"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n", id="bad-header"),
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="no-host"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
            b"\r\n\r\nabc",
            id="smuggling",
        ),
    ],
)
async def test_a_malformed_request_gets_400_and_a_close(data: bytes) -> None:
    async with serving(make_app()) as served:
        answer = await raw_exchange(served.port, data)
    response = parse_response(answer)
    assert response.status == 400
    assert response.header(b"connection") == b"close"


async def test_connect_is_refused_with_405() -> None:
    async with serving(make_app()) as served:
        answer = await raw_exchange(
            served.port, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        )
    response = parse_response(answer)
    assert response.status == 405
    assert response.header(b"connection") == b"close"


async def test_a_400_survives_unread_bytes_after_the_bad_request() -> None:
    # The server closes with bytes it never read still queued; the client must
    # still get the whole 400 (a polite close drains instead of resetting).
    async with serving(make_app()) as served:
        answer = await raw_exchange(served.port, b"GARBAGE\r\n\r\n" + b"x" * 200_000)
    assert parse_response(answer).status == 400


async def test_a_connection_is_kept_open_within_the_keep_alive_timeout() -> None:
    # (That it closes when the timeout passes is checked on the core with exact
    # times, and once through the server, in tests/hardening/test_timeouts.py.)
    async with (
        serving(make_app(), timeout_keep_alive=IO_TIMEOUT * 2) as served,
        served.connect() as client,
    ):
        await client.send(request("GET", "/items/1"))
        await client.read_response()
        with anyio.move_on_after(0.3) as waited:
            await client.read_until_eof()
        assert waited.cancelled_caught, "closed before timeout_keep_alive"
        await client.send(request("GET", "/items/2"))
        assert (await client.read_response()).json() == {"item_id": "2"}


async def test_an_incomplete_head_gets_408_after_the_head_timeout() -> None:
    async with serving(make_app(), timeout_request_head=0.2) as served:
        answer = await raw_exchange(served.port, b"GET / HTTP/1.1\r\nHost: te")
    response = parse_response(answer)
    assert response.status == 408
    assert response.header(b"connection") == b"close"


async def test_a_silent_client_is_closed_after_the_head_timeout() -> None:
    async with (
        serving(make_app(), timeout_request_head=0.2) as served,
        connect(served.port) as client,
    ):
        await client.read_until_eof()  # fails after IO_TIMEOUT if never closed


async def test_a_garbage_client_does_not_disturb_other_connections() -> None:
    async with serving(make_app()) as served:
        async with served.connect() as good:
            await good.send(request("GET", "/items/before"))
            assert (await good.read_response()).json() == {"item_id": "before"}

            garbage = [
                bytes(range(256)) * 4,
                b"\r\n" * 5000,
                b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
                b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 10_000 + b"\r\n",
            ]

            async def send_garbage(data: bytes) -> None:
                async with connect(served.port) as client:
                    # The server may hang up before it has read everything: that's fine.
                    with contextlib.suppress(anyio.BrokenResourceError, OSError):
                        await client.send(data)
                    await client.read_until_eof()

            async def hang_up_mid_request() -> None:
                async with connect(served.port) as client:
                    await client.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Le")

            async with anyio.create_task_group() as task_group:
                for data in garbage:
                    task_group.start_soon(send_garbage, data)
                task_group.start_soon(hang_up_mid_request)

            # The well-behaved connection is still open and still served.
            await good.send(request("GET", "/items/after"))
            assert (await good.read_response()).json() == {"item_id": "after"}
        # And new connections are still accepted.
        data = await raw_exchange(served.port, request("GET", "/items/new", "Connection: close"))
        assert parse_response(data).json() == {"item_id": "new"}


# -- Unix socket ---------------------------------------------------------------------------------


async def test_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "microready.sock"
    async with serving(make_app(), uds=str(path)) as served:
        assert served.address == f"unix:{path}"
        assert path.is_socket()
        async with served.connect() as client:
            for name in ("a", "b"):
                await client.send(request("GET", f"/items/{name}"))
                assert (await client.read_response()).json() == {"item_id": name}


# -- access log ----------------------------------------------------------------------------------


async def test_access_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="microready.access")
    async with serving(make_app()) as served, connect(served.port) as client:
        client_port = client.stream.extra(SocketAttribute.local_port)
        await client.send(
            request("GET", "/items/x?q=1")
            + request("POST", "/upload", "Content-Length: 2", body=b"hi")
            + request("GET", "/nowhere", "Connection: close")
        )
        await client.read_until_eof()  # the lines are logged before the close
    lines = [r.getMessage() for r in caplog.records if r.name == "microready.access"]
    # uvicorn's line, then the duration and the bytes sent (tests/server/test_access_log.py).
    assert [re.sub(r" \d+\.\dms \d+B$", "", line) for line in lines] == [
        f'127.0.0.1:{client_port} - "GET /items/x?q=1 HTTP/1.1" 200',
        f'127.0.0.1:{client_port} - "POST /upload HTTP/1.1" 200',
        f'127.0.0.1:{client_port} - "GET /nowhere HTTP/1.1" 404',
    ]
    assert all(re.search(r" \d+\.\dms \d+B$", line) for line in lines), lines


async def test_access_log_false_silences_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="microready")
    async with serving(make_app(), access_log=False) as served:
        data = await raw_exchange(served.port, request("GET", "/", "Connection: close"))
    assert parse_response(data).status == 200
    assert [r for r in caplog.records if r.name == "microready.access"] == []
    # The server itself still logs (so the capture works).
    assert any(r.name == "microready.server" for r in caplog.records)
