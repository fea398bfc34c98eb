"""A microready app is an ASGI 3 application: real uvicorn and hypercorn serve it.

* Through real servers (child processes, each in a scratch directory, stopped
  by PID): the seed's two examples give the same answers and the same
  ``log.txt`` under uvicorn and hypercorn as on microready's own server; a
  background task that is still running holds neither the response nor the next
  request; the lifespan runs (markers, ``request.state``) and its shutdown waits
  for the tasks still running.
* In-process, with hand-made scopes, on asyncio and trio: the messages the app
  sends, request bodies from several messages, ``http.disconnect`` mid-body,
  streamed responses, and the rule of starlette#3458: a task starts only once the
  final ``send()`` has returned, however long the server takes over it.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from microready import BackgroundTasks, MicroReady, Request, StreamingResponse
from microready._asgi.scope import Message
from microready.requests import ClientDisconnect
from tests.asgi.apps import (
    ServedProcess,
    hypercorn_command,
    microready_command,
    served,
    uvicorn_command,
)
from tests.support.processes import wait_for_path

DEADLINE = 10.0  # seconds; only reached when something is broken
EXAMPLES = ("notifications", "notifications_with_dependencies")
ASGI_SERVERS = {"uvicorn": uvicorn_command, "hypercorn": hypercorn_command}

# What each example is asked, in order: (path, the log.txt expected after it).
REQUESTS: dict[str, list[tuple[str, str]]] = {
    "notifications": [
        ("/send-notification/foo@example.com",
         "notification for foo@example.com: some notification"),
        ("/send-notification/bar@example.com",
         "notification for bar@example.com: some notification"),
    ],
    "notifications_with_dependencies": [
        ("/send-notification/foo@example.com?q=some-query",
         "found query: some-query\nmessage to foo@example.com\n"),
        ("/send-notification/bar@example.com",
         "found query: some-query\nmessage to foo@example.com\nmessage to bar@example.com\n"),
    ],
}


def wait_for_text(path: Path, expected: str, timeout: float = DEADLINE) -> str:
    """The text of ``path`` once it is ``expected`` (it may be written in steps)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text()) == expected:
            return text
        time.sleep(0.01)
    return text  # the caller's assertion shows the difference


def wait_until_refused(port: int, timeout: float = DEADLINE) -> None:
    """Poll until nothing listens on ``port`` any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.01)
    raise AssertionError(f"port {port} still accepts connections after {timeout}s")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServedProcess]]:
    """Every server of this module, started at once; each in its own directory."""
    commands = {
        f"{server}-{example}": command(f"examples.{example}:app")
        for example in EXAMPLES
        for server, command in {"microready": microready_command, **ASGI_SERVERS}.items()
    }
    for server, command in ASGI_SERVERS.items():
        commands[f"{server}-lifespan"] = command("tests.asgi.apps:lifespan_app")
    commands["uvicorn-lifespan-off"] = uvicorn_command(
        "tests.asgi.apps:no_lifespan_app", "--lifespan", "off")
    with served(commands, tmp_path_factory.mktemp("servers")) as processes:
        yield processes


def base_url(process: ServedProcess) -> str:
    return f"http://127.0.0.1:{process.port}"


def answers_and_logs(process: ServedProcess, example: str) -> list[tuple[Any, ...]]:
    """Each response (status, content type, JSON) and the log.txt after it."""
    seen: list[tuple[Any, ...]] = []
    with httpx.Client(base_url=base_url(process), timeout=DEADLINE) as client:
        for path, expected_log in REQUESTS[example]:
            response = client.post(path)
            log = wait_for_text(process.cwd / "log.txt", expected_log)
            seen.append((response.status_code, response.headers["content-type"],
                         response.headers["content-length"], response.json(), log))
    return seen


@pytest.fixture(scope="module")
def on_microready(servers: dict[str, ServedProcess]) -> dict[str, list[tuple[Any, ...]]]:
    """What microready's own server answers and logs: the reference."""
    return {example: answers_and_logs(servers[f"microready-{example}"], example)
            for example in EXAMPLES}


