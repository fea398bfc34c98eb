"""``--access-log-format json``: one JSON object per request, for log shippers.

Through the real server: the fields of an answered request, of one the server
refuses, of one cut short; the request id (the client's ``X-Request-ID``, or
one the server makes, never added to the response); a hostile target still
one line of valid JSON. And as a process: stdout carries nothing but JSON
lines, while the server's other logs stay on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from microready import MicroReady
from microready.server.log import JsonLinesFormatter
from tests.support.access_app import exchange_bytes, make_app
from tests.support.http import parse_response, request
from tests.support.live import IO_TIMEOUT, connect, serving
from tests.support.processes import EXIT_DEADLINE, STARTUP_DEADLINE, SyncClient

FIELDS = ["time", "client", "request_id", "method", "path", "query", "http_version", "status",
          "duration_ms", "bytes", "error"]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SERVER_MADE_ID = re.compile(r"^[0-9a-f]{8}-\d+$")


def json_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    messages = [r.getMessage() for r in caplog.records if r.name == "microready.access"]
    for message in messages:
        assert "\n" not in message, message
    objects = [json.loads(message) for message in messages]
    for fields in objects:
        assert list(fields) == FIELDS, fields  # one schema, in one order
        assert TIME.match(fields["time"]), fields
    return objects


@pytest.fixture
def app() -> MicroReady:
    return make_app(anyio.Event(), anyio.Event())


@pytest.fixture(autouse=True)
def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="microready.access")


@pytest.mark.anyio
async def test_an_answered_request_has_every_field(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app, access_log_format="json") as served:
        data, port = await exchange_bytes(served.port, request(
            "GET", "/items/3?q=1&r=2", "Connection: close", "X-Request-ID: req-42"))
    assert parse_response(data).status == 200
    [line] = json_lines(caplog)
    assert line | {"time": None, "duration_ms": None} == {
        "time": None, "client": f"127.0.0.1:{port}", "request_id": "req-42", "method": "GET",
        "path": "/items/3", "query": "q=1&r=2", "http_version": "1.1", "status": 200,
        "duration_ms": None, "bytes": len(data), "error": None,
    }
    assert 0 <= line["duration_ms"] < IO_TIMEOUT * 1000


@pytest.mark.anyio
async def test_the_server_makes_an_id_when_the_request_has_none(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app, access_log_format="json") as served, connect(served.port) as client:
        await client.send(request("GET", "/items/1"))
        first = await client.read_response()
        await client.send(request("GET", "/items/2", "X-Request-ID: " + "x" * 201))
        await client.read_response()
        await client.send(request("GET", "/items/3", "X-Request-ID: a\tb"))
        await client.read_response()
    ids = [line["request_id"] for line in json_lines(caplog)]
    # Too long, or not printable: not an id to carry into every line.
    assert all(SERVER_MADE_ID.match(i) for i in ids), ids
    assert len(set(ids)) == 3 and len({i.split("-")[0] for i in ids}) == 1, ids
    # The response is the app's: the server adds no id to it.
    assert first.header(b"x-request-id") is None


@pytest.mark.anyio
async def test_a_refused_head_has_null_request_fields(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app, access_log_format="json") as served:
        data, _ = await exchange_bytes(served.port, b"GARBAGE\r\n\r\n")
    assert parse_response(data).status == 400
    [line] = json_lines(caplog)
    assert (line["method"], line["path"], line["query"], line["http_version"]) == (
        None, None, None, None)
    assert (line["status"], line["bytes"], line["error"]) == (400, len(data), None)
    assert SERVER_MADE_ID.match(line["request_id"])


@pytest.mark.anyio
async def test_a_response_cut_short_has_status_null_and_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    streamed, stream_closed = anyio.Event(), anyio.Event()
    async with serving(make_app(streamed, stream_closed), access_log_format="json") as served:
        async with connect(served.port) as client:
            await client.send(request("GET", "/endless"))
            with anyio.fail_after(IO_TIMEOUT):
                await streamed.wait()
        with anyio.fail_after(IO_TIMEOUT):
            await stream_closed.wait()
    [line] = json_lines(caplog)
    assert (line["path"], line["status"], line["error"]) == (
        "/endless", None, "the client disconnected")
    assert line["bytes"] > 0


@pytest.mark.anyio
async def test_a_hostile_target_stays_one_line_of_valid_json(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    # What h11 lets through that could break a hand-written JSON line.
    target = '/items/"},{"status":1}\\'
    async with serving(app, access_log_format="json") as served:
        await exchange_bytes(served.port, request("GET", target, "Connection: close"))
    [line] = json_lines(caplog)
    assert (line["path"], line["status"]) == (target, 200)  # escaped by JSON, not mangled


@pytest.mark.anyio
async def test_nothing_is_written_with_the_access_log_off(
    app: MicroReady, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(app, access_log_format="json", access_log=False) as served:
        await exchange_bytes(served.port, request("GET", "/items/1", "Connection: close"))
    assert json_lines(caplog) == []


def test_other_lines_on_the_access_logger_become_json_too() -> None:
    # What a WebSocket's access line looks like in a JSON stream.
    record = logging.LogRecord("microready.access", logging.INFO, __file__, 1,
                               '%s - "WebSocket %s" %s', ("127.0.0.1:5000", "/ws", "[accepted]"),
                               None)
    line = json.loads(JsonLinesFormatter().format(record))
    assert line["message"] == '127.0.0.1:5000 - "WebSocket /ws" [accepted]'
    assert (line["level"], bool(TIME.match(line["time"]))) == ("INFO", True)


# -- as a process -----------------------------------------------------------------------------

APP = textwrap.dedent(
    """
    from microready import MicroReady

    app = MicroReady()


    @app.get("/hello")
    async def hello() -> str:
        return "hi"
    """
)


def test_stdout_is_json_lines_and_stderr_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "served_app.py").write_text(APP)
    stdout_path, stderr_path = tmp_path / "stdout", tmp_path / "stderr"
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "microready", "served_app:app", "--app-dir", str(tmp_path),
             "--port", "0", "--access-log-format", "json"],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not (match := re.search(r"listening on http://127\.0\.0\.1:(\d+)",
                                      stderr_path.read_text())):
            assert process.poll() is None, stderr_path.read_text()
            assert time.monotonic() < deadline, stderr_path.read_text()
            time.sleep(0.01)  # polling the log file for the line
        for target in ("/hello", "/nowhere"):
            with SyncClient(int(match.group(1))) as client:
                client.send(request("GET", target, "Connection: close"))
                client.read_response()
        process.terminate()
        assert process.wait(EXIT_DEADLINE) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = stdout_path.read_text().splitlines()
    assert [(json.loads(line)["path"], json.loads(line)["status"]) for line in lines] == [
        ("/hello", 200), ("/nowhere", 404)]
    stderr_text = stderr_path.read_text()
    assert "INFO:     microready listening on" in stderr_text
    assert "/hello" not in stderr_text
