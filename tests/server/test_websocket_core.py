"""The WebSocket core in memory: the handshake, then frames in and events out.

The client is wsproto's own client side, or raw bytes where a client must
misbehave. No sockets, no event loop: time is the number a test passes, so
every keepalive deadline is checked exactly, without sleeping.
"""

from __future__ import annotations

import base64
import struct
import tracemalloc

import h11
import pytest
from wsproto import WSConnection
from wsproto.connection import Connection, ConnectionType
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

from microready.server.protocol import NEED_DATA, RequestReceived
from microready.server.protocol import websocket as ws
from microready.server.protocol.websocket import (
    APP_FAILED,
    REFUSED,
    BytesReceived,
    Disconnected,
    Handshake,
    HandshakeRejection,
    TextReceived,
    WebSocketClosed,
    WebSocketCore,
    WebSocketSettings,
    read_handshake,
    wants_websocket,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3's example
UPGRADE = [(b"host", b"example.com"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
           (b"sec-websocket-key", KEY), (b"sec-websocket-version", b"13")]


def head(headers: list[tuple[bytes, bytes]] = UPGRADE, method: str = "GET",
         http_version: str = "1.1") -> RequestReceived:
    return RequestReceived(method, b"/ws", http_version, headers)


def replace(name: bytes, value: bytes | None) -> list[tuple[bytes, bytes]]:
    """UPGRADE with header ``name`` set to ``value`` (or removed, for None)."""
    kept = [(n, v) for n, v in UPGRADE if n != name]
    return kept if value is None else [*kept, (name, value)]


def parse_head(data: bytes) -> RequestReceived:
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    event = server.next_event()
    assert isinstance(event, h11.Request)
    return RequestReceived(event.method.decode(), event.target, event.http_version.decode(),
                           list(event.headers))


def open_pair(settings: WebSocketSettings | None = None, *, deflate: bool = False,
              subprotocols: tuple[str, ...] = (), choose: str | None = None,
              now: float = 0.0) -> tuple[WSConnection, WebSocketCore]:
    """A wsproto client and our core, through a real handshake."""
    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="example.com", target="/ws",
                                  subprotocols=list(subprotocols),
                                  extensions=[PerMessageDeflate()] if deflate else []))
    handshake = read_handshake(parse_head(request))
    assert isinstance(handshake, Handshake)
    response, core = handshake.accept(choose, settings=settings or WebSocketSettings(), now=now)
    client.receive_data(response)
    accepted = list(client.events())
    assert len(accepted) == 1 and isinstance(accepted[0], AcceptConnection), accepted
    assert accepted[0].subprotocol == choose
    return client, core


def events(core: WebSocketCore) -> list[object]:
    found: list[object] = []
    while (event := core.next_event()) is not NEED_DATA:
        found.append(event)
    return found


def to_client(client: WSConnection, core: WebSocketCore, data: bytes = b"") -> list[Event]:
    """What the client makes of ``data`` plus what the core answered by itself."""
    client.receive_data(data + core.data_to_send())
    return list(client.events())


