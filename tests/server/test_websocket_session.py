"""WebSocketSession over real sockets on 127.0.0.1, with the ``websockets`` library
as the client (its asyncio client on asyncio, its trio client on trio).

The acceptor here is a stand-in for the transport: it reads the request head
with h11 and hands the socket (a ``RawSocketStream``, the server's own) and
the bytes h11 read past the head to the session. Where the client must
misbehave (never answer a ping, stop reading), a raw socket with wsproto's
client side plays it.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import h11
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from wsproto import WSConnection
from wsproto.connection import ConnectionType
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Request

from microready.datastructures import Address
from microready.server import websocket_session
from microready.server.protocol import RequestReceived
from microready.server.socket_stream import RawSocketStream
from microready.server.websocket_session import (
    ClientDisconnected,
    WebSocketSession,
    WebSocketSettings,
    serve_websocket,
    websocket_scope,
)
from microready.websockets import WebSocket, WebSocketDisconnect
from tests.support.live import IO_TIMEOUT

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass
class Served:
    port: int
    sessions: list[WebSocketSession] = field(default_factory=list)
    finished: list[WebSocketSession] = field(default_factory=list)
    app_errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?room=1"

    async def wait_finished(self, count: int = 1) -> None:
        with anyio.fail_after(IO_TIMEOUT):
            while len(self.finished) < count:
                await anyio.sleep(0.005)


async def read_head(stream: anyio.abc.ByteStream) -> tuple[RequestReceived, bytes] | None:
    connection = h11.Connection(h11.SERVER)
    while (event := connection.next_event()) is h11.NEED_DATA:
        try:
            connection.receive_data(await stream.receive())
        except anyio.EndOfStream:
            return None
    assert isinstance(event, h11.Request)
    while connection.next_event() is not h11.PAUSED:  # its EndOfMessage
        pass
    head = RequestReceived(event.method.decode(), event.target, event.http_version.decode(),
                           list(event.headers))
    return head, connection.trailing_data[0]


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, settings: WebSocketSettings | None = None
                  ) -> AsyncIterator[Served]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    served = Served(port=listener.getsockname()[1])

    async def handle(sock: socket.socket) -> None:
        stream = RawSocketStream(sock)
        try:
            read = await read_head(stream)
            if read is None:
                return
            head, trailing_data = read
            client = Address(*sock.getpeername()[:2])
            session = WebSocketSession(stream, head, trailing_data, settings, client=client,
                                       on_app_error=served.app_errors.append)
            served.sessions.append(session)
            scope = websocket_scope(head, client=client,
                                    server=Address("127.0.0.1", served.port))
            await session.run(lambda receive, send: app(scope, receive, send))
            served.finished.append(session)
        finally:
            await stream.aclose()  # run() closed it already, unless cancelled first

    async def accept_connections(task_group: anyio.abc.TaskGroup) -> None:
        while True:
            await anyio.wait_readable(listener)
            with contextlib.suppress(BlockingIOError):
                sock, _ = listener.accept()
                task_group.start_soon(handle, sock)

    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(accept_connections, task_group)
            yield served
            task_group.cancel_scope.cancel()
    finally:
        listener.close()


def connect(anyio_backend: str, url: str, **options: Any) -> Any:
    """The ``websockets`` client for this backend, with its own pings off."""
    if anyio_backend == "trio":
        from websockets.trio.client import connect as connect_client
    else:
        from websockets.asyncio.client import connect as connect_client
    options.setdefault("ping_interval", None)
    options.setdefault("open_timeout", IO_TIMEOUT)
    options.setdefault("close_timeout", IO_TIMEOUT)
    return connect_client(url, **options)


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    websocket = WebSocket(scope, receive, send)
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


# -- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_text_and_bytes_echo(anyio_backend: str, compression: str | None) -> None:
    async with serving(echo) as served, connect(anyio_backend, served.url,
                                                compression=compression) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send("héllo")
            assert await client.recv() == "héllo"
            await client.send(b"\x00\x01\xff")
            assert await client.recv() == b"\x00\x01\xff"
            await client.send(["frag", "ments"])  # one message in two frames
            assert await client.recv() == "fragments"
        assert served.sessions[0].core is not None
        assert served.sessions[0].core.deflate is (compression == "deflate")


async def test_json_through_the_websocket_class(anyio_backend: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        data = await websocket.receive_json()
        await websocket.send_json({"got": data, "room": websocket.query_params["room"]})
        data = await websocket.receive_json(mode="binary")
        await websocket.send_json({"binary": data}, mode="binary")
        await websocket.close()

    async with serving(app) as served, connect(anyio_backend, served.url) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send('{"n": 1, "s": "é"}')
            assert await client.recv() == '{"got":{"n":1,"s":"é"},"room":"1"}'
            await client.send(b'[true]')
            assert await client.recv() == b'{"binary":[true]}'
            with pytest.raises(ConnectionClosed):
                await client.recv()
        assert client.close_code == 1000


async def test_the_scope_subprotocol_and_accept_headers(anyio_backend: str) -> None:
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scopes.append(scope)
        websocket = WebSocket(scope, receive, send)
        await websocket.accept(subprotocol="v2", headers=[(b"x-room", b"1")])
        await websocket.send_text(f"cookie={websocket.cookies['session']}")
        await websocket.close()

    async with serving(app) as served, connect(
        anyio_backend, served.url, subprotocols=["v1", "v2"],
        additional_headers={"Cookie": "session=abc"},
    ) as client:
        with anyio.fail_after(IO_TIMEOUT):
            assert await client.recv() == "cookie=abc"
        assert client.subprotocol == "v2"
        assert client.response.headers["x-room"] == "1"
    [scope] = scopes
    assert scope["type"] == "websocket"
    assert (scope["path"], scope["raw_path"], scope["query_string"]) == ("/ws", b"/ws", b"room=1")
    assert scope["subprotocols"] == ["v1", "v2"]
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ("127.0.0.1", served.port)
    assert (b"cookie", b"session=abc") in scope["headers"]


async def test_a_starlette_websocket_app_runs_unchanged(anyio_backend: str) -> None:
    starlette_websockets = pytest.importorskip("starlette.websockets")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = starlette_websockets.WebSocket(scope, receive, send)
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text.upper())

    async with serving(app) as served, connect(anyio_backend, served.url) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send("shout")
            assert await client.recv() == "SHOUT"


async def test_messages_wait_for_a_slow_app_in_order(anyio_backend: str) -> None:
    # More than the inbox holds: the session stops reading until the app catches up.
    release = anyio.Event()
    received: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await release.wait()
        for _ in range(40):
            received.append(await websocket.receive_bytes())
        await websocket.send_text("done")

    async with serving(app) as served, connect(anyio_backend, served.url,
                                                compression=None) as client:
        with anyio.fail_after(IO_TIMEOUT):
            async with anyio.create_task_group() as task_group:
                async def send_all() -> None:
                    for index in range(40):
                        await client.send(bytes([index]) * (64 * 1024))
                task_group.start_soon(send_all)
                inbox = served.sessions[0]._inbox  # white-box: wait until it is full
                while inbox._size < websocket_session._INBOX_HIGH_WATER:
                    await anyio.sleep(0.005)
                release.set()
            assert await client.recv() == "done"
    assert [message[0] for message in received] == list(range(40))


# -- the maximum message size -----------------------------------------------------------------


async def test_a_message_of_exactly_16_mib_passes(anyio_backend: str) -> None:
    async with serving(echo) as served, connect(anyio_backend, served.url,
                                                max_size=None) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send(b"x" * (16 * MiB))
            assert len(await client.recv()) == 16 * MiB


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_one_byte_over_16_mib_is_closed_1009(anyio_backend: str,
                                                   compression: str | None) -> None:
    disconnects: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        disconnects.append(await receive())

    async with serving(app) as served, connect(anyio_backend, served.url,
                                                compression=compression) as client:
        with anyio.fail_after(IO_TIMEOUT), pytest.raises(ConnectionClosed):
            await client.send(b"x" * (16 * MiB + 1))
            await client.recv()
        assert client.close_code == 1009
        await served.wait_finished()
    assert disconnects == [{"type": "websocket.disconnect", "code": 1009,
                            "reason": f"message larger than {16 * MiB} bytes"}]


# -- keepalive --------------------------------------------------------------------------------


async def raw_client(port: int) -> tuple[anyio.abc.SocketStream, WSConnection, list[Any]]:
    """A handshake done by hand: the client then does only what the test says.
    Returns the stream, wsproto's client, and the events that came with the 101."""
    stream = await anyio.connect_tcp("127.0.0.1", port)
    client = WSConnection(ConnectionType.CLIENT)
    await stream.send(client.send(Request(host="127.0.0.1", target="/ws")))
    while True:
        client.receive_data(await stream.receive())
        found = list(client.events())
        if found:
            assert isinstance(found[0], AcceptConnection), found
            return stream, client, found[1:]