# -- the seed's examples -------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("server", ASGI_SERVERS)
def test_the_examples_answer_and_log_as_on_microreadys_server(
    servers: dict[str, ServedProcess], on_microready: dict[str, list[tuple[Any, ...]]],
    server: str, example: str,
) -> None:
    expected = on_microready[example]
    # The reference is the README's: a JSON message, then the log the tasks wrote.
    assert [entry[:2] for entry in expected] == [(200, "application/json")] * 2
    assert [entry[4] for entry in expected] == [log for _, log in REQUESTS[example]]
    assert answers_and_logs(servers[f"{server}-{example}"], example) == expected


# -- a task still running holds nothing ----------------------------------------------------------


@pytest.mark.parametrize("key", ["uvicorn-lifespan", "hypercorn-lifespan", "uvicorn-lifespan-off"])
def test_a_running_task_holds_neither_the_response_nor_the_next_request(
    servers: dict[str, ServedProcess], key: str,
) -> None:
    process = servers[key]
    name = f"held-{key}"
    with httpx.Client(base_url=base_url(process), timeout=DEADLINE) as client:
        # The task waits for a flag the test only creates after the response:
        # had the server held the response for the task, this would time out.
        response = client.post(f"/hold/{name}")
        assert (response.status_code, response.json()) == (200, {"queued": name})
        wait_for_path(process.cwd / f"{name}.started", DEADLINE)
        # The same keep-alive connection serves the next request meanwhile.
        response = client.post(f"/hold/{name}-next")
        assert response.status_code == 200
        wait_for_path(process.cwd / f"{name}-next.started", DEADLINE)
    assert not (process.cwd / f"{name}.done").exists()
    (process.cwd / f"{name}.release").touch()
    (process.cwd / f"{name}-next.release").touch()
    assert wait_for_path(process.cwd / f"{name}.done", DEADLINE) == f"{name}.done"
    assert wait_for_path(process.cwd / f"{name}-next.done", DEADLINE) == f"{name}-next.done"


# -- the lifespan --------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ASGI_SERVERS)
def test_the_lifespan_runs_and_its_state_reaches_requests(
    servers: dict[str, ServedProcess], server: str,
) -> None:
    process = servers[f"{server}-lifespan"]
    assert (process.cwd / "startup.txt").read_text() == "startup.txt"
    response = httpx.get(f"{base_url(process)}/state", timeout=DEADLINE)
    assert (response.status_code, response.json()) == (
        200, {"greeting": "hello from the lifespan"})
    assert not (process.cwd / "shutdown.txt").exists()


@pytest.mark.parametrize("server", ASGI_SERVERS)
def test_shutdown_waits_for_running_tasks_then_runs_the_lifespans_shutdown(
    tmp_path: Path, server: str,
) -> None:
    commands = {server: ASGI_SERVERS[server]("tests.asgi.apps:lifespan_app")}
    with served(commands, tmp_path) as processes:
        process = processes[server]
        response = httpx.post(f"{base_url(process)}/hold/last", timeout=DEADLINE)
        assert response.status_code == 200
        wait_for_path(process.cwd / "last.started", DEADLINE)
        process.send_signal(signal.SIGTERM)
        wait_until_refused(process.port)  # it has begun to shut down
        # The runner drains before the lifespan's shutdown: it waits for our task.
        assert process.process.poll() is None
        assert not (process.cwd / "shutdown.txt").exists()
        (process.cwd / "last.release").touch()
        # uvicorn re-raises the signal it caught once it has shut down (0.29+).
        assert process.wait_for_exit(DEADLINE * 2) in (0, -signal.SIGTERM)
    assert (process.cwd / "last.done").exists()
    assert (process.cwd / "shutdown.txt").read_text() == "shutdown after ['last.done']"
    assert "Traceback" not in process.log


# -- in-process: await app(scope, receive, send) -------------------------------------------------

pytest_anyio = pytest.mark.anyio


def http_scope(method: str = "GET", path: str = "/", query: bytes = b"",
               headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1", "method": method, "scheme": "http", "path": path,
        "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 51000), "server": ("127.0.0.1", 8000),
    }


