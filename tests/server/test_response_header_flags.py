"""``--header NAME:VALUE``, ``--no-server-header`` and ``--no-date-header``, as uvicorn's.

The server adds ``Date``, ``Server: microready`` and every ``--header`` line to
each response it writes: the app's, streamed ones, and its own errors (a 400
for a head it cannot parse). Where microready differs from uvicorn 0.54, on
purpose: an app's own header of one of those names replaces the server's
(uvicorn sends both, so a response could carry two Server or two Date lines),
and the server's error responses carry the ``--header`` lines too (uvicorn's
400 has none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from microready import MicroReady, WebSocket
from microready.server.cli import main
from microready.testing import TestClient
from tests.support.http import HTTPResponse, request
from tests.support.live import connect, exchange, serving
from tests.support.processes import app_process, fetch

APP = '''
from microready import MicroReady, Response, StreamingResponse

app = MicroReady()


@app.get("/plain")
async def plain() -> Response:
    return Response(b"plain", media_type="text/plain")


@app.get("/streamed")
async def streamed() -> StreamingResponse:
    async def chunks():
        yield b"one"
        yield b"two"

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/own")
async def own() -> Response:
    return Response(b"own", headers={"server": "mine", "date": "the app's", "x-a": "app"})


@app.get("/own-streamed")
async def own_streamed() -> StreamingResponse:
    async def chunks():
        yield b"own"

    return StreamingResponse(chunks(), headers={"server": "mine", "x-a": "app"})
'''


def make_app() -> MicroReady:
    namespace: dict[str, Any] = {}
    exec(compile(APP, "served_app.py", "exec"), namespace)  # the same app as the process's
    app = namespace["app"]
    assert isinstance(app, MicroReady)
    return app


PLAIN = request("GET", "/plain", "Connection: close")
STREAMED = request("GET", "/streamed", "Connection: close")
OWN = request("GET", "/own", "Connection: close")
OWN_STREAMED = request("GET", "/own-streamed", "Connection: close")
UNPARSABLE = b"NOT AN HTTP REQUEST\r\n\r\n"  # the server answers 400 itself


def server_headers(response: HTTPResponse) -> dict[str, list[bytes]]:
    return {name.decode(): response.header_values(name)
            for name in (b"date", b"server", b"x-a", b"x-b")}


async def answers(port: int) -> dict[str, HTTPResponse]:
    responses = {}
    for name, data in [("plain", PLAIN), ("streamed", STREAMED), ("error", UNPARSABLE)]:
        responses[name], _rest = await exchange(port, data)
    assert responses["plain"].body == b"plain" and responses["streamed"].body == b"onetwo"
    assert responses["error"].status == 400
    return responses


@pytest.mark.anyio
async def test_by_default_every_response_has_date_and_server() -> None:
    async with serving(make_app(), access_log=False) as served:
        for name, response in (await answers(served.port)).items():
            headers = server_headers(response)
            assert headers["server"] == [b"microready"], name
            assert len(headers["date"]) == 1 and headers["date"][0].endswith(b" GMT"), name
            assert headers["x-a"] == headers["x-b"] == [], name


@pytest.mark.anyio
async def test_header_lines_go_on_app_streamed_and_error_responses() -> None:
    async with serving(make_app(), access_log=False, headers=["X-A: 1", "x-b:2"]) as served:
        for name, response in (await answers(served.port)).items():
            headers = server_headers(response)
            assert (headers["x-a"], headers["x-b"]) == ([b"1"], [b"2"]), name
            assert headers["server"] == [b"microready"], name


@pytest.mark.anyio
async def test_no_server_header_and_no_date_header_leave_them_out() -> None:
    async with serving(make_app(), access_log=False,
                       server_header=False, date_header=False) as served:
        for name, response in (await answers(served.port)).items():
            nothing: dict[str, list[bytes]] = {"date": [], "server": [], "x-a": [], "x-b": []}
            assert server_headers(response) == nothing, name


@pytest.mark.anyio
async def test_the_apps_own_headers_win_over_the_servers() -> None:
    async with serving(make_app(), access_log=False, headers=["X-A: server"]) as served:
        own, _ = await exchange(served.port, OWN)
        own_streamed, _ = await exchange(served.port, OWN_STREAMED)
    assert server_headers(own) == {
        "date": [b"the app's"], "server": [b"mine"], "x-a": [b"app"], "x-b": []}
    assert own_streamed.body == b"own"
    headers = server_headers(own_streamed)
    assert (headers["server"], headers["x-a"]) == ([b"mine"], [b"app"])
    assert len(headers["date"]) == 1 and headers["date"][0].endswith(b" GMT")  # the server's


@pytest.mark.anyio
async def test_a_server_header_line_replaces_microready_even_with_no_server_header() -> None:
    # As uvicorn: --header server:X is the Server; --no-server-header drops only the default.
    for off in (True, False):
        async with serving(make_app(), access_log=False, headers=["Server: proxy"],
                           server_header=off) as served:
            response, _ = await exchange(served.port, PLAIN)
        assert response.header_values(b"server") == [b"proxy"]


def test_the_test_client_sends_the_same_headers() -> None:
    response = TestClient(make_app()).get("/own")
    assert response.headers.get_list("server") == ["mine"]
    assert response.headers.get_list("date") == ["the app's"]
    assert TestClient(make_app()).get("/plain").headers["server"] == "microready"


def test_the_command_line_flags(tmp_path: Path) -> None:
    with app_process(tmp_path, APP, "--header", "X-A: 1", "--header", "X-B: 2",
                     "--no-server-header", "--no-date-header", "--no-access-log") as server:
        for path in ("/plain", "/streamed"):
            response = fetch(server.port, "GET", path)
            assert server_headers(response) == {
                "date": [], "server": [], "x-a": [b"1"], "x-b": [b"2"]}, path


def test_a_malformed_header_flag_is_refused_with_the_right_spelling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["served_app:app", "--app-dir", str(tmp_path), "--header", "no colon"]) == 2
    assert "right: --header 'X-Frame-Options: DENY'" in capsys.readouterr().err


WEBSOCKET_APP = MicroReady()


@WEBSOCKET_APP.websocket("/ws")
async def accept_and_close(websocket: WebSocket) -> None:
    if websocket.query_params.get("refuse"):
        await websocket.close()  # before accepting: the handshake is refused with a 403
        return
    await websocket.accept(headers=[(b"x-a", b"app")])
    await websocket.close()


def websocket_upgrade(target: str) -> bytes:
    return request("GET", target, "Upgrade: websocket", "Connection: Upgrade",
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")


async def handshake_answer(port: int, target: str) -> tuple[int, dict[str, list[bytes]]]:
    """The status and the server's header lines of the answer to an upgrade (read
    raw: h11 cannot parse a 101 it did not propose)."""
    async with connect(port) as client:
        await client.send(websocket_upgrade(target))
        data = await client.read_until(b"\r\n\r\n")
    status_line, *lines = data.partition(b"\r\n\r\n")[0].split(b"\r\n")
    pairs = [line.split(b":", 1) for line in lines]
    headers = {name: [value.strip() for key, value in pairs if key.lower() == name.encode()]
               for name in ("date", "server", "x-a", "x-b")}
    return int(status_line.split()[1]), headers


@pytest.mark.anyio
async def test_the_websocket_handshake_follows_the_same_flags() -> None:
    # The 101 and a refused handshake's 403 are server responses too.
    async with serving(WEBSOCKET_APP, access_log=False, headers=["X-A: server", "X-B: 2"],
                       date_header=False) as served:
        accepted = await handshake_answer(served.port, "/ws")
        refused = await handshake_answer(served.port, "/ws?refuse=1")
    assert accepted == (101, {"date": [], "server": [b"microready"], "x-a": [b"app"],
                              "x-b": [b"2"]})
    assert refused == (403, {"date": [], "server": [b"microready"], "x-a": [b"server"],
                             "x-b": [b"2"]})
    async with serving(WEBSOCKET_APP, access_log=False, server_header=False) as served:
        status, headers = await handshake_answer(served.port, "/ws")
    assert (status, headers["server"], len(headers["date"])) == (101, [], 1)
