"""microready's server serves any ASGI 3 app: a real Starlette app and a real FastAPI app.

Each server is ``python -m microready tests.asgi.apps:...`` as a child process
(asyncio and ``--backend trio``), run in a scratch directory and stopped by PID;
the clients are httpx and raw sockets. What is checked: the scope each app
receives, request bodies streamed in, responses streamed out chunk by chunk,
``Expect: 100-continue``, ``http.disconnect``, FastAPI's background-task
tutorial (its task starts after the last byte), graceful shutdown, the three
``--lifespan`` modes, and the server's limits. The last section runs the same
server in the test's event loop (asyncio and trio).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
import signal
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from microready._asgi.served import as_served
from microready.config import Config
from microready.server import Server, ServerStartupError
from tests.asgi import apps
from tests.asgi.apps import (
    BIG_BODY,
    MICROREADY_LISTENING,
    ServedProcess,
    microready_command,
    served,
    starlette_app,
)
from tests.support.http import parse_response, request
from tests.support.live import connect, serving
from tests.support.processes import IO_DEADLINE, SyncClient, wait_for_path

DEADLINE = 10.0  # seconds; only reached when something is broken
BACKENDS = ("asyncio", "trio")
MAX_BODY = 100_000


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServedProcess]]:
    """Every long-lived server of this module, started at once."""
    commands = {}
    for backend in BACKENDS:
        flags = ("--backend", backend, "--max-body-size", str(MAX_BODY))
        commands[f"starlette-{backend}"] = microready_command(
            "tests.asgi.apps:starlette_app", *flags)
        commands[f"fastapi-{backend}"] = microready_command("tests.asgi.apps:fastapi_app", *flags)
    commands["starlette-root-path"] = microready_command(
        "tests.asgi.apps:starlette_app", "--root-path", "/api/v1")
    with served(commands, tmp_path_factory.mktemp("servers")) as processes:
        yield processes


def url(process: ServedProcess, path: str) -> str:
    return f"http://127.0.0.1:{process.port}{path}"


def poll_json(process: ServedProcess, path: str, until: Any, timeout: float = DEADLINE) -> Any:
    """GET ``path`` until its JSON is ``until`` (or the deadline; then the last answer)."""
    deadline = time.monotonic() + timeout
    answer = None
    while time.monotonic() < deadline:
        answer = httpx.get(url(process, path), timeout=DEADLINE).json()
        if answer == until:
            break
        time.sleep(0.02)
    return answer


def read_until(sock: socket.socket, marker: bytes, data: bytes = b"") -> bytes:
    """What ``sock`` sends up to and including ``marker`` (each recv has a timeout)."""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before {marker!r}; got {data!r}"
        data += chunk
    return data


# -- the scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("framework", ["starlette", "fastapi"])
def test_the_scope_each_app_receives(
    servers: dict[str, ServedProcess], framework: str, backend: str,
) -> None:
    process = servers[f"{framework}-{backend}"]
    with SyncClient(process.port) as client:
        client_port = client.sock.getsockname()[1]
        client.send(request("GET", "/scope/a%20b?x=1&y=%20", "X-Custom: Value",
                            host=f"127.0.0.1:{process.port}"))
        response = client.read_response()
        assert response.status == 200, response.body
        scope = response.json()
        # Keep-alive: the next request on the connection, posted with a body.
        client.send(request("POST", "/scope", "Content-Length: 2", host="h", body=b"{}"))
        second = client.read_response("POST").json()
    assert scope.pop("headers") == [["host", f"127.0.0.1:{process.port}"],
                                    ["x-custom", "Value"]]
    state_attr = scope.pop("state_attr", None)
    assert scope == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/scope/a b",
        "raw_path": "/scope/a%20b",
        "query_string": "x=1&y=%20",
        "root_path": "",
        "client": ["127.0.0.1", client_port],
        "server": ["127.0.0.1", process.port],
        "state": ["db"],  # what the lifespan yielded, and only that
        "state_db": "connected",
        "header_types": ["bytes,bytes"],
    }
    if framework == "fastapi":
        assert state_attr == "connected"  # request.state.db
    assert (second["method"], second["path"], second["raw_path"]) == ("POST", "/scope", "/scope")
    assert second["client"] == ["127.0.0.1", client_port]
    # What a request wrote into its state did not reach the next one.
    assert second["state"] == ["db"]


def test_http_1_0_is_in_the_scope(servers: dict[str, ServedProcess]) -> None:
    with SyncClient(servers["starlette-asyncio"].port) as client:
        client.send(request("GET", "/scope", version="1.0", host=None))
        response = client.read_response()
    assert (response.status, response.json()["http_version"]) == (200, "1.0")
    assert response.json()["headers"] == []


def test_root_path_is_in_front_of_the_path(servers: dict[str, ServedProcess]) -> None:
    # As uvicorn's --root-path: the proxy took the prefix off; the app gets it back.
    process = servers["starlette-root-path"]
    scope = httpx.get(url(process, "/scope/x?q=1"), timeout=DEADLINE).json()
    assert (scope["path"], scope["raw_path"], scope["root_path"], scope["query_string"]) == (
        "/api/v1/scope/x", "/api/v1/scope/x", "/api/v1", "q=1")
    # Starlette routes on the path without root_path: a client that sends the
    # prefix itself asks for /api/v1/api/v1/scope/x, which is no route (as on uvicorn).
    response = httpx.get(url(process, "/api/v1/scope/x"), timeout=DEADLINE)
    assert (response.status_code, response.text) == (404, "Not Found")


def test_over_a_unix_socket_the_scope_has_no_client_and_a_path_for_server(
    tmp_path: Path,
) -> None:
    # The ASGI spec: server is [path, None] for a Unix socket, and client is a
    # [host, port] of the remote IP address, or None (uvicorn gives exactly that).
    path = tmp_path / "app.sock"
    module, args, _ = microready_command("tests.asgi.apps:starlette_app")
    args = [args[0], "--uds", str(path), *args[3:]]  # instead of --port 0
    process = ServedProcess(module, args, tmp_path)
    try:
        process.wait_for_log(r"listening on unix:")
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, timeout=DEADLINE) as client:
            scope = client.get("http://localhost/scope").json()
    finally:
        process.stop()
    assert (scope["client"], scope["server"]) == (None, [str(path), None])


def test_pipelined_requests_and_head(servers: dict[str, ServedProcess]) -> None:
    process = servers["starlette-asyncio"]
    with SyncClient(process.port) as client:
        client.send(request("GET", "/scope?n=1") + request("HEAD", "/release/pipelined")
                    + request("GET", "/scope?n=3"))
        first = client.read_response()
        head = client.read_response("HEAD")
        third = client.read_response()
    assert [first.json()["query_string"], third.json()["query_string"]] == ["n=1", "n=3"]
    # HEAD gets the length a GET would get (Starlette sends the body; it is dropped).
    assert (head.status, head.header(b"content-length"), head.body) == (200, b"8", b"")


# -- bodies in and out ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_request_body_is_streamed_in(servers: dict[str, ServedProcess], backend: str) -> None:
    process = servers[f"starlette-{backend}"]
    name = f"streamed-in-{backend}"
    seen_in_between: list[Any] = []

    def body() -> Iterator[bytes]:
        yield b"a" * 1000
        # The app has the first chunk before the client sends the second.
        seen_in_between.append(poll_json(process, f"/seen/{name}", 1000))
        yield b"b" * 2000

    response = httpx.post(url(process, f"/upload/{name}"), content=body(), timeout=DEADLINE)
    assert seen_in_between == [1000]
    assert response.status_code == 200
    assert response.json()["size"] == 3000
    assert response.json()["sha256"] == hashlib.sha256(b"a" * 1000 + b"b" * 2000).hexdigest()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_response_is_streamed_out_chunk_by_chunk(
    servers: dict[str, ServedProcess], backend: str,
) -> None:
    process = servers[f"starlette-{backend}"]
    name = f"streamed-out-{backend}"
    with httpx.Client(timeout=DEADLINE) as client, client.stream(
        "GET", url(process, f"/stream/{name}")
    ) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        chunks = response.iter_raw()
        # The app sends its second chunk only once released, which the client
        # does only after it has read the first.
        assert next(chunks) == b"first\n"
        assert httpx.get(url(process, f"/release/{name}"), timeout=DEADLINE).text == "released"
        assert b"".join(chunks) == b"second\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_expect_100_continue(servers: dict[str, ServedProcess], backend: str) -> None:
    process = servers[f"starlette-{backend}"]
    with socket.create_connection(("127.0.0.1", process.port), timeout=IO_DEADLINE) as sock:
        sock.sendall(request("POST", "/upload/continued", "Expect: 100-continue",
                             "Content-Length: 5"))
        assert read_until(sock, b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        raw = read_until(sock, b"}")
    response = parse_response(raw, "POST")
    assert (response.status, response.json()["size"]) == (200, 5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_app_that_streams_sees_http_disconnect_when_the_client_goes(
    servers: dict[str, ServedProcess], backend: str,
) -> None:
    process = servers[f"starlette-{backend}"]
    name = f"ticks-{backend}"
    with socket.create_connection(("127.0.0.1", process.port), timeout=IO_DEADLINE) as sock:
        sock.sendall(request("GET", f"/ticks/{name}"))
        read_until(sock, b"tick\n")
    assert poll_json(process, f"/seen/{name}", ["http.request", "http.disconnect"]) == [
        "http.request", "http.disconnect"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_app_waiting_on_receive_sees_http_disconnect_when_the_client_goes(
    servers: dict[str, ServedProcess], backend: str,
) -> None:
    # A stream that is idle (server-sent events between two events, a long poll)
    # learns that its client left only from receive(): uvicorn and hypercorn
    # say http.disconnect at once; microready's server must too.
    process = servers[f"starlette-{backend}"]
    name = f"listen-{backend}"
    with socket.create_connection(("127.0.0.1", process.port), timeout=IO_DEADLINE) as sock:
        sock.sendall(request("GET", f"/listen/{name}"))
        read_until(sock, b"first chunk\n")
    assert poll_json(process, f"/seen/{name}", ["http.request", "http.disconnect"],
                     timeout=3) == ["http.request", "http.disconnect"]


# -- FastAPI's background-task tutorial ----------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_fastapis_background_task_tutorial(
    servers: dict[str, ServedProcess], backend: str,
) -> None:
    process = servers[f"fastapi-{backend}"]
    response = httpx.post(url(process, "/send-notification/foo@example.com"), timeout=DEADLINE)
    assert (response.status_code, response.json()) == (
        200, {"message": "Notification sent in the background"})
    assert response.headers["content-type"] == "application/json"
    log = wait_for_path(process.cwd / "log.txt", DEADLINE)
    assert log == "notification for foo@example.com: some notification"


@pytest.mark.parametrize("backend", BACKENDS)
def test_fastapis_background_task_starts_after_the_last_byte(
    servers: dict[str, ServedProcess], backend: str,
) -> None:
    # A body larger than what the kernel buffers hold: its last byte can only be
    # written once the client reads on. Until then, FastAPI's task must not start
    # (on uvicorn it does: its send() returns once the body is buffered).
    process = servers[f"fastapi-{backend}"]
    marker = process.cwd / "big-log.txt"
    with socket.create_connection(("127.0.0.1", process.port), timeout=IO_DEADLINE) as sock:
        sock.sendall(request("POST", "/big-notification/foo@example.com", "Content-Length: 0"))
        received = read_until(sock, b"\r\n\r\n")
        while len(received) < 1024 * 1024:
            received += sock.recv(65536)
        # The client holds back. A task started early shows within milliseconds;
        # give it half a second to (wrongly) appear.
        watch_until = time.monotonic() + 0.5
        while time.monotonic() < watch_until and not marker.exists():
            time.sleep(0.01)
        assert not marker.exists(), "the task started before the response was sent"
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert f"content-length: {BIG_BODY}".encode() in head.lower()
        remaining = BIG_BODY - len(body)
        while remaining > 0:
            chunk = sock.recv(min(remaining, 1 << 20))
            assert chunk
            remaining -= len(chunk)
    assert wait_for_path(marker, DEADLINE) == "notification for foo@example.com"


def test_microready_run_serves_an_asgi_app_object(tmp_path: Path) -> None:
    # microready.run(starlette_app), from Python, with the object (tests/asgi/apps.py's main).
    commands = {"run": ("tests.asgi.apps", ["starlette_app"], MICROREADY_LISTENING)}
    with served(commands, tmp_path) as processes:
        process = processes["run"]
        scope = httpx.get(url(process, "/scope"), timeout=DEADLINE).json()
        assert (scope["path"], scope["state"], scope["state_db"]) == (
            "/scope", ["db"], "connected")
        assert process.terminate() == 0
    assert (process.cwd / "startup.txt").exists() and (process.cwd / "shutdown.txt").exists()


# -- graceful shutdown ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigterm_lets_a_slow_request_finish_then_exits_0(tmp_path: Path, backend: str) -> None:
    commands = {"slow": microready_command("tests.asgi.apps:starlette_app", "--backend", backend)}
    with served(commands, tmp_path) as processes:
        process = processes["slow"]
        with SyncClient(process.port) as client:
            client.send(request("GET", "/slow"))
            wait_for_path(process.cwd / "slow.started", DEADLINE)
            process.send_signal(signal.SIGTERM)
            process.wait_for_log(r"shutting down: no new connections")
            (process.cwd / "slow.release").touch()
            response = client.read_response()
            assert (response.status, response.body) == (200, b"slow done")
            assert response.header(b"connection") == b"close"
        assert process.wait_for_exit(DEADLINE) == 0
    assert (process.cwd / "shutdown.txt").exists()  # the app's lifespan shutdown ran
    assert "Traceback" not in process.log


# -- the lifespan modes --------------------------------------------------------------------------


@contextmanager
def microready_process(tmp_path: Path, app: str, *flags: str) -> Iterator[ServedProcess]:
    module, args, _ = microready_command(app, *flags)
    process = ServedProcess(module, args, tmp_path)
    try:
        yield process
    finally:
        process.stop()


def error_lines(process: ServedProcess) -> list[str]:
    return [line for line in process.lines if line.strip()]


@pytest.mark.parametrize("mode", ["on", "auto"])
def test_a_lifespan_that_raises_stops_the_server_with_one_line(
    tmp_path: Path, mode: str,
) -> None:
    with microready_process(tmp_path, "tests.asgi.apps:failing_lifespan_app",
                            "--lifespan", mode) as process:
        assert process.wait_for_exit(DEADLINE) != 0
    lines = error_lines(process)
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR:    lifespan startup failed: ")
    assert "the database is unreachable" in lines[0]
    # The user's error, not the machinery it crossed on its way out.
    assert "Traceback" not in lines[0]
    assert "TaskGroup" not in lines[0] and "ExceptionGroup" not in lines[0]


def test_lifespan_on_with_an_app_that_does_not_speak_it(tmp_path: Path) -> None:
    with microready_process(tmp_path, "tests.asgi.apps:bare_app", "--lifespan", "on") as process:
        assert process.wait_for_exit(DEADLINE) != 0
    lines = error_lines(process)
    assert len(lines) == 1, lines
    assert "bare_app only speaks http, not lifespan" in lines[0]
    assert "TaskGroup" not in lines[0] and "ExceptionGroup" not in lines[0]


@pytest.mark.parametrize(("app", "mode", "expected"), [
    ("bare_app", "auto", (200, b"bare ASGI")),
    ("failing_lifespan_app", "off", (404, b"Not Found")),
])
def test_an_app_served_without_its_lifespan(
    tmp_path: Path, app: str, mode: str, expected: tuple[int, bytes],
) -> None:
    commands = {"app": microready_command(f"tests.asgi.apps:{app}", "--lifespan", mode)}
    with served(commands, tmp_path) as processes:
        process = processes["app"]
        response = httpx.get(url(process, "/"), timeout=DEADLINE)
        assert (response.status_code, response.content) == expected
        if mode == "auto":
            process.wait_for_log(r"'lifespan' protocol appears unsupported")
        assert process.terminate() == 0
    assert "Traceback" not in process.log


# -- limits apply to ASGI apps -------------------------------------------------------------------


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, return everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_DEADLINE) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_body_size_is_413_for_an_asgi_app(
    servers: dict[str, ServedProcess], backend: str,
) -> None:
    process = servers[f"starlette-{backend}"]
    raw = raw_exchange(process.port, request(
        "POST", "/upload/too-long", f"Content-Length: {MAX_BODY + 1}", body=b"x" * 1000))
    response = parse_response(raw, "POST")
    assert (response.status, response.header(b"connection")) == (413, b"close")
    assert httpx.get(url(process, "/seen/too-long"), timeout=DEADLINE).json() is None

    chunk = b"a" * 0x8000
    chunked = b"".join(b"8000\r\n" + chunk + b"\r\n" for _ in range(MAX_BODY // len(chunk) + 1))
    raw = raw_exchange(process.port, request(
        "POST", "/upload/too-long-chunked", "Transfer-Encoding: chunked",
        body=chunked + b"0\r\n\r\n"))
    response = parse_response(raw, "POST")
    assert (response.status, response.header(b"connection")) == (413, b"close")
    # The app read what was allowed, and no more.
    assert httpx.get(url(process, "/seen/too-long-chunked"), timeout=DEADLINE).json() <= MAX_BODY


@pytest.mark.parametrize("data", [
    b"GET /scope HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET /scope HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n",
    b"POST /upload/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
    b"\r\n\r\n0\r\n\r\n",
], ids=["two-hosts", "bad-header-line", "length-and-chunked"])
def test_a_malformed_request_is_400_before_the_app(
    servers: dict[str, ServedProcess], data: bytes,
) -> None:
    process = servers["starlette-asyncio"]
    response = parse_response(raw_exchange(process.port, data))
    assert (response.status, response.header(b"connection")) == (400, b"close")
    assert httpx.get(url(process, "/seen/x"), timeout=DEADLINE).json() is None  # never called


def test_the_servers_logged_no_traceback_for_what_they_served(
    servers: dict[str, ServedProcess],
) -> None:
    for key in ("fastapi-asyncio", "fastapi-trio", "starlette-root-path"):
        assert "Traceback" not in servers[key].log, servers[key].log


# -- the same, in the test's event loop ----------------------------------------------------------
#
# AsgiServedApp's lifespan leaves memory streams unclosed (see the tests at the end):
# their ResourceWarning, an error under this suite's filterwarnings, would fail
# whichever test collects them. The tests that run the lifespan for another
# purpose ignore it, and collect their own garbage before they end.


@contextmanager
def no_resource_warning() -> Iterator[None]:
    """Fails if what runs in the block leaves an unclosed resource (collected at its end)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.anyio
