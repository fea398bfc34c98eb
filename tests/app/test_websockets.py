"""WebSocket endpoints end to end: routing and injection, then real servers and clients.

* Through ``TestClient.websocket_connect`` (ASGI messages, on asyncio and
  trio): path parameters with convertors, ``include_router(prefix=...)``,
  router and include dependencies, ``url_path_for``, which paths are HTTP and
  which WebSocket, ``yield`` dependencies, ``dependency_overrides`` and the
  lifespan's state.
* Through the real server in the test's event loop (``tests.support.live``)
  with the ``websockets`` library as the client (its asyncio client on
  asyncio, its trio client on trio): the same app over TCP, 403 and 404 on
  the wire.
* Through ``python -m microready`` in a child process, stopped by its PID
  whatever happens: ``--ws-max-size``, ``--ws-ping-interval`` and
  ``--ws-ping-timeout`` as the CLI sets them, ``--root-path``, and SIGTERM
  closing open sockets with 1001 once the message being written is out. A
  client that must not answer pings is a raw socket with wsproto's client
  (the ``websockets`` library always answers them).
* Through real uvicorn (``--ws wsproto``): the same endpoint, the same echo.

The apps served by child processes are this module's ``live_app``, imported
by ``tests.app.test_websockets:live_app`` from the repository root.
"""

# No `from __future__ import annotations`: endpoints here name local dependencies
# in Annotated[...], which must resolve where the function is defined.

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.abc
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from wsproto import WSConnection
from wsproto.connection import ConnectionType
from wsproto.events import AcceptConnection, CloseConnection, Event, Ping, Request, TextMessage

from microready import Depends, Header, MicroReady, Router, WebSocket, WebSocketException
from microready.routing import NoMatchFound
from microready.testing import TestClient
from microready.websockets import WebSocketDisconnect
from tests.support.http import request
from tests.support.live import IO_TIMEOUT, connect, serving
from tests.support.processes import STARTUP_DEADLINE, ServerProcess, server_process

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]
LIVE_APP = "tests.app.test_websockets:live_app"
BIG = bytes(range(256)) * (128 * 1024)  # 32 MiB: far more than the socket buffers hold


def client_for(app: MicroReady, backend: str) -> TestClient:
    return TestClient(app, backend=backend)  # type: ignore[arg-type]


def refusal_code(client: TestClient, url: str, **options: Any) -> int:
    """The close code of a connection the app refuses before accepting."""
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url, **options):
        pytest.fail(f"{url} was accepted")
    return refused.value.code


# -- routing ------------------------------------------------------------------------------------


def convertor_app() -> MicroReady:
    app = MicroReady()

    @app.websocket("/items/{item_id:int}/files/{file_path:path}")
    async def files(websocket: WebSocket, item_id: int, file_path: str) -> None:
        await websocket.accept()
        await websocket.send_json({"item_id": item_id, "file_path": file_path,
                                   "types": [type(v).__name__
                                             for v in websocket.path_params.values()]})
        await websocket.close()

    @app.websocket("/things/{thing_id:uuid}/{price:float}")
    async def things(websocket: WebSocket, thing_id: uuid.UUID, price: float) -> None:
        await websocket.accept()
        await websocket.send_json({"thing_id": str(thing_id), "uuid": type(thing_id).__name__,
                                   "price": price})
        await websocket.close()

    return app


def test_path_parameters_with_convertors(anyio_backend: str) -> None:
    client = client_for(convertor_app(), anyio_backend)
    with client.websocket_connect("/items/42/files/docs/a b.txt") as websocket:
        assert websocket.receive_json() == {"item_id": 42, "file_path": "docs/a b.txt",
                                            "types": ["int", "str"]}
    thing = uuid.uuid4()
    with client.websocket_connect(f"/things/{thing}/2.5") as websocket:
        assert websocket.receive_json() == {"thing_id": str(thing), "uuid": "UUID", "price": 2.5}
    # A segment the convertor refuses is no route: refused before accept (Starlette's 1000).
    assert refusal_code(client, "/items/forty-two/files/a.txt") == 1000
    assert refusal_code(client, "/things/not-a-uuid/2.5") == 1000


