"""``GZipMiddleware``: gzip the app's responses for clients that accept it.

``app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)``

Starlette 1.10's rules, and its keywords and defaults:

* only when the request's ``Accept-Encoding`` mentions ``gzip``;
* never a response that already has a ``Content-Encoding``, a ``206`` (a byte range
  of the uncompressed file), or a media type in ``exclude_content_types`` (already
  compressed formats, and ``text/event-stream``, whose events must not wait in a
  compressor);
* a body of fewer than ``minimum_size`` bytes is sent as it is;
* ``Vary: Accept-Encoding`` is added to every response that could have been
  compressed, compressed or not (a cache must not hand the gzip body to a client
  that did not ask for it).

A streamed response (``StreamingResponse``, ``FileResponse``) is compressed as it
goes, never held whole: each chunk is compressed and flushed (``Z_SYNC_FLUSH``), so
the client can decode it as soon as it arrives, and ``Content-Length`` is dropped
(the compressed length is not known until the end). A chunk of
``thread_minimum_size`` bytes or more is compressed in a worker thread, so a large
body does not stall the event loop.

The reply's background tasks, cleanup and error are the inner reply's, untouched:
the server runs the tasks after the last compressed byte.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import anyio.to_thread

from .._utils import NO_CONTENT_STATUSES
from ..responses import FileResponse, Response, StreamingResponse
from ._edit import with_headers

if TYPE_CHECKING:
    from .._exchange import Reply, RequestHandler
    from ..requests import Request

__all__ = ["DEFAULT_EXCLUDED_CONTENT_TYPES", "GZipMiddleware"]

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "audio/*",
    "font/woff",
    "font/woff2",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/event-stream",
    "video/*",
)

# Compression gets threads of its own (as many as anyio's default limiter allows),
# so a burst of large responses cannot take every thread the sync endpoints need.
_COMPRESSION_THREADS = 40
_compression_limiter: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar(
    "microready_gzip_limiter"
)


def _limiter() -> anyio.CapacityLimiter:
    try:
        return _compression_limiter.get()
    except LookupError:  # the first large body of this event loop
        limiter = anyio.CapacityLimiter(_COMPRESSION_THREADS)
        _compression_limiter.set(limiter)
        return limiter


def _media_type_key(media_type: str) -> str:
    return media_type.partition(";")[0].strip().lower()


class _Compressor:
    """One response's gzip stream: compress a chunk now, finish at the end."""

    __slots__ = ("_stream", "_thread_minimum_size")

    def __init__(self, compresslevel: int, thread_minimum_size: int) -> None:
        # 16 + MAX_WBITS: the gzip container (header and CRC trailer), not raw zlib.
        self._stream = zlib.compressobj(compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self._thread_minimum_size = thread_minimum_size

    def _compress(self, data: bytes, final: bool) -> bytes:
        flush_mode = zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH
        return self._stream.compress(data) + self._stream.flush(flush_mode)

    async def compress(self, data: bytes, *, final: bool) -> bytes:
        """``data`` compressed and flushed: a whole gzip member when ``final``."""
        if len(data) < self._thread_minimum_size:
            return self._compress(data, final)
        # Shielded: a cancelled wait would still leave the thread using the
        # compressor, and the reply (with its cleanup) must not be lost half-made.
        with anyio.CancelScope(shield=True):
            compressed = await anyio.to_thread.run_sync(
                self._compress, data, final, limiter=_limiter()
            )
        return compressed


async def _compressed_chunks(response: StreamingResponse,
                             compressor: _Compressor) -> AsyncGenerator[bytes, None]:
    """``response``'s body, gzipped chunk by chunk, each chunk flushed as it comes."""
    chunks = response.iterate()  # made here, so a body never sent is never started
    # Closing this generator (the client left, the body ended) closes the inner
    # one at once, so the app's generator runs its finally blocks then.
    try:
        async for chunk in chunks:
            if chunk:  # an empty chunk would only add an empty flush block
                yield await compressor.compress(chunk, final=False)
        yield await compressor.compress(b"", final=True)
    finally:
        with anyio.CancelScope(shield=True):
            await chunks.aclose()


class GZipMiddleware:
    """Compress responses with gzip (see the module docstring for when).

    ``GZipMiddleware(app, *, minimum_size=500, compresslevel=9,
    thread_minimum_size=131072, exclude_content_types=DEFAULT_EXCLUDED_CONTENT_TYPES)``:
    ``compresslevel`` is zlib's, 1 (fastest) to 9 (smallest); an entry of
    ``exclude_content_types`` is a media type or a whole family (``"video/*"``).
    """

    def __init__(
        self,
        app: RequestHandler,
        *,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 128 * 1024,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        for keyword, value, example in (("minimum_size", minimum_size, 500),
                                        ("thread_minimum_size", thread_minimum_size, 131072)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"GZipMiddleware's {keyword} is a number of bytes, 0 or more:\n"
                    f"    right: app.add_middleware(GZipMiddleware, {keyword}={example})\n"
                    f"    wrong: app.add_middleware(GZipMiddleware, {keyword}={value!r})"
                )
        if (isinstance(compresslevel, bool) or not isinstance(compresslevel, int)
                or not -1 <= compresslevel <= 9):
            raise ValueError(
                f"GZipMiddleware's compresslevel is zlib's, from 1 (fastest) to 9 "
                f"(smallest), or 0 (store) or -1 (zlib's default):\n"
                f"    right: app.add_middleware(GZipMiddleware, compresslevel=6)\n"
                f"    wrong: app.add_middleware(GZipMiddleware, compresslevel={compresslevel!r})"
            )
        if isinstance(exclude_content_types, str):
            raise TypeError(
                f"GZipMiddleware's exclude_content_types is a tuple of media types:\n"
                f"    right: app.add_middleware(GZipMiddleware, "
                f"exclude_content_types=({exclude_content_types!r},))\n"
                f"    wrong: app.add_middleware(GZipMiddleware, "
                f"exclude_content_types={exclude_content_types!r})"
            )
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = frozenset(
            _media_type_key(media_type) for media_type in exclude_content_types
        )

    async def handle(self, request: Request) -> Reply:
        reply = await self.app.handle(request)
        response = reply.response
        if not self.may_compress(response):
            return reply
        # Edited copies, never the app's own objects: a Response returned to several
        # requests (a module-level constant) must not be compressed twice.
        raw = _with_vary(response.raw_headers)
        if "gzip" not in request.headers.get("accept-encoding", ""):
            reply.response = with_headers(response, raw)  # Vary says it: the answer depends on it
            return reply
        raw.append((b"content-encoding", b"gzip"))
        compressor = _Compressor(self.compresslevel, self.thread_minimum_size)
        if isinstance(response, StreamingResponse):
            streamed = StreamingResponse(_compressed_chunks(response, compressor),
                                         response.status_code)
            streamed.raw_headers = [pair for pair in raw if pair[0] != b"content-length"]
            reply.response = streamed
            return reply
        compressed = with_headers(response, raw)
        compressed.body = await compressor.compress(response.body, final=True)
        compressed.headers["content-length"] = str(len(compressed.body))
        reply.response = compressed
        return reply

    def may_compress(self, response: Response) -> bool:
        """Whether ``response`` is one gzip could apply to (for this or another client)."""
        if response.status_code in NO_CONTENT_STATUSES or response.status_code == 206:
            return False  # no content to compress, or a byte range of the plain body
        headers = response.headers
        if "content-encoding" in headers:
            return False
        media_type = _media_type_key(headers.get("content-type", ""))
        excluded = self.exclude_content_types
        if media_type in excluded or media_type.partition("/")[0] + "/*" in excluded:
            return False
        if media_type.startswith("application/grpc+") and "application/grpc" in excluded:
            return False
        if isinstance(response, FileResponse):
            # Starlette sends a file shorter than a chunk as one message, which its
            # size rule then applies to; a file's length is known before it is read.
            length = headers.get("content-length")
            return length is None or not length.isdigit() or int(length) >= self.minimum_size
        if isinstance(response, StreamingResponse):
            return True  # its chunks are not known yet; Starlette compresses every stream
        return len(response.body) >= self.minimum_size


def _with_vary(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A copy of ``raw`` with ``Accept-Encoding`` added to its Vary, as Starlette's
    ``add_vary_header`` does: the Vary lines joined into one, then ours."""
    values = [value for name, value in raw if name == b"vary"]
    edited = [pair for pair in raw if pair[0] != b"vary"]
    edited.append((b"vary", b", ".join([*values, b"Accept-Encoding"])))
    return edited


