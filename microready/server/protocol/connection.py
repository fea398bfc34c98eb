"""The server side of one HTTP/1.1 connection, with no I/O.

``ConnectionCore`` wraps a single ``h11.Connection`` for the life of a TCP
connection, across keep-alive cycles. Bytes go in through ``receive_data``;
``next_event`` gives back what they mean; responses go in through
``send_response`` / ``send_body`` / ``end_response`` and come out as the bytes to
write. The caller passes the current time in, and asks ``read_deadline`` how
long it may wait for more bytes, so every timeout can be tested without a
socket, an event loop or a sleep.

What this layer adds to h11, and where:

* limits on the head and the body, and the status each violation earns, and
  the framing rules h11 leaves to the server (``framing``);
* ``Date``, ``Server`` and the ``--header`` lines, ``Connection: close`` when
  the server is shutting down, and the fast path for complete responses: one
  buffer for a small body, the body itself beside its head for a large one
  (``writer``);
* timeouts: idle keep-alive, a fixed deadline for the request head, and a
  stall timer for the body (here: the phases below);
* error responses (400, 408, 413, 431, ...) that are safe to send in any state
  (here: ``send_error``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import h11

from .events import (
    CONNECTION_ENDED,
    REQUEST_COMPLETE,
    BodyReceived,
    Event,
    RawHeaders,
    Rejected,
    RequestReceived,
)
from .framing import (
    BODY_TOO_LARGE,
    OBSOLETE_LINE_FOLDING,
    REQUEST_LINE_TOO_LONG,
    check_head,
    folds_a_line,
    plain_reason,
    request_line_too_long,
)
from .limits import Limits
from .writer import DEFAULT_SERVER_HEADERS, Buffers, ResponseWriter, ServerHeaders
from .writer import reason as reason_phrase

__all__ = ["ConnectionCore"]


# -- phases, for the read deadline ---------------------------------------------
#
# IDLE: between requests on a kept-alive connection; silence ends it quietly.
# HEAD: a request head has started (or the connection is new); it must be
#       complete by a fixed deadline, or the client gets 408.
# BODY: the head is in, the body is not; each chunk restarts the stall timer.
# BUSY: the request is complete and the app is answering; we do not read.
_IDLE, _HEAD, _BODY, _BUSY = range(4)


class ConnectionCore:
    """One server-side HTTP/1.1 connection: bytes in, events out; responses in, bytes out."""

    def __init__(
        self,
        limits: Limits,
        now: float,
        *,
        wall_clock: Callable[[], float] = time.time,
        server_headers: ServerHeaders = DEFAULT_SERVER_HEADERS,
    ) -> None:
        self.limits = limits
        # h11 refuses to buffer more than this while an event is incomplete; we
        # check the complete head ourselves too (see framing.check_head), since
        # a head that arrives in one read is never "incomplete".
        self._h11 = self._new_h11()
        self._writer = ResponseWriter(self._h11, wall_clock, server_headers)
        self._phase = _HEAD  # a new connection must send its head in time
        self._deadline: float | None = now + limits.timeout_request_head
        self._body_received = 0
        self._request_method = b""
        self._client_keeps_alive = True
        # The raw bytes of the head being received. h11 unfolds obs-fold lines
        # silently, so we keep our own copy to check the head as sent.
        self._head_bytes = b""
        self.close_after_response = False  # set when the server is shutting down
        self.requests_handled = 0

    def _new_h11(self) -> h11.Connection:
        return h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_size)

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
            # h11 says 431 for any incomplete head over its buffer limit; when
            # it is the request line that is too long, the client should hear 414.
            if exc.error_status_hint == 431 and request_line_too_long(
                self._head_bytes, self.limits
            ):
                return REQUEST_LINE_TOO_LONG.reject(self.limits)
            if self._phase == _HEAD and folds_a_line(self._head_bytes):
                # h11 unfolds obs-fold before it checks the field, so a folded
                # Content-Length reads to it as "bad Content-Length"; the
                # client should hear what it actually did.
                return OBSOLETE_LINE_FOLDING.reject(self.limits)
            return Rejected(exc.error_status_hint, plain_reason(str(exc)))
        kind = type(event)
        if kind is h11.Data:
            data: bytes = event.data  # type: ignore[union-attr]
            self._body_received += len(data)
            max_body = self.limits.max_body_size
            if max_body is not None and self._body_received > max_body:
                return BODY_TOO_LARGE.reject(self.limits)
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
        rejection, self._client_keeps_alive, upgrade, proxied = check_head(
            self._head_bytes, event, self.limits)
        # Checked: the bytes were kept for that alone, and the body may follow.
        self._head_bytes = b""
        if rejection is not None:
            # With the head it refused, for the access line (a rare path, so
            # the extra event costs the hot path nothing).
            return Rejected(rejection.status_code, rejection.reason, RequestReceived(
                event.method.decode("ascii"), event.target, event.http_version.decode("ascii"),
                event.headers))
        self._request_method = event.method
        self._body_received = 0
        self._phase = _BODY
        self._deadline = now + self.limits.timeout_body
        return RequestReceived(
            event.method.decode("ascii"),
            event.target,
            event.http_version.decode("ascii"),
            event.headers,
            upgrade,
            proxied,
        )

    def take_over(self) -> bytes | None:
        """Hand the connection to another protocol (a WebSocket) after its request.

        Returns the bytes the client sent past the request (the new protocol's
        first bytes), or None if the request is not complete without a body
        to read. This core is done with the connection afterwards.
        """
        event = self._h11.next_event()
        if isinstance(event, h11.EndOfMessage):  # a body-less request ends at once
            event = self._h11.next_event()
        if event is not h11.PAUSED:  # h11 pauses a request that proposed an Upgrade
            return None
        self._phase = _BUSY
        self._deadline = None
        data, _closed = self._h11.trailing_data
        return bytes(data)

    @property
    def request_started(self) -> bool:
        """Some of a request head has arrived (so a shutdown still answers it)."""
        return bool(self._head_bytes)

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
        # h11 is not told of a complete response (writer.py), so it would
        # still think so after one; a response of any kind ends the wait.
        return not self._writer.started and self._h11.they_are_waiting_for_100_continue

    def send_continue(self) -> bytes:
        """``100 Continue``, for a client that sent ``Expect: 100-continue`` (RFC 9110 10.1.1)."""
        if not self.they_are_waiting_for_100_continue:
            return b""
        continue_event = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
        return self._h11.send(continue_event)

    def send_response(
        self, status_code: int, headers: RawHeaders, body: bytes = b"", *, complete: bool = True
    ) -> Buffers:
        """Start a response; returns the buffers to write, in order (a large body
        is among them as itself, see ``writer.JOIN_LIMIT``).

        With ``complete=True`` (the default) ``body`` is the whole body and the
        response is finished; otherwise call ``send_body`` and ``end_response``
        next. Raises ``InvalidResponse`` (or h11's ``LocalProtocolError`` while
        streaming) if the app's response breaks HTTP, for example a body that
        differs from its Content-Length; nothing has been sent then, so the
        caller can still answer 500.
        """
        if complete:
            return self._writer.complete(
                status_code,
                headers,
                body,
                self.close_after_response or not self._client_keeps_alive,
                self._request_method == b"HEAD",
            )
        head = self._writer.start(status_code, headers, self.close_after_response)
        return (head, *self.send_body(body))

    def send_body(self, data: bytes) -> Buffers:
        """A chunk of a streamed body, as the buffers to write (none for b"")."""
        if not data or self._request_method == b"HEAD":
            return ()  # HEAD: the headers of a GET, and no content (RFC 9110 9.3.2)
        return self._writer.body(data)

    def end_response(self) -> bytes:
        return self._h11.send(h11.EndOfMessage())

    def send_error(self, status_code: int, reason: str) -> bytes:
        """A short plain-text error, then the connection must close.

        Returns b"" when a response is already under way, since then the only
        honest thing left to do is close.
        """
        if self._writer.started or self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return b""  # started: a complete response; the h11 state: a streamed one
        body = f"{status_code} {reason_phrase(status_code).decode()}: {reason}\n".encode()
        self.close_after_response = True
        try:
            (data,) = self.send_response(  # a body this small is joined to its head
                status_code,
                [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
                body,
            )
        except h11.LocalProtocolError:
            return b""
        return data

    def send_failed(self) -> None:
        """The socket write failed: this connection is finished."""
        self._h11.send_failed()

    # -- keep-alive --------------------------------------------------------------

    @property
    def response_complete(self) -> bool:
        return self._writer.completed or self._h11.our_state in (
            h11.DONE, h11.MUST_CLOSE, h11.CLOSED)

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
        writer, old = self._writer, self._h11
        if self.close_after_response or old.their_state is not h11.DONE:
            return False
        if writer.closes if writer.completed else old.our_state is not h11.DONE:
            return False
        # A fresh h11 connection for the next cycle, fed what the client sent
        # past this request: the old one was not told of a complete response
        # (writer.py), and starting afresh costs less than h11's own cycle.
        trailing, closed = old.trailing_data
        self._h11 = fresh = self._new_h11()
        if trailing:
            fresh.receive_data(trailing)
        if closed:
            fresh.receive_data(b"")
        writer.next_cycle(fresh)
        self._request_method = b""
        self._body_received = 0
        # Pipelined bytes may already be buffered; then the next head is
        # already under way and gets the head deadline, not the idle one.
        self._head_bytes = trailing
        if self._head_bytes:
            self._phase = _HEAD
            self._deadline = now + self.limits.timeout_request_head
        else:
            self._phase = _IDLE
            self._deadline = now + self.limits.timeout_keep_alive
        return True
