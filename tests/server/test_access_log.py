"""One access line per request that reached the server, with its duration and bytes.

uvicorn's line (``127.0.0.1:50312 - "GET /items/3 HTTP/1.1" 200``) followed by
``12.3ms 2048B``: for the app's answers, for the errors the server makes itself
(a head it refuses, a late head, an invalid response from the app), and for a
response cut short, whose status is ``-`` with the reason at the end.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import SocketAttribute
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request

from microready import MicroReady, WebSocket
from microready.datastructures import Address
from microready.server.access import AccessLog
from microready.server.protocol import Limits
from microready.server.settings import ConnectionSettings
from tests.support.access_app import exchange_bytes, make_app
from tests.support.http import parse_response, request
from tests.support.live import IO_TIMEOUT, connect, serving

pytestmark = pytest.mark.anyio

# The fields after uvicorn's prefix: status (or -), milliseconds, bytes, (reason).
LINE = re.compile(
    r'^(?P<client>\S+) - (?P<request>"[^"]*") (?P<status>\d{3}|-) '
    r"(?P<ms>\d+\.\d)ms (?P<bytes>\d+)B(?: \((?P<reason>[^)]*)\))?$"
)


def access_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    lines = [r.getMessage() for r in caplog.records if r.name == "microready.access"]
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    return [m for m in matches if m is not None]


@pytest.fixture
def app() -> MicroReady:
    return make_app(anyio.Event(), anyio.Event())


@pytest.fixture(autouse=True)
def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="microready.access")


async def test_a_response_logs_status_duration_and_the_bytes_on_the_wire(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app) as served:
        data, port = await exchange_bytes(
            served.port, request("GET", "/items/3", "Connection: close"))
    assert parse_response(data).status == 200
    [line] = access_lines(caplog)
    assert line["client"] == f"127.0.0.1:{port}"
    assert (line["request"], line["status"]) == ('"GET /items/3 HTTP/1.1"', "200")
    assert int(line["bytes"]) == len(data)
    assert float(line["ms"]) < IO_TIMEOUT * 1000
    assert line["reason"] is None


async def test_a_body_declared_too_large_logs_413_with_its_request(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app, max_body_size=10) as served:
        data, _ = await exchange_bytes(
            served.port, request("POST", "/upload", "Content-Length: 11"))
    assert parse_response(data).status == 413
    [line] = access_lines(caplog)
    assert (line["request"], line["status"]) == ('"POST /upload HTTP/1.1"', "413")
    assert int(line["bytes"]) == len(data)


async def test_a_head_that_cannot_be_parsed_logs_400_with_no_request_line(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app) as served:
        data, port = await exchange_bytes(served.port, b"GARBAGE\r\n\r\n")
    assert parse_response(data).status == 400
    [line] = access_lines(caplog)
    assert (line["client"], line["request"], line["status"]) == (
        f"127.0.0.1:{port}", '"-"', "400")
    assert int(line["bytes"]) == len(data)


async def test_a_late_head_logs_408(app: MicroReady, caplog: pytest.LogCaptureFixture) -> None:
    async with serving(app, timeout_request_head=0.2) as served:
        data, _ = await exchange_bytes(served.port, b"GET /items/3 HTTP/1.1\r\nHost: x\r\n")
    assert parse_response(data).status == 408
    [line] = access_lines(caplog)
    assert (line["request"], line["status"]) == ('"-"', "408")
    assert int(line["bytes"]) == len(data)


async def test_an_invalid_app_response_logs_the_500_the_server_sent(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app) as served:
        data, _ = await exchange_bytes(served.port, request("GET", "/bad-length"))
    assert parse_response(data).status == 500
    [line] = access_lines(caplog)
    assert (line["request"], line["status"]) == ('"GET /bad-length HTTP/1.1"', "500")
    assert int(line["bytes"]) == len(data)


async def test_a_stream_cut_off_by_the_client_logs_a_dash_and_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    streamed, stream_closed = anyio.Event(), anyio.Event()
    async with serving(make_app(streamed, stream_closed)) as served:
        async with connect(served.port) as client:
            await client.send(request("GET", "/endless"))
            with anyio.fail_after(IO_TIMEOUT):
                await streamed.wait()
        # The client has closed; the server's writes fail, and the stream is
        # closed after the line is written.
        with anyio.fail_after(IO_TIMEOUT):
            await stream_closed.wait()
    [line] = access_lines(caplog)
    assert (line["request"], line["status"]) == ('"GET /endless HTTP/1.1"', "-")
    assert line["reason"] == "the client disconnected"
    assert int(line["bytes"]) > 0


async def test_a_websocket_keeps_its_own_line_and_gets_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = MicroReady()

    @app.websocket("/ws")
    async def ws_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    ws = WSConnection(ConnectionType.CLIENT)
    async with serving(app) as served, connect(served.port) as client:
        port = client.stream.extra(SocketAttribute.local_port)
        await client.send(ws.send(Request(host="test", target="/ws")))
        events: list[Any] = []
        with anyio.fail_after(IO_TIMEOUT):
            while not any(isinstance(e, CloseConnection) for e in events):
                ws.receive_data(await client.stream.receive())
                events.extend(ws.events())
        assert isinstance(events[0], AcceptConnection)
        await client.send(ws.send(CloseConnection(code=1000)))
    messages = [r.getMessage() for r in caplog.records if r.name == "microready.access"]
    assert messages == [f'127.0.0.1:{port} - "WebSocket /ws" [accepted]']


async def test_nothing_is_logged_with_the_access_log_off(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app, access_log=False) as served:
        await exchange_bytes(served.port, b"GARBAGE\r\n\r\n")
        await exchange_bytes(served.port, request("GET", "/items/3", "Connection: close"))
    assert access_lines(caplog) == []


async def test_a_unix_socket_peer_is_logged_as_unix(
    app: MicroReady, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    async with serving(app, uds=str(tmp_path / "s.sock")) as served, served.connect() as client:
        await client.send(request("GET", "/items/3", "Connection: close"))
        data = await client.read_until_eof()
    [line] = access_lines(caplog)
    assert (line["client"], line["status"], int(line["bytes"])) == ("unix", "200", len(data))


def test_the_duration_is_read_on_the_connections_clock(caplog: pytest.LogCaptureFixture) -> None:
    # The line's time is the connection's own clock (the one "arrived" is read
    # on), so a loop with a clock of its own (trio's MockClock) times it right.
    now = 10.0
    settings = ConnectionSettings(MicroReady(), Limits())
    access = AccessLog(Address("127.0.0.1", 5000), settings, lambda: now)
    access.begin(None, arrived=10.0)
    now = 10.25
    access.finish(200)
    [line] = access_lines(caplog)
    assert (line["status"], line["ms"]) == ("200", "250.0")
