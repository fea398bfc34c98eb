"""The server side of one HTTP/1.1 connection, with no I/O.

``ConnectionCore`` wraps a single ``h11.Connection`` for the life of a TCP
connection, across keep-alive cycles. Bytes go in through ``receive_data``;
``next_event`` gives back what they mean; responses go in through
``send_response`` / ``send_body`` / ``end_response`` and come out as the bytes to
write. The caller passes the current time in, and asks ``read_deadline`` how
long it may wait for more bytes, so every timeout can be tested without a
socket, an event loop or a sleep.

What this layer adds to h11:

* limits on the head and the body, and the status each violation earns;
* the framing rules h11 leaves to the server (RFC 9112 section 6.3);
* timeouts: idle keep-alive, a fixed deadline for the request head, and a
  stall timer for the body;
* ``Date`` and ``Server`` headers, and ``Connection: close`` when the server is
  shutting down;
* error responses (400, 408, 413, 431, ...) that are safe to send in any state.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

import h11

from ..._utils import NO_CONTENT_STATUSES, sends_content_length

__all__ = [
    "BodyReceived",
    "ConnectionCore",
    "ConnectionEnded",
    "Limits",
    "NEED_DATA",
    "PAUSED",
    "Rejected",
    "RequestComplete",
    "RequestReceived",
]

RawHeaders = Sequence[tuple[bytes, bytes]]

NEED_DATA: Final = h11.NEED_DATA
PAUSED: Final = h11.PAUSED
SERVER_HEADER: Final = (b"server", b"microready")


@dataclass(frozen=True, slots=True)
class Limits:
    """The protocol limits and timeouts a connection enforces (seconds and bytes)."""

    max_header_size: int = 16 * 1024
    max_header_count: int = 100
    max_request_line: int = 8 * 1024
    max_body_size: int | None = 10 * 1024 * 1024
    timeout_keep_alive: float = 5.0
    timeout_request_head: float = 10.0
    timeout_body: float = 30.0


# -- events ------------------------------------------------------------------


@dataclass(slots=True)
class RequestReceived:
    """A request head. Its body follows as ``BodyReceived`` events."""

    method: str
    target: bytes
    http_version: str
    headers: RawHeaders  # lower-case names, in the order received


@dataclass(slots=True)
class BodyReceived:
    data: bytes


class RequestComplete:
    """The request body has ended."""

    __slots__ = ()


class ConnectionEnded:
    """The client closed its side of the connection."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """The client broke the protocol or a limit. Answer ``status_code`` and close."""

    status_code: int
    reason: str


REQUEST_COMPLETE: Final = RequestComplete()
CONNECTION_ENDED: Final = ConnectionEnded()

Event = (
    RequestReceived
    | BodyReceived
    | RequestComplete
    | ConnectionEnded
    | Rejected
    | type[h11.NEED_DATA]
    | type[h11.PAUSED]
)


# -- phases, for the read deadline ---------------------------------------------
#
# IDLE: between requests on a kept-alive connection; silence ends it quietly.
# HEAD: a request head has started (or the connection is new); it must be
#       complete by a fixed deadline, or the client gets 408.
# BODY: the head is in, the body is not; each chunk restarts the stall timer.
# BUSY: the request is complete and the app is answering; we do not read.
_IDLE, _HEAD, _BODY, _BUSY = range(4)


class _DateCache:
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


class InvalidResponse(Exception):
    """The app's response cannot be sent as it is (it would break HTTP framing)."""


# The status line of every known status, encoded once.
_STATUS_LINES: dict[int, bytes] = {
    s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode("ascii")) for s in HTTPStatus
}

