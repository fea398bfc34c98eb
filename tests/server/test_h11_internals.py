"""The one private piece of h11 that microready relies on, pinned down.

``ResponseWriter.complete`` (``microready/server/protocol/writer.py``) writes a
complete response itself and moves h11's state machine on by feeding a
stand-in response to ``h11.Connection._process_event``, which is private. If
an h11 release renames that method, changes its signature or what it does,
these tests fail before a client sees a wrong keep-alive decision: each case
compares the core's h11 state with a second ``h11.Connection`` that answered
the same request with the same response through the public ``send()``.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import h11
import pytest

import microready
from microready.server.protocol import (
    ConnectionCore,
    Limits,
    Rejected,
    RequestComplete,
    RequestReceived,
)

FROZEN_TIME = 1_795_000_000.0
GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
OK = [(b"content-type", b"text/plain"), (b"content-length", b"2")]


def test_h11_connection_has_process_event_taking_role_and_event() -> None:
    process_event = getattr(h11.Connection, "_process_event", None)
    assert callable(process_event), "h11.Connection._process_event is gone: see writer.py"
    assert list(inspect.signature(process_event).parameters) == ["self", "role", "event"]


def test_process_event_is_called_in_exactly_one_place() -> None:
    root = Path(microready.__file__).resolve().parent
    uses = [
        f"{path.relative_to(root.parent)}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "_process_event"
    ]
    assert uses == [uses[0]] and uses[0].startswith("microready/server/protocol/writer.py:"), uses


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
def test_the_stand_in_leaves_h11_where_public_send_would(
    request_bytes: bytes,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    closing: bool,
    expected: type[h11.DONE] | type[h11.MUST_CLOSE],
) -> None:
    core, written = _serve_with_the_core(request_bytes, status, headers, body, closing=closing)
    reference = _serve_with_public_send(request_bytes, written, body)
    ours = core._h11  # the h11 connection whose state the stand-in moved
    assert (ours.our_state, ours.their_state) == (reference.our_state, reference.their_state)
    assert ours.our_state is expected
    # And the next cycle starts (or not) the same way on both.
    assert core.start_next_cycle(0.0) is (expected is h11.DONE)
    if expected is h11.DONE:
        reference.start_next_cycle()
        assert (ours.our_state, ours.their_state) == (reference.our_state, reference.their_state)
        assert ours.our_state is h11.IDLE  # type: ignore[comparison-overlap]


def test_an_answer_before_any_request_moves_h11_as_public_send_does() -> None:
    # A new connection that sends nothing in time gets 408 while h11 is still IDLE.
    core = ConnectionCore(Limits(), 0.0, wall_clock=lambda: FROZEN_TIME)
    written = core.on_read_timeout()
    status, headers = _parse_head(written)
    assert status == 408
    reference = h11.Connection(h11.SERVER)
    reference.send(h11.Response(status_code=status, headers=headers))
    reference.send(h11.Data(data=written.split(b"\r\n\r\n", 1)[1]))
    reference.send(h11.EndOfMessage())
    ours = core._h11
    assert (ours.our_state, ours.their_state) == (reference.our_state, reference.their_state)
    assert ours.our_state is h11.MUST_CLOSE


def test_a_rejected_request_still_gets_its_error_through_the_stand_in() -> None:
    core = ConnectionCore(Limits(), 0.0, wall_clock=lambda: FROZEN_TIME)
    core.receive_data(b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 0.0)
    event = core.next_event(0.0)
    assert isinstance(event, Rejected) and event.status_code == 405
    assert core.send_error(event.status_code, event.reason).startswith(b"HTTP/1.1 405 ")
    assert core._h11.our_state is h11.MUST_CLOSE