async def read_until_closed(stream: anyio.abc.SocketStream, client: WSConnection) -> list[Any]:
    """Every event until the server closes the socket (a close frame is answered)."""
    found: list[Any] = []
    while True:
        try:
            client.receive_data(await stream.receive())
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return found
        for event in client.events():
            found.append(event)
            if isinstance(event, CloseConnection) and client.state.name == "REMOTE_CLOSING":
                await stream.send(client.send(event.response()))


async def test_an_unanswered_ping_closes_with_1011(anyio_backend: str) -> None:
    disconnects: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        disconnects.append(await receive())

    settings = WebSocketSettings(ping_interval=0.05, ping_timeout=0.1, close_timeout=1.0)
    async with serving(app, settings) as served:
        stream, client, found = await raw_client(served.port)
        with anyio.fail_after(IO_TIMEOUT):
            found += await read_until_closed(stream, client)  # never answering a ping
        await stream.aclose()
        await served.wait_finished()
    assert isinstance(found[0], Ping)
    assert found[-1] == CloseConnection(code=1011, reason="keepalive ping timeout")
    assert disconnects[0]["code"] == 1011


async def test_answered_pings_keep_the_connection_open(anyio_backend: str) -> None:
    settings = WebSocketSettings(ping_interval=0.01, ping_timeout=IO_TIMEOUT)
    async with serving(echo, settings) as served, connect(anyio_backend, served.url) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send("first")
            assert await client.recv() == "first"
            core = served.sessions[0].core
            assert core is not None
            while core.pongs_received < 3:
                await anyio.sleep(0.005)
            await client.send("still here")
            assert await client.recv() == "still here"


