"""The rules a request head must meet before the app sees it.

h11 parses the head and enforces HTTP/1.1's grammar. What it leaves to the
server is listed here: our size limits, and the RFC 9112 / RFC 9110 rules that
decide whether we can trust the head's framing. ``HEAD_RULES`` is the table,
one row per rule: the status a broken rule earns, the message, and (in the
comment above the row) the RFC text that asks for it. ``check_head`` holds
each row's test, in the same order, and applies them in one pass over the head.
"""

from __future__ import annotations

import ast
import re
from typing import Final, NamedTuple

import h11

from .events import Rejected
from .limits import Limits

__all__ = [
    "BODY_TOO_LARGE",
    "CHUNKED_IN_HTTP_1_0",
    "CONNECT_NOT_SUPPORTED",
    "HEAD_RULES",
    "HEAD_TOO_LARGE",
    "HeadRule",
    "OBSOLETE_LINE_FOLDING",
    "REQUEST_LINE_TOO_LONG",
    "TOO_MANY_FIELDS",
    "TWO_FRAMINGS",
    "TWO_HOSTS",
    "VERSION_NOT_SUPPORTED",
    "check_head",
    "folds_a_line",
    "plain_reason",
    "request_line_too_long",
]


class HeadRule(NamedTuple):
    """A rule a request head may break: the status it earns, and what the client is told."""

    status: int
    # A str.format() template; it may name ``limits`` and ``version`` (the
    # request's HTTP version, "1.1"). Formatted only when the rule is broken.
    message: str

    def reject(self, limits: Limits, version: str = "") -> Rejected:
        return Rejected(self.status, self.message.format(limits=limits, version=version))


# -- the rules -----------------------------------------------------------------
#
# In the order they are applied: when a head breaks several, the client hears
# about the first. Every rejection closes the connection, because after a head
# we refuse to trust, we cannot know where the next request would begin. Each
# row's test is the line of the same name in check_head (kept there, inline,
# for speed); tests/server/test_head_rules.py breaks each rule alone and checks
# that the client hears that row's status and message.

# RFC 9112 section 3: a server that receives a request-target longer than it
# wishes to parse MUST respond with 414 (URI Too Long, RFC 9110 section 15.5.15).
REQUEST_LINE_TOO_LONG: Final = HeadRule(
    414, "request line is longer than {limits.max_request_line} bytes"
)
# RFC 9110 section 5.4: a server that receives a set of fields larger than it
# wishes to process MUST respond with a 4xx; RFC 6585 section 5 names it 431.
HEAD_TOO_LARGE: Final = HeadRule(431, "request head is larger than {limits.max_header_size} bytes")
TOO_MANY_FIELDS: Final = HeadRule(431, "more than {limits.max_header_count} header fields")
# RFC 9112 section 5.2: a server MUST reject obs-fold (a line that continues the
# previous field by starting with a space or a tab) with 400, or replace it.
# h11 replaces it silently, which hides a smuggling vector, so we reject.
OBSOLETE_LINE_FOLDING: Final = HeadRule(400, "obsolete line folding in a header")
# RFC 9112 section 2.3 and RFC 9110 section 15.6.6: we speak HTTP/1.0 and 1.1,
# and refuse any other version (h11 parses any "HTTP/d.d") with 505.
VERSION_NOT_SUPPORTED: Final = HeadRule(505, "HTTP/{version} is not supported")
# RFC 9112 section 6.1 and 6.3 (rule 3): both framings in one message is a
# smuggling attempt or a broken proxy; either way we must not guess which to trust.
TWO_FRAMINGS: Final = HeadRule(400, "both Content-Length and Transfer-Encoding")
# RFC 9112 section 6.1: a server that receives an HTTP/1.0 message with
# Transfer-Encoding MUST treat its framing as faulty.
CHUNKED_IN_HTTP_1_0: Final = HeadRule(400, "Transfer-Encoding in an HTTP/1.0 request")
# RFC 9112 section 3.2: a server MUST respond 400 to a request with more than one
# Host field line. h11 0.16 refuses such a head (and a 1.1 head with no Host)
# before we see it; the row stays so that the rule does not rest on that.
TWO_HOSTS: Final = HeadRule(400, "more than one Host header")
# RFC 9110 section 9.3.6: CONNECT asks for a tunnel, and we are an origin
# server, not a proxy. (To h11, a 2xx answer to CONNECT would also mean "the
# connection is now a tunnel".)
CONNECT_NOT_SUPPORTED: Final = HeadRule(405, "CONNECT is not supported")
# RFC 9110 section 15.5.14: a declared body over the limit is refused before it
# is read. A chunked body declares no length; it earns the same 413 when it
# grows past the limit (ConnectionCore.next_event).
BODY_TOO_LARGE: Final = HeadRule(413, "request body is larger than {limits.max_body_size} bytes")

HEAD_RULES: Final = (
    REQUEST_LINE_TOO_LONG,
    HEAD_TOO_LARGE,
    TOO_MANY_FIELDS,
    OBSOLETE_LINE_FOLDING,
    VERSION_NOT_SUPPORTED,
    TWO_FRAMINGS,
    CHUNKED_IN_HTTP_1_0,
    TWO_HOSTS,
    CONNECT_NOT_SUPPORTED,
    BODY_TOO_LARGE,
)

# The blank line that ends a head: CRLF CRLF, or with bare LFs (RFC 9112 2.2).
_END_OF_HEAD = re.compile(rb"\n\r?\n")