def router_app(events: list[str]) -> MicroReady:
    async def app_level() -> None:
        events.append("app")

    async def include_level() -> None:
        events.append("include")

    async def router_level(x_token: Annotated[str | None, Header()] = None) -> None:
        events.append(f"router:{x_token}")
        if x_token != "secret":
            raise WebSocketException(code=4003, reason="bad token")

    async def route_level() -> None:
        events.append("route")

    app = MicroReady(dependencies=[Depends(app_level)])
    router = Router(dependencies=[Depends(router_level)])

    @router.websocket("/rooms/{room}", name="room", dependencies=[Depends(route_level)])
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"welcome to {room}")
        await websocket.close()

    app.include_router(router, prefix="/v1", dependencies=[Depends(include_level)])

    @app.get("/v1/http-only")
    async def http_only() -> dict[str, bool]:
        return {"http": True}

    return app


def test_include_router_keeps_websocket_routes_under_its_prefix(anyio_backend: str) -> None:
    events: list[str] = []
    client = client_for(router_app(events), anyio_backend)
    with client.websocket_connect("/v1/rooms/blue", headers={"x-token": "secret"}) as websocket:
        assert websocket.receive_text() == "welcome to blue"
    # FastAPI's order: the app's, include_router's, the router's, the route's.
    assert events == ["app", "include", "router:secret", "route"]
    events.clear()
    assert refusal_code(client, "/rooms/blue", headers={"x-token": "secret"}) == 1000
    assert events == []  # no route, no dependency


def test_a_router_dependency_refuses_with_its_code(anyio_backend: str) -> None:
    events: list[str] = []
    client = client_for(router_app(events), anyio_backend)
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/v1/rooms/x"):
        pytest.fail("accepted without a token")
    assert (refused.value.code, refused.value.reason) == (4003, "bad token")
    assert events == ["app", "include", "router:None"]  # the route's never ran


def test_url_path_for_a_websocket_route() -> None:
    app = router_app([])
    assert app.url_path_for("room", room="blue") == "/v1/rooms/blue"
    assert app.url_path_for("room", room="a b") == "/v1/rooms/a%20b"
    with pytest.raises(NoMatchFound):
        app.url_path_for("room")  # its parameter is missing
    with pytest.raises(NoMatchFound):
        app.url_path_for("room", room="x", other="y")


