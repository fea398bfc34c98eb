"""Response classes.

A ``Response`` is data: a status, a list of raw header pairs and a body. The
transport turns it into bytes; nothing here touches a socket. Headers are kept
as lower-case ``bytes`` pairs, ready to be written, and validated when set so
no CR or LF can reach the wire (response splitting).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

import anyio.to_thread

from ._utils import sends_content_length
from .background import BackgroundTask, BackgroundTasks
from .datastructures import MutableHeaders, _checked_header
from .encoders import json_bytes

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]

Background = BackgroundTask[Any] | BackgroundTasks | None



@functools.lru_cache(maxsize=64)
def _content_type_header(media_type: str, charset: str) -> tuple[bytes, bytes]:
    # Built once per media type, not once per response.
    if media_type.startswith("text/") and "charset=" not in media_type:
        media_type += f"; charset={charset}"
    return (b"content-type", media_type.encode("latin-1"))


class Response:
    """A complete response whose body is known up front.

    ``Response(content, status_code=200, headers=None, media_type=None, background=None)``
    """

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = self.render(content)
        self.raw_headers: list[tuple[bytes, bytes]] = self._initial_headers(headers)

    def render(self, content: Any) -> bytes:
        if content is None:
            return b""
        if isinstance(content, bytes | bytearray | memoryview):
            return bytes(content)
        if isinstance(content, str):
            return content.encode(self.charset)
        raise TypeError(
            f"{type(self).__name__} takes str or bytes content, not {type(content).__name__}; "
            "return the value itself (it is sent as JSON) or use JSONResponse(content)"
        )

    def _initial_headers(self, headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
        raw: list[tuple[bytes, bytes]] = []
        given: set[bytes] = set()
        if headers:
            for key, value in headers.items():
                pair = _checked_header(key, value)
                given.add(pair[0])
                raw.append(pair)
        if sends_content_length(self.status_code) and b"content-length" not in given:
            raw.append((b"content-length", str(len(self.body)).encode("ascii")))
        if self.media_type is not None and b"content-type" not in given:
            raw.append(_content_type_header(self.media_type, self.charset))
        return raw

    @property
    def headers(self) -> MutableHeaders:
        """The response headers, validated as they are set."""
        return MutableHeaders(self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header (RFC 6265 section 4.1)."""
        parts = [f"{key}={quote(value, safe='')}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if expires is not None:
            if isinstance(expires, datetime):
                expires = format_datetime(expires, usegmt=True)
            parts.append(f"expires={expires}")
        if path is not None:
            parts.append(f"Path={path}")
        if domain is not None:
            parts.append(f"Domain={domain}")
        if secure:
            parts.append("Secure")
        if httponly:
            parts.append("HttpOnly")
        if samesite is not None:
            if samesite.lower() not in ("lax", "strict", "none"):
                raise ValueError("samesite must be 'lax', 'strict' or 'none'")
            parts.append(f"SameSite={samesite}")
        self.headers.append("set-cookie", "; ".join(parts))

    def delete_cookie(self, key: str, path: str = "/", domain: str | None = None) -> None:
        self.set_cookie(key, max_age=0, expires=0, path=path, domain=domain)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class JSONResponse(Response):
    """``content`` as compact JSON, by the rules of ``microready.encoders`` (FastAPI's)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


class RedirectResponse(Response):
    """A redirect; 307 by default, so the client repeats the method and body."""

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: Background = None,
    ) -> None:
        super().__init__(b"", status_code=status_code, headers=headers, background=background)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


ContentStream = AsyncIterable[str | bytes] | Iterable[str | bytes]


class StreamingResponse(Response):
    """A response whose body comes from an iterator, sent with chunked encoding.

    A sync iterator is advanced in a worker thread, so a blocking generator does
    not stall the event loop.
    """

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background = None,
    ) -> None:
        self.content = content
        super().__init__(None, status_code, headers, media_type, background)
        if not headers or not any(key.lower() == "content-length" for key in headers):
            # The length is unknown: the connection picks chunked encoding. (A
            # Content-Length the app gave is kept, and the body must match it.)
            del self.headers["content-length"]

    async def iterate(self) -> AsyncGenerator[bytes, None]:
        """Yield the body's chunks as bytes.

        When the server stops early (the client left, or the body broke its
        length), closing this generator closes the app's iterator too, so its
        ``finally`` blocks run now rather than whenever it is collected.
        """
        content = self.content
        if isinstance(content, AsyncIterable):
            chunks = aiter(content)
            try:
                async for chunk in chunks:
                    yield chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)
            finally:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
            return
        iterator: Iterator[str | bytes] = iter(content)

        def next_chunk() -> str | bytes | None:
            return next(iterator, None)

        try:
            while True:
                item = await anyio.to_thread.run_sync(next_chunk)
                if item is None:
                    return
                yield item.encode(self.charset) if isinstance(item, str) else bytes(item)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(close)
