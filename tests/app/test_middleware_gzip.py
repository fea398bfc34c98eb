"""GZipMiddleware: when it compresses, how it streams, and Starlette's answers to compare.

First at the handler (a stub inner layer, so the Reply it gives back is seen
whole), then through the app with ``TestClient``, then over a real socket for
the one thing only a socket shows: a streamed chunk reaches the client,
compressed and decodable, before the generator has made the next one. Last, a
table of responses answered by microready and by Starlette's GZipMiddleware.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
import starlette.responses
from starlette.applications import Starlette
from starlette.middleware import Middleware as StarletteMiddleware
from starlette.middleware.gzip import GZipMiddleware as StarletteGZipMiddleware
from starlette.routing import Route as StarletteRoute

import microready.responses
from microready import BackgroundTasks, MicroReady
from microready._exchange import Reply
from microready.background import BackgroundTask
from microready.middleware.cors import CORSMiddleware
from microready.middleware.gzip import GZipMiddleware
from microready.requests import Request
from microready.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from tests.app.helpers import client_for
from tests.app.test_middleware_cors import asgi_answer, client_answer
from tests.support.live import IO_TIMEOUT, serving

LARGE = "x" * 4000
GZIP = {"accept-encoding": "gzip, deflate"}


def gunzip(data: bytes) -> bytes:
    return zlib.decompress(data, 16 + zlib.MAX_WBITS)


class Endpoint:
    """The layer under the middleware: answers with ``response``, and a task and cleanup."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.task = BackgroundTask(lambda: None)
        self.error = RuntimeError("already answered")

    async def cleanup(self) -> None:  # pragma: no cover - never run: the test only holds it
        pass

    async def handle(self, request: Request) -> Reply:
        return Reply(self.response, [self.task], self.cleanup, self.error)


async def send(response: Response, headers: dict[str, str] | None = None, method: str = "GET",
               **options: Any) -> Reply:
    endpoint = Endpoint(response)
    raw = [(k.encode(), v.encode()) for k, v in (GZIP if headers is None else headers).items()]
    reply = await GZipMiddleware(endpoint, **options).handle(
        Request(method=method, target=b"/", raw_headers=raw))
    # Whatever it did to the response, the reply's other parts are the endpoint's.
    assert reply.tasks == [endpoint.task]
    assert reply.cleanup == endpoint.cleanup
    assert reply.error is endpoint.error
    return reply


async def body_of(response: Response) -> bytes:
    if isinstance(response, StreamingResponse):
        return b"".join([chunk async for chunk in response.iterate()])
    return response.body


# -- whole bodies, at the handler ----------------------------------------------------------


@pytest.mark.anyio
async def test_a_large_body_is_compressed_with_its_length_and_vary() -> None:
    original = PlainTextResponse(LARGE)
    original_headers = list(original.raw_headers)
    reply = await send(original)
    response = reply.response
    assert type(response) is PlainTextResponse
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-length"] == str(len(response.body)) != "4000"
    assert gunzip(response.body) == LARGE.encode()
    # The app's response object is left as it was (it may be answered again).
    assert original.body == LARGE.encode() and original.raw_headers == original_headers


@pytest.mark.anyio
async def test_a_small_body_or_another_coding_is_left_alone() -> None:
    small = PlainTextResponse("OK")
    assert (await send(small)).response is small  # not even Vary (as Starlette)
    encoded = PlainTextResponse(LARGE, headers={"content-encoding": "br"})
    assert (await send(encoded)).response is encoded
    assert (await send(small, minimum_size=2)).response.headers["content-encoding"] == "gzip"


@pytest.mark.anyio
async def test_without_gzip_in_accept_encoding_only_vary_is_added() -> None:
    reply = await send(PlainTextResponse(LARGE, headers={"vary": "Origin"}),
                       {"accept-encoding": "identity"})
    assert reply.response.body == LARGE.encode()
    assert "content-encoding" not in reply.response.headers
    assert reply.response.headers["vary"] == "Origin, Accept-Encoding"
    assert reply.response.headers["content-length"] == "4000"
    no_header = await send(PlainTextResponse(LARGE), {})
    assert "content-encoding" not in no_header.response.headers


@pytest.mark.anyio
@pytest.mark.parametrize("media_type", ["text/event-stream", "image/png", "video/mp4",
                                        "application/grpc+proto", "Image/JPEG; q=1"])
async def test_excluded_media_types_are_left_alone(media_type: str) -> None:
    response = Response(LARGE, media_type=media_type)
    assert (await send(response)).response is response


