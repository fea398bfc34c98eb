"""The connection core in memory: bytes in, events out; responses in, bytes out.

No sockets and no event loop. Time is whatever number the test passes as
``now``, so every timeout is checked exactly, without sleeping.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microready.server.protocol import (
    NEED_DATA,
    PAUSED,
    BodyReceived,
    ConnectionCore,
    ConnectionEnded,
    Limits,
    Rejected,
    RequestComplete,
    RequestReceived,
)
from tests.support.http import HTTPResponse, ResponseParser, parse_response, request
from tests.support.protocol import rejection_statuses

FROZEN_TIME = 1_795_000_000.0  # Wed, 18 Nov 2026 11:06:40 GMT
FROZEN_DATE = b"Wed, 18 Nov 2026 11:06:40 GMT"

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


def make_core(now: float = 0.0, **limits: float | int | None) -> ConnectionCore:
    return ConnectionCore(Limits(**limits), now, wall_clock=lambda: FROZEN_TIME)  # type: ignore[arg-type]


def get(path: str = "/", *extra_headers: str) -> bytes:
    return request("GET", path, *extra_headers, host="example.com")


def events_until_blocked(core: ConnectionCore, now: float = 0.0) -> list[object]:
    """Every event up to and including the first NEED_DATA, PAUSED or Rejected."""
    events: list[object] = []
    while True:
        event = core.next_event(now)
        events.append(event)
        if event is NEED_DATA or event is PAUSED or isinstance(event, Rejected | ConnectionEnded):
            return events


def read_body(core: ConnectionCore, now: float = 0.0) -> tuple[bytes, bool]:
    """The body bytes available now, and whether the body is complete."""
    body = b""
    while True:
        event = core.next_event(now)
        if isinstance(event, BodyReceived):
            body += event.data
        elif isinstance(event, RequestComplete):
            return body, True
        else:
            assert event is NEED_DATA, event
            return body, False


def respond(core: ConnectionCore, body: bytes = b"ok", method: str = "GET") -> HTTPResponse:
    data = b"".join(core.send_response(200, [(b"content-length", str(len(body)).encode())], body))
    return parse_response(data, method)


def request_head(core: ConnectionCore, now: float = 0.0) -> RequestReceived:
    event = core.next_event(now)
    assert isinstance(event, RequestReceived), event
    return event


# -- keep-alive and pipelining ---------------------------------------------------------


def test_keep_alive_cycles_reuse_one_core() -> None:
    core = make_core()
    for number in range(3):
        core.receive_data(get(f"/item/{number}"), now=float(number))
        head = request_head(core, now=float(number))
        assert (head.method, head.target) == ("GET", f"/item/{number}".encode())
        assert head.http_version == "1.1"
        assert list(head.headers) == [(b"host", b"example.com")]
        assert isinstance(core.next_event(float(number)), RequestComplete)
        assert core.next_event(float(number)) is NEED_DATA
        response = respond(core, f"answer {number}".encode())
        assert (response.status, response.body) == (200, f"answer {number}".encode())
        assert response.header(b"connection") is None
        assert core.response_complete
        assert core.start_next_cycle(now=float(number)) is True
    assert core.requests_handled == 3


def test_pipelined_requests_come_out_one_at_a_time_in_order() -> None:
    core = make_core()
    core.receive_data(get("/first") + get("/second") + get("/third"), now=0.0)
    for path in (b"/first", b"/second", b"/third"):
        assert request_head(core).target == path
        assert isinstance(core.next_event(0.0), RequestComplete)
        # A pipelined request waits until this one is answered.
        assert core.next_event(0.0) is (NEED_DATA if path == b"/third" else PAUSED)
        assert respond(core, path).body == path
        assert core.start_next_cycle(now=1.0)
    assert core.next_event(1.0) is NEED_DATA


def test_a_pipelined_request_gets_the_head_deadline_not_the_idle_one() -> None:
    core = make_core(timeout_keep_alive=5.0, timeout_request_head=10.0)
    core.receive_data(get("/a") + b"GET /b HTTP/1.1\r\nHo", now=0.0)
    request_head(core)
    assert isinstance(core.next_event(0.0), RequestComplete)
    respond(core)
    assert core.start_next_cycle(now=2.0)
    assert core.read_deadline == 12.0  # a head is under way: 2 + timeout_request_head
    assert core.next_event(2.0) is NEED_DATA
    core.receive_data(b"st: example.com\r\n\r\n", now=3.0)
    assert request_head(core, 3.0).target == b"/b"


# -- request bodies ----------------------------------------------------------------------


def test_content_length_body_arrives_across_reads() -> None:
    core = make_core()
    core.receive_data(
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\nhello", now=0.0
    )
    assert request_head(core).method == "POST"
    assert read_body(core) == (b"hello", False)
    core.receive_data(b" world", now=0.5)
    assert read_body(core) == (b" world", True)
    assert respond(core).status == 200
    assert core.start_next_cycle(now=1.0)


def test_chunked_body_is_decoded() -> None:
    core = make_core()
    core.receive_data(
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n",
        now=0.0,
    )
    request_head(core)
    assert read_body(core) == (b"hello", False)
    core.receive_data(b"6\r\n world\r\n0\r\n\r\n", now=0.1)
    assert read_body(core) == (b" world", True)
    respond(core)
    assert core.start_next_cycle(now=1.0)


def test_an_unread_body_keeps_the_connection_from_the_next_cycle() -> None:
    core = make_core()
    core.receive_data(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\n12345", now=0.0
    )
    request_head(core)
    respond(core)  # answered without reading the body
    assert core.request_body_pending
    assert read_body(core) == (b"12345", False)
    core.receive_data(b"67890", now=0.1)
    assert read_body(core) == (b"67890", True)
    assert not core.request_body_pending
    assert core.start_next_cycle(now=0.2)


def test_expect_100_continue_is_answered_once_and_only_when_asked() -> None:
    core = make_core()
    core.receive_data(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\n"
        b"Content-Length: 5\r\n\r\n",
        now=0.0,
    )
    request_head(core)
    assert core.they_are_waiting_for_100_continue
    continue_bytes = core.send_continue()
    assert continue_bytes.startswith(b"HTTP/1.1 100")
    assert continue_bytes.endswith(b"\r\n\r\n")
    assert not core.they_are_waiting_for_100_continue
    assert core.send_continue() == b""  # never twice
    core.receive_data(b"hello", now=0.1)
    assert read_body(core) == (b"hello", True)
    parser = ResponseParser()
    parser.feed(continue_bytes + b"".join(core.send_response(200, [(b"content-length", b"0")])))
    response = parser.next_response("POST")
    assert response is not None
    assert (response.informational, response.status) == ([100], 200)


def test_no_100_continue_without_expect() -> None:
    core = make_core()
    core.receive_data(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\n", now=0.0
    )
    request_head(core)
    assert not core.they_are_waiting_for_100_continue
    assert core.send_continue() == b""


# -- responses ---------------------------------------------------------------------------


def test_response_bytes_are_exact_with_a_frozen_clock() -> None:
    core = make_core()
    core.receive_data(GET, now=0.0)
    events_until_blocked(core)
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    data = b"".join(core.send_response(200, headers, b"hi"))
    assert data == (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: text/plain\r\n"
        b"content-length: 2\r\n"
        b"date: " + FROZEN_DATE + b"\r\n"
        b"server: microready\r\n"
        b"\r\n"
        b"hi"
    )


def test_date_header_follows_the_wall_clock() -> None:
    clock = [FROZEN_TIME]
    core = ConnectionCore(Limits(), 0.0, wall_clock=lambda: clock[0])
    dates = []
    for advance in (0.0, 0.9, 1.0):  # same second, same second, next second
        clock[0] = FROZEN_TIME + advance
        core.receive_data(GET, now=0.0)
        events_until_blocked(core)
        dates.append(respond(core).header(b"date"))
        assert core.start_next_cycle(now=0.0)
    assert dates == [FROZEN_DATE, FROZEN_DATE, b"Wed, 18 Nov 2026 11:06:41 GMT"]


def test_head_gets_the_headers_and_no_body() -> None:
    core = make_core()
    core.receive_data(b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n", now=0.0)
    assert request_head(core).method == "HEAD"
    events_until_blocked(core)
    data = b"".join(core.send_response(200, [(b"content-length", b"13")], b"hello, world!"))
    assert data.endswith(b"\r\n\r\n")
    assert b"hello" not in data
    response = parse_response(data, "HEAD")
    assert (response.header(b"content-length"), response.body) == (b"13", b"")
    # The connection stays usable, and the next GET gets its body.
    assert core.start_next_cycle(now=0.0)
    core.receive_data(GET, now=0.0)
    events_until_blocked(core)
    assert respond(core, b"hello, world!").body == b"hello, world!"


def test_head_with_a_streamed_body_sends_no_chunks() -> None:
    core = make_core()
    core.receive_data(b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n", now=0.0)
    events_until_blocked(core)
    data = b"".join([*core.send_response(200, [], complete=False),
                     *core.send_body(b"chunk one"), *core.send_body(b"chunk two")])
    data += core.end_response()
    assert b"chunk one" not in data and b"chunk two" not in data
    assert data.endswith(b"\r\n\r\n")
    assert parse_response(data, "HEAD").status == 200
    assert core.start_next_cycle(now=0.0)


def test_streamed_body_is_chunked() -> None:
    core = make_core()
    core.receive_data(GET, now=0.0)
    events_until_blocked(core)
    data = b"".join([*core.send_response(200, [], complete=False),
                     *core.send_body(b"one"), *core.send_body(b""), *core.send_body(b"three")])
    data += core.end_response()
    assert b"transfer-encoding: chunked" in data.lower()
    assert data.endswith(b"3\r\none\r\n5\r\nthree\r\n0\r\n\r\n")
    assert parse_response(data).body == b"onethree"


# -- closing -------------------------------------------------------------------------------


def test_http_1_0_gets_connection_close() -> None:
    core = make_core()
    core.receive_data(b"GET / HTTP/1.0\r\n\r\n", now=0.0)
    assert request_head(core).http_version == "1.0"
    events_until_blocked(core)
    response = respond(core)
    assert response.header(b"connection") is not None
    assert response.header(b"connection").lower() == b"close"  # type: ignore[union-attr]
    assert core.start_next_cycle(now=0.0) is False


def test_connection_close_request_is_honoured() -> None:
    core = make_core()
    core.receive_data(get("/", "Connection: close"), now=0.0)
    events_until_blocked(core)
    response = respond(core)
    assert (response.header(b"connection") or b"").lower() == b"close"
    assert core.start_next_cycle(now=0.0) is False


def test_close_after_response_adds_connection_close() -> None:
    core = make_core()
    core.receive_data(GET, now=0.0)
    events_until_blocked(core)
    core.close_after_response = True
    response = respond(core)
    assert response.header_values(b"connection") == [b"close"]
    assert core.start_next_cycle(now=0.0) is False


def test_client_eof_between_requests_ends_the_connection() -> None:
    core = make_core()
    core.receive_data(GET, now=0.0)
    events_until_blocked(core)
    respond(core)
    assert core.start_next_cycle(now=0.0)
    core.receive_data(b"", now=1.0)
    assert isinstance(core.next_event(1.0), ConnectionEnded)


# -- rejections ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        pytest.param(b"GARBAGE\r\n\r\n", 400, id="bad-request-line"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n", 400, id="bad-header"),
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", 400, id="no-host-in-1.1"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, id="two-hosts"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            400,
            id="content-length-and-chunked",
        ),
        pytest.param(
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, id="chunked-in-1.0"
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12x\r\n\r\n", 400, id="bad-length"
        ),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, id="tls"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, id="obs-fold"),
        pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, id="http2-preface"),
        pytest.param(b"CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 405, id="connect"),
    ],
)
def test_a_malformed_request_is_rejected_and_answered(data: bytes, status: int) -> None:
    core = make_core()
    core.receive_data(data, now=0.0)
    event = events_until_blocked(core)[-1]
    assert isinstance(event, Rejected), event
    assert event.status_code == status
    response = parse_response(core.send_error(event.status_code, event.reason))
    assert response.status == status
    assert response.header(b"connection") == b"close"
    assert response.body.startswith(str(status).encode())
    assert core.start_next_cycle(now=0.0) is False


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1\nHost: a\n\n", id="bare-lf"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\n\r\n", id="lf-then-crlf"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\n\n", id="crlf-then-lf"),
    ],
)
def test_a_bare_lf_ends_a_line(data: bytes) -> None:
    # RFC 9112 section 2.2: a recipient MAY take a bare LF as a line terminator
    # (h11 does). A 30-byte head must not be refused as "too large".
    core = make_core()
    core.receive_data(data, now=0.0)
    head = core.next_event(0.0)
    assert isinstance(head, RequestReceived), head
    assert list(head.headers) == [(b"host", b"a")]


def test_a_head_larger_than_the_limit_is_431() -> None:
    core = make_core(max_header_size=1024)
    core.receive_data(get("/", "X-Big: " + "a" * 2000), now=0.0)
    event = events_until_blocked(core)[-1]
    assert isinstance(event, Rejected) and event.status_code == 431


def test_a_head_that_never_ends_is_431() -> None:
    core = make_core(max_header_size=1024)
    core.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Big: aaaaaaaa\r\n" * 100, now=0.0)
    event = events_until_blocked(core)[-1]
    assert isinstance(event, Rejected) and event.status_code == 431


def test_a_request_line_longer_than_the_limit_is_414() -> None:
    core = make_core()
    core.receive_data(get("/" + "a" * 9000), now=0.0)
    event = events_until_blocked(core)[-1]
    assert isinstance(event, Rejected) and event.status_code == 414


def test_a_declared_body_over_the_limit_is_413() -> None:
    core = make_core(max_body_size=10)
    core.receive_data(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", now=0.0)
    event = core.next_event(0.0)
    assert isinstance(event, Rejected) and event.status_code == 413


def test_a_chunked_body_over_the_limit_is_413() -> None:
    core = make_core(max_body_size=10)
    core.receive_data(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
        now=0.0,
    )
    request_head(core)
    assert core.next_event(0.0) == BodyReceived(b"12345678")
    event = core.next_event(0.0)
    assert isinstance(event, Rejected) and event.status_code == 413
    assert parse_response(core.send_error(413, event.reason)).status == 413


def test_send_error_is_empty_once_a_response_has_started() -> None:
    core = make_core()
    core.receive_data(GET, now=0.0)
    events_until_blocked(core)
    core.send_response(200, [], complete=False)
    assert core.send_error(500, "too late") == b""


# -- timeouts, with explicit clocks ---------------------------------------------------------


def test_a_new_connection_must_send_its_head_in_time() -> None:
    core = make_core(now=100.0, timeout_request_head=10.0)
    assert core.read_deadline == 110.0
    # Bytes do not move a head's deadline: a trickling client cannot hold it open.
    core.receive_data(b"GET / HTTP/1.1\r\n", now=105.0)
    assert core.next_event(105.0) is NEED_DATA
    core.receive_data(b"Host: a\r\n", now=109.0)
    assert core.next_event(109.0) is NEED_DATA
    assert core.read_deadline == 110.0
    response = parse_response(core.on_read_timeout())
    assert response.status == 408
    assert response.header(b"connection") == b"close"


def test_an_idle_keep_alive_connection_closes_quietly_after_its_timeout() -> None:
    core = make_core(now=0.0, timeout_keep_alive=5.0, timeout_request_head=10.0)
    core.receive_data(GET, now=1.0)
    events_until_blocked(core, 1.0)
    assert core.read_deadline is None  # the app is answering: nothing to read
    respond(core)
    assert core.start_next_cycle(now=3.0)
    assert core.read_deadline == 8.0  # 3 + timeout_keep_alive
    assert core.on_read_timeout() == b""  # RFC 9112 section 9.5: just close


def test_the_first_byte_of_a_new_request_starts_the_head_deadline() -> None:
    core = make_core(now=0.0, timeout_keep_alive=5.0, timeout_request_head=10.0)
    core.receive_data(GET, now=0.0)
    events_until_blocked(core)
    respond(core)
    assert core.start_next_cycle(now=1.0)
    core.receive_data(b"GET / HT", now=4.0)
    assert core.next_event(4.0) is NEED_DATA
    assert core.read_deadline == 14.0  # 4 + timeout_request_head
    assert parse_response(core.on_read_timeout()).status == 408


def test_a_stalled_body_gets_408() -> None:
    core = make_core(now=0.0, timeout_body=30.0)
    core.receive_data(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", now=2.0)
    request_head(core, 2.0)
    assert core.read_deadline == 32.0  # 2 + timeout_body
    core.receive_data(b"123", now=20.0)
    assert read_body(core, 20.0) == (b"123", False)
    assert core.read_deadline == 50.0  # each chunk restarts the stall timer
    response = parse_response(core.on_read_timeout())
    assert response.status == 408
    assert response.header(b"connection") == b"close"


# -- nothing a client sends may crash the core ------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.binary(max_size=64), max_size=8), st.booleans())
def test_random_bytes_never_crash_the_core(chunks: list[bytes], valid_prefix: bool) -> None:
    core = make_core(max_header_size=256, max_body_size=64)
    if valid_prefix:
        chunks = [b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", *chunks]
    now = 0.0
    for chunk in [*chunks, b""]:
        now += 1.0
        core.receive_data(chunk, now)
        while True:
            event = core.next_event(now)
            if event is NEED_DATA or event is PAUSED:
                break
            if isinstance(event, Rejected):
                # Not "any 4xx": the core also answers 501 and 505.
                assert event.status_code in rejection_statuses(), event
                core.send_error(event.status_code, event.reason)
                return
            if isinstance(event, ConnectionEnded):
                return
            if isinstance(event, RequestComplete):
                core.send_response(200, [(b"content-length", b"0")])
                if not core.start_next_cycle(now):
                    return
        if core.read_deadline is not None and core.read_deadline < now:
            core.on_read_timeout()
            return