async def test_in_process_a_starlette_app_on_microreadys_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anyio_backend: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # the app's lifespan writes its markers here
    name = f"in-process-{anyio_backend}"
    async with serving(as_served(starlette_app)) as running:
        assert (tmp_path / "startup.txt").exists()
        async with connect(running.port) as client:
            await client.send(request("GET", "/scope?q=1"))
            scope = (await client.read_response()).json()
            assert (scope["path"], scope["query_string"], scope["state"]) == (
                "/scope", "q=1", ["db"])

            await client.send(request("POST", f"/upload/{name}", "Expect: 100-continue",
                                      "Content-Length: 5"))
            assert await client.read_until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            await client.send(b"hello")
            assert (await client.read_response("POST")).json()["size"] == 5

            await client.send(request("GET", f"/stream/{name}"))
            head = await client.read_until(b"first\n")
            assert b"transfer-encoding: chunked" in head.lower()
            async with connect(running.port) as other:
                await other.send(request("GET", f"/release/{name}"))
                assert (await other.read_response()).body == b"released"
            assert await client.read_until(b"0\r\n\r\n") == b"\r\n7\r\nsecond\n\r\n0\r\n\r\n"
        assert not (tmp_path / "shutdown.txt").exists()
    assert (tmp_path / "shutdown.txt").exists()