@pytest.mark.anyio
async def test_exclude_content_types_can_be_chosen() -> None:
    response = Response(LARGE, media_type="text/csv")
    assert (await send(response, exclude_content_types=("text/*",))).response is response
    png = Response(LARGE, media_type="image/png")
    compressed = (await send(png, exclude_content_types=())).response
    assert gunzip(compressed.body) == LARGE.encode()


@pytest.mark.anyio
async def test_ranges_and_bodiless_statuses_are_left_alone() -> None:
    partial = PlainTextResponse(LARGE, status_code=206)
    assert (await send(partial)).response is partial
    no_content = Response(status_code=204)
    assert (await send(no_content, minimum_size=0)).response is no_content
    not_modified = Response(status_code=304)
    assert (await send(not_modified, minimum_size=0)).response is not_modified


@pytest.mark.anyio
async def test_compresslevel_is_used() -> None:
    text = "".join(f"{n} " for n in range(3000))
    for level in (1, 5, 9):
        body = (await send(PlainTextResponse(text), compresslevel=level)).response.body
        reference = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        assert body == reference.compress(text.encode()) + reference.flush()


@pytest.mark.anyio
async def test_large_bodies_are_compressed_in_a_worker_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    offloaded: list[int] = []
    run_sync = anyio.to_thread.run_sync

    async def counting_run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
        offloaded.append(len(args[0]))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
    reply = await send(PlainTextResponse(LARGE), thread_minimum_size=4000)
    assert offloaded == [4000]
    assert gunzip(reply.response.body) == LARGE.encode()
    await send(PlainTextResponse(LARGE), thread_minimum_size=4001)
    assert offloaded == [4000]  # under the threshold: compressed inline


# -- streams, at the handler -------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_stream_is_compressed_chunk_by_chunk_each_chunk_decodable_at_once() -> None:
    async def chunks() -> AsyncIterator[str]:
        for n in range(3):
            yield f"chunk {n};" * 50
            yield ""  # adds nothing to the compressed stream, not even a flush

    original = StreamingResponse(chunks(), media_type="text/plain",
                                 headers={"content-length": "2700", "x-kept": "yes"})
    reply = await send(original)
    response = reply.response
    assert isinstance(response, StreamingResponse) and response is not original
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["x-kept"] == "yes"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    decoded = []
    async for chunk in response.iterate():
        decoded.append(decoder.decompress(chunk))  # a sync flush: all of it, right away
    assert decoded[:3] == [f"chunk {n};".encode() * 50 for n in range(3)]
    assert b"".join(decoded) + decoder.flush() == b"".join(
        f"chunk {n};".encode() * 50 for n in range(3))
    assert decoder.eof  # the last chunk ended the gzip member


@pytest.mark.anyio
async def test_closing_the_compressed_stream_closes_the_apps_generator() -> None:
    closed = anyio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"y" * 1000
        finally:
            closed.set()

    response = (await send(StreamingResponse(endless()))).response
    assert isinstance(response, StreamingResponse)
    chunks = response.iterate()
    assert gunzip_prefix(await chunks.__anext__()) == b"y" * 1000
    await chunks.aclose()
    assert closed.is_set()


def gunzip_prefix(data: bytes) -> bytes:
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)


@pytest.mark.anyio
async def test_a_stream_without_gzip_gets_vary_and_is_passed_through() -> None:
    original = StreamingResponse(iter([b"a", b"b"]))
    reply = await send(original, {"accept-encoding": "br"})
    assert isinstance(reply.response, StreamingResponse)
    assert reply.response.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in reply.response.headers
    assert await body_of(reply.response) == b"ab"


@pytest.mark.anyio
async def test_an_empty_stream_is_an_empty_gzip_member() -> None:
    # Starlette sends an empty stream as it is (it sees the end before the first
    # chunk); microready decides before the first chunk, so the head can go out at
    # once, and the empty body is a valid empty gzip member.
    reply = await send(StreamingResponse(iter([])))
    assert reply.response.headers["content-encoding"] == "gzip"
    assert gunzip(await body_of(reply.response)) == b""


