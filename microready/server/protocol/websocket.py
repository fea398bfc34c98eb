"""WebSockets (RFC 6455) on an upgraded HTTP/1.1 connection, with no I/O.

Two halves, as in h11's world (wsproto is h11's sans-IO sibling):

* **The opening handshake**, standard library only, so it works (and the
  transport can call it) whether or not wsproto is installed:

  - ``wants_websocket(headers)``: the cheap test the transport runs on every
    request head: does it ask to upgrade to ``websocket``?
  - ``read_handshake(head)``: the whole check of RFC 6455 section 4.2.1 on a
    head h11 already parsed. It returns a ``Handshake``, or a
    ``HandshakeRejection`` to answer instead (400 for a malformed handshake,
    426 with ``Sec-WebSocket-Version: 13`` for another version).
  - ``Handshake.accept(subprotocol, headers, settings=..., now=...)`` once the
    app accepts: the ``101 Switching Protocols`` bytes, and a ``WebSocketCore``
    for what follows. ``permessage-deflate`` (RFC 7692) is negotiated through
    wsproto's own extension when the client offers it.
  - ``REFUSED`` (HTTP 403, the app closed before accepting, as Starlette and
    uvicorn answer) and ``APP_FAILED`` (HTTP 500): rejections after the fact.

* **``WebSocketCore``**, over ``wsproto.connection.Connection``: bytes in
  (``receive_data``), events out (``next_event``: ``TextReceived``,
  ``BytesReceived``, ``Disconnected`` or ``NEED_DATA``), the bytes of each
  outgoing message (``send_text``, ``send_bytes``, ``close``), and what the core
  answers by itself (pongs, the close echo, a 1009) in ``data_to_send()``.
  Keepalive pings run on the time the caller passes in: ``timer_deadline`` says
  when to call ``on_timer(now)``, so no clock is read here.

wsproto is an extra (``microready[websockets]``): this module imports without
it, and ``WebSocketCore`` then raises one line saying what to install.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import h11

from .events import NEED_DATA, RawHeaders, RequestReceived
from .writer import SERVER_HEADER
from .writer import reason as reason_phrase

try:
    from wsproto.connection import Connection, ConnectionState, ConnectionType
    from wsproto.events import BytesMessage, CloseConnection, Event, Ping, Pong, TextMessage
    from wsproto.extensions import Extension, PerMessageDeflate
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
_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
# With permessage-deflate, one input byte can inflate to about 1032: wsproto
# inflates whatever it is fed at once, so the core feeds it at most this much at
# a time and checks the message size in between. A message is then refused
# before it is more than ~2 MiB past the limit, however it was compressed.
_DEFLATE_FEED_SIZE: Final = 2048
# The close codes an endpoint may send (RFC 6455 7.4, and IANA's 1012-1014).
_SENDABLE_CODES: Final = frozenset({*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)})
_RESERVED_ACCEPT_HEADERS: Final = frozenset({
    b"upgrade", b"connection", b"sec-websocket-accept", b"sec-websocket-protocol",
    b"sec-websocket-extensions", b"content-length", b"transfer-encoding",
})
_TOKEN_CHARS: Final = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                                b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")


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


# -- the opening handshake -------------------------------------------------------------


def _values(headers: RawHeaders, name: bytes) -> list[bytes]:
    """The comma-separated items of every ``name`` field, stripped, empty ones dropped."""
    return [item.strip() for field_name, value in headers if field_name == name
            for item in value.split(b",") if item.strip()]


def wants_websocket(headers: RawHeaders) -> bool:
    """Whether a request asks to upgrade to WebSocket (an ``Upgrade: websocket`` token)."""
    for name, value in headers:
        if name == b"upgrade" and b"websocket" in value.lower():
            return any(item.strip() == b"websocket" for item in value.lower().split(b","))
    return False


@dataclass(frozen=True, slots=True)
class HandshakeRejection:
    """An HTTP answer instead of the upgrade; the connection closes after it."""

    status_code: int
    reason: str
    extra_headers: tuple[tuple[bytes, bytes], ...] = ()

    @property
    def body(self) -> bytes:
        phrase = reason_phrase(self.status_code).decode()
        return f"{self.status_code} {phrase}: {self.reason}\n".encode()

    def headers(self) -> list[tuple[bytes, bytes]]:
        """For a transport that sends it through its own HTTP writer."""
        return [(b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"%d" % len(self.body)), (b"connection", b"close"),
                *self.extra_headers]

    def response_bytes(self, date: bytes | None = None) -> bytes:
        """The whole response. ``date`` is the ``Date`` value (the core reads no clock)."""
        lines = [b"HTTP/1.1 %d %s" % (self.status_code, reason_phrase(self.status_code))]
        if date is not None:
            lines.append(b"date: " + date)
        lines.append(b"%s: %s" % SERVER_HEADER)
        lines.extend(b"%s: %s" % pair for pair in self.headers())
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body


REFUSED: Final = HandshakeRejection(403, "the application refused the WebSocket connection")
APP_FAILED: Final = HandshakeRejection(500, "the application failed before accepting")


def read_handshake(head: RequestReceived) -> Handshake | HandshakeRejection:
    """Check a request that ``wants_websocket`` against RFC 6455 section 4.2.1."""
    headers = head.headers

    def bad(why: str) -> HandshakeRejection:
        return HandshakeRejection(400, why)

    if head.method != "GET":
        return bad("a WebSocket handshake must be a GET request")
    if head.http_version != "1.1":
        return bad("a WebSocket handshake needs HTTP/1.1")
    if b"upgrade" not in (item.lower() for item in _values(headers, b"connection")):
        return bad("a WebSocket handshake needs 'Connection: Upgrade'")
    if any(name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0")
           for name, value in headers):
        return bad("a WebSocket handshake has no body")
    versions = [value.strip() for name, value in headers if name == b"sec-websocket-version"]
    if not versions:
        return bad("missing Sec-WebSocket-Version")
    if versions != [b"13"]:
        return HandshakeRejection(426, "only WebSocket version 13 is supported",
                                  ((b"sec-websocket-version", b"13"),))
    keys = [value.strip() for name, value in headers if name == b"sec-websocket-key"]
    if len(keys) != 1:
        return bad("a WebSocket handshake needs exactly one Sec-WebSocket-Key")
    try:
        nonce = base64.b64decode(keys[0], validate=True)
    except binascii.Error:
        nonce = b""
    if len(nonce) != 16:
        return bad("Sec-WebSocket-Key must be 16 bytes in base64")
    return Handshake(
        key=keys[0],
        subprotocols=tuple(item.decode("latin-1")
                           for item in _values(headers, b"sec-websocket-protocol")),
        extension_offers=tuple(item.decode("latin-1")
                               for item in _values(headers, b"sec-websocket-extensions")),
    )


def _accept_token(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def _checked_accept_header(name: bytes | str, value: bytes | str) -> bytes:
    raw_name = name.encode("latin-1") if isinstance(name, str) else bytes(name)
    raw_value = value.encode("latin-1") if isinstance(value, str) else bytes(value)
    raw_name = raw_name.lower()
    if not raw_name or not set(raw_name) <= _TOKEN_CHARS:
        raise ValueError(f"{raw_name!r} is not a valid header name")
    if b"\r" in raw_value or b"\n" in raw_value or b"\0" in raw_value:
        raise ValueError(f"the value of header {raw_name!r} contains CR, LF or NUL")
    if raw_name in _RESERVED_ACCEPT_HEADERS:
        raise ValueError(f"the server sets {raw_name.decode()!r} itself; "
                         "choose a subprotocol with accept(subprotocol=...)")
    return raw_name + b": " + raw_value


@dataclass(frozen=True, slots=True)
class Handshake:
    """A valid upgrade request, waiting for the app to accept or refuse it."""

    key: bytes  # Sec-WebSocket-Key, as sent
    subprotocols: tuple[str, ...]  # Sec-WebSocket-Protocol, in the client's order
    extension_offers: tuple[str, ...]  # each Sec-WebSocket-Extensions offer, unparsed

    def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[Sequence[bytes | str]] = (),
        *,
        settings: WebSocketSettings,
        now: float,
        trailing_data: bytes = b"",
    ) -> tuple[bytes, WebSocketCore]:
        """The 101 response's bytes and the core of the open connection.

        ``subprotocol`` must be one the client offered; ``headers`` are extra
        response headers (bytes pairs, as ASGI's ``websocket.accept`` gives
        them). ``trailing_data`` is what arrived after the request head.
        Raises ``ValueError`` for a bad choice, before anything is sent.
        """
        require_wsproto()
        lines = [b"HTTP/1.1 101 Switching Protocols", b"%s: %s" % SERVER_HEADER,
                 b"upgrade: websocket", b"connection: Upgrade",
                 b"sec-websocket-accept: " + _accept_token(self.key)]
        if subprotocol is not None:
            if subprotocol not in self.subprotocols:
                raise ValueError(f"subprotocol {subprotocol!r} was not offered by the client "
                                 f"(it offered {list(self.subprotocols)})")
            lines.append(b"sec-websocket-protocol: " + subprotocol.encode("latin-1"))
        extensions: list[Extension] = []
        if settings.per_message_deflate:
            deflate = self._negotiate_deflate()
            if deflate is not None:
                extensions.append(deflate[0])
                lines.append(b"sec-websocket-extensions: " + deflate[1])
        lines.extend(_checked_accept_header(*pair) for pair in headers)
        core = WebSocketCore(settings, now, extensions=extensions, trailing_data=trailing_data)
        return b"\r\n".join(lines) + b"\r\n\r\n", core

    def _negotiate_deflate(self) -> tuple[Extension, bytes] | None:
        # The first permessage-deflate offer wsproto can honour wins (RFC 7692 5).
        for offer in self.extension_offers:
            if offer.partition(";")[0].strip().lower() != PerMessageDeflate.name:
                continue
            extension = PerMessageDeflate()
            try:
                parameters = extension.accept(offer)
            except ValueError:  # wsproto parses window bits with int(): a malformed offer
                continue
            if parameters is None or parameters is False:
                continue
            value = PerMessageDeflate.name
            if isinstance(parameters, str) and parameters:
                value += "; " + parameters
            return extension, value.encode("ascii")
        return None


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