class Messages:
    """``receive`` from a list of messages; ``send`` that records what the app sends.

    With ``hold_last``, the final body message's ``send()`` does not return
    until ``release`` is set: a slow ASGI server, still writing the last byte.
    """

    def __init__(self, incoming: list[dict[str, Any]] | None = None,
                 hold_last: bool = False) -> None:
        self.incoming = list(incoming or [{"type": "http.request", "body": b""}])
        self.sent: list[Message] = []
        self.hold_last = hold_last
        self.last_is_in = anyio.Event()
        self.release = anyio.Event()
        self.send_returned = False

    async def receive(self) -> Message:
        if self.incoming:
            return self.incoming.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, message: Message) -> None:
        self.sent.append(dict(message))
        final = message["type"] == "http.response.body" and not message.get("more_body")
        if final and self.hold_last:
            self.last_is_in.set()
            await self.release.wait()
            self.send_returned = True

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent
                        if m["type"] == "http.response.body")


def build_app(events: list[str]) -> MicroReady:
    app = MicroReady()

    async def record(event: str) -> None:
        events.append(event)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        try:
            body = await request.body()
        except ClientDisconnect as exc:
            events.append(f"saw {type(exc).__module__}.{type(exc).__name__}")
            raise
        return {"size": len(body), "body": body.decode()}

    @app.post("/notify")
    async def notify(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(record, "task started")
        return {"message": "queued"}

    @app.get("/stream")
    async def stream(background_tasks: BackgroundTasks) -> StreamingResponse:
        background_tasks.add_task(record, "task started")

        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"one,", b"two,", b"three"):
                yield part

        return StreamingResponse(chunks(), media_type="text/plain")

    return app


@pytest_anyio
async def test_the_messages_a_request_gets() -> None:
    app = build_app([])
    messages = Messages()
    with anyio.fail_after(DEADLINE):
        await app(http_scope("GET", "/items/3", b"q=x"), messages.receive, messages.send)
    body = b'{"item_id":3,"q":"x"}'
    assert messages.sent == [
        {"type": "http.response.start", "status": 200,
         "headers": [(b"content-length", str(len(body)).encode()),
                     (b"content-type", b"application/json")]},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


@pytest_anyio
async def test_a_body_in_several_messages_and_a_404() -> None:
    app = build_app([])
    messages = Messages([
        {"type": "http.request", "body": b"hel", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"lo", "more_body": False},
    ])
    with anyio.fail_after(DEADLINE):
        await app(http_scope("POST", "/echo"), messages.receive, messages.send)
    assert messages.sent[0]["status"] == 200
    assert messages.body == b'{"size":5,"body":"hello"}'

    messages = Messages()
    with anyio.fail_after(DEADLINE):
        await app(http_scope("GET", "/missing"), messages.receive, messages.send)
    assert (messages.sent[0]["status"], messages.body) == (404, b'{"detail":"Not Found"}')


@pytest_anyio
async def test_http_disconnect_mid_body_is_a_client_disconnect_in_the_app() -> None:
    events: list[str] = []
    app = build_app(events)
    messages = Messages([
        {"type": "http.request", "body": b"part of it", "more_body": True},
        {"type": "http.disconnect"},
    ])
    with anyio.fail_after(DEADLINE):
        await app(http_scope("POST", "/echo"), messages.receive, messages.send)
    assert events == ["saw microready.requests.ClientDisconnect"]
    # Nobody is listening; what is sent is the handlers' answer, and no 500.
    assert messages.sent[0]["status"] == 400


@pytest_anyio
async def test_a_streamed_response_is_several_more_body_messages() -> None:
    events: list[str] = []
    app = build_app(events)
    messages = Messages()
    with anyio.fail_after(DEADLINE):
        await app(http_scope("GET", "/stream"), messages.receive, messages.send)
    assert [(m["type"], m.get("body"), m.get("more_body")) for m in messages.sent] == [
        ("http.response.start", None, None),
        ("http.response.body", b"one,", True),
        ("http.response.body", b"two,", True),
        ("http.response.body", b"three", True),
        ("http.response.body", b"", False),
    ]
    assert dict(messages.sent[0]["headers"])[b"content-type"] == b"text/plain; charset=utf-8"
    assert events == ["task started"]  # no lifespan: the call waited for its own task


def with_call_next_middleware(app: MicroReady) -> MicroReady:
    @app.middleware("http")
    async def passthrough(request: Request, call_next: Any) -> Any:
        return await call_next(request)

    return app


@asynccontextmanager
async def lifespan_running(app: MicroReady,
                           state: dict[str, Any] | None = None) -> AsyncIterator[None]:
    """The ASGI lifespan protocol around the block, as a server runs it."""
    to_app = [{"type": "lifespan.startup"}]
    shutdown = anyio.Event()
    replies: list[str] = []
    started = anyio.Event()

    async def receive() -> Message:
        if to_app:
            return to_app.pop()
        await shutdown.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        replies.append(message["type"])
        started.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.4"},
             "state": {} if state is None else state}
    async with anyio.create_task_group() as group:
        group.start_soon(app, scope, receive, send)
        with anyio.fail_after(DEADLINE):
            await started.wait()
        assert replies == ["lifespan.startup.complete"]
        try:
            yield
        finally:
            shutdown.set()
    assert replies == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest_anyio
