"""Keep-alive after a complete response, which h11 is never shown.

``ResponseWriter.complete`` (``microready/server/protocol/writer.py``) writes a
complete response itself, and ``ConnectionCore.start_next_cycle`` starts the
next cycle on a fresh ``h11.Connection`` fed what the old one had buffered.
So the keep-alive decision after such a response is microready's: each case
here compares it with a plain ``h11.Connection`` that answered the same request
with the same response through the public ``send()``, and checks that the next
request on the connection is read as h11 would read it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import h11
import pytest

import microready
from microready.server.protocol import (
    ConnectionCore,
    ConnectionEnded,
    InvalidResponse,
    Limits,
    Rejected,
    RequestComplete,
    RequestReceived,
)

FROZEN_TIME = 1_795_000_000.0
GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
OK = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
# h11.Connection's private methods and attributes (h11 0.16).
H11_PRIVATE = frozenset(
    name for name in vars(h11.Connection) if name.startswith("_") and not name.startswith("__"))


def test_microready_uses_no_private_h11_method() -> None:
    root = Path(microready.__file__).resolve().parent
    uses = [
        f"{path.relative_to(root.parent)}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in H11_PRIVATE
    ]
    assert uses == [], uses


def _parse_head(data: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and the header fields of the response the core wrote."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    status = int(head[0].split(b" ")[1])
    fields = [tuple(line.split(b": ", 1)) for line in head[1:]]
    return status, [(name, value) for name, value in fields]


def _serve_with_the_core(
    request: bytes, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *,
    closing: bool,
) -> tuple[ConnectionCore, bytes]:
    core = ConnectionCore(Limits(), 0.0, wall_clock=lambda: FROZEN_TIME)
    core.close_after_response = closing
    core.receive_data(request, 0.0)
    assert isinstance(core.next_event(0.0), RequestReceived)
    while not isinstance(core.next_event(0.0), RequestComplete):
        pass  # the body, if any
    return core, b"".join(core.send_response(status, headers, body))  # complete=True: the fast path


def _serve_with_public_send(request: bytes, written: bytes, body: bytes) -> h11.Connection:
    """A plain h11 server that answers ``request`` with the response the core wrote."""
    reference = h11.Connection(h11.SERVER)
    reference.receive_data(request)
    event = reference.next_event()
    assert isinstance(event, h11.Request), event
    while not isinstance(reference.next_event(), h11.EndOfMessage):
        pass
    status, headers = _parse_head(written)
    reference.send(h11.Response(status_code=status, headers=headers))
    if body and event.method != b"HEAD":
        reference.send(h11.Data(data=body))
    reference.send(h11.EndOfMessage())
    return reference


@pytest.mark.parametrize(
    ("request_bytes", "status", "headers", "body", "closing", "expected"),
    [
        pytest.param(GET, 200, OK, b"ok", False, h11.DONE, id="keep-alive"),
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200, OK, b"ok", False,
            h11.MUST_CLOSE, id="client-says-close",
        ),
        pytest.param(
            b"GET / HTTP/1.0\r\n\r\n", 200, OK, b"ok", False, h11.MUST_CLOSE, id="http-1.0"
        ),
        pytest.param(GET, 200, OK, b"ok", True, h11.MUST_CLOSE, id="server-shutting-down"),
        pytest.param(
            GET, 200, [*OK, (b"connection", b"close")], b"ok", False, h11.MUST_CLOSE,
            id="app-says-close",
        ),
        pytest.param(
            b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200, OK, b"ok", False, h11.DONE, id="head"
        ),
        pytest.param(GET, 204, [], b"", False, h11.DONE, id="204"),
        pytest.param(GET, 304, [(b"etag", b'"x"')], b"", False, h11.DONE, id="304"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 201, [], b"", False,
            h11.DONE, id="post-with-body",
        ),
        pytest.param(GET + GET, 200, OK, b"ok", False, h11.DONE, id="pipelined"),
    ],
)
def test_the_keep_alive_decision_is_the_one_public_send_makes(
    request_bytes: bytes,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    closing: bool,
    expected: type[h11.DONE] | type[h11.MUST_CLOSE],
) -> None:
    core, written = _serve_with_the_core(request_bytes, status, headers, body, closing=closing)
    reference = _serve_with_public_send(request_bytes, written, body)
    assert reference.our_state is expected
    assert core.response_complete
    assert core.start_next_cycle(0.0) is (expected is h11.DONE)
    if expected is not h11.DONE:
        return
    # The next request is read on the fresh cycle as on h11's own next cycle.
    reference.start_next_cycle()
    if not request_bytes.endswith(GET + GET):
        core.receive_data(GET, 0.0)
        reference.receive_data(GET)
    event = core.next_event(0.0)
    assert isinstance(event, RequestReceived) and event.target == b"/"
    assert isinstance(reference.next_event(), h11.Request)
    assert isinstance(core.next_event(0.0), RequestComplete)
    assert core.next_event(0.0) is h11.NEED_DATA
    assert not core.response_complete and not core.they_are_waiting_for_100_continue


def test_an_answer_before_any_request_closes_as_public_send_does() -> None:
    # A new connection that sends nothing in time gets 408 while h11 is still IDLE.
    core = ConnectionCore(Limits(), 0.0, wall_clock=lambda: FROZEN_TIME)
    written = core.on_read_timeout()
    status, headers = _parse_head(written)
    assert status == 408
    reference = h11.Connection(h11.SERVER)
    reference.send(h11.Response(status_code=status, headers=headers))
    reference.send(h11.Data(data=written.split(b"\r\n\r\n", 1)[1]))
    reference.send(h11.EndOfMessage())
    assert reference.our_state is h11.MUST_CLOSE
    assert core.start_next_cycle(0.0) is False


def test_a_rejected_request_gets_its_error_and_the_connection_closes() -> None:
    core = ConnectionCore(Limits(), 0.0, wall_clock=lambda: FROZEN_TIME)
    core.receive_data(b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 0.0)
    event = core.next_event(0.0)
    assert isinstance(event, Rejected) and event.status_code == 405
    assert core.send_error(event.status_code, event.reason).startswith(b"HTTP/1.1 405 ")
    assert core.send_error(500, "twice") == b""  # one response per request
    assert core.start_next_cycle(0.0) is False


def test_a_client_that_closed_after_its_request_ends_on_the_fresh_cycle() -> None:
    core, _written = _serve_with_the_core(GET, 200, OK, b"ok", closing=False)
    core.receive_data(b"", 0.0)  # the client's FIN, after its request
    assert core.start_next_cycle(0.0) is True
    assert isinstance(core.next_event(0.0), ConnectionEnded)


def test_a_second_complete_response_to_one_request_is_refused() -> None:
    core, _written = _serve_with_the_core(GET, 200, OK, b"ok", closing=False)
    with pytest.raises(InvalidResponse, match="already sent"):
        core.send_response(200, OK, b"ok")
