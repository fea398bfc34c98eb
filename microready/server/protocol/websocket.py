"""WebSockets (RFC 6455) on an upgraded HTTP/1.1 connection, with no I/O.

Two halves, as in h11's world (wsproto is h11's sans-IO sibling):

* **The opening handshake** lives in ``websocket_handshake`` (no wsproto
  needed, so the transport can call it whether or not the extra is
  installed): ``wants_websocket``, ``read_handshake``, ``Handshake`` (whose
  ``accept`` gives the 101 bytes and a ``WebSocketCore``),
  ``HandshakeRejection``, ``REFUSED`` and ``APP_FAILED``. This module
  re-exports them, so both halves are imported from here.

* **``WebSocketCore``**, here, over ``wsproto.connection.Connection``: bytes in
  (``receive_data``), events out (``next_event``: ``TextReceived``,
  ``BytesReceived``, ``Disconnected`` or ``NEED_DATA``), the bytes of each
  outgoing message (``send_text``, ``send_bytes``, ``close``), and what the core
  answers by itself (pongs, the close echo, a 1009) in ``data_to_send()``.
  Keepalive pings run on the time the caller passes in: ``timer_deadline`` says
  when to call ``on_timer(now)``, so no clock is read here. ``WebSocketSettings``
  holds the limits both halves apply.

wsproto is an extra (``microready[websockets]``): this module imports without
it, and ``WebSocketCore`` (and ``Handshake.accept``) then raise one line saying
what to install.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import h11

from .events import NEED_DATA
from .websocket_handshake import (
    APP_FAILED,
    REFUSED,
    Handshake,
    HandshakeRejection,
    read_handshake,
    wants_websocket,
)

try:
    from wsproto.connection import Connection, ConnectionState, ConnectionType
    from wsproto.events import BytesMessage, CloseConnection, Event, Ping, Pong, TextMessage
    from wsproto.extensions import Extension
except ModuleNotFoundError:  # pragma: no cover - the test suite installs the extra
    WSPROTO_AVAILABLE = False
else:
    WSPROTO_AVAILABLE = True

__all__ = [
    "APP_FAILED", "BytesReceived", "Disconnected", "Handshake", "HandshakeRejection",
    "INSTALL_HINT", "REFUSED", "TextReceived", "WSPROTO_AVAILABLE", "WebSocketClosed",
    "WebSocketCore", "WebSocketEvent", "WebSocketSettings", "check_close_code",
    "read_handshake", "require_wsproto", "wants_websocket",
]

INSTALL_HINT: Final = "WebSockets need wsproto: pip install 'microready[websockets]'"
# With permessage-deflate, one input byte can inflate to about 1032: wsproto
# inflates whatever it is fed at once, so the core feeds it at most this much at
# a time and checks the message size in between. A message is then refused
# before it is more than ~2 MiB past the limit, however it was compressed.
_DEFLATE_FEED_SIZE: Final = 2048
# The close codes an endpoint may send (RFC 6455 7.4, and IANA's 1012-1014).
_SENDABLE_CODES: Final = frozenset({*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)})


def require_wsproto() -> None:
    """Raise the one-line ``pip install`` hint when the extra is missing."""
    if not WSPROTO_AVAILABLE:
        raise ModuleNotFoundError(INSTALL_HINT, name="wsproto")


@dataclass(frozen=True, slots=True)
class WebSocketSettings:
    """The limits of one WebSocket connection; the names are uvicorn's ``--ws-*`` flags.

    ``close_timeout`` (websockets' name; uvicorn has no flag) bounds the wait for
    the client's answer to a close we sent.
    """

    max_size: int = 16 * 1024 * 1024  # bytes of one (decompressed) message
    ping_interval: float | None = 20.0  # None: no keepalive pings
    ping_timeout: float | None = 20.0  # None: a ping may go unanswered forever
    close_timeout: float = 10.0
    per_message_deflate: bool = True

    def __post_init__(self) -> None:
        if self.max_size < 1:
            raise ValueError(f"max_size must be at least 1 byte, not {self.max_size}")
        for name in ("ping_interval", "ping_timeout", "close_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value}")


# -- the open connection -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextReceived:
    text: str


@dataclass(frozen=True, slots=True)
class BytesReceived:
    data: bytes


@dataclass(frozen=True, slots=True)
class Disconnected:
    """Receiving is over: the client closed, vanished (1006), or we failed the connection."""

    code: int
    reason: str = ""


WebSocketEvent = TextReceived | BytesReceived | Disconnected


class WebSocketClosed(Exception):
    """Nothing more can be sent: the connection is closing or closed."""


def check_close_code(code: int) -> None:
    """Refuse a close code no endpoint may send (1005, 1006, 1015, unassigned ones)."""
    if code not in _SENDABLE_CODES:
        raise ValueError(f"{code} is not a close code an endpoint may send: use 1000-1003, "
                         "1007-1014 or an application code in 3000-4999")


_OPEN, _CLOSING, _CLOSED = "open", "closing", "closed"


class WebSocketCore:
    """One open server-side WebSocket: bytes and the time in, events and bytes out.

    States: open; closing (we sent a close and wait ``close_timeout`` for the
    client's); closed (the caller writes ``data_to_send()``, then closes the
    socket). A client's close is echoed at once; a broken frame, a message over
    ``max_size`` (1009) or an unanswered ping (1011) fails the connection: the
    close frame is queued and the connection is closed without waiting.
    """

    def __init__(self, settings: WebSocketSettings, now: float, *,
                 extensions: Sequence[Extension] = (), trailing_data: bytes = b"") -> None:
        require_wsproto()
        self.settings = settings
        self._conn = Connection(ConnectionType.SERVER, extensions=list(extensions))
        self.deflate = any(extension.enabled() for extension in extensions)
        self._feed_size = _DEFLATE_FEED_SIZE if self.deflate else None
        self._state = _OPEN
        self._unfed = bytearray()
        self._eof = False
        self._ready: deque[WebSocketEvent] = deque()
        self._outbox = bytearray()
        self._disconnect_reported = False
        self._parts: list[Any] = []  # the message being reassembled: str or bytes pieces
        self._message_size = 0
        # Keepalive: one ping at a time; the next one is due an interval after it.
        interval = settings.ping_interval
        self._next_ping_at = now + interval if interval is not None else None
        self._ping_payload: bytes | None = None
        self._ping_sent_at = 0.0
        self._pings_sent = 0
        self.pongs_received = 0
        self._close_deadline: float | None = None
        if trailing_data:
            self.receive_data(trailing_data)

    @property
    def is_open(self) -> bool:  # messages may be sent
        return self._state is _OPEN

    @property
    def closed(self) -> bool:
        """Over: write ``data_to_send()``, then close the socket."""
        return self._state is _CLOSED

    # -- bytes in, events out ---------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the socket; ``b""`` means the client closed its end."""
        if self._state is _CLOSED:
            return  # nothing is read once the connection is over
        if data:
            self._unfed += data
        else:
            self._eof = True

    def next_event(self) -> WebSocketEvent | type[h11.NEED_DATA]:
        """The next complete message or ``Disconnected``; ``NEED_DATA`` when none is ready."""
        while not self._ready:
            if self._state is _CLOSED or not self._pump():
                return NEED_DATA
        return self._ready.popleft()

    def data_to_send(self) -> bytes:
        """What the core answered by itself (pongs, pings, close frames) since last asked."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    def _pump(self) -> bool:
        """Feed wsproto the next slice and handle what it yields; False if nothing was left."""
        if self._unfed:
            size = self._feed_size or len(self._unfed)
            self._conn.receive_data(bytes(self._unfed[:size]))
            del self._unfed[:size]
        elif self._eof:
            self._finish(1006, "")
            return True
        else:
            return False
        for event in self._conn.events():
            self._handle(event)
            if self._state is _CLOSED:
                break  # what follows a failure is not read
        return True

    def _handle(self, event: Event) -> None:
        if isinstance(event, TextMessage | BytesMessage):
            if self._state is _OPEN:  # data after our close is dropped
                self._add_piece(event.data, event.message_finished)
        elif isinstance(event, Ping):
            if self._state is _OPEN:
                self._outbox += self._conn.send(event.response())
        elif isinstance(event, Pong):
            if self._ping_payload is not None and event.payload == self._ping_payload:
                self._ping_payload = None
                self.pongs_received += 1
                if self.settings.ping_interval is not None:
                    self._next_ping_at = self._ping_sent_at + self.settings.ping_interval
        elif isinstance(event, CloseConnection):
            state = self._conn.state
            if state is ConnectionState.REMOTE_CLOSING:  # the client closes: echo its code
                self._outbox += self._conn.send(event.response())
            if state in (ConnectionState.REMOTE_CLOSING, ConnectionState.CLOSED):
                self._finish(event.code, event.reason or "")  # CLOSED: it answered ours
            else:  # wsproto could not parse the frames: a protocol error, with its code
                self._fail(event.code, event.reason or "")

    def _add_piece(self, piece: str | bytes | bytearray, finished: bool) -> None:
        # wsproto hands over pieces as they arrive, so the limit holds before a
        # message is whole; text counts in UTF-8 bytes, as it came on the wire.
        is_text = isinstance(piece, str)
        wide = isinstance(piece, str) and not piece.isascii()
        self._message_size += len(piece.encode()) if isinstance(piece, str) and wide else len(piece)
        if self._message_size > self.settings.max_size:
            self._fail(1009, f"message larger than {self.settings.max_size} bytes")
            return
        self._parts.append(piece)
        if finished:  # join() of a single piece returns it as it is: no copy
            parts, self._parts, self._message_size = self._parts, [], 0
            self._ready.append(TextReceived("".join(parts)) if is_text
                               else BytesReceived(b"".join(parts)))

    def _finish(self, code: int, why: str) -> None:
        self._state = _CLOSED
        self._parts = []
        if not self._disconnect_reported:
            self._disconnect_reported = True
            self._ready.append(Disconnected(code, why))

    def _fail(self, code: int, why: str) -> None:
        """RFC 6455 7.1.7: send a close (if we still may), then close without waiting."""
        if self._conn.state is ConnectionState.OPEN:
            self._outbox += self._conn.send(CloseConnection(code=code, reason=why))
        self._finish(code, why)

    # -- messages out ---------------------------------------------------------------------

    def send_text(self, text: str) -> bytes:
        self._check_open()
        return self._conn.send(TextMessage(data=text))

    def send_bytes(self, data: bytes | bytearray | memoryview) -> bytes:
        self._check_open()
        return self._conn.send(BytesMessage(data=bytes(data)))

    def close(self, code: int = 1000, reason: str = "", *, now: float) -> bytes:
        """Start the closing handshake; the client has ``close_timeout`` to answer."""
        check_close_code(code)
        self._check_open()
        frame = self._conn.send(CloseConnection(code=code, reason=reason))
        self._state = _CLOSING
        self._parts = []
        self._close_deadline = now + self.settings.close_timeout
        return frame

    def _check_open(self) -> None:
        if self._state is not _OPEN:
            raise WebSocketClosed(f"the WebSocket is {self._state}; nothing more can be sent")

    # -- time -----------------------------------------------------------------------------

    @property
    def timer_deadline(self) -> float | None:
        """When to call ``on_timer`` next (None: no timer is running)."""
        if self._state is _CLOSING:
            return self._close_deadline
        if self._state is _CLOSED:
            return None
        if self._ping_payload is not None:
            timeout = self.settings.ping_timeout
            return None if timeout is None else self._ping_sent_at + timeout
        return self._next_ping_at

    def on_timer(self, now: float) -> None:
        """Send the ping that is due, or fail (1011) on a pong that is late."""
        if self._state is _CLOSING:
            if self._close_deadline is not None and now >= self._close_deadline:
                self._finish(1006, "the client did not answer our close in time")
            return
        if self._state is not _OPEN:
            return
        if self._ping_payload is not None:
            timeout = self.settings.ping_timeout
            if timeout is not None and now >= self._ping_sent_at + timeout:
                self._fail(1011, "keepalive ping timeout")  # websockets' and uvicorn's code
        elif self._next_ping_at is not None and now >= self._next_ping_at:
            self._pings_sent += 1
            self._ping_payload = struct.pack("!I", self._pings_sent)
            self._ping_sent_at = now
            self._outbox += self._conn.send(Ping(payload=self._ping_payload))

    def restart_pong_wait(self, now: float) -> None:
        """The caller stopped reading for a while (its app was slow to take messages):
        a pong may be sitting unread in the socket, so the wait for it starts over."""
        if self._ping_payload is not None:
            self._ping_sent_at = now
