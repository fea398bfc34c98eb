"""Responses into bytes.

A streamed response goes through h11's public ``send()``. A complete response
(the common case: the whole body is known) is serialised here, from
pre-encoded parts, and h11 is not told of it: the keep-alive decision after it
is ours, and the next cycle starts on a fresh h11 connection (see the comment
above ``ResponseWriter``).

What comes out is a sequence of buffers to write in order. A small body is
joined to its head, so the caller makes one ``send`` of one buffer, the
cheapest write there is. A body of ``JOIN_LIMIT`` bytes or more is handed
back as the app's own object, next to its head: joining it would copy it, and
a client that reads slowly (or never) would hold that copy for as long as the
write takes. The caller writes the buffers with one vectored ``sendmsg``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

import h11

from ..._utils import NO_CONTENT_STATUSES, sends_content_length
from .events import RawHeaders

__all__ = [
    "Buffers", "DEFAULT_SERVER_HEADERS", "DateCache", "InvalidResponse", "JOIN_LIMIT",
    "ResponseWriter", "SERVER_HEADER", "ServerHeaders", "reason",
]

SERVER_HEADER: Final = (b"server", b"microready")
# Buffers to write in order, with no copy between them (see the module docstring).
Buffers = Sequence[bytes]
# From this size on a body is written as its own buffer, not joined to its head.
# Below it, the copy costs less than the second buffer does: joining 64 KiB
# takes about 2 us, and such a body fits the kernel's socket buffer (Linux
# starts at 16-87 KiB and grows it), so the write usually completes at once and
# the joined buffer is gone before the next request. Above it, the copy costs
# time for nothing, and memory for as long as a slow client takes to read.
JOIN_LIMIT: Final = 64 * 1024


class ServerHeaders:
    """The headers the server adds to every response: ``Date``, ``Server`` and
    the ``--header`` lines; an app's own header of the same name replaces one.

    As in uvicorn, a ``--header server: ...`` line replaces ``server:
    microready`` (and ``--header date: ...`` the Date), and
    ``server_header=False`` drops only the server's default.
    """

    __slots__ = ("date", "server", "extra", "names")

    def __init__(self, *, date: bool = True, server: bool = True,
                 extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self.extra: tuple[tuple[bytes, bytes], ...] = tuple(extra)
        given = {name for name, _value in self.extra}
        self.date = date and b"date" not in given
        self.server: bytes | None = (
            SERVER_HEADER[1] if server and b"server" not in given else None)
        # Every name the server may add: an app header with one of them wins.
        self.names = frozenset(given | {b"date", b"server"})


DEFAULT_SERVER_HEADERS: Final = ServerHeaders()


class InvalidResponse(Exception):
    """The app's response cannot be sent as it is (it would break HTTP framing)."""


class DateCache:
    """``Date`` changes once a second; format it once a second, not per response.

    ``current()`` is the header value; ``header_lines()`` is the ready-made
    block of the server's header lines (``ServerHeaders``) that every response
    carries, Date included unless it is turned off.
    """

    __slots__ = ("_clock", "_headers", "_second", "_value", "_lines", "_fixed_lines")

    def __init__(self, clock: Callable[[], float],
                 headers: ServerHeaders = DEFAULT_SERVER_HEADERS) -> None:
        self._clock = clock
        self._headers = headers
        self._second = -1
        self._value = b""
        self._fixed_lines = b"".join(
            name + b": " + value + b"\r\n" for name, value in self.fixed_pairs())
        self._lines = self._fixed_lines

    def fixed_pairs(self, leaving_out: frozenset[bytes] = frozenset()) -> list[tuple[bytes, bytes]]:
        """The server's header pairs other than Date, without the names in ``leaving_out``."""
        headers = self._headers
        pairs = [] if headers.server is None else [(b"server", headers.server)]
        pairs.extend(headers.extra)
        return [pair for pair in pairs if pair[0] not in leaving_out]

    def _refresh(self) -> None:
        now = self._clock()
        second = int(now)
        if second != self._second:
            self._second = second
            self._value = formatdate(now, usegmt=True).encode("ascii")
            if self._headers.date:
                self._lines = b"date: " + self._value + b"\r\n" + self._fixed_lines

    def current(self) -> bytes:
        self._refresh()
        return self._value

    def header_lines(self) -> bytes:
        if not self._headers.date:
            return self._lines
        self._refresh()
        return self._lines

    def header_pairs(
        self, leaving_out: frozenset[bytes] = frozenset()
    ) -> list[tuple[bytes, bytes]]:
        """The server's header pairs, as ``header_lines()`` has them, less ``leaving_out``."""
        pairs = self.fixed_pairs(leaving_out)
        if self._headers.date and b"date" not in leaving_out:
            pairs.insert(0, (b"date", self.current()))
        return pairs


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