@pytest.mark.anyio
@pytest.mark.parametrize(("app", "mode"), [
    ("failing_lifespan_app", "on"), ("failing_lifespan_app", "auto"), ("bare_app", "on"),
])
async def test_in_process_a_lifespan_that_fails_is_a_startup_error(app: str, mode: str) -> None:
    served_app = as_served(getattr(apps, app), lifespan=mode)  # type: ignore[arg-type]
    server = Server(served_app, Config(port=0, lifespan=mode))  # type: ignore[arg-type]
    with anyio.fail_after(DEADLINE), pytest.raises(ServerStartupError) as failure:
        await server.serve()
    assert re.search(r"the database is unreachable|bare_app only speaks http", str(failure.value))
    assert server.bound_addresses == []  # it never listened


@pytest.mark.anyio
@pytest.mark.parametrize(("app", "mode", "expected"), [
    ("bare_app", "auto", (200, b"bare ASGI")),
    ("bare_app", "off", (200, b"bare ASGI")),
    ("failing_lifespan_app", "off", (404, b"Not Found")),
])
async def test_in_process_an_app_served_without_its_lifespan(
    app: str, mode: str, expected: tuple[int, bytes], caplog: pytest.LogCaptureFixture,
) -> None:
    served_app = as_served(getattr(apps, app), lifespan=mode)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="microready.server"):
        async with serving(served_app, lifespan=mode) as running, connect(running.port) as client:
            await client.send(request("GET", "/"))
            response = await client.read_response()
    assert (response.status, response.body) == expected
    unsupported = [r for r in caplog.records if "appears unsupported" in r.getMessage()]
    assert len(unsupported) == (1 if mode == "auto" else 0)


