"""What the server tells a client (and its log) about an error reads as text.

No Python reprs in a 400 body (h11 quotes the bytes it refused with repr()),
the rule a head actually broke (a folded Content-Length is obs-fold, not a bad
Content-Length), and peers named ``127.0.0.1:44574`` in the error log.
"""

from __future__ import annotations

import logging

import pytest
from anyio.abc import SocketAttribute

from microready import MicroReady, Response
from microready.datastructures import Address
from microready.server.log import where
from tests.support.http import parse_response, request
from tests.support.live import connect, raw_exchange, serving

pytestmark = pytest.mark.anyio


def make_app() -> MicroReady:
    app = MicroReady()

    @app.get("/bad-length")
    def bad_length() -> Response:
        return Response(b"short", headers={"content-length": "100"})

    return app


@pytest.mark.parametrize(("head", "expected"), [
    (b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
     b"400 Bad Request: illegal request line: GET /\\x01 HTTP/1.1\n"),
    (b"GARBAGE\r\n\r\n", b"400 Bad Request: illegal request line: GARBAGE\n"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
     b"400 Bad Request: illegal header line: Bad Name: 1\n"),
])
async def test_a_malformed_head_is_told_in_plain_text(head: bytes, expected: bytes) -> None:
    async with serving(make_app()) as served:
        response = parse_response(await raw_exchange(served.port, head))
    assert response.status == 400
    assert b"bytearray(" not in response.body and b"b'" not in response.body
    assert response.body == expected


@pytest.mark.parametrize("head", [
    # h11 unfolds this to "Content-Length: 1 2" and calls it a bad Content-Length.
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n 2\r\n\r\n12",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n",
])
async def test_obs_fold_is_called_obs_fold(head: bytes) -> None:
    async with serving(make_app()) as served:
        response = parse_response(await raw_exchange(served.port, head))
    assert response.status == 400
    assert response.body == b"400 Bad Request: obsolete line folding in a header\n"


async def test_the_error_log_names_a_rejected_client_host_colon_port(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="microready.error")
    async with serving(make_app()) as served, connect(served.port) as client:
        port = client.stream.extra(SocketAttribute.local_port)
        await client.send(b"GARBAGE\r\n\r\n")
        await client.read_until_eof()
    [message] = [r.getMessage() for r in caplog.records if r.name == "microready.error"]
    assert message == f"rejecting request from 127.0.0.1:{port}: illegal request line: GARBAGE"


async def test_the_error_log_names_the_client_of_an_invalid_app_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="microready.error")
    async with serving(make_app()) as served, connect(served.port) as client:
        port = client.stream.extra(SocketAttribute.local_port)
        await client.send(request("GET", "/bad-length", "Connection: close"))
        assert (await client.read_response()).status == 500
    [message] = [r.getMessage() for r in caplog.records if r.name == "microready.error"]
    assert message.startswith(f"cannot send the app's response to 127.0.0.1:{port}: ")
    assert "Address(" not in message


def test_peers_are_named_as_operators_write_them() -> None:
    assert where(Address("127.0.0.1", 44574)) == "127.0.0.1:44574"
    assert where(Address("unix", 0)) == "unix"  # a Unix socket peer: accept() gives no port
    assert where(None) == "-"
