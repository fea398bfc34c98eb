"""The WebSocket opening handshake (RFC 6455 section 4), with no I/O.

Importing it needs no wsproto (only the standard library and this package's h11
events and writer), so the transport can call it on every request whether
or not the extra is installed:

* ``wants_websocket(headers)``: the cheap test the transport runs on every
  request head: does it ask to upgrade to ``websocket``?
* ``read_handshake(head)``: the whole check of RFC 6455 section 4.2.1 on a
  head h11 already parsed. It returns a ``Handshake``, or a
  ``HandshakeRejection`` to answer instead (400 for a malformed handshake,
  426 with ``Sec-WebSocket-Version: 13`` for another version).
* ``Handshake.accept(subprotocol, headers, settings=..., now=...)`` once the
  app accepts: the ``101 Switching Protocols`` bytes, and the
  ``websocket.WebSocketCore`` for what follows. ``permessage-deflate``
  (RFC 7692) is negotiated through wsproto's own extension when the client
  offers it; accepting is the first step that needs wsproto.
* ``REFUSED`` (HTTP 403, the app closed before accepting, as Starlette and
  uvicorn answer) and ``APP_FAILED`` (HTTP 500): rejections after the fact.

``protocol.websocket`` re-exports every name here, so callers import both
halves from one place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .events import RawHeaders, RequestReceived
from .writer import SERVER_HEADER
from .writer import reason as reason_phrase

if TYPE_CHECKING:
    from wsproto.extensions import Extension

    from .websocket import WebSocketCore, WebSocketSettings

__all__ = [
    "APP_FAILED", "Handshake", "HandshakeRejection", "REFUSED", "read_handshake",
    "wants_websocket",
]

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
_RESERVED_ACCEPT_HEADERS: Final = frozenset({
    b"upgrade", b"connection", b"sec-websocket-accept", b"sec-websocket-protocol",
    b"sec-websocket-extensions", b"content-length", b"transfer-encoding",
})
_TOKEN_CHARS: Final = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                                b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")


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

    def response_bytes(
        self, server_headers: Sequence[tuple[bytes, bytes]] = (SERVER_HEADER,)
    ) -> bytes:
        """The whole response. ``server_headers`` are the lines the server adds
        (``Date``, ``Server``, ``--header``), given by the caller: the core reads no clock."""
        lines = [b"HTTP/1.1 %d %s" % (self.status_code, reason_phrase(self.status_code))]
        lines.extend(b"%s: %s" % pair for pair in server_headers)
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
        server_headers: Callable[[frozenset[bytes]], Sequence[tuple[bytes, bytes]]] = (
            lambda _apps_own: (SERVER_HEADER,)),
    ) -> tuple[bytes, WebSocketCore]:
        """The 101 response's bytes and the core of the open connection.

        ``subprotocol`` must be one the client offered; ``headers`` are extra
        response headers (bytes pairs, as ASGI's ``websocket.accept`` gives
        them). ``trailing_data`` is what arrived after the request head.
        ``server_headers`` gives the lines the server adds (``Date``,
        ``Server``, ``--header``) less the names the app's headers set itself.
        Raises ``ValueError`` for a bad choice, before anything is sent, and
        ``ModuleNotFoundError`` (with the ``pip install`` line) without wsproto.
        """
        # Imported here, not at the top: ``websocket`` re-exports this module,
        # so a top-level import would be a cycle. Both are loaded by now.
        from .websocket import WebSocketCore, require_wsproto

        require_wsproto()
        apps_lines = [_checked_accept_header(*pair) for pair in headers]
        apps_own = frozenset(line.partition(b":")[0] for line in apps_lines)
        lines = [b"HTTP/1.1 101 Switching Protocols",
                 *(b"%s: %s" % pair for pair in server_headers(apps_own)),
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
        lines.extend(apps_lines)
        core = WebSocketCore(settings, now, extensions=extensions, trailing_data=trailing_data)
        return b"\r\n".join(lines) + b"\r\n\r\n", core

    def _negotiate_deflate(self) -> tuple[Extension, bytes] | None:
        # Only reached once require_wsproto() has passed; importing wsproto here
        # keeps this module importable without it.
        from wsproto.extensions import PerMessageDeflate

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