def folds_a_line(raw_head: bytes) -> bool:
    """Whether the head in ``raw_head`` (up to its blank line) uses obs-fold."""
    blank_line = _END_OF_HEAD.search(raw_head)
    head = raw_head[: blank_line.start()] if blank_line else raw_head
    return b"\n " in head or b"\n\t" in head


# h11's messages quote the offending bytes with repr(): "illegal request line:
# bytearray(b'GET /\\x01 HTTP/1.1')". The client (and the log) should read the
# bytes, not Python's spelling of them.
_BYTES_REPR = re.compile(
    r"""bytearray\((b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*")\)"""
    r"""|(b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*")"""
)


def _unrepr(match: re.Match[str]) -> str:
    try:
        data = ast.literal_eval(match.group(1) or match.group(2))
    except (ValueError, SyntaxError):  # pragma: no cover - h11 writes valid reprs
        return "?"
    # Escaped as the log escapes a target: the bytes are the client's, and a
    # control character must not reach a terminal or split a log line.
    text = bytes(data).decode("latin-1")
    return "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}"
        for c in text
    )


def plain_reason(message: str) -> str:
    """An h11 error message as plain text: its quoted bytes decoded, no Python reprs."""
    if "b'" not in message and 'b"' not in message:
        return message
    return _BYTES_REPR.sub(_unrepr, message)


def request_line_too_long(raw_head: bytes, limits: Limits) -> bool:
    """Whether the first line of ``raw_head`` (complete or not) is over the limit."""
    line_end = raw_head.find(b"\n")
    if line_end < 0:
        line_end = len(raw_head)
    return line_end > limits.max_request_line


def check_head(
    raw_head: bytes, request: h11.Request, limits: Limits
) -> tuple[Rejected | None, bool, bool, bool]:
    """Apply ``HEAD_RULES`` to a head h11 has parsed.

    ``raw_head`` is the head as received, up to ``limits.max_header_size`` bytes
    and perhaps some body bytes after it: h11 unfolds obs-fold lines, so the
    rules that look at the bytes read our own copy. Returns the rejection of
    the first broken rule (or None), whether the client asks to keep the
    connection alive afterwards, whether it has an ``Upgrade`` header, and
    whether it has an ``X-Forwarded-For`` or ``X-Forwarded-Proto`` header.
    """
    version = request.http_version
    headers = request.headers
    # The earliest blank line, CRLF or bare LF; the body may follow in the
    # same bytes and contain either form.
    blank_line = _END_OF_HEAD.search(raw_head)
    head_end = blank_line.start() if blank_line else -1
    head = raw_head[:head_end]
    # One pass over the fields gathers what the rules and keep-alive need.
    # raw_items() is h11's public list of the fields with their names as sent;
    # lower-casing them here is what h11 does for its own copy, and is cheaper
    # than iterating the Headers sequence, which builds each pair in Python.
    content_length: bytes | None = None
    host_count = 0
    has_transfer_encoding = False
    upgrade = False
    proxied = False  # so that a request with no X-Forwarded-* costs the proxy code nothing
    # RFC 9112 section 9.3: HTTP/1.1 persists unless "close" is among the
    # Connection options. h11 does not do HTTP/1.0 keep-alive, so neither do we.
    keeps_alive = version == b"1.1"
    for raw_name, value in headers.raw_items():
        name = raw_name.lower()
        if name == b"content-length":
            content_length = value  # h11 has merged duplicates and checked the digits
        elif name == b"host":
            host_count += 1
        elif name == b"transfer-encoding":
            has_transfer_encoding = True
        elif name == b"connection" and b"close" in value.lower():
            keeps_alive = keeps_alive and b"close" not in [
                token.strip() for token in value.lower().split(b",")
            ]
        elif name == b"upgrade":
            upgrade = True
        elif name == b"x-forwarded-for" or name == b"x-forwarded-proto":
            proxied = True
    max_body = limits.max_body_size
    # The tests of HEAD_RULES, one per row and in the same order. Each is a real
    # bool, True when broken (``True in`` would also match a 1). One tuple of
    # plain expressions, not a loop over a function per row: this runs for
    # every request, and ten calls made the whole request cycle about 3% slower
    # (measured in instructions, CPython 3.11).
    broken = (
        request_line_too_long(raw_head, limits),  # REQUEST_LINE_TOO_LONG
        head_end < 0 or head_end > limits.max_header_size,  # HEAD_TOO_LARGE: it did not fit
        len(headers) > limits.max_header_count,  # TOO_MANY_FIELDS
        b"\n " in head or b"\n\t" in head,  # OBSOLETE_LINE_FOLDING
        version != b"1.1" and version != b"1.0",  # VERSION_NOT_SUPPORTED
        content_length is not None and has_transfer_encoding,  # TWO_FRAMINGS
        has_transfer_encoding and version == b"1.0",  # CHUNKED_IN_HTTP_1_0
        host_count > 1,  # TWO_HOSTS
        request.method == b"CONNECT",  # CONNECT_NOT_SUPPORTED
        # BODY_TOO_LARGE
        content_length is not None and max_body is not None and int(content_length) > max_body,
    )
    if True not in broken:
        return None, keeps_alive, upgrade, proxied
    rule = HEAD_RULES[broken.index(True)]
    return rule.reject(limits, version.decode()), keeps_alive, upgrade, proxied