# h11 tracks keep-alive and the request/response cycle; for complete responses
# we write the bytes ourselves (one buffer, pre-encoded parts) and show h11 a
# stand-in response with the same keep-alive outcome, so its state machine
# stays exact. h11 0.16 has no public call that advances its state without also
# serialising (send() builds and validates a second copy of the headers, which
# costs about as much as the rest of the response), so we feed the stand-in to
# its event processor directly. pyproject pins h11 to the 0.16 series, and the
# core's keep-alive tests fail loudly if that internal ever changes.
# (Not a 2xx status: to h11, a 2xx answer to CONNECT means "switch protocols".)
_STAND_IN_KEEP_ALIVE = h11.Response(status_code=400, headers=[(b"content-length", b"0")])
_STAND_IN_CLOSE = h11.Response(
    status_code=400, headers=[(b"content-length", b"0"), (b"connection", b"close")]
)
# The blank line that ends a head: CRLF CRLF, or with bare LFs (RFC 9112 2.2).
_END_OF_HEAD = re.compile(rb"\n\r?\n")
_END_OF_MESSAGE = h11.EndOfMessage()


class ConnectionCore:
    """One server-side HTTP/1.1 connection: bytes in, events out; responses in, bytes out."""

    def __init__(
        self,
        limits: Limits,
        now: float,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        # h11 refuses to buffer more than this while an event is incomplete; we
        # check the complete head ourselves too (see _check_head), since a head
        # that arrives in one read is never "incomplete".
        self._h11 = h11.Connection(
            h11.SERVER, max_incomplete_event_size=limits.max_header_size
        )
        self._dates = _DateCache(wall_clock)
        self._phase = _HEAD  # a new connection must send its head in time
        self._deadline: float | None = now + limits.timeout_request_head
        self._body_received = 0
        self._request_method = b""
        self._response_started = False
        self._client_keeps_alive = True
        # The raw bytes of the head being received. h11 unfolds obs-fold lines
        # silently, so we keep our own copy to check the head as sent.
        self._head_bytes = b""
        self.close_after_response = False  # set when the server is shutting down
        self.requests_handled = 0

    # -- input -------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Feed bytes read from the socket; ``b""`` means the client closed its side."""
        phase = self._phase
        if data and phase == _IDLE:
            self._phase = phase = _HEAD
            self._deadline = now + self.limits.timeout_request_head
        elif data and phase == _BODY:
            self._deadline = now + self.limits.timeout_body
        if phase == _HEAD and len(self._head_bytes) <= self.limits.max_header_size:
            self._head_bytes += data
        self._h11.receive_data(data)

    def next_event(self, now: float) -> Event:
        """The next thing the client said, or NEED_DATA / PAUSED."""
        try:
            event = self._h11.next_event()
        except h11.RemoteProtocolError as exc:
            if exc.error_status_hint == 431 and self._request_line_too_long():
                return self._uri_too_long()
            return Rejected(exc.error_status_hint, str(exc))
        kind = type(event)
        if kind is h11.Data:
            data: bytes = event.data  # type: ignore[union-attr]
            self._body_received += len(data)
            max_body = self.limits.max_body_size
            if max_body is not None and self._body_received > max_body:
                return Rejected(413, f"request body is larger than {max_body} bytes")
            return BodyReceived(data)
        if kind is h11.Request:
            return self._start_request(event, now)  # type: ignore[arg-type]
        if kind is h11.EndOfMessage:
            self._phase = _BUSY
            self._deadline = None
            return REQUEST_COMPLETE
        if kind is h11.ConnectionClosed:
            return CONNECTION_ENDED
        return event  # type: ignore[return-value]  # NEED_DATA or PAUSED

    def _start_request(self, event: h11.Request, now: float) -> RequestReceived | Rejected:
        rejection = self._check_head(event)
        if rejection is not None:
            return rejection
        self._request_method = event.method
        self._body_received = 0
        self._phase = _BODY
        self._deadline = now + self.limits.timeout_body
        return RequestReceived(
            event.method.decode("ascii"),
            event.target,
            event.http_version.decode("ascii"),
            event.headers,
        )

    def _uri_too_long(self) -> Rejected:
        return Rejected(414, f"request line is longer than {self.limits.max_request_line} bytes")

    def _request_line_too_long(self) -> bool:
        line_end = self._head_bytes.find(b"\n")
        if line_end < 0:
            line_end = len(self._head_bytes)
        return line_end > self.limits.max_request_line

    def _check_head(self, event: h11.Request) -> Rejected | None:
        """Limits and framing rules that h11 leaves to the server.

        Every rejection here closes the connection, because after a head we
        refuse to trust, we cannot know where the next request would begin.
        """
        limits = self.limits
        headers = event.headers
        if self._request_line_too_long():
            return self._uri_too_long()
        head, self._head_bytes = self._head_bytes, b""
        # The earliest blank line, CRLF or bare LF; the body may follow in the
        # same bytes and contain either form.
        blank_line = _END_OF_HEAD.search(head)
        end = blank_line.start() if blank_line else -1
        if end < 0 or end > limits.max_header_size:
            # The head did not fit in the bytes we keep: it is too large.
            return Rejected(431, f"request head is larger than {limits.max_header_size} bytes")
        head = head[:end]
        if len(headers) > limits.max_header_count:
            return Rejected(431, f"more than {limits.max_header_count} header fields")
        # RFC 9112 section 5.2: a server MUST reject obs-fold (a line that
        # continues the previous one by starting with a space or a tab) or
        # replace it; h11 replaces it, which hides a smuggling vector, so we reject.
        if b"\n " in head or b"\n\t" in head:
            return Rejected(400, "obsolete line folding in a header")
        if event.http_version not in (b"1.1", b"1.0"):
            return Rejected(505, f"HTTP/{event.http_version.decode()} is not supported")
        content_length: bytes | None = None
        host_count = 0
        has_transfer_encoding = False
        # h11 does not do HTTP/1.0 keep-alive, and "Connection: close" ends the
        # connection after this response (RFC 9112 section 9.3). One pass over
        # the headers gathers everything.
        keeps_alive = event.http_version == b"1.1"
        for name, value in headers:
            if name == b"content-length":
                content_length = value
            elif name == b"host":
                host_count += 1
            elif name == b"transfer-encoding":
                has_transfer_encoding = True
            elif name == b"connection" and b"close" in value.lower():
                keeps_alive = keeps_alive and b"close" not in [
                    token.strip() for token in value.lower().split(b",")
                ]
        self._client_keeps_alive = keeps_alive
        # RFC 9112 section 6.1: a message with both is a smuggling attempt or a
        # broken proxy; either way we must not guess which framing to trust.
        if content_length is not None and has_transfer_encoding:
            return Rejected(400, "both Content-Length and Transfer-Encoding")
        if has_transfer_encoding and event.http_version == b"1.0":
            return Rejected(400, "Transfer-Encoding in an HTTP/1.0 request")
        if host_count > 1:
            return Rejected(400, "more than one Host header")
        if event.method == b"CONNECT":
            return Rejected(405, "CONNECT is not supported")
        max_body = limits.max_body_size
        if content_length is not None and max_body is not None and int(content_length) > max_body:
            return Rejected(413, f"request body is larger than {max_body} bytes")
        return None

    # -- timing ------------------------------------------------------------------

    @property
    def read_deadline(self) -> float | None:
        """When a read that is waiting for more bytes must give up (None: never)."""
        return self._deadline

    def on_read_timeout(self) -> bytes:
        """The read deadline passed. Returns what to send (maybe nothing) before closing."""
        if self._phase == _IDLE:
            return b""  # an idle keep-alive connection just closes (RFC 9112 section 9.5)
        return self.send_error(408, "request timed out")

    # -- output ------------------------------------------------------------------

    @property
    def they_are_waiting_for_100_continue(self) -> bool:
        return self._h11.they_are_waiting_for_100_continue

    def send_continue(self) -> bytes:
        """``100 Continue``, for a client that sent ``Expect: 100-continue`` (RFC 9110 10.1.1)."""
        if not self._h11.they_are_waiting_for_100_continue:
            return b""
        continue_event = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
        return self._h11.send(continue_event)

    def send_response(
        self, status_code: int, headers: RawHeaders, body: bytes = b"", *, complete: bool = True
    ) -> bytes:
        """Start a response. With ``complete=True`` (the default) ``body`` is the whole
        body and the response is finished; otherwise call ``send_body`` and
        ``end_response`` next. Raises ``InvalidResponse`` (or h11's
        ``LocalProtocolError`` while streaming) if the app's response breaks
        HTTP, for example a body that differs from its Content-Length; nothing
        has been sent then, so the caller can still answer 500.
        """
        if complete:
            return self._send_complete_response(status_code, headers, body)
        _check_header_bytes(headers)
        all_headers = list(headers)
        all_headers.append((b"date", self._dates.current()))
        all_headers.append(SERVER_HEADER)
        if self.close_after_response:
            all_headers.append((b"connection", b"close"))
        self._response_started = True
        out = self._h11.send(
            h11.Response(status_code=status_code, headers=all_headers, reason=_reason(status_code))
        )
        return out + self.send_body(body)

    def _send_complete_response(self, status_code: int, headers: RawHeaders, body: bytes) -> bytes:
        """Serialise a whole response into one buffer (the fast path)."""
        if status_code < 200 or status_code > 999:
            raise InvalidResponse(f"cannot send status {status_code} as a final response")
        if self._h11.our_state is not h11.SEND_RESPONSE and self._h11.our_state is not h11.IDLE:
            raise InvalidResponse("a response was already sent for this request")
        lines: list[bytes] = []
        declared_length: bytes | None = None
        close = self.close_after_response or not self._client_keeps_alive
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
        self._response_started = True
        advance = self._h11._process_event
        try:
            advance(h11.SERVER, _STAND_IN_CLOSE if close else _STAND_IN_KEEP_ALIVE)
            advance(h11.SERVER, _END_OF_MESSAGE)
        except h11.LocalProtocolError:
            self._h11.send_failed()
            raise
        if self._request_method == b"HEAD":
            return head  # the headers a GET would get, and no content (RFC 9110 9.3.2)
        return head + body

    def send_body(self, data: bytes) -> bytes:
        if not data or self._request_method == b"HEAD":
            return b""  # HEAD: the headers of a GET, and no content (RFC 9110 9.3.2)
        return self._h11.send(h11.Data(data=data))

    def end_response(self) -> bytes:
        return self._h11.send(h11.EndOfMessage())

    def send_error(self, status_code: int, reason: str) -> bytes:
        """A short plain-text error, then the connection must close.

        Returns b"" when a response is already under way, since then the only
        honest thing left to do is close.
        """
        if self._response_started or self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return b""
        body = f"{status_code} {_reason(status_code).decode()}: {reason}\n".encode()
        self.close_after_response = True
        try:
            return self.send_response(
                status_code,
                [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
                body,
            )
        except h11.LocalProtocolError:
            return b""

    def send_failed(self) -> None:
        """The socket write failed: this connection is finished."""
        self._h11.send_failed()

    # -- keep-alive --------------------------------------------------------------

    @property
    def response_complete(self) -> bool:
        return self._h11.our_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED)

    @property
    def request_complete(self) -> bool:
        """The whole request, body included, has been received."""
        return self._phase == _BUSY

    @property
    def request_body_pending(self) -> bool:
        """The app answered without reading the whole body; it is still arriving."""
        return self._h11.their_state is h11.SEND_BODY

    def start_next_cycle(self, now: float) -> bool:
        """After a complete response: True if the connection stays open for another request."""
        self.requests_handled += 1
        if self.close_after_response or self._h11.our_state is not h11.DONE:
            return False
        if self._h11.their_state is not h11.DONE:
            return False
        self._h11.start_next_cycle()
        self._response_started = False
        self._request_method = b""
        self._body_received = 0
        # Pipelined bytes may already be buffered; then the next head is
        # already under way and gets the head deadline, not the idle one.
        self._head_bytes = self._h11.trailing_data[0]
        if self._head_bytes:
            self._phase = _HEAD
            self._deadline = now + self.limits.timeout_request_head
        else:
            self._phase = _IDLE
            self._deadline = now + self.limits.timeout_keep_alive
        return True


def _check_header_bytes(headers: RawHeaders) -> None:
    for name, value in headers:
        for part in (name, value):
            if b"\r" in part or b"\n" in part or b"\0" in part:
                raise InvalidResponse("a response header contains CR, LF or NUL")


_REASONS: dict[int, bytes] = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}


def _reason(status_code: int) -> bytes:
    return _REASONS.get(status_code, b"")