@pytest.mark.anyio
@pytest.mark.parametrize(("app", "mode"), [
    ("fastapi_app", "auto"), ("bare_app", "auto"), ("failing_lifespan_app", "on"),
], ids=["completes", "unsupported", "fails"])
async def test_the_asgi_lifespan_closes_its_streams(app: str, mode: str) -> None:
    served_app = as_served(getattr(apps, app), lifespan=mode)  # type: ignore[arg-type]
    with no_resource_warning():
        try:
            with anyio.fail_after(DEADLINE):
                async with served_app.lifespan_context():
                    pass
        except Exception:  # failing_lifespan_app: its failure is the other tests' subject
            pass
        del served_app


async def _fails_before_responding(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("no response from this app")


async def _returns_without_responding(scope: Any, receive: Any, send: Any) -> None:
    return


@pytest.mark.anyio
@pytest.mark.parametrize("app", [_fails_before_responding, _returns_without_responding])
async def test_an_asgi_app_without_a_response_is_a_500_and_leaves_nothing_open(
    app: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No log record may hold the failure's traceback (and so the call) past the block.
    monkeypatch.setattr(logging.getLogger("microready.error"), "disabled", True)
    with no_resource_warning():
        async with serving(as_served(app, lifespan="off"), lifespan="off") as running, connect(
            running.port
        ) as client:
            await client.send(request("GET", "/"))
            response = await client.read_response()
        assert (response.status, response.body) == (500, b"Internal Server Error")
