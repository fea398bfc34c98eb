"""Response classes.

A ``Response`` is data: a status, a list of raw header pairs and a body. The
transport turns it into bytes; nothing here touches a socket. Headers are kept
as lower-case ``bytes`` pairs, ready to be written, and validated when set so
no CR or LF can reach the wire (response splitting).

A ``StreamingResponse`` has no body up front: the transport writes what its
``iterate()`` yields, chunk by chunk. ``FileResponse`` is one with a known
length, read from disk in a worker thread as it is sent.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import stat
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator, Mapping
from datetime import datetime
from email.utils import format_datetime, formatdate
from typing import TYPE_CHECKING, Any, BinaryIO, Literal
from urllib.parse import quote

import anyio.to_thread

from ._ranges import (
    MalformedRange,
    RangeNotSatisfiable,
    content_disposition,
    etag_for,
    parse_range,
    range_applies,
)
from ._utils import sends_content_length
from .background import BackgroundTask, BackgroundTasks
from .datastructures import MutableHeaders, _checked_header
from .encoders import json_bytes

if TYPE_CHECKING:
    from .requests import Request

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "iterate_content",
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


async def iterate_content(content: ContentStream, charset: str = "utf-8",
                          ) -> AsyncGenerator[bytes, None]:
    """Yield ``content``'s chunks as bytes; a sync iterator is advanced in a worker thread.

    When the consumer stops early (the client left, or the body broke its
    length), closing this generator closes ``content`` too, so its ``finally``
    blocks run now rather than whenever it is collected.
    """
    if isinstance(content, AsyncIterable):
        chunks = aiter(content)
        try:
            async for chunk in chunks:
                yield chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                # Shielded: an aclose() interrupted at its first await would
                # leave the app's generator half-closed.
                with anyio.CancelScope(shield=True):
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
            yield item.encode(charset) if isinstance(item, str) else bytes(item)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(close)


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

    def iterate(self) -> AsyncGenerator[bytes, None]:
        """The body's chunks as bytes (see ``iterate_content``)."""
        return iterate_content(self.content, self.charset)


class FileResponse(StreamingResponse):
    """The file at ``path``, sent in 64 KiB chunks read in a worker thread.

    ``FileResponse(path, status_code=200, headers=None, media_type=None,
    background=None, filename=None, stat_result=None,
    content_disposition_type="attachment")``

    The media type is guessed from ``filename`` or ``path``; ``filename`` also
    becomes ``Content-Disposition``. Before the response is sent, the app calls
    ``for_request``, which reads the file's size and time (``Content-Length``,
    ``Last-Modified``, ``ETag``) in a worker thread, and answers a ``Range``
    request for one byte range with 206, as Starlette does.
    """

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.filename = filename
        if media_type is None:
            media_type = mimetypes.guess_type(filename or path)[0] or "application/octet-stream"
        super().__init__((), status_code, headers, media_type, background)
        self.headers.setdefault("accept-ranges", "bytes")
        if filename is not None:
            self.headers.setdefault(
                "content-disposition", content_disposition(filename, content_disposition_type)
            )
        self.stat_result = stat_result
        if stat_result is not None:
            self.set_stat_headers(stat_result)
        # What to send: [start, end) of the file (end None: to its end), or nothing.
        self._span: tuple[int, int | None] = (0, None)
        self._send_body = True

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        headers = self.headers
        headers.setdefault("content-length", str(stat_result.st_size))
        headers.setdefault("last-modified", formatdate(stat_result.st_mtime, usegmt=True))
        headers.setdefault("etag", etag_for(stat_result))

    async def for_request(self, request: Request) -> Response:
        """The response to send for ``request``: this one, or a 400/416 for a bad range.

        Raises ``RuntimeError`` if the file is missing or not a regular file
        (the app answers 500 and logs it, as Starlette does).
        """
        stat_result = self.stat_result
        if stat_result is None:
            try:
                stat_result = await anyio.to_thread.run_sync(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.") from None
            if not stat.S_ISREG(stat_result.st_mode):
                raise RuntimeError(f"File at path {self.path} is not a file.")
            self.stat_result = stat_result
            self.set_stat_headers(stat_result)
        size = stat_result.st_size
        self._span = (0, size)  # not more than it had when its length was announced
        method = request.method
        self._send_body = method != "HEAD"
        headers = request.headers
        wanted = headers.get("range")
        if wanted is None or self.status_code != 200 or method not in ("GET", "HEAD"):
            return self
        if_range = headers.get("if-range")
        mine = self.headers
        if if_range is not None and not range_applies(
            if_range, mine.get("etag"), mine.get("last-modified")
        ):
            return self
        try:
            ranges = parse_range(wanted, size)
        except MalformedRange as exc:
            return PlainTextResponse(exc.message, status_code=400)
        except RangeNotSatisfiable as exc:  # RFC 9110 15.5.17: say how long it is
            return PlainTextResponse(status_code=416,
                                     headers={"content-range": f"bytes */{exc.size}"})
        if len(ranges) != 1:
            # Several ranges: the whole file, which RFC 9110 section 14.2 allows
            # (no multipart/byteranges body; see README).
            return self
        start, end = ranges[0]
        self.status_code = 206
        mine["content-range"] = f"bytes {start}-{end - 1}/{size}"
        mine["content-length"] = str(end - start)
        self._span = (start, end)
        return self

    async def iterate(self) -> AsyncGenerator[bytes, None]:
        """The file's bytes (the requested span of them), never more than one chunk in memory."""
        if not self._send_body:
            return
        start, end = self._span
        file: BinaryIO = await anyio.to_thread.run_sync(open, self.path, "rb")
        try:
            if start:
                await anyio.to_thread.run_sync(file.seek, start)
            remaining = None if end is None else end - start
            size = self.chunk_size
            while remaining is None or remaining > 0:
                want = size if remaining is None else min(size, remaining)
                chunk = await anyio.to_thread.run_sync(file.read, want)
                if not chunk:
                    return  # shorter than announced: the connection closes (h11 checks)
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(file.close)
