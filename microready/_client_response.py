"""What ``TestClient`` gives back: the request it sent and the response, with the
attributes of httpx's ``Request`` and ``Response`` that tests use.

``TestResponse`` has ``status_code``, ``reason_phrase``, ``http_version``,
``headers``, ``content``, ``text``, ``json()``, ``cookies`` (those this response
set), ``url``, ``request``, ``history`` (the redirects followed to get here,
oldest first), and ``is_success``/``is_redirect``/``is_error``/``has_redirect_location``.
"""

from __future__ import annotations

import codecs
import json as jsonlib
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import anyio
import anyio.abc
import h11

from ._client_headers import ClientHeaders
from ._client_url import URL
from ._cookie_jar import Cookies

__all__ = ["ClientRequest", "TestResponse", "decode_content", "read_response", "reason_phrase"]

# httpx's own phrases where the standard library's differ (or, from Python 3.13,
# were renamed after RFC 9110), so they do not change with the Python version.
_PHRASES = {
    413: "Request Entity Too Large", 414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable", 418: "I'm a teapot", 422: "Unprocessable Entity",
}


def reason_phrase(status_code: int) -> str:
    """httpx's ``Response.reason_phrase``: the status's standard phrase, whatever
    the server sent; ``""`` for a status without one."""
    if status_code in _PHRASES:
        return _PHRASES[status_code]
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


@dataclass
class ClientRequest:
    """The request as sent: ``method``, ``url``, ``headers`` and ``content`` (the body)."""

    method: str
    url: URL
    headers: ClientHeaders
    content: bytes = b""

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {str(self.url)!r})>"


class TestResponse:
    """What the app answered, as httpx's ``Response`` shows it."""

    __test__ = False  # not a pytest test class

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], content: bytes,
                 http_version: str, request: ClientRequest) -> None:
        self.status_code = status_code
        self.headers = ClientHeaders(headers)
        self.content = content
        self.http_version = http_version
        self.request = request
        self.history: list[TestResponse] = []
        self._cookies: Cookies | None = None

    @property
    def url(self) -> URL:
        return self.request.url

    @property
    def reason_phrase(self) -> str:
        return reason_phrase(self.status_code)

    @property
    def encoding(self) -> str:
        """The Content-Type's charset when Python knows it, else UTF-8 (as httpx)."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset":
                charset = value.strip("'\" ")
                try:
                    codecs.lookup(charset)
                except LookupError:
                    break
                return charset
        return "utf-8"

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    def json(self, **kwargs: Any) -> Any:
        return jsonlib.loads(self.content, **kwargs)

    @property
    def cookies(self) -> Cookies:
        """The cookies this response's ``Set-Cookie`` headers set (not the client's jar)."""
        if self._cookies is None:
            self._cookies = Cookies()
            self._cookies.extract(self.url, self.request.headers, self.headers.multi_items())
        return self._cookies

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        """A 301, 302, 303, 307 or 308, with a Location or not (as httpx says)."""
        return self.status_code in (301, 302, 303, 307, 308)

    @property
    def has_redirect_location(self) -> bool:
        """A redirect with a Location to follow: what the client follows."""
        return self.is_redirect and "location" in self.headers

    @property
    def is_error(self) -> bool:
        return 400 <= self.status_code < 600

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason_phrase}]>"


def decode_content(content: bytes, encodings: list[str]) -> bytes:
    """The body with its gzip and deflate codings undone, as httpx gives it: the
    client sends ``Accept-Encoding: gzip, deflate``. Codings are listed in the order
    they were applied (RFC 9110 section 8.4), so they are undone last first."""
    codings = [c.strip().lower() for value in encodings for c in value.split(",")]
    for coding in reversed(codings):
        if not content:
            break
        if coding == "gzip":
            content = zlib.decompress(content, zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
            try:
                content = zlib.decompress(content)
            except zlib.error:
                content = zlib.decompress(content, -zlib.MAX_WBITS)
    return content


async def read_response(peer: h11.Connection, stream: anyio.abc.ByteStream,
                        request: ClientRequest) -> TestResponse:
    """Read the response to ``request`` from ``stream`` through the client core ``peer``."""
    head: h11.Response | None = None
    chunks: list[bytes] = []
    while True:
        event = peer.next_event()
        if event is h11.NEED_DATA:
            try:
                peer.receive_data(await stream.receive())
            except anyio.EndOfStream:
                peer.receive_data(b"")
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if head is None:
        raise RuntimeError("the server closed the connection without a response")
    headers = list(head.headers)
    codings = [v.decode("latin-1") for k, v in headers if k == b"content-encoding"]
    content = decode_content(b"".join(chunks), codings)
    return TestResponse(head.status_code, headers, content,
                        "HTTP/" + head.http_version.decode(), request)
