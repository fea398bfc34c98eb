"""Middleware: ``@app.middleware("http")``, ``add_middleware``, and the background-task rule.

The rule: a request's tasks start after the client has the last byte, through
any stack of middleware, and a slow task never delays a response or the next
request. starlette#919 (the next request waits for the task) and
starlette#3458 (the task starts before a slow client has the last byte) are
replayed here through the real server, with raw bytes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

from microready import BackgroundTasks, HTTPException, MicroReady, Request, StreamingResponse
from microready._exchange import Reply, RequestHandler
from microready.middleware import Middleware
from microready.middleware.base import BaseHTTPMiddleware
from microready.responses import JSONResponse, PlainTextResponse, Response
from microready.server.protocol import Limits
from microready.server.transport import ConnectionSettings, HTTPConnection
from microready.testing import TestClient
from tests.support.http import ResponseParser, request
from tests.support.live import connect, serving

pytestmark = pytest.mark.anyio

DEADLINE = 10  # seconds; only reached when something is broken
CallNext = Callable[[Request], Awaitable[Response]]


class Gate:
    """A background task that starts, then waits until the test lets it finish."""

    def __init__(self) -> None:
        self.started = anyio.Event()
        self.release = anyio.Event()
        self.finished = anyio.Event()

    async def task(self) -> None:
        self.started.set()
        await self.release.wait()
        self.finished.set()


def app_with_gated_task(gate: Gate, *, big: int = 0) -> MicroReady:
    app = MicroReady()

    @app.middleware("http")
    async def transparent(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)  # starlette#919's "does absolutely nothing"

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> Response:
        background_tasks.add_task(gate.task)
        return PlainTextResponse("x" * big if big else "queued")

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    return app


# -- FastAPI's tutorial, and the API ------------------------------------------------------------


def test_the_tutorial_process_time_header() -> None:
    app = MicroReady()

    @app.middleware("http")
    async def add_process_time_header(request: Request, call_next: CallNext) -> Response:
        start_time = time.perf_counter()
        response = await call_next(request)
        process_time = time.perf_counter() - start_time
        response.headers["X-Process-Time"] = str(process_time)
        return response

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    response = TestClient(app).get("/items/5")
    assert response.json() == {"item_id": 5}
    assert float(response.headers["x-process-time"]) >= 0
    assert TestClient(app).get("/nowhere").headers["x-process-time"]  # 404s go through it too


def test_the_last_added_middleware_runs_first() -> None:
    seen: list[str] = []

    def tagging(tag: str) -> Callable[[Request, CallNext], Awaitable[Response]]:
        async def dispatch(request: Request, call_next: CallNext) -> Response:
            seen.append(f"{tag} in")
            response = await call_next(request)
            seen.append(f"{tag} out")
            return response

        return dispatch

    class Outer(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: CallNext) -> Response:
            seen.append("class in")
            response = await call_next(request)
            response.headers["x-class"] = "yes"
            return response

    app = MicroReady(middleware=[Middleware(BaseHTTPMiddleware, dispatch=tagging("listed"))])
    app.middleware("http")(tagging("first"))
    app.middleware("http")(tagging("second"))
    app.add_middleware(Outer)

    @app.get("/")
    async def root() -> str:
        seen.append("endpoint")
        return "ok"

    response = TestClient(app).get("/")
    assert response.headers["x-class"] == "yes"
    assert seen == ["class in", "second in", "first in", "listed in", "endpoint",
                    "listed out", "first out", "second out"]


def test_a_middleware_can_answer_without_calling_the_app() -> None:
    app = MicroReady()
    called: list[str] = []

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next: CallNext) -> Response:
        if request.headers.get("x-token") != "secret":
            return JSONResponse({"detail": "no"}, status_code=401,
                                background=_task_recording(called, "refusal"))
        return await call_next(request)

    @app.get("/")
    async def root() -> str:
        called.append("endpoint")
        return "ok"

    client = TestClient(app)
    assert client.get("/").status_code == 401
    assert called == ["refusal"]  # the refusal's own background task ran
    assert client.get("/", headers={"x-token": "secret"}).json() == "ok"


def _task_recording(into: list[str], what: str) -> Any:
    from microready import BackgroundTask

    return BackgroundTask(into.append, what)


def test_a_replaced_response_keeps_the_request_tasks_and_adds_its_own() -> None:
    app = MicroReady()
    ran: list[str] = []

    @app.middleware("http")
    async def rewrap(request: Request, call_next: CallNext) -> Response:
        await call_next(request)
        return PlainTextResponse("replaced", background=_task_recording(ran, "middleware's"))

    @app.get("/")
    async def root(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(ran.append, "endpoint's")
        return "original"

    assert TestClient(app).get("/").text == "replaced"
    assert ran == ["endpoint's", "middleware's"]


def test_call_next_raises_the_app_error_and_a_handled_one_is_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = MicroReady()

    @app.middleware("http")
    async def catch_all(request: Request, call_next: CallNext) -> Response:
        try:
            return await call_next(request)
        except ZeroDivisionError:
            return PlainTextResponse("handled", status_code=503)

    @app.get("/boom")
    async def boom() -> None:
        raise ZeroDivisionError("no")

    response = TestClient(app).get("/boom")  # raise_server_exceptions: it was handled
    assert (response.status_code, response.text) == (503, "handled")


def test_an_error_a_middleware_lets_through_is_the_app_500_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = MicroReady()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("inner")

    with caplog.at_level(logging.ERROR, logger="microready.error"):
        response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert len([r for r in caplog.records if r.exc_info]) == 1
    with pytest.raises(KeyError, match="inner"):
        TestClient(app).get("/boom")


def test_a_failing_middleware_is_answered_by_the_exception_handlers() -> None:
    app = MicroReady()

    @app.middleware("http")
    async def broken(request: Request, call_next: CallNext) -> Response:
        if request.url.path == "/teapot":
            raise HTTPException(418, "short and stout")  # Starlette: 500; see README
        raise RuntimeError("middleware bug")

    @app.get("/{anything}")
    async def anything() -> str:
        return "never"  # pragma: no cover - the middleware never calls it

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/teapot").json() == {"detail": "short and stout"}
    assert client.get("/teapot").status_code == 418
    response = client.get("/x")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    with pytest.raises(RuntimeError, match="middleware bug"):
        TestClient(app).get("/x")


def test_a_dispatch_that_returns_no_response_says_what_to_return() -> None:
    app = MicroReady()

    @app.middleware("http")
    async def forgetful(request: Request, call_next: CallNext) -> Any:
        await call_next(request)

    @app.get("/")
    async def root() -> str:
        return "ok"

    expected = r"(?s)returned NoneType, not a Response.*right: response ="
    with pytest.raises(TypeError, match=expected):
        TestClient(app).get("/")


def test_configuration_errors_show_the_right_call() -> None:
    from microready.middleware.base import BaseHTTPMiddleware as Base

    app = MicroReady()
    with pytest.raises(TypeError, match=r"wrong: app.add_middleware\(BaseHTTPMiddleware\(...\)\)"):
        app.add_middleware(Base(_Inner()))
    with pytest.raises(ValueError, match=r'right: @app.middleware\("http"\)'):
        app.middleware("websocket")
    with pytest.raises(TypeError, match="middleware= takes Middleware entries"):
        MicroReady(middleware=[BaseHTTPMiddleware])  # type: ignore[list-item]

    @app.get("/")
    async def root() -> str:
        return "ok"

    started = "cannot add middleware after the app has started"
    with TestClient(app), pytest.raises(RuntimeError, match=started):
        app.middleware("http")(_passthrough)


async def _passthrough(request: Request, call_next: CallNext) -> Response:
    return await call_next(request)  # pragma: no cover - never registered


class _Inner:
    async def handle(self, request: Request) -> Reply:  # pragma: no cover - never called
        return Reply(PlainTextResponse("inner"))


def test_a_subclass_without_dispatch_says_what_to_define() -> None:
    class Empty(BaseHTTPMiddleware):
        pass

    app = MicroReady()
    app.add_middleware(Empty)

    @app.get("/")
    async def root() -> str:
        return "ok"

    with pytest.raises(NotImplementedError, match=r"define `async def dispatch"):
        TestClient(app).get("/")


def test_a_native_middleware_edits_the_reply_and_keeps_its_tasks() -> None:
    ran: list[str] = []

    class Stamp:
        def __init__(self, app: RequestHandler, value: str) -> None:
            self.app = app
            self.value = value

        async def handle(self, request: Request) -> Reply:
            reply = await self.app.handle(request)
            reply.response.headers["x-stamp"] = self.value
            return reply

    app = MicroReady()
    app.add_middleware(Stamp, value="v1")

    @app.get("/")
    async def root(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(ran.append, "task")
        return "ok"

    response = TestClient(app).get("/")
    assert response.headers["x-stamp"] == "v1"
    assert ran == ["task"]


# -- pure ASGI middleware ------------------------------------------------------------------------


class AsgiHeaderMiddleware:
    """A pure ASGI middleware of the kind Sentry and OpenTelemetry ship."""

    def __init__(self, app: Any, header: str) -> None:
        self.app = app
        self.header = header.encode()
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-asgi", self.header)]}
            await send(message)

        await self.app(scope, receive, send_with_header)


def test_a_pure_asgi_middleware_wraps_the_app_and_the_tasks_survive() -> None:
    ran: list[str] = []
    app = MicroReady()
    app.add_middleware(AsgiHeaderMiddleware, header="one")
    app.add_middleware(AsgiHeaderMiddleware, header="two")  # two in a row speak ASGI

    @app.middleware("http")
    async def native_outermost(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-native"] = "yes"
        return response

    @app.post("/echo")
    async def echo(request: Request, background_tasks: BackgroundTasks) -> dict[str, Any]:
        background_tasks.add_task(ran.append, "task")
        return {"body": (await request.body()).decode(), "path": request.url.path}

    response = TestClient(app).post("/echo?x=1", content=b"hello")
    assert response.json() == {"body": "hello", "path": "/echo"}
    assert response.headers.get_list("x-asgi") == ["one", "two"]
    assert response.headers["x-native"] == "yes"
    assert ran == ["task"]


async def test_a_streamed_body_through_an_asgi_middleware_and_gzip_like_wrapping() -> None:
    gate = Gate()
    app = MicroReady()
    app.add_middleware(AsgiHeaderMiddleware, header="s")
    second_chunk = anyio.Event()

    @app.get("/stream")
    async def stream(background_tasks: BackgroundTasks) -> StreamingResponse:
        background_tasks.add_task(gate.task)

        async def chunks() -> AsyncIterator[bytes]:
            yield b"first\n"
            await second_chunk.wait()
            yield b"second\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("GET", "/stream"))
        with anyio.fail_after(DEADLINE):
            head = await client.stream.receive()
            while b"first" not in head:
                head += await client.stream.receive()
        assert b"x-asgi: s" in head.lower()
        assert not gate.started.is_set()  # the response is not over yet
        second_chunk.set()
        with anyio.fail_after(DEADLINE):
            await gate.started.wait()
        gate.release.set()


# -- the rule, through the real server: starlette#919 and #3458 ---------------------------------


async def test_starlette_919_the_next_request_is_not_held_by_the_task() -> None:
    gate = Gate()
    async with serving(app_with_gated_task(gate)) as running, connect(running.port) as client:
        await client.send(request("POST", "/work", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            first = await client.read_response()
            await gate.started.wait()
            await client.send(request("GET", "/ping"))
            second = await client.read_response()
        assert (first.status, first.body, second.body) == (200, b"queued", b'"pong"')
        assert not gate.finished.is_set()  # both answered while the task still runs
        gate.release.set()
        with anyio.fail_after(DEADLINE):
            await gate.finished.wait()


class SlowClientStream(anyio.abc.ByteStream):
    """The server's end of a connection whose client reads only when the test says.

    ``send`` returns once the test has taken the bytes (``take``), so "the
    client has the last byte" is an event the test controls, as a slow
    client's window is for a real socket.
    """

    def __init__(self, request_bytes: bytes) -> None:
        self.incoming = [request_bytes]
        self.written = bytearray()
        self.wrote = anyio.Event()
        self.may_take = anyio.Event()
        self.closed = anyio.Event()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if self.incoming:
            return self.incoming.pop()
        await self.closed.wait()
        raise anyio.EndOfStream

    async def send(self, item: bytes) -> None:
        self.wrote.set()
        await self.may_take.wait()  # the client is slow: the write does not complete yet
        self.written += item

    async def send_eof(self) -> None:
        self.closed.set()

    async def aclose(self) -> None:
        self.closed.set()


async def _serve_one(app: MicroReady, stream: SlowClientStream) -> None:
    settings = ConnectionSettings(app, Limits(), access_log=False)
    await HTTPConnection(stream, settings, None).run()


@pytest.mark.parametrize("through", ["call_next", "asgi"])
async def test_starlette_3458_the_task_waits_for_a_slow_client_to_take_the_last_byte(
    through: str,
) -> None:
    gate = Gate()
    app = app_with_gated_task(gate, big=1_000_000)
    if through == "asgi":
        app.add_middleware(AsgiHeaderMiddleware, header="3458")
    stream = SlowClientStream(request("POST", "/work", "Content-Length: 0", "Connection: close"))
    async with app.background.serving(), anyio.create_task_group() as tasks:
        tasks.start_soon(_serve_one, app, stream)
        with anyio.fail_after(DEADLINE):
            await stream.wrote.wait()  # the response is on its way...
        for _ in range(100):  # ...and everything else may run meanwhile
            await anyio.lowlevel.checkpoint()
        assert not gate.started.is_set(), "the task started before the client had the response"
        stream.may_take.set()
        with anyio.fail_after(DEADLINE):
            await gate.started.wait()
        gate.release.set()
    parser = ResponseParser()
    parser.feed(bytes(stream.written))
    response = parser.next_response("POST")
    assert response is not None
    assert response.status == 200 and len(response.body) == 1_000_000


async def test_a_middleware_that_raises_loses_no_other_requests_tasks() -> None:
    gate = Gate()
    app = MicroReady()

    @app.middleware("http")
    async def fails_on_boom(request: Request, call_next: CallNext) -> Response:
        if request.url.path == "/boom":
            raise RuntimeError("this middleware fails")
        return await call_next(request)

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(gate.task)
        return "queued"

    async with serving(app) as running, connect(running.port) as client, connect(
        running.port
    ) as other:
        await client.send(request("POST", "/work", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            assert (await client.read_response()).status == 200
            await gate.started.wait()
            await other.send(request("GET", "/boom"))
            assert (await other.read_response()).status == 500
        assert not gate.finished.is_set()  # the failure touched only its own request
        gate.release.set()
        with anyio.fail_after(DEADLINE):
            await gate.finished.wait()
        assert app.background.failed == 0 and app.background.succeeded == 1


def test_starlettes_own_asgi_middleware_wraps_a_microready_app() -> None:
    # Real third-party ASGI middleware, of the kind exporters and tracers ship:
    # Starlette's GZip and CORS classes, added with the same call as microready's.
    import gzip

    from starlette.middleware.cors import CORSMiddleware as StarletteCORS
    from starlette.middleware.gzip import GZipMiddleware as StarletteGZip

    ran: list[str] = []
    app = MicroReady()
    app.add_middleware(StarletteGZip, minimum_size=10)
    app.add_middleware(StarletteCORS, allow_origins=["https://a.example"])

    @app.get("/big")
    async def big(background_tasks: BackgroundTasks) -> PlainTextResponse:
        background_tasks.add_task(ran.append, "task")
        return PlainTextResponse("x" * 1000)

    client = TestClient(app)
    response = client.get("/big", headers={"accept-encoding": "gzip",
                                           "origin": "https://a.example"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["access-control-allow-origin"] == "https://a.example"
    assert response.text == "x" * 1000 or gzip.decompress(response.content) == b"x" * 1000
    assert ran == ["task"]