# h11 tracks the request side of every cycle and writes streamed responses;
# complete responses we serialise ourselves (from pre-encoded parts) and never
# show to h11: h11 0.16 has no public call that records a response without
# serialising it again, which costs about as much as the rest of the response.
# So after a complete response the keep-alive decision is ours (``closes``:
# the client's, the server's and the app's say), and the next cycle runs on a
# fresh ``h11.Connection`` fed the bytes the old one had buffered (its public
# ``trailing_data``; see ``ConnectionCore.start_next_cycle``). h11 still parses
# every request and decides its framing; tests/server/test_keep_alive_cycles.py
# checks each keep-alive decision against h11 answering through ``send()``.

class ResponseWriter:
    """Serialises one connection's responses: complete ones itself, streamed ones
    through h11.

    ``started`` says whether this cycle's response head has been committed:
    after that, a failure can only be answered by closing the connection.
    """

    __slots__ = ("h11", "_dates", "_names", "started", "completed", "closes")

    def __init__(self, connection: h11.Connection, wall_clock: Callable[[], float],
                 headers: ServerHeaders = DEFAULT_SERVER_HEADERS) -> None:
        self.h11 = connection  # replaced by the core at each new cycle
        self._dates = DateCache(wall_clock, headers)
        self._names = headers.names
        self.started = False
        # A complete response was written (``complete``), and whether the
        # connection closes after it; h11 is not told about such a response.
        self.completed = False
        self.closes = False

    def next_cycle(self, connection: h11.Connection) -> None:
        self.h11 = connection
        self.started = self.completed = self.closes = False

    def start(self, status_code: int, headers: RawHeaders, close: bool) -> bytes:
        """The head of a streamed response; its body goes through h11 as ``Data`` events."""
        check_header_bytes(headers)
        all_headers = list(headers)
        names = self._names
        apps_own = frozenset(name for name, _value in all_headers if name in names)
        all_headers.extend(self._dates.header_pairs(apps_own))
        if close:
            all_headers.append((b"connection", b"close"))
        # Committed before h11 sees it: if h11 refuses the head, its state says
        # what was sent, and the connection can only close.
        self.started = True
        return self.h11.send(
            h11.Response(status_code=status_code, headers=all_headers, reason=reason(status_code))
        )

    def body(self, data: bytes) -> Buffers:
        """A chunk of a streamed body: a small one joined to its framing by h11,
        a large one passed through as itself, between its chunk-size line and CRLF."""
        if len(data) < JOIN_LIMIT:
            return (self.h11.send(h11.Data(data=data)),)
        return self.h11.send_with_data_passthrough(h11.Data(data=data)) or ()

    def complete(
        self, status_code: int, headers: RawHeaders, body: bytes, close: bool, head_only: bool
    ) -> Buffers:
        """A whole response: one buffer, or the head and the body itself when the
        body is ``JOIN_LIMIT`` bytes or more (the fast path).

        ``close`` ends the connection after it (the app's own ``Connection:
        close`` does too); ``head_only`` answers a HEAD request. Raises
        ``InvalidResponse``, with nothing sent, if the response breaks HTTP.
        """
        if status_code < 200 or status_code > 999:
            raise InvalidResponse(f"cannot send status {status_code} as a final response")
        if self.started:
            raise InvalidResponse("a response was already sent for this request")
        lines: list[bytes] = []
        declared_length: bytes | None = None
        names = self._names
        apps_own: set[bytes] | None = None  # the server's headers the app gave itself
        for name, value in headers:
            if name == b"content-length":
                declared_length = value
                continue  # checked below, and written with the framing
            if name == b"connection":
                if b"close" in value.lower():
                    close = True
                continue  # we write our own Connection header below
            if name == b"transfer-encoding":
                continue  # ours: the framing
            if name in names:
                if apps_own is None:
                    apps_own = set()
                apps_own.add(name)
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
        if apps_own is None:
            server_lines = self._dates.header_lines()
        else:  # rare: the app set its own Date or Server (or a --header name); it wins
            server_lines = b"".join(name + b": " + value + b"\r\n" for name, value
                                    in self._dates.header_pairs(frozenset(apps_own)))
        head = (
            status_line + block + framing + server_lines
            + (b"connection: close\r\n\r\n" if close else b"\r\n")
        )
        self.started = self.completed = True
        self.closes = close
        if head_only or not body:
            return (head,)  # HEAD: the headers a GET would get, no content (RFC 9110 9.3.2)
        if len(body) >= JOIN_LIMIT:
            return (head, body)  # the app's own object: no copy (see JOIN_LIMIT)
        return (head + body,)