@pytest.mark.anyio
async def test_files_are_streamed_compressed_unless_short(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text(LARGE * 40)  # 160 KB: three 64 KiB chunks
    (tmp_path / "small.txt").write_text("tiny")
    request = Request(method="GET", target=b"/")
    big = await FileResponse(tmp_path / "big.txt").for_request(request)
    small = await FileResponse(tmp_path / "small.txt").for_request(request)
    reply = await send(big)
    assert isinstance(reply.response, StreamingResponse)
    assert not isinstance(reply.response, FileResponse)
    assert "content-length" not in reply.response.headers
    assert reply.response.headers["etag"] == big.headers["etag"]
    assert gunzip(await body_of(reply.response)) == (LARGE * 40).encode()
    assert (await send(small)).response is small


# -- configuration errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"compresslevel": 10}, ValueError,
         "right: app.add_middleware(GZipMiddleware, compresslevel=6)"),
        ({"minimum_size": -1}, ValueError,
         "right: app.add_middleware(GZipMiddleware, minimum_size=500)"),
        ({"thread_minimum_size": "big"}, ValueError, "a number of bytes"),
        ({"exclude_content_types": "image/png"}, TypeError,
         "right: app.add_middleware(GZipMiddleware, exclude_content_types=('image/png',))"),
    ],
)
def test_configuration_errors_show_the_right_call(options: dict[str, Any],
                                                  error: type[Exception], message: str) -> None:
    with pytest.raises(error) as raised:
        GZipMiddleware(Endpoint(PlainTextResponse("")), **options)
    assert message in str(raised.value)


# -- through the app -------------------------------------------------------------------------------


