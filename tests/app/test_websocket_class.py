"""The WebSocket class over in-memory ASGI messages (no server, no socket).

A ``Peer`` plays the server: the messages the client "sent" are queued for
``receive``, and what the app sends is recorded, so every state transition and
every misuse message can be checked exactly.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from microready.datastructures import Address
from microready.websockets import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketState,
)
from tests.test_architecture import ROOT, read_imports

pytestmark = pytest.mark.anyio

CONNECT = {"type": "websocket.connect"}


def text(value: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": value, "bytes": None}


def data(value: bytes) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": None, "bytes": value}


def disconnect(code: int = 1000, reason: str = "") -> dict[str, Any]:
    return {"type": "websocket.disconnect", "code": code, "reason": reason}


class Peer:
    """The server side of the ASGI conversation, in memory."""

    def __init__(self, *incoming: dict[str, Any], send_error: Exception | None = None) -> None:
        self.incoming = list(incoming)
        self.sent: list[dict[str, Any]] = []
        self.send_error = send_error

    async def receive(self) -> dict[str, Any]:
        await anyio.lowlevel.checkpoint()
        if not self.incoming:
            raise AssertionError("the app received more messages than the test queued")
        return self.incoming.pop(0)

    async def send(self, message: Any) -> None:
        await anyio.lowlevel.checkpoint()
        if self.send_error is not None and message["type"] == "websocket.send":
            raise self.send_error
        self.sent.append(dict(message))


def scope(**extra: Any) -> dict[str, Any]:
    return {
        "type": "websocket", "path": "/chat/room 1", "raw_path": b"/chat/room%201",
        "query_string": b"token=a&tag=x&tag=y", "headers": [
            (b"host", b"example.com"), (b"cookie", b"session=abc; theme=dark"),
            (b"x-trace", b"7")],
        "client": ("10.0.0.1", 5000), "subprotocols": ["v1"], **extra,
    }


def websocket(*incoming: dict[str, Any], **peer_options: Any) -> tuple[WebSocket, Peer]:
    peer = Peer(*incoming, **peer_options)
    return WebSocket(scope(), peer.receive, peer.send), peer


# -- the handshake ----------------------------------------------------------------------------


async def test_accept_answers_the_connect_message() -> None:
    ws, peer = websocket(CONNECT)
    assert (ws.client_state, ws.application_state) == (WebSocketState.CONNECTING,) * 2
    await ws.accept(subprotocol="v1", headers=[(b"x-room", b"1")])
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": "v1",
                          "headers": [(b"x-room", b"1")]}]
    assert (ws.client_state, ws.application_state) == (WebSocketState.CONNECTED,) * 2


async def test_accept_after_receiving_the_connect_message_itself() -> None:
    ws, peer = websocket(CONNECT)
    assert await ws.receive() == CONNECT
    await ws.accept()
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]


async def test_close_before_accept_refuses_the_connection() -> None:
    ws, peer = websocket(CONNECT)
    await ws.receive()
    await ws.close()
    assert peer.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]
    assert ws.application_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match='once a close message has been sent'):
        await ws.send_text("late")


async def test_sending_before_accept_says_to_accept() -> None:
    ws, _ = websocket(CONNECT)
    with pytest.raises(RuntimeError, match=r'call "await websocket.accept\(\)" first'):
        await ws.send_text("too early")


async def test_receiving_data_before_accept_says_to_accept() -> None:
    ws, _ = websocket(CONNECT)
    with pytest.raises(RuntimeError, match=r'not connected: call "await websocket.accept\(\)"'):
        await ws.receive_text()


async def test_the_first_message_must_be_connect() -> None:
    ws, _ = websocket(text("no connect"))
    with pytest.raises(RuntimeError, match=r'Expected ASGI message "websocket\.connect"'):
        await ws.receive()


# -- messages ---------------------------------------------------------------------------------


async def test_text_bytes_and_json_in_both_directions() -> None:
    ws, peer = websocket(CONNECT, text("hi"), data(b"\x00"), text('{"a": [1, "é"]}'),
                         data(b'{"b": null}'))
    await ws.accept()
    assert await ws.receive_text() == "hi"
    assert await ws.receive_bytes() == b"\x00"
    assert await ws.receive_json() == {"a": [1, "é"]}
    assert await ws.receive_json(mode="binary") == {"b": None}
    await ws.send_text("t")
    await ws.send_bytes(b"b")
    await ws.send_json({"x": "é", "y": [1, 2]})
    await ws.send_json([True], mode="binary")
    assert peer.sent[1:] == [
        {"type": "websocket.send", "text": "t"},
        {"type": "websocket.send", "bytes": b"b"},
        {"type": "websocket.send", "text": '{"x":"é","y":[1,2]}'},  # compact, not escaped
        {"type": "websocket.send", "bytes": b"[true]"},
    ]


async def test_a_message_with_only_its_own_key_is_read() -> None:
    # uvicorn's wsproto server sends {"type": ..., "text": ...} with no "bytes" key.
    ws, _ = websocket(CONNECT, {"type": "websocket.receive", "text": "lean"})
    await ws.accept()
    assert await ws.receive_text() == "lean"


@pytest.mark.parametrize(("message", "method", "hint"), [
    (data(b"x"), "receive_text", "receive_bytes"),
    (text("x"), "receive_bytes", "receive_text"),
])
async def test_the_wrong_kind_of_message_names_the_right_call(
    message: dict[str, Any], method: str, hint: str,
) -> None:
    ws, _ = websocket(CONNECT, message)
    await ws.accept()
    with pytest.raises(RuntimeError, match=f'use "{hint}\\(\\)"'):
        await getattr(ws, method)()


@pytest.mark.parametrize("call", ["receive_json", "send_json"])
async def test_json_mode_is_text_or_binary(call: str) -> None:
    ws, _ = websocket(CONNECT)
    await ws.accept()
    arguments = (1, "utf8") if call == "send_json" else ("utf8",)
    with pytest.raises(RuntimeError, match='"mode" argument should be "text" or "binary"'):
        await getattr(ws, call)(*arguments)


# -- disconnecting ----------------------------------------------------------------------------


async def test_a_disconnect_raises_websocketdisconnect_with_its_code() -> None:
    ws, _ = websocket(CONNECT, disconnect(4001, "gone"))
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.receive_text()
    assert (caught.value.code, caught.value.reason) == (4001, "gone")
    assert ws.client_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match='once a disconnect message has been received'):
        await ws.receive_text()


async def test_a_disconnect_without_a_code_is_1005() -> None:
    ws, _ = websocket(CONNECT, {"type": "websocket.disconnect"})
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.receive_bytes()
    assert (caught.value.code, caught.value.reason) == (1005, "")


@pytest.mark.parametrize(("method", "messages", "expected"), [
    ("iter_text", [text("a"), text("b")], ["a", "b"]),
    ("iter_bytes", [data(b"a")], [b"a"]),
    ("iter_json", [text("1"), text('{"k": 2}')], [1, {"k": 2}]),
])
async def test_iterating_ends_quietly_at_the_disconnect(
    method: str, messages: list[dict[str, Any]], expected: list[Any],
) -> None:
    ws, _ = websocket(CONNECT, *messages, disconnect())
    await ws.accept()
    assert [item async for item in getattr(ws, method)()] == expected
    assert ws.client_state is WebSocketState.DISCONNECTED


async def test_close_after_accept_sends_code_and_reason() -> None:
    ws, peer = websocket(CONNECT)
    await ws.accept()
    await ws.close(code=4000, reason="bye")
    assert peer.sent[-1] == {"type": "websocket.close", "code": 4000, "reason": "bye"}
    assert ws.application_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match="once a close message has been sent"):
        await ws.send_bytes(b"x")
    with pytest.raises(RuntimeError, match=r"WebSocket is closed \(by close\(\)"):
        await ws.receive_text()


async def test_a_send_the_server_cannot_deliver_is_a_1006_disconnect() -> None:
    ws, _ = websocket(CONNECT, send_error=ConnectionResetError("peer gone"))
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.send_text("lost")
    assert caught.value.code == 1006
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_an_unexpected_message_type_is_refused() -> None:
    ws, _ = websocket(CONNECT, {"type": "http.request"})
    await ws.accept()
    with pytest.raises(RuntimeError, match=r'"websocket\.receive" or "websocket\.disconnect"'):
        await ws.receive()
    with pytest.raises(RuntimeError, match='use "send_text", "send_bytes", "send_json"'):
        await ws.send({"type": "websocket.accept"})


# -- what the connection carries --------------------------------------------------------------


def test_the_scope_is_read_as_request_reads_it() -> None:
    ws = WebSocket(scope(state={"db": "conn"}, app="the app", path_params={"room": "1"}),
                   Peer().receive, Peer().send)
    assert (ws.url.path, ws.url.query, str(ws.url)) == (
        "/chat/room 1", "token=a&tag=x&tag=y", "/chat/room 1?token=a&tag=x&tag=y")
    assert ws.headers["X-Trace"] == "7"
    assert ws.query_params["token"] == "a"
    assert ws.query_params.getlist("tag") == ["x", "y"]
    assert ws.path_params == {"room": "1"}
    assert ws.cookies == {"session": "abc", "theme": "dark"}
    assert ws.client == Address("10.0.0.1", 5000)
    assert ws.app == "the app"
    assert ws.state.db == "conn"
    ws.state.user = "ann"
    assert ws.state.user == "ann"
    assert "user" not in ws.scope["state"]  # a copy, as Request.state is


def test_missing_parts_of_the_scope_have_defaults() -> None:
    ws = WebSocket({"type": "websocket"}, Peer().receive, Peer().send)
    assert ws.client is None
    assert ws.path_params == {}
    assert ws.cookies == {}
    assert str(ws.url) == "/"
    assert not ws.query_params
    with pytest.raises(AttributeError, match="state has no attribute 'db'"):
        _ = ws.state.db


def test_a_malformed_cookie_header_is_ignored() -> None:
    peer = Peer()
    ws = WebSocket(scope(headers=[(b"cookie", b'bad"cookie'), (b"cookie", b"ok=1")]),
                   peer.receive, peer.send)
    assert ws.cookies == {"ok": "1"}


def test_only_a_websocket_scope_makes_a_websocket() -> None:
    with pytest.raises(ValueError, match="needs a 'websocket' scope, not 'http'"):
        WebSocket({"type": "http"}, Peer().receive, Peer().send)


def test_the_exceptions_read_as_fastapis() -> None:
    default = WebSocketDisconnect()
    assert (default.code, default.reason) == (1000, "")
    assert repr(WebSocketDisconnect(1001, "away")) == (
        "WebSocketDisconnect(code=1001, reason='away')")
    error = WebSocketException(1008, "policy")
    assert (error.code, error.reason, str(error)) == (1008, "policy", "1008: policy")
    assert repr(WebSocketException(1011)) == "WebSocketException(code=1011, reason='')"


def test_the_module_never_imports_the_server() -> None:
    imports = [imp for imp in read_imports(ROOT) if imp.importer == "microready.websockets"]
    assert imports  # the scan saw the module
    assert not [imp.statement for imp in imports
                if imp.target.startswith(("microready.server", "microready.testing", "wsproto"))]