@pytest.mark.parametrize("path", ["/notify", "/stream"])
@pytest.mark.parametrize("middleware", [False, True], ids=["bare", "call_next"])
@pytest.mark.parametrize("lifespan", [False, True], ids=["own-runner", "lifespan-runner"])
async def test_a_task_starts_only_after_the_final_send_returned(
    path: str, middleware: bool, lifespan: bool,
) -> None:
    # starlette#3458: a slow server (its send() still writing the last byte)
    # must not see the request's task start before that send() returns.
    events: list[str] = []
    app = build_app(events)
    if middleware:
        with_call_next_middleware(app)
    messages = Messages(hold_last=True)
    method = "POST" if path == "/notify" else "GET"
    call_done = anyio.Event()

    async def call() -> None:
        await app(http_scope(method, path), messages.receive, messages.send)
        call_done.set()

    async with lifespan_running(app) if lifespan else nullcontext():
        async with anyio.create_task_group() as group:
            group.start_soon(call)
            with anyio.fail_after(DEADLINE):
                await messages.last_is_in.wait()
            for _ in range(50):  # every other task gets many turns while send() holds
                await anyio.lowlevel.checkpoint()
            await anyio.wait_all_tasks_blocked()
            assert events == []
            assert not call_done.is_set()
            messages.release.set()
            with anyio.fail_after(DEADLINE):
                await call_done.wait()
                await app.background.join()
        assert messages.send_returned
        assert events == ["task started"]


@pytest_anyio
async def test_the_lifespan_protocol_and_its_state() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"greeting": "hi"}
        events.append("shutdown")

    app = MicroReady(lifespan=lifespan)

    @app.get("/state")
    async def state(request: Request, background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(events.append, "task")
        return {"greeting": request.state.greeting}

    server_state: dict[str, Any] = {}
    async with lifespan_running(app, server_state):
        assert events == ["startup"]
        assert server_state == {"greeting": "hi"}  # the server's state, as the spec has it
        messages = Messages()
        # The server hands each request a shallow copy of that state.
        scope = {**http_scope("GET", "/state"), "state": dict(server_state)}
        with anyio.fail_after(DEADLINE):
            await app(scope, messages.receive, messages.send)
            assert messages.body == b'{"greeting":"hi"}'
            await app.background.join()
        assert events == ["startup", "task"]
    assert events == ["startup", "task", "shutdown"]


@pytest_anyio
async def test_a_failing_startup_is_reported_to_the_server() -> None:
    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        raise RuntimeError("the database is unreachable")
        yield  # pragma: no cover

    app = MicroReady(lifespan=lifespan)
    replies: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        replies.append(message)

    with anyio.fail_after(DEADLINE), pytest.raises(RuntimeError, match="unreachable"):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert [reply["type"] for reply in replies] == ["lifespan.startup.failed"]
    assert replies[0]["message"] == "RuntimeError: the database is unreachable"