def test_a_background_task_runs_after_a_gzip_and_cors_response(anyio_backend: str) -> None:
    events: list[str] = []
    app = MicroReady()
    app.add_middleware(GZipMiddleware, minimum_size=100)
    app.add_middleware(CORSMiddleware, allow_origins=["https://example.org"])

    def task(name: str) -> None:
        events.append(name)

    @app.get("/report")
    async def report(tasks: BackgroundTasks) -> PlainTextResponse:
        tasks.add_task(task, "emailed")
        events.append("answered")
        return PlainTextResponse(LARGE)

    with client_for(app, anyio_backend) as client:
        response = client.get("/report", headers={"Origin": "https://example.org"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["access-control-allow-origin"] == "https://example.org"
        assert response.headers["vary"] == "Accept-Encoding, Origin"
        assert int(response.headers["content-length"]) < 4000
        assert response.text == LARGE  # decoded by the client, as httpx does
    assert events == ["answered", "emailed"]


def test_files_through_the_app(anyio_backend: str, tmp_path: Path) -> None:
    (tmp_path / "report.csv").write_text("a,b\n" * 2000)
    app = MicroReady()
    app.add_middleware(GZipMiddleware)

    @app.get("/report")
    async def report() -> FileResponse:
        return FileResponse(tmp_path / "report.csv")

    client = client_for(app, anyio_backend)
    response = client.get("/report")
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.text == "a,b\n" * 2000
    ranged = client.get("/report", headers={"Range": "bytes=0-3"})
    assert (ranged.status_code, ranged.text) == (206, "a,b\n")
    assert "content-encoding" not in ranged.headers
    head = client.head("/report")
    assert head.headers["content-encoding"] == "gzip" and head.content == b""


@pytest.mark.anyio
async def test_a_streamed_chunk_reaches_the_client_before_the_next_is_made() -> None:
    release = anyio.Event()
    task_ran = anyio.Event()
    events: list[str] = []
    app = MicroReady()
    app.add_middleware(GZipMiddleware)

    async def task() -> None:
        events.append("task")
        task_ran.set()

    @app.get("/stream")
    async def stream(tasks: BackgroundTasks) -> StreamingResponse:
        tasks.add_task(task)

        async def chunks() -> AsyncIterator[str]:
            yield "first;" * 100
            await release.wait()  # until the test has decoded the first chunk
            events.append("second made")
            yield "second;" * 100

        return StreamingResponse(chunks(), media_type="text/plain")

    async with serving(app) as running, httpx.AsyncClient(base_url=running.address) as http:
        async with http.stream("GET", "/stream", headers={"accept-encoding": "gzip"}) as response:
            assert response.headers["content-encoding"] == "gzip"
            assert "content-length" not in response.headers
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            decoded = b""
            raw = response.aiter_raw()
            with anyio.fail_after(IO_TIMEOUT):
                while len(decoded) < len("first;" * 100):
                    decoded += decoder.decompress(await raw.__anext__())
            assert decoded == b"first;" * 100
            assert events == []  # the second chunk is not made yet, the task not run
            release.set()
            async for data in raw:
                decoded += decoder.decompress(data)
        with anyio.fail_after(IO_TIMEOUT):
            await task_ran.wait()
    assert decoded + decoder.flush() == b"first;" * 100 + b"second;" * 100
    assert decoder.eof
    assert events == ["second made", "task"]


def test_a_sync_generator_stream_through_the_app(anyio_backend: str) -> None:
    app = MicroReady()
    app.add_middleware(GZipMiddleware)

    @app.get("/lines", response_class=StreamingResponse)
    def lines() -> Iterator[str]:
        for n in range(100):
            yield f"line {n}\n"

    response = client_for(app, anyio_backend).get("/lines")
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "".join(f"line {n}\n" for n in range(100))


# -- the same answers as Starlette ----------------------------------------------------------

FILE_TEXT = "0123456789" * 400


def responses(kinds: Any, directory: Path) -> dict[str, Any]:
    """The table's endpoints, each a function making its response from ``kinds``
    (Starlette's response classes or microready's: their signatures are the same)."""

    def chunks() -> Iterator[bytes]:
        return iter([b"x" * 400] * 10)

    return {
        "/small": lambda: kinds.PlainTextResponse("OK"),
        "/499": lambda: kinds.PlainTextResponse("m" * 499),
        "/500": lambda: kinds.PlainTextResponse("m" * 500),
        "/large": lambda: kinds.PlainTextResponse(LARGE),
        "/json": lambda: kinds.JSONResponse({"items": list(range(500))}),
        "/vary": lambda: kinds.PlainTextResponse(LARGE, headers={"Vary": "Origin"}),
        "/stream": lambda: kinds.StreamingResponse(chunks()),
        "/encoded": lambda: kinds.StreamingResponse(chunks(), headers={"Content-Encoding": "text"}),
        "/events": lambda: kinds.StreamingResponse(chunks(), media_type="text/event-stream"),
        "/png": lambda: kinds.Response(LARGE, media_type="image/png"),
        "/file-small": lambda: kinds.FileResponse(directory / "small.txt"),
        "/file": lambda: kinds.FileResponse(directory / "file.txt"),
    }


def starlette_app(directory: Path) -> Starlette:
    def endpoint_for(make: Any) -> Any:
        return lambda request: make()

    return Starlette(routes=[StarletteRoute(path, endpoint_for(make)) for path, make
                             in responses(starlette.responses, directory).items()],
                     middleware=[StarletteMiddleware(StarletteGZipMiddleware)])


def microready_app(directory: Path) -> MicroReady:
    app = MicroReady()
    app.add_middleware(GZipMiddleware)
    for path, make in responses(microready.responses, directory).items():
        app.add_api_route(path, make, methods=["GET"])
    return app


REQUESTS: dict[str, tuple[str, dict[str, str]]] = {
    f"{path}, {coding or 'no coding'}": (path, {"accept-encoding": coding})
    for path in ("/small", "/499", "/500", "/large", "/json", "/vary", "/stream", "/encoded",
                 "/events", "/png", "/file-small")
    for coding in ("gzip", "identity", "br, gzip;q=0.5", "")
} | {
    "/file, identity": ("/file", {"accept-encoding": "identity"}),
    "/file, a range": ("/file", {"accept-encoding": "gzip", "range": "bytes=10-19"}),
}


def test_the_same_answers_as_starlette(anyio_backend: str, tmp_path: Path) -> None:
    (tmp_path / "small.txt").write_text("small file")
    (tmp_path / "file.txt").write_text(FILE_TEXT)
    theirs = starlette_app(tmp_path)
    ours = client_for(microready_app(tmp_path), anyio_backend)
    differences = []
    for name, (path, headers) in REQUESTS.items():
        status, body, sent = asgi_answer(theirs, "GET", path, headers, anyio_backend)
        if ("content-encoding", "gzip") in sent:
            body = gunzip(body)  # as a client sees it (and microready's TestClient gives it)
        expected = status, body, sent
        got = client_answer(ours, "GET", path, headers)
        if got != expected:
            differences.append(f"{name}:\n  starlette:  {expected}\n  microready: {got}")
    assert not differences, "\n".join(differences)


def test_a_file_differs_from_starlette_only_in_its_framing(anyio_backend: str,
                                                             tmp_path: Path) -> None:
    # Starlette sends a file shorter than its 64 KiB chunk in one message, so it can
    # give the compressed length; microready streams every file it compresses, never
    # holding it whole, so the length is unknown and the body is chunked instead.
    (tmp_path / "small.txt").write_text("small file")
    (tmp_path / "file.txt").write_text(FILE_TEXT)
    status, body, sent = asgi_answer(starlette_app(tmp_path), "GET", "/file", GZIP,
                                     anyio_backend)
    response = client_for(microready_app(tmp_path), anyio_backend).get("/file", headers=GZIP)
    assert status == response.status_code == 200
    assert gunzip(body) == response.content == FILE_TEXT.encode()
    theirs = dict(sent)
    ours = {name.lower(): value for name, value in response.headers.multi_items()}
    assert int(theirs.pop("content-length")) < len(FILE_TEXT)
    assert "content-length" not in ours and ours.pop("transfer-encoding") == "chunked"
    for name in ("content-encoding", "vary", "content-type", "etag", "last-modified",
                 "accept-ranges"):
        assert ours[name] == theirs[name], name
