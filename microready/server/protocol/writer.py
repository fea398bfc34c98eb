"""Responses into bytes, keeping h11's view of the connection exact.

A streamed response goes through h11's public ``send()``. A complete response
(the common case: the whole body is known) is serialised here, into one
buffer from pre-encoded parts, and h11 is shown a stand-in with the same
keep-alive outcome: see ``ResponseWriter.complete``.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

import h11

from ..._utils import NO_CONTENT_STATUSES, sends_content_length
from .events import RawHeaders

__all__ = ["DateCache", "InvalidResponse", "ResponseWriter", "SERVER_HEADER", "reason"]

SERVER_HEADER: Final = (b"server", b"microready")


class InvalidResponse(Exception):
    """The app's response cannot be sent as it is (it would break HTTP framing)."""


class DateCache:
    """``Date`` changes once a second; format it once a second, not per response.

    ``current()`` is the header value; ``header_lines()`` is the ready-made
    ``date`` and ``server`` lines that every response carries.
    """

    __slots__ = ("_clock", "_second", "_value", "_lines")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._second = -1
        self._value = b""
        self._lines = b""

    def _refresh(self) -> None:
        now = self._clock()
        second = int(now)
        if second != self._second:
            self._second = second
            self._value = formatdate(now, usegmt=True).encode("ascii")
            self._lines = b"date: " + self._value + b"\r\nserver: " + SERVER_HEADER[1] + b"\r\n"

    def current(self) -> bytes:
        self._refresh()
        return self._value

    def header_lines(self) -> bytes:
        self._refresh()
        return self._lines


# The status line and the reason phrase of every known status, encoded once.
_REASONS: Final[dict[int, bytes]] = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}
_STATUS_LINES: Final[dict[int, bytes]] = {
    code: b"HTTP/1.1 %d %s\r\n" % (code, phrase) for code, phrase in _REASONS.items()
}


def reason(status_code: int) -> bytes:
    """The reason phrase of a status (b"" for one HTTPStatus does not know)."""
    return _REASONS.get(status_code, b"")


def check_header_bytes(headers: RawHeaders) -> None:
    """Refuse a header that would end its line early: a response-splitting hole."""
    for name, value in headers:
        for part in (name, value):
            if b"\r" in part or b"\n" in part or b"\0" in part:
                raise InvalidResponse("a response header contains CR, LF or NUL")


# h11 tracks keep-alive and the request/response cycle; for complete responses
# we write the bytes ourselves (one buffer, pre-encoded parts) and show h11 a
# stand-in response with the same keep-alive outcome, so its state machine
# stays exact. h11 0.16 has no public call that advances its state without also
# serialising (send() builds and validates a second copy of the headers, which
# costs about as much as the rest of the response), so we feed the stand-in to
# its event processor directly. This is the only call to that private method in
# microready; pyproject pins h11 to the 0.16 series, and
# tests/server/test_h11_internals.py fails if the method or its effect changes.
# (Not a 2xx status: to h11, a 2xx answer to CONNECT means "switch protocols".)
_STAND_IN_KEEP_ALIVE: Final = h11.Response(status_code=400, headers=[(b"content-length", b"0")])
_STAND_IN_CLOSE: Final = h11.Response(
    status_code=400, headers=[(b"content-length", b"0"), (b"connection", b"close")]
)
_END_OF_MESSAGE: Final = h11.EndOfMessage()


class ResponseWriter:
    """Serialises one connection's responses, and keeps its h11 state in step.

    ``started`` says whether this cycle's response head has been committed:
    after that, a failure can only be answered by closing the connection.
    """

    __slots__ = ("_h11", "_dates", "started")

    def __init__(self, connection: h11.Connection, wall_clock: Callable[[], float]) -> None:
        self._h11 = connection
        self._dates = DateCache(wall_clock)
        self.started = False

    def start(self, status_code: int, headers: RawHeaders, close: bool) -> bytes:
        """The head of a streamed response; its body goes through h11 as ``Data`` events."""
        check_header_bytes(headers)
        all_headers = list(headers)
        all_headers.append((b"date", self._dates.current()))
        all_headers.append(SERVER_HEADER)
        if close:
            all_headers.append((b"connection", b"close"))
        # Committed before h11 sees it: if h11 refuses the head, its state says
        # what was sent, and the connection can only close.
        self.started = True
        return self._h11.send(
            h11.Response(status_code=status_code, headers=all_headers, reason=reason(status_code))
        )

    def complete(
        self, status_code: int, headers: RawHeaders, body: bytes, close: bool, head_only: bool
    ) -> bytes:
        """A whole response, head and body, in one buffer (the fast path).

        ``close`` ends the connection after it (the app's own ``Connection:
        close`` does too); ``head_only`` answers a HEAD request. Raises
        ``InvalidResponse``, with nothing sent, if the response breaks HTTP.
        """
        connection = self._h11
        if status_code < 200 or status_code > 999:
            raise InvalidResponse(f"cannot send status {status_code} as a final response")
        if connection.our_state is not h11.SEND_RESPONSE and connection.our_state is not h11.IDLE:
            raise InvalidResponse("a response was already sent for this request")
        lines: list[bytes] = []
        declared_length: bytes | None = None
        for name, value in headers:
            if name == b"content-length":
                declared_length = value
                continue  # checked below, and written with the framing
            if name == b"connection":
                if b"close" in value.lower():
                    close = True
                continue  # we write our own Connection header below
            elif name == b"date" or name == b"server" or name == b"transfer-encoding":
                continue  # ours: the cached Date, our Server, and our framing
            lines.append(name + b": " + value + b"\r\n")
        block = b"".join(lines)
        # One scan instead of one per header: each line has exactly one CR and one LF.
        if block.count(b"\n") != len(lines) or block.count(b"\r") != len(lines) or b"\0" in block:
            raise InvalidResponse("a response header contains CR, LF or NUL")
        if status_code in NO_CONTENT_STATUSES and body:
            raise InvalidResponse(f"a {status_code} response cannot have a body")
        if not sends_content_length(status_code):
            framing = b""
        else:
            length = str(len(body)).encode("ascii")
            if declared_length is not None and declared_length.strip() != length:
                raise InvalidResponse(
                    f"Content-Length is {declared_length.decode('latin-1')} "
                    f"but the body is {len(body)} bytes"
                )
            framing = b"content-length: " + length + b"\r\n"
        status_line = _STATUS_LINES.get(status_code) or b"HTTP/1.1 %d \r\n" % status_code
        head = (
            status_line + block + framing + self._dates.header_lines()
            + (b"connection: close\r\n\r\n" if close else b"\r\n")
        )
        self.started = True
        advance = connection._process_event  # the one private call: see the comment above
        try:
            advance(h11.SERVER, _STAND_IN_CLOSE if close else _STAND_IN_KEEP_ALIVE)
            advance(h11.SERVER, _END_OF_MESSAGE)
        except h11.LocalProtocolError:
            connection.send_failed()
            raise
        if head_only:
            return head  # the headers a GET would get, and no content (RFC 9110 9.3.2)
        return head + body