def test_http_and_websocket_paths_stay_apart(anyio_backend: str) -> None:
    client = client_for(router_app([]), anyio_backend)
    # An HTTP request to a WebSocket-only path: no HTTP route there (Starlette's 404).
    response = client.get("/v1/rooms/blue", headers={"x-token": "secret"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    # A WebSocket to an HTTP-only path: no WebSocket route, refused before accept.
    assert client.get("/v1/http-only").json() == {"http": True}
    assert refusal_code(client, "/v1/http-only") == 1000


def test_a_websocket_reaches_a_mounted_app(anyio_backend: str) -> None:
    sub = MicroReady()

    @sub.websocket("/ws")
    async def in_sub(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({key: websocket.scope[key] for key in ("root_path", "path")})
        await websocket.close()

    app = MicroReady()
    app.mount("/sub", sub)
    with client_for(app, anyio_backend).websocket_connect("/sub/ws") as websocket:
        # What FastAPI 0.165 gives the same mount.
        assert websocket.receive_json() == {"root_path": "/sub", "path": "/sub/ws"}


def url_app() -> MicroReady:
    app = MicroReady()

    @app.websocket("/where")
    async def where(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"url": str(websocket.url), "path": websocket.url.path,
                                   "query": websocket.url.query})
        await websocket.close()

    return app


def test_websocket_url_is_the_path_and_query_as_request_url(anyio_backend: str) -> None:
    # Starlette's is the whole URL (ws://testserver/where?x=1); microready's
    # WebSocket.url is what Request.url is, the path and the query (README).
    with client_for(url_app(), anyio_backend).websocket_connect("/where?x=1") as websocket:
        assert websocket.receive_json() == {"url": "/where?x=1", "path": "/where",
                                            "query": "x=1"}


def test_websocket_connect_takes_cookies_and_params_as_starlettes_does() -> None:
    app = MicroReady()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json([websocket.cookies, dict(websocket.query_params)])
        await websocket.close()

    client = TestClient(app)
    connect_with: Any = client.websocket_connect  # Starlette's signature, not ours (yet)
    with connect_with("/ws", cookies={"session": "s"}, params={"q": "1"}) as websocket:
        assert websocket.receive_json() == [{"session": "s"}, {"q": "1"}]


# -- injection -----------------------------------------------------------------------------------


def yield_app(events: list[str]) -> tuple[MicroReady, Any]:
    app = MicroReady()

    async def get_db() -> AsyncIterator[str]:
        events.append("db open")
        try:
            yield "db"
        except Exception as exc:
            events.append(f"db saw {type(exc).__name__}")
            raise
        finally:
            events.append("db close")

    @app.websocket("/db")
    async def use_db(websocket: WebSocket, db: Annotated[str, Depends(get_db)]) -> None:
        await websocket.accept()
        events.append(f"endpoint has {db}")
        text = await websocket.receive_text()
        if text == "fail":
            raise RuntimeError("the endpoint failed")
        await websocket.send_text(f"{db}: {text}")
        events.append("endpoint returns")

    return app, get_db


def test_a_yield_dependency_closes_after_the_endpoint_returns(anyio_backend: str) -> None:
    events: list[str] = []
    app, _ = yield_app(events)
    client = client_for(app, anyio_backend)
    with client.websocket_connect("/db") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_text() == "db: hello"
        # The endpoint returns without closing: the client learns the connection is
        # over only once the app is done, and by then the dependency has closed.
        with pytest.raises(WebSocketDisconnect):
            websocket.receive_text()
        assert events == ["db open", "endpoint has db", "endpoint returns", "db close"]


def test_a_yield_dependency_closes_when_the_client_leaves(anyio_backend: str) -> None:
    events: list[str] = []
    app, _ = yield_app(events)
    client = client_for(app, anyio_backend)
    # The client closes at once: receive_text() raises WebSocketDisconnect, which
    # the endpoint does not catch, so the test sees it leave the block (Starlette's rule).
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/db"):
        pass
    assert events[:2] == ["db open", "endpoint has db"]
    assert events[-1] == "db close"
    assert "endpoint returns" not in events


def test_a_yield_dependency_closes_when_the_endpoint_fails(anyio_backend: str) -> None:
    events: list[str] = []
    app, _ = yield_app(events)
    client = TestClient(app, backend=anyio_backend,  # type: ignore[arg-type]
                        raise_server_exceptions=False)
    with client.websocket_connect("/db") as websocket:
        websocket.send_text("fail")
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()
    assert closed.value.code == 1011
    assert (events[:2], events[-1]) == (["db open", "endpoint has db"], "db close")


@pytest.mark.parametrize(("client_does", "thrown_in"), [
    ("fail", "RuntimeError"), ("leave", "WebSocketDisconnect"),
])
def test_the_endpoints_exception_is_thrown_into_a_yield_dependency(
        anyio_backend: str, client_does: str, thrown_in: str) -> None:
    # As FastAPI does (its websocket app runs the endpoint inside the AsyncExitStack):
    # FastAPI 0.165 records exactly these events for these two cases.
    events: list[str] = []
    app, _ = yield_app(events)
    client = TestClient(app, backend=anyio_backend,  # type: ignore[arg-type]
                        raise_server_exceptions=False)
    with client.websocket_connect("/db") as websocket:
        if client_does == "fail":
            websocket.send_text("fail")
            with pytest.raises(WebSocketDisconnect):
                websocket.receive_text()
    assert events == ["db open", "endpoint has db", f"db saw {thrown_in}", "db close"]


def test_dependency_overrides_apply_to_websocket_endpoints(anyio_backend: str) -> None:
    events: list[str] = []
    app, get_db = yield_app(events)

    async def fake_db() -> str:
        return "fake"

    app.dependency_overrides[get_db] = fake_db
    client = client_for(app, anyio_backend)
    with client.websocket_connect("/db") as websocket:
        websocket.send_text("hi")
        assert websocket.receive_text() == "fake: hi"
    assert "db open" not in events
    app.dependency_overrides.clear()
    with client.websocket_connect("/db") as websocket:
        websocket.send_text("hi")
        assert websocket.receive_text() == "db: hi"
    assert "db open" in events


def lifespan_app() -> MicroReady:
    @contextlib.asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[dict[str, Any]]:
        yield {"greeting": "hello from the lifespan", "visits": []}

    app = MicroReady(lifespan=lifespan)

    @app.websocket("/state")
    async def state(websocket: WebSocket) -> None:
        await websocket.accept()
        websocket.state.visits.append("ws")  # the lifespan's objects are shared...
        websocket.state.mine = "per connection"  # ...the attributes are not
        await websocket.send_json({"greeting": websocket.state.greeting,
                                   "visits": len(websocket.state.visits),
                                   "mine_before": "mine" in websocket.scope["state"]})
        await websocket.close()

    return app


def test_the_lifespan_state_is_in_websocket_state(anyio_backend: str) -> None:
    with client_for(lifespan_app(), anyio_backend) as client:
        for visits in (1, 2):
            with client.websocket_connect("/state") as websocket:
                assert websocket.receive_json() == {"greeting": "hello from the lifespan",
                                                    "visits": visits, "mine_before": False}


# -- the real server, in the test's event loop ------------------------------------------------


def ws_connect(anyio_backend: str, url: str, **options: Any) -> Any:
    """The ``websockets`` client for this backend, with its own pings off."""
    if anyio_backend == "trio":
        from websockets.trio.client import connect as connect_client
    else:
        from websockets.asyncio.client import connect as connect_client
    options.setdefault("ping_interval", None)
    options.setdefault("open_timeout", IO_TIMEOUT)
    options.setdefault("close_timeout", IO_TIMEOUT)
    return connect_client(url, **options)


async def close_client(client: Any) -> None:
    """A normal close (1000): ``close()`` on websockets' asyncio client, ``aclose()`` on trio's."""
    await (client.aclose() if hasattr(client, "aclose") else client.close())


def build_live_app() -> MicroReady:
    """What the live tests serve: in-process, under ``python -m microready`` and uvicorn."""

    @contextlib.asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[dict[str, Any]]:
        yield {"server_name": "live"}

    app = MicroReady(lifespan=lifespan)

    @app.websocket("/echo/{room}")
    async def echo(websocket: WebSocket, room: str, upper: bool = False) -> None:
        await websocket.accept()
        await websocket.send_text(f"{room} opened by {websocket.state.server_name}")
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                text = message["text"]
                await websocket.send_text(text.upper() if upper else text)
            else:
                await websocket.send_bytes(message["bytes"])

    @app.websocket("/scope")
    async def scope(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({key: websocket.scope[key] for key in ("root_path", "path")}
                                  | {"url_path": app.url_path_for("scope")})
        await websocket.close()

    @app.websocket("/big")
    async def big(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()  # "go"
        # Said on stderr so a test in another process knows the write has begun.
        print("sending the big message", file=sys.stderr, flush=True)
        await websocket.send_bytes(BIG)
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.receive_text()  # until the shutdown's 1001

    @app.get("/http-only")
    async def http_only() -> dict[str, bool]:
        return {"http": True}

    return app


live_app = build_live_app()


async def test_echo_through_the_real_server(anyio_backend: str) -> None:
    async with serving(build_live_app()) as running, ws_connect(
            anyio_backend, f"ws://127.0.0.1:{running.port}/echo/lobby?upper=true") as client:
        with anyio.fail_after(IO_TIMEOUT):
            assert await client.recv() == "lobby opened by live"
            await client.send("héllo")
            assert await client.recv() == "HÉLLO"
            await client.send(b"\x00\xff")
            assert await client.recv() == b"\x00\xff"
            await close_client(client)
        assert client.close_code == 1000


async def test_http_and_websocket_paths_stay_apart_on_the_wire(anyio_backend: str) -> None:
    async with serving(build_live_app()) as running:
        for path in ("/http-only", "/nowhere"):  # no WebSocket route: refused, HTTP 403
            with anyio.fail_after(IO_TIMEOUT), pytest.raises(InvalidStatus) as refused:
                async with ws_connect(anyio_backend, f"ws://127.0.0.1:{running.port}{path}"):
                    pass
            assert refused.value.response.status_code == 403
        async with connect(running.port) as raw:  # a plain GET to a WebSocket-only path
            await raw.send(request("GET", "/echo/lobby"))
            response = await raw.read_response()
            assert (response.status, response.json()) == (404, {"detail": "Not Found"})
            await raw.send(request("GET", "/http-only"))
            assert (await raw.read_response()).json() == {"http": True}


UPGRADE = ("Upgrade: websocket", "Connection: Upgrade",
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")


@pytest.mark.parametrize(("headers", "status", "extra"), [
    ((*UPGRADE[:2], "Sec-WebSocket-Version: 13"), 400, None),  # no Sec-WebSocket-Key
    ((*UPGRADE, "Sec-WebSocket-Version: 8"), 426, b"13"),  # a version we do not speak
], ids=["no-key", "version-8"])
async def test_a_bad_or_unsupported_upgrade_on_the_wire(
        anyio_backend: str, headers: tuple[str, ...], status: int, extra: bytes | None) -> None:
    async with serving(build_live_app()) as running, connect(running.port) as raw:
        await raw.send(request("GET", "/echo/lobby", *headers))
        response = await raw.read_response()
        assert response.status == status
        assert response.header(b"sec-websocket-version") == extra
        assert response.header(b"connection") == b"close"
        assert await raw.read_until_eof() == b""


# -- python -m microready, with the WebSocket flags ----------------------------------------------


@contextlib.contextmanager
def live_server(*flags: str) -> Iterator[ServerProcess]:
    """``python -m microready tests.app.test_websockets:live_app`` with ``flags``."""
    with server_process(LIVE_APP, "--port", "0", "--app-dir", str(REPO), *flags) as server:
        server.port = server.listening_port()
        yield server


@pytest.fixture(scope="module")
def small_messages() -> Iterator[ServerProcess]:
    with live_server("--ws-max-size", "1024") as server:
        yield server


async def test_ws_max_size_from_the_cli(anyio_backend: str, small_messages: ServerProcess,
                                        ) -> None:
    url = f"ws://127.0.0.1:{small_messages.port}/echo/small"
    async with ws_connect(anyio_backend, url, compression=None) as client:
        with anyio.fail_after(IO_TIMEOUT):
            assert await client.recv() == "small opened by live"
            await client.send(b"x" * 1024)  # exactly the limit passes
            assert await client.recv() == b"x" * 1024
            await client.send(b"x" * 1025)
            with pytest.raises(ConnectionClosed):
                await client.recv()
    assert client.close_code == 1009
    assert client.close_reason == "message larger than 1024 bytes"


async def raw_websocket(port: int, target: str
                        ) -> tuple[anyio.abc.SocketStream, WSConnection, list[Event]]:
    """A handshake by hand: the client then does only what the test says (it never
    answers a ping by itself). Returns the stream, wsproto's client, and the events
    that came in the same reads as the 101 (the first of ``pending``)."""
    stream = await anyio.connect_tcp("127.0.0.1", port)
    client = WSConnection(ConnectionType.CLIENT)
    await stream.send(client.send(Request(host="127.0.0.1", target=target)))
    pending: list[Event] = []
    while not pending:
        client.receive_data(await stream.receive())
        pending = list(client.events())
    assert isinstance(pending[0], AcceptConnection), pending
    return stream, client, pending[1:]


async def next_event(stream: anyio.abc.SocketStream, client: WSConnection,
                     pending: list[Event]) -> Event:
    """The next event from the server; a close is answered (it is then the last)."""
    while not pending:
        try:
            data = await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            raise AssertionError("the server closed the socket without a close frame") from None
        client.receive_data(data)
        pending.extend(client.events())
    event = pending.pop(0)
    if isinstance(event, CloseConnection):
        await stream.send(client.send(event.response()))
    return event


@pytest.fixture(scope="module")
def fast_pings() -> Iterator[ServerProcess]:
    with live_server("--ws-ping-interval", "0.2", "--ws-ping-timeout", "0.6") as server:
        yield server


async def test_ws_ping_interval_and_timeout_from_the_cli(anyio_backend: str,
                                                         fast_pings: ServerProcess) -> None:
    # The defaults (20 s each) would miss every deadline here: these are the flags'.
    with anyio.fail_after(IO_TIMEOUT):
        stream, client, pending = await raw_websocket(fast_pings.port, "/echo/pings")
    async with stream:
        with anyio.fail_after(IO_TIMEOUT):
            greeting = await next_event(stream, client, pending)
            assert isinstance(greeting, TextMessage)
            first = await next_event(stream, client, pending)
            assert isinstance(first, Ping)
            await stream.send(client.send(first.response()))  # answered: the next one comes
            second = await next_event(stream, client, pending)
            assert isinstance(second, Ping)
            assert second.payload != first.payload
            unanswered_at = anyio.current_time()
            closed = await next_event(stream, client, pending)  # this one is never answered
            waited = anyio.current_time() - unanswered_at
    assert closed == CloseConnection(code=1011, reason="keepalive ping timeout")
    assert waited >= 0.3  # about --ws-ping-timeout; the default would be 20 s


@pytest.fixture(scope="module")
def behind_a_proxy() -> Iterator[ServerProcess]:
    with live_server("--root-path", "/api") as server:
        yield server


async def test_root_path_from_the_cli(anyio_backend: str, behind_a_proxy: ServerProcess) -> None:
    # The proxy took /api off: the client's path has none, the app's scope has it
    # (in front of path too, as uvicorn puts it), and routes still match.
    url = f"ws://127.0.0.1:{behind_a_proxy.port}/scope"
    async with ws_connect(anyio_backend, url) as client:
        with anyio.fail_after(IO_TIMEOUT):
            assert await client.recv() == (
                '{"root_path":"/api","path":"/api/scope","url_path":"/scope"}')


async def test_sigterm_closes_open_sockets_1001_after_the_message_being_sent(
        anyio_backend: str) -> None:
    with live_server() as server:
        base = f"ws://127.0.0.1:{server.port}"
        async with ws_connect(anyio_backend, f"{base}/echo/idle") as idle, ws_connect(
                anyio_backend, f"{base}/big", compression=None, max_size=None) as busy:
            with anyio.fail_after(IO_TIMEOUT):
                assert await idle.recv() == "idle opened by live"
                await busy.send("go")
            # Blocking waits: the event loop (so the client) reads nothing meanwhile,
            # and 32 MiB do not fit in the socket buffers, so the server is still
            # writing the message when the signal arrives.
            server.wait_for_log("sending the big message", timeout=IO_TIMEOUT)
            server.send_signal(signal.SIGTERM)
            server.wait_for_log("shutting down", timeout=IO_TIMEOUT)
            with anyio.fail_after(IO_TIMEOUT):
                assert await busy.recv() == BIG
                with pytest.raises(ConnectionClosed):
                    await busy.recv()
                with pytest.raises(ConnectionClosed):
                    await idle.recv()
        assert (busy.close_code, busy.close_reason) == (1001, "server shutting down")
        assert (idle.close_code, idle.close_reason) == (1001, "server shutting down")
        assert server.wait_for_exit(IO_TIMEOUT) == 0


# -- real uvicorn --------------------------------------------------------------------------------


class UvicornProcess(ServerProcess):
    """``python -m uvicorn *args``: ``ServerProcess`` with uvicorn's command (its log
    waits, and ``stop()``, a kill by PID, work the same)."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *args], cwd=REPO, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.extra_pids: list[int] = []
        self.port = 0
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


@pytest.fixture(scope="module")
def uvicorn_server() -> Iterator[ServerProcess]:
    server = UvicornProcess([LIVE_APP, "--port", "0", "--app-dir", str(REPO),
                             "--ws", "wsproto", "--log-level", "info"])
    try:
        server.port = int(server.wait_for_log(
            r"Uvicorn running on http://127\.0\.0\.1:(\d+)", timeout=STARTUP_DEADLINE,
        )[0].group(1))
        yield server
    finally:
        server.stop()


async def test_the_same_echo_under_uvicorn(anyio_backend: str,
                                           uvicorn_server: ServerProcess) -> None:
    url = f"ws://127.0.0.1:{uvicorn_server.port}/echo/lobby?upper=true"
    async with ws_connect(anyio_backend, url) as client:
        with anyio.fail_after(IO_TIMEOUT):
            assert await client.recv() == "lobby opened by live"  # the lifespan ran
            await client.send("héllo")
            assert await client.recv() == "HÉLLO"
            await client.send(b"\x00\xff")
            assert await client.recv() == b"\x00\xff"
            await close_client(client)
    assert client.close_code == 1000


# -- bugs in TestClient.websocket_connect, reported ------------------------------------------


def test_a_closed_test_session_leaves_no_unclosed_stream() -> None:
    app = MicroReady()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with TestClient(app).websocket_connect("/ws") as websocket:
            websocket.send_text("ping")
            assert websocket.receive_text() == "ping"
        del websocket
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []


def test_without_wsproto_the_server_refuses_an_app_with_websocket_routes(
        tmp_path: Path) -> None:
    # An uninstalled extra fails at start-up with one line naming the pip install;
    # an app without WebSocket routes is served as before.
    module = tmp_path / "ws_without_wsproto.py"
    module.write_text(
        "from microready import MicroReady, WebSocket\n"
        "app = MicroReady()\n"
        "@app.websocket('/ws')\n"
        "async def ws(websocket: WebSocket) -> None:\n"
        "    await websocket.accept()\n"
    )
    code = (
        "import sys; sys.modules['wsproto'] = None\n"
        "from microready.server.cli import main\n"
        f"sys.exit(main(['ws_without_wsproto:app', '--app-dir', {str(tmp_path)!r}, "
        "'--port', '0']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        "ERROR:    the app has WebSocket routes, which microready's server speaks through "
        "wsproto: pip install 'microready[websockets]'"
    ]