def masked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One client frame, built by hand (payload under 126 bytes, mask of zeros)."""
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


# -- recognising and checking the upgrade -----------------------------------------------------


@pytest.mark.parametrize(("value", "wanted"), [
    (b"websocket", True), (b"WebSocket", True), (b"h2c, websocket", True),
    (b"websocketx", False), (b"h2c", False),
])
def test_wants_websocket_reads_the_upgrade_tokens(value: bytes, wanted: bool) -> None:
    assert wants_websocket([(b"host", b"x"), (b"upgrade", value)]) is wanted


def test_a_request_without_upgrade_does_not_want_websocket() -> None:
    assert not wants_websocket([(b"host", b"x"), (b"connection", b"upgrade")])


def test_a_valid_handshake_is_read_whole() -> None:
    handshake = read_handshake(head([
        *UPGRADE, (b"connection", b"keep-alive, Upgrade"),
        (b"sec-websocket-protocol", b"chat, superchat"), (b"sec-websocket-protocol", b"v2"),
        (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits, x-foo"),
    ]))
    assert handshake == Handshake(
        key=KEY, subprotocols=("chat", "superchat", "v2"),
        extension_offers=("permessage-deflate; client_max_window_bits", "x-foo"))


@pytest.mark.parametrize(("request_head", "why"), [
    (head(method="POST"), "must be a GET"),
    (head(http_version="1.0"), "needs HTTP/1.1"),
    (head(replace(b"connection", None)), "Connection: Upgrade"),
    (head(replace(b"connection", b"keep-alive")), "Connection: Upgrade"),
    (head(replace(b"sec-websocket-version", None)), "missing Sec-WebSocket-Version"),
    (head(replace(b"sec-websocket-key", None)), "exactly one Sec-WebSocket-Key"),
    (head([*UPGRADE, (b"sec-websocket-key", KEY)]), "exactly one Sec-WebSocket-Key"),
    (head(replace(b"sec-websocket-key", b"not base64!")), "16 bytes in base64"),
    (head(replace(b"sec-websocket-key", base64.b64encode(b"x" * 15))), "16 bytes in base64"),
    (head([*UPGRADE, (b"content-length", b"5")]), "has no body"),
    (head([*UPGRADE, (b"transfer-encoding", b"chunked")]), "has no body"),
], ids=["post", "http-1.0", "no-connection", "connection-without-upgrade", "no-version",
        "no-key", "two-keys", "key-not-base64", "key-of-15-bytes", "content-length", "chunked"])
def test_a_malformed_handshake_is_answered_400(request_head: RequestReceived, why: str) -> None:
    rejection = read_handshake(request_head)
    assert isinstance(rejection, HandshakeRejection)
    assert rejection.status_code == 400
    assert why in rejection.reason


def test_an_empty_content_length_is_no_body() -> None:
    assert isinstance(read_handshake(head([*UPGRADE, (b"content-length", b"0")])), Handshake)


@pytest.mark.parametrize("version", [b"8", b"13, 8", b"14"])
def test_another_version_is_answered_426_naming_version_13(version: bytes) -> None:
    rejection = read_handshake(head(replace(b"sec-websocket-version", version)))
    assert isinstance(rejection, HandshakeRejection)
    date = b"Wed, 18 Nov 2026 11:06:40 GMT"
    response, _ = parse_response(
        rejection.response_bytes([(b"date", date), (b"server", b"microready")]))
    assert response.status_code == 426
    assert (b"sec-websocket-version", b"13") in response.headers
    assert (b"date", b"Wed, 18 Nov 2026 11:06:40 GMT") in response.headers


def parse_response(data: bytes) -> tuple[h11.Response, bytes]:
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[(b"host", b"x")]))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    response = client.next_event()
    assert isinstance(response, h11.Response)
    body = client.next_event()
    assert isinstance(body, h11.Data)
    return response, bytes(body.data)


@pytest.mark.parametrize(("rejection", "status"), [(REFUSED, 403), (APP_FAILED, 500)])
def test_the_rejections_after_the_offer_are_complete_responses(
    rejection: HandshakeRejection, status: int,
) -> None:
    response, body = parse_response(rejection.response_bytes())
    assert response.status_code == status
    assert (b"connection", b"close") in response.headers
    assert (b"content-type", b"text/plain; charset=utf-8") in response.headers
    assert body.startswith(b"%d " % status)
    assert not any(name == b"date" for name, _ in response.headers)


# -- accepting --------------------------------------------------------------------------------


def accept_response(handshake: Handshake, *args: object, **kwargs: object) -> bytes:
    response, _ = handshake.accept(*args, settings=WebSocketSettings(), now=0.0,  # type: ignore[arg-type]
                                   **kwargs)
    return response


def test_the_101_carries_rfc_6455s_accept_token() -> None:
    handshake = read_handshake(head())
    assert isinstance(handshake, Handshake)
    response = accept_response(handshake)
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in response
    assert b"\r\nupgrade: websocket\r\n" in response
    assert b"\r\nconnection: Upgrade\r\n" in response
    assert response.endswith(b"\r\n\r\n")
    assert b"sec-websocket-extensions" not in response  # no offer, no deflate


def test_the_app_picks_an_offered_subprotocol() -> None:
    client, _ = open_pair(subprotocols=("chat", "v2"), choose="v2")
    assert client.state.name == "OPEN"


def test_a_subprotocol_the_client_did_not_offer_is_refused() -> None:
    handshake = read_handshake(head([*UPGRADE, (b"sec-websocket-protocol", b"chat")]))
    assert isinstance(handshake, Handshake)
    with pytest.raises(ValueError, match=r"'v9' was not offered by the client.*\['chat'\]"):
        accept_response(handshake, "v9")


def test_extra_headers_from_the_app_are_sent() -> None:
    handshake = read_handshake(head())
    assert isinstance(handshake, Handshake)
    response = accept_response(handshake, None, [(b"Set-Cookie", b"a=1"), ("x-trace", "7")])
    assert b"\r\nset-cookie: a=1\r\n" in response
    assert b"\r\nx-trace: 7\r\n" in response


@pytest.mark.parametrize(("header", "message"), [
    ((b"sec-websocket-accept", b"forged"), "sets 'sec-websocket-accept' itself"),
    ((b"Connection", b"close"), "sets 'connection' itself"),
    ((b"x-a", b"1\r\nx-b: 2"), "contains CR, LF or NUL"),
    ((b"bad name", b"1"), "not a valid header name"),
    ((b"", b"1"), "not a valid header name"),
])
def test_extra_headers_that_would_break_the_handshake_are_refused(
    header: tuple[bytes, bytes], message: str,
) -> None:
    handshake = read_handshake(head())
    assert isinstance(handshake, Handshake)
    with pytest.raises(ValueError, match=message):
        accept_response(handshake, None, [header])


def test_permessage_deflate_is_negotiated_when_offered() -> None:
    client, core = open_pair(deflate=True)
    assert core.deflate
    frame = core.send_text("hello " * 100)
    assert len(frame) < 100  # compressed on the wire
    assert [e.data for e in to_client(client, core, frame)] == ["hello " * 100]  # type: ignore[attr-defined]
    core.receive_data(client.send(TextMessage(data="back " * 100)))
    assert events(core) == [TextReceived("back " * 100)]


def test_deflate_can_be_turned_off() -> None:
    client, core = open_pair(WebSocketSettings(per_message_deflate=False), deflate=True)
    assert not core.deflate
    core.receive_data(client.send(TextMessage(data="plain")))
    assert events(core) == [TextReceived("plain")]


@pytest.mark.parametrize("offers", [
    b"permessage-deflate; client_max_window_bits=abc",
    b"permessage-deflate; server_max_window_bits=8",
    b"x-webkit-deflate-frame",
])
def test_a_deflate_offer_wsproto_cannot_honour_is_declined(offers: bytes) -> None:
    handshake = read_handshake(head([*UPGRADE, (b"sec-websocket-extensions", offers)]))
    assert isinstance(handshake, Handshake)
    response, core = handshake.accept(settings=WebSocketSettings(), now=0.0)
    assert b"sec-websocket-extensions" not in response
    assert not core.deflate


def test_the_first_deflate_offer_that_works_wins() -> None:
    handshake = read_handshake(head([*UPGRADE, (
        b"sec-websocket-extensions",
        b"permessage-deflate; server_max_window_bits=8, permessage-deflate; "
        b"client_max_window_bits")]))
    assert isinstance(handshake, Handshake)
    response, core = handshake.accept(settings=WebSocketSettings(), now=0.0)
    assert (b"\r\nsec-websocket-extensions: permessage-deflate; client_max_window_bits=15\r\n"
            in response)
    assert core.deflate


def test_bytes_read_past_the_head_are_the_first_frames() -> None:
    handshake = read_handshake(head())
    assert isinstance(handshake, Handshake)
    _, core = handshake.accept(settings=WebSocketSettings(), now=0.0,
                               trailing_data=masked(0x1, b"early"))
    assert events(core) == [TextReceived("early")]


def test_without_wsproto_accepting_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    handshake = read_handshake(head())
    assert isinstance(handshake, Handshake)
    monkeypatch.setattr(ws, "WSPROTO_AVAILABLE", False)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'microready\[websockets\]'"):
        accept_response(handshake)
    with pytest.raises(ModuleNotFoundError, match="wsproto"):
        WebSocketCore(WebSocketSettings(), 0.0)


@pytest.mark.parametrize("bad", [
    {"max_size": 0}, {"ping_interval": 0}, {"ping_timeout": -1.0}, {"close_timeout": 0},
])
def test_settings_refuse_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        WebSocketSettings(**bad)  # type: ignore[arg-type]


# -- messages ---------------------------------------------------------------------------------


def test_text_and_bytes_messages_come_out_whole() -> None:
    client, core = open_pair()
    core.receive_data(client.send(TextMessage(data="héllo"))
                      + client.send(BytesMessage(data=b"\x00\xff")))
    assert events(core) == [TextReceived("héllo"), BytesReceived(b"\x00\xff")]


def test_a_message_fed_one_byte_at_a_time_comes_out_once() -> None:
    client, core = open_pair()
    data = client.send(TextMessage(data="slowly, ünicode"))
    found: list[object] = []
    for index in range(len(data)):
        core.receive_data(data[index:index + 1])
        found += events(core)
    assert found == [TextReceived("slowly, ünicode")]


def test_fragments_are_reassembled_and_a_ping_between_them_is_answered() -> None:
    client, core = open_pair()
    core.receive_data(client.send(BytesMessage(data=b"one ", message_finished=False))
                      + client.send(Ping(payload=b"mid"))
                      + client.send(BytesMessage(data=b"two ", message_finished=False))
                      + client.send(BytesMessage(data=b"three", message_finished=True)))
    assert events(core) == [BytesReceived(b"one two three")]
    assert to_client(client, core) == [Pong(payload=b"mid")]


def test_text_fragments_are_reassembled() -> None:
    client, core = open_pair()
    core.receive_data(client.send(TextMessage(data="a", message_finished=False))
                      + client.send(TextMessage(data="é", message_finished=True)))
    assert events(core) == [TextReceived("aé")]


def test_outgoing_messages_reach_the_client() -> None:
    client, core = open_pair()
    got = to_client(client, core, core.send_text("hi") + core.send_bytes(memoryview(b"\x01")))
    assert [(type(e), e.data) for e in got] == [  # type: ignore[attr-defined]
        (TextMessage, "hi"), (BytesMessage, b"\x01")]


# -- the maximum message size -----------------------------------------------------------------


@pytest.mark.parametrize("fragments", [1, 4])
def test_a_message_of_exactly_max_size_passes(fragments: int) -> None:
    client, core = open_pair(WebSocketSettings(max_size=1000))
    piece = 1000 // fragments
    data = b"".join(
        client.send(BytesMessage(data=b"x" * piece, message_finished=i == fragments - 1))
        for i in range(fragments))
    core.receive_data(data)
    assert events(core) == [BytesReceived(b"x" * 1000)]


@pytest.mark.parametrize("fragments", [1, 3])
def test_one_byte_more_fails_the_connection_with_1009(fragments: int) -> None:
    client, core = open_pair(WebSocketSettings(max_size=1000))
    sizes = [334, 334, 333][:fragments] if fragments == 3 else [1001]
    data = b"".join(
        client.send(BytesMessage(data=b"x" * size, message_finished=i == len(sizes) - 1))
        for i, size in enumerate(sizes))
    core.receive_data(data + client.send(TextMessage(data="never read")))
    assert events(core) == [Disconnected(1009, "message larger than 1000 bytes")]
    assert core.closed
    assert to_client(client, core) == [
        CloseConnection(code=1009, reason="message larger than 1000 bytes")]
    core.receive_data(b"ignored once closed")
    assert events(core) == []


def test_text_is_measured_in_utf8_bytes() -> None:
    client, core = open_pair(WebSocketSettings(max_size=4))
    core.receive_data(client.send(TextMessage(data="éé")))
    assert events(core) == [TextReceived("éé")]
    core.receive_data(client.send(TextMessage(data="ééa")))
    assert events(core) == [Disconnected(1009, "message larger than 4 bytes")]


def test_a_deflate_bomb_is_stopped_near_the_limit() -> None:
    # 64 MiB of zeros compress to about 64 KiB. wsproto inflates whatever it is
    # fed at once, so the core feeds it 4 KiB at a time and checks the size in
    # between: the message is refused with at most a few MiB ever inflated.
    client, core = open_pair(WebSocketSettings(max_size=1024 * 1024), deflate=True)
    bomb = client.send(BytesMessage(data=bytes(64 * 1024 * 1024)))
    assert len(bomb) < 128 * 1024
    tracemalloc.start()
    try:
        core.receive_data(bomb)
        found = events(core)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == [Disconnected(1009, "message larger than 1048576 bytes")]
    assert peak < 10 * 1024 * 1024, peak


# -- control frames and errors ----------------------------------------------------------------


def test_a_ping_is_answered_with_its_payload() -> None:
    client, core = open_pair()
    core.receive_data(client.send(Ping(payload=b"are you there")))
    assert events(core) == []
    assert to_client(client, core) == [Pong(payload=b"are you there")]


@pytest.mark.parametrize(("frame", "code"), [
    (b"\x81\x01a", 1002),  # unmasked: a client must mask
    (masked(0x3, b""), 1002),  # a reserved opcode
    (masked(0x1, b"\xff\xfe"), 1007),  # not UTF-8
    (masked(0x9, b"x", fin=False), 1002),  # a fragmented ping
    (masked(0x0, b"x"), 1002),  # a continuation of nothing
])
def test_a_broken_frame_fails_the_connection_with_its_code(frame: bytes, code: int) -> None:
    client, core = open_pair()
    core.receive_data(frame)
    found = events(core)
    assert len(found) == 1 and isinstance(found[0], Disconnected)
    assert found[0].code == code
    assert core.closed
    closes = to_client(client, core)
    assert len(closes) == 1 and isinstance(closes[0], CloseConnection)
    assert closes[0].code == code


def test_end_of_stream_is_1006() -> None:
    client, core = open_pair()
    core.receive_data(client.send(TextMessage(data="half", message_finished=False)))
    core.receive_data(b"")
    assert events(core) == [Disconnected(1006, "")]
    assert core.closed
    assert core.data_to_send() == b""


# -- the closing handshake --------------------------------------------------------------------


def test_a_client_close_is_echoed_and_reported() -> None:
    client, core = open_pair()
    core.receive_data(client.send(CloseConnection(code=4001, reason="bye")))
    assert events(core) == [Disconnected(4001, "bye")]
    assert core.closed
    assert to_client(client, core) == [CloseConnection(code=4001, reason="bye")]
    assert client.state.name == "CLOSED"
    with pytest.raises(WebSocketClosed, match="closed"):
        core.send_text("too late")


def test_a_close_without_a_code_is_1005() -> None:
    _, core = open_pair()
    core.receive_data(masked(0x8, b""))
    assert events(core) == [Disconnected(1005, "")]
    assert core.data_to_send() == b"\x88\x00"  # echoed without a code, as it came


def test_a_server_close_waits_for_the_clients_answer() -> None:
    client, core = open_pair(WebSocketSettings(close_timeout=3.0))
    in_flight = client.send(TextMessage(data="sent before our close arrived: dropped"))
    frame = core.close(4000, "done", now=10.0)
    assert not core.is_open and not core.closed
    assert core.timer_deadline == 13.0
    assert to_client(client, core, frame) == [CloseConnection(code=4000, reason="done")]
    with pytest.raises(WebSocketClosed, match="closing"):
        core.send_bytes(b"x")
    core.receive_data(in_flight + client.send(CloseConnection(code=4000, reason="done")))
    assert events(core) == [Disconnected(4000, "done")]
    assert core.closed
    assert core.timer_deadline is None


def test_a_server_close_gives_up_after_close_timeout() -> None:
    _, core = open_pair(WebSocketSettings(close_timeout=3.0))
    core.close(now=10.0)
    core.on_timer(12.9)
    assert events(core) == []
    core.on_timer(13.0)
    assert events(core) == [Disconnected(1006, "the client did not answer our close in time")]
    assert core.closed


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2000, 5000])
def test_close_refuses_codes_an_endpoint_may_not_send(code: int) -> None:
    _, core = open_pair()
    with pytest.raises(ValueError, match=f"{code} is not a close code"):
        core.close(code, now=0.0)
    assert core.is_open


# -- keepalive --------------------------------------------------------------------------------


def pings(client: WSConnection, core: WebSocketCore) -> list[Ping]:
    found = to_client(client, core)
    assert all(isinstance(event, Ping) for event in found), found
    return found  # type: ignore[return-value]


def test_pings_follow_the_interval_and_pongs_keep_the_connection() -> None:
    client, core = open_pair(WebSocketSettings(ping_interval=10.0, ping_timeout=5.0), now=100.0)
    assert core.timer_deadline == 110.0
    core.on_timer(109.9)
    assert pings(client, core) == []
    core.on_timer(110.0)
    [ping] = pings(client, core)
    assert core.timer_deadline == 115.0  # the pong is due
    core.receive_data(client.send(ping.response()))
    assert events(core) == []
    assert core.pongs_received == 1
    assert core.timer_deadline == 120.0  # an interval after the last ping
    core.on_timer(120.0)
    assert len(pings(client, core)) == 1


def test_an_unanswered_ping_fails_the_connection_with_1011() -> None:
    client, core = open_pair(WebSocketSettings(ping_interval=10.0, ping_timeout=5.0))
    core.on_timer(10.0)
    [ping] = pings(client, core)
    core.receive_data(client.send(Pong(payload=b"not ours")))  # unsolicited: no answer
    assert events(core) == []
    core.on_timer(14.9)
    assert events(core) == []
    core.on_timer(15.0)
    assert events(core) == [Disconnected(1011, "keepalive ping timeout")]
    assert core.closed
    assert to_client(client, core) == [CloseConnection(code=1011, reason="keepalive ping timeout")]
    assert ping.payload != b"not ours"


def test_the_pong_wait_restarts_after_the_reader_paused() -> None:
    _, core = open_pair(WebSocketSettings(ping_interval=10.0, ping_timeout=5.0))
    core.on_timer(10.0)
    core.restart_pong_wait(30.0)
    assert core.timer_deadline == 35.0
    core.on_timer(34.0)
    assert core.is_open


def test_no_ping_interval_means_no_timer() -> None:
    _, core = open_pair(WebSocketSettings(ping_interval=None))
    assert core.timer_deadline is None
    core.on_timer(1e9)
    assert core.data_to_send() == b""


def test_no_ping_timeout_means_a_ping_may_wait_forever() -> None:
    client, core = open_pair(WebSocketSettings(ping_interval=1.0, ping_timeout=None))
    core.on_timer(1.0)
    assert len(pings(client, core)) == 1
    assert core.timer_deadline is None
    core.on_timer(1e9)
    assert core.is_open


def test_the_ping_payload_identifies_the_ping() -> None:
    client, core = open_pair(WebSocketSettings(ping_interval=1.0))
    core.on_timer(1.0)
    [first] = pings(client, core)
    assert first.payload == struct.pack("!I", 1)


def test_a_wsproto_client_connection_speaks_to_the_core_directly() -> None:
    # The core also works without the handshake helpers (as a test client would use it).
    core = WebSocketCore(WebSocketSettings(), 0.0)
    client = Connection(ConnectionType.CLIENT)
    core.receive_data(client.send(TextMessage(data="direct")))
    assert events(core) == [TextReceived("direct")]