# -- the handshake, accepted or not -----------------------------------------------------------


async def status_of_refusal(anyio_backend: str, served: Served) -> int:
    with anyio.fail_after(IO_TIMEOUT), pytest.raises(InvalidStatus) as refused:
        async with connect(anyio_backend, served.url):
            pass
    return int(refused.value.response.status_code)


async def test_close_before_accept_is_http_403(anyio_backend: str) -> None:
    disconnects: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.receive()
        await websocket.close(code=4003)
        disconnects.append(await receive())

    async with serving(app) as served:
        assert await status_of_refusal(anyio_backend, served) == 403
        await served.wait_finished()
    assert disconnects == [{"type": "websocket.disconnect", "code": 4003, "reason": ""}]


async def test_an_app_error_before_accept_is_http_500(anyio_backend: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        raise LookupError("no such room")

    async with serving(app) as served:
        assert await status_of_refusal(anyio_backend, served) == 500
        await served.wait_finished()
    assert [type(error) for error in served.app_errors] == [LookupError]


async def test_an_app_that_returns_without_accepting_is_http_500(anyio_backend: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()

    async with serving(app) as served:
        assert await status_of_refusal(anyio_backend, served) == 500


async def test_an_unsupported_version_is_answered_426(anyio_backend: str) -> None:
    async with serving(echo) as served:
        stream = await anyio.connect_tcp("127.0.0.1", served.port)
        await stream.send(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        response = b""
        with anyio.fail_after(IO_TIMEOUT), contextlib.suppress(anyio.EndOfStream):
            while True:
                response += await stream.receive()
        await stream.aclose()
        assert served.sessions[0].core is None  # the app was never called
    assert response.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nsec-websocket-version: 13\r\n" in response


# -- closing ----------------------------------------------------------------------------------


async def test_an_app_error_after_accept_closes_1011(anyio_backend: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.receive_text()
        raise RuntimeError("boom")

    async with serving(app) as served, connect(anyio_backend, served.url) as client:
        with anyio.fail_after(IO_TIMEOUT), pytest.raises(ConnectionClosed):
            await client.send("trigger")
            await client.recv()
        assert client.close_code == 1011
        await served.wait_finished()
    assert [str(error) for error in served.app_errors] == ["boom"]


async def test_an_app_that_returns_closes_1000(anyio_backend: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.send_text("bye")

    async with serving(app) as served, connect(anyio_backend, served.url) as client:
        with anyio.fail_after(IO_TIMEOUT):
            assert await client.recv() == "bye"
            with pytest.raises(ConnectionClosed):
                await client.recv()
        assert client.close_code == 1000
        await served.wait_finished()


async def test_the_app_closes_with_its_code_and_reason(anyio_backend: str) -> None:
    after_close: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4001, "reason": "room closed"})
        after_close.append(await receive())
        with pytest.raises(RuntimeError, match=r"already sent 'websocket\.close'"):
            await send({"type": "websocket.send", "text": "late"})

    async with serving(app) as served, connect(anyio_backend, served.url) as client:
        with anyio.fail_after(IO_TIMEOUT), pytest.raises(ConnectionClosed):
            await client.recv()
        assert (client.close_code, client.close_reason) == (4001, "room closed")
        await served.wait_finished()
    assert after_close == [{"type": "websocket.disconnect", "code": 4001,
                            "reason": "room closed"}]
    assert served.app_errors == []


async def test_a_client_close_reaches_the_app(anyio_backend: str) -> None:
    caught: list[WebSocketDisconnect] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            caught.append(exc)
        with pytest.raises(WebSocketDisconnect) as late:
            await websocket.send_text("nobody listens")
        caught.append(late.value)

    async with serving(app) as served:
        async with connect(anyio_backend, served.url) as client:
            close = getattr(client, "aclose", None) or client.close  # trio's name, asyncio's
            await close(4002, "leaving")
        await served.wait_finished()
    assert [(exc.code, exc.reason) for exc in caught] == [(4002, "leaving"), (1006, "")]


async def test_a_vanished_client_is_1006_and_sends_raise(anyio_backend: str) -> None:
    outcome: list[object] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        outcome.append(await receive())
        try:
            await send({"type": "websocket.send", "bytes": b"x"})
        except ClientDisconnected as exc:
            outcome.append(exc)

    async with serving(app) as served:
        stream, _, _ = await raw_client(served.port)
        await stream.aclose()  # no close frame
        await served.wait_finished()
    assert outcome[0] == {"type": "websocket.disconnect", "code": 1006, "reason": ""}
    assert isinstance(outcome[1], OSError)


async def test_shutdown_closes_1001(anyio_backend: str) -> None:
    disconnects: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        disconnects.append(await receive())

    async with serving(app) as served, connect(anyio_backend, served.url) as client:
        with anyio.fail_after(IO_TIMEOUT):
            while not served.sessions or served.sessions[0].core is None:
                await anyio.sleep(0.005)
            served.sessions[0].close_for_shutdown()
            with pytest.raises(ConnectionClosed):
                await client.recv()
        assert client.close_code == 1001
        await served.wait_finished()
    assert disconnects == [{"type": "websocket.disconnect", "code": 1001,
                            "reason": "server shutting down"}]


async def test_shutdown_lets_the_message_being_sent_finish(anyio_backend: str) -> None:
    big = bytes(range(256)) * (128 * 1024)  # 32 MiB: far more than the socket buffers hold

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        with contextlib.suppress(OSError):
            await send({"type": "websocket.send", "bytes": big})

    async with serving(app) as served:
        stream, client, found = await raw_client(served.port)
        with anyio.fail_after(IO_TIMEOUT):
            if not found:
                client.receive_data(await stream.receive())  # the message has started
            served.sessions[0].close_for_shutdown()
            found += list(client.events()) + await read_until_closed(stream, client)
        await stream.aclose()
    messages = [event for event in found if isinstance(event, BytesMessage)]
    assert b"".join(bytes(event.data) for event in messages) == big
    assert found[-1] == CloseConnection(code=1001, reason="server shutting down")


# -- the ASGI interface's misuse, and the entry points ---------------------------------------


@contextlib.asynccontextmanager
async def socket_pair() -> AsyncIterator[tuple[RawSocketStream, RawSocketStream]]:
    server_end, client_end = socket.socketpair()
    server, client = RawSocketStream(server_end), RawSocketStream(client_end)
    try:
        yield server, client
    finally:
        await server.aclose()
        await client.aclose()


def client_and_head(**request: Any) -> tuple[WSConnection, RequestReceived]:
    """wsproto's client, and the head of the request it sent, parsed as h11 would."""
    client = WSConnection(ConnectionType.CLIENT)
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(client.send(Request(host="example.com", target="/ws", **request)))
    event = connection.next_event()
    assert isinstance(event, h11.Request)
    return client, RequestReceived(event.method.decode(), event.target,
                                   event.http_version.decode(), list(event.headers))


async def test_misuse_of_the_asgi_interface_is_explained(anyio_backend: str) -> None:
    outcomes: list[str] = []

    async def app(receive: Any, send: Any) -> None:
        async def attempt(call: Callable[[], Awaitable[Any]]) -> None:
            try:
                await call()
            except (RuntimeError, ValueError) as exc:
                outcomes.append(f"{type(exc).__name__}: {exc}")

        assert await receive() == {"type": "websocket.connect"}
        await attempt(receive)
        await attempt(lambda: send({"type": "websocket.send", "text": "early"}))
        await attempt(lambda: send({"type": "websocket.accept", "subprotocol": "v9"}))
        await send({"type": "websocket.accept", "subprotocol": "v1"})
        await attempt(lambda: send({"type": "websocket.accept"}))
        await attempt(lambda: send({"type": "websocket.send"}))
        await attempt(lambda: send({"type": "websocket.send", "text": "a", "bytes": b"b"}))
        await attempt(lambda: send({"type": "websocket.close", "code": 1006}))
        await attempt(lambda: send({"type": "http.response.start"}))
        await send({"type": "websocket.close", "code": 4000})

    client, head = client_and_head(subprotocols=["v1"])
    async with socket_pair() as (server_end, client_end):
        with anyio.fail_after(IO_TIMEOUT):
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(serve_websocket, server_end, head, b"",
                                      WebSocketSettings(), app)
                found = await read_until_closed(client_end, client)  # type: ignore[arg-type]
                await client_end.aclose()  # the server lingers until the client closes too
    assert isinstance(found[0], AcceptConnection) and found[0].subprotocol == "v1"
    assert found[-1] == CloseConnection(code=4000, reason="")
    assert outcomes == [
        "RuntimeError: answer 'websocket.connect' first: send 'websocket.accept' "
        "(or 'websocket.close' to refuse), then receive",
        "RuntimeError: expected 'websocket.accept' or 'websocket.close' to answer "
        "'websocket.connect', got 'websocket.send'",
        "ValueError: subprotocol 'v9' was not offered by the client (it offered ['v1'])",
        "RuntimeError: expected 'websocket.send' or 'websocket.close', got 'websocket.accept' "
        "(the connection is already accepted)",
        "ValueError: 'websocket.send' needs exactly one of 'text' or 'bytes'",
        "ValueError: 'websocket.send' needs exactly one of 'text' or 'bytes'",
        "ValueError: 1006 is not a close code an endpoint may send: use 1000-1003, 1007-1014 "
        "or an application code in 3000-4999",
        "RuntimeError: expected 'websocket.send' or 'websocket.close', got "
        "'http.response.start'",
    ]


async def test_the_access_log_names_the_outcome(anyio_backend: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    async def app(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    client, head = client_and_head()
    caplog.set_level("INFO", logger="microready.access")
    async with socket_pair() as (server_end, client_end):
        with anyio.fail_after(IO_TIMEOUT):
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(
                    lambda: serve_websocket(server_end, head, b"", WebSocketSettings(), app,
                                            client=Address("10.0.0.9", 4321)))
                await read_until_closed(client_end, client)  # type: ignore[arg-type]
                await client_end.aclose()
    assert '10.0.0.9:4321 - "WebSocket /ws" [accepted]' in caplog.messages


def test_the_scope_carries_root_path_and_a_copy_of_the_lifespan_state() -> None:
    state = {"db": "pool"}
    head = RequestReceived("GET", b"/a%20b?x=1", "1.1",
                           [(b"host", b"h"), (b"sec-websocket-protocol", b"v1, v2")])
    scope = websocket_scope(head, client=None, server=None, root_path="/api", state=state)
    assert (scope["path"], scope["raw_path"], scope["root_path"]) == (
        "/api/a b", b"/api/a%20b", "/api")
    assert (scope["client"], scope["server"], scope["subprotocols"]) == (None, None, ["v1", "v2"])
    assert scope["state"] == state and scope["state"] is not state
    assert "state" not in websocket_scope(head, client=None, server=None)
