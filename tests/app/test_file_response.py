"""FileResponse: Starlette's headers, HEAD, one byte range (206/416), read in 64 KiB chunks.

The header and range rules are checked as plain functions (``_ranges``), then
the response through the app and ``TestClient``, and its body chunk by chunk.
"""

import os
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from microready import MicroReady
from microready._ranges import (
    MalformedRange,
    RangeNotSatisfiable,
    content_disposition,
    etag_for,
    parse_range,
    range_applies,
)
from microready.responses import FileResponse

from .helpers import call, client_for

CONTENT = bytes(range(256)) * 4  # 1024 bytes, every byte value


# -- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "ranges"), [
    ("bytes=0-99", [(0, 100)]),
    ("bytes=100-", [(100, 1000)]),
    ("bytes=-100", [(900, 1000)]),
    ("bytes=-5000", [(0, 1000)]),  # a suffix longer than the file: all of it
    ("bytes=990-5000", [(990, 1000)]),  # an end past the file: to its end
    ("BYTES = 0-0", [(0, 1)]),
    ("bytes=0-9, 5-19, 50-59", [(0, 20), (50, 60)]),  # overlapping ranges merge
    ("bytes=50-59,0-9", [(0, 10), (50, 60)]),  # sorted
    ("bytes=0-9,,-,x-y,5", [(0, 10)]),  # parts that are not ranges are skipped
    ("bytes=" + ",".join(["0-1"] * 101), []),  # more than 100 ranges: ignored
])
def test_parse_range(header: str, ranges: list[tuple[int, int]]) -> None:
    assert parse_range(header, 1000) == ranges


@pytest.mark.parametrize(("header", "message"), [
    ("0-99", "Malformed range header."),
    ("items=0-1", "Only support bytes range"),
    ("bytes=", "Range header: range must be requested"),
    ("bytes=x-y", "Range header: range must be requested"),
    ("bytes=20-10", "Range header: start must be less than end"),
])
def test_malformed_ranges(header: str, message: str) -> None:
    with pytest.raises(MalformedRange) as info:
        parse_range(header, 1000)
    assert info.value.message == message


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_ranges_past_the_end_are_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range(header, 1000)
    assert info.value.size == 1000
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)  # an empty file has no byte to send


def test_if_range_needs_a_strong_matching_validator() -> None:
    etag, modified = '"abc"', "Wed, 21 Oct 2015 07:28:00 GMT"
    assert range_applies('"abc"', etag, modified)
    assert range_applies(modified, etag, modified)
    assert not range_applies('W/"abc"', etag, modified)
    assert not range_applies('"other"', etag, modified)


def test_content_disposition_names_the_file_safely() -> None:
    assert content_disposition("report.pdf") == 'attachment; filename="report.pdf"'
    assert content_disposition("report.pdf", "inline") == 'inline; filename="report.pdf"'
    assert content_disposition("résumé.pdf") == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"
    # A quote or a line break cannot end the header or the parameter early.
    assert content_disposition('a"b\r\nX: y') == "attachment; filename*=utf-8''a%22b%0D%0AX%3A%20y"


def test_etag_changes_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"one")
    first = etag_for(os.stat(path))
    assert first.startswith('"') and first.endswith('"') and len(first) == 34
    path.write_bytes(b"three")
    assert etag_for(os.stat(path)) != first


# -- through the app ------------------------------------------------------------------------


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    return path


def file_app(path: Path, **options: object) -> MicroReady:
    app = MicroReady()

    @app.get("/file")
    async def get_file() -> FileResponse:
        return FileResponse(path, **options)  # type: ignore[arg-type]

    @app.post("/file")
    async def post_file() -> FileResponse:
        return FileResponse(path)

    return app


def test_headers_from_the_file(anyio_backend: str, data_file: Path) -> None:
    response = client_for(file_app(data_file), anyio_backend).get("/file")
    assert response.status_code == 200
    assert response.content == CONTENT
    stat_result = os.stat(data_file)
    assert response.headers["content-length"] == "1024"
    assert response.headers["content-type"] == "application/octet-stream"  # nothing to guess
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == etag_for(stat_result)
    modified = parsedate_to_datetime(response.headers["last-modified"])
    assert int(modified.timestamp()) == int(stat_result.st_mtime)
    assert "content-disposition" not in response.headers
    assert "transfer-encoding" not in response.headers  # a known length, not chunked


def test_media_type_is_guessed_and_filename_becomes_content_disposition(
    anyio_backend: str, tmp_path: Path,
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>hi</p>")
    client = client_for(file_app(page), anyio_backend)
    assert client.get("/file").headers["content-type"] == "text/html; charset=utf-8"
    named = client_for(file_app(page, filename="Übersicht.pdf"), anyio_backend).get("/file")
    assert named.headers["content-type"] == "application/pdf"  # from the name given
    assert named.headers["content-disposition"] == (
        "attachment; filename*=utf-8''%C3%9Cbersicht.pdf"
    )
    inline = client_for(
        file_app(page, filename="page.html", content_disposition_type="inline",
                 media_type="text/plain", headers={"X-Extra": "1"}),
        anyio_backend,
    ).get("/file")
    assert inline.headers["content-disposition"] == 'inline; filename="page.html"'
    assert inline.headers["content-type"] == "text/plain; charset=utf-8"
    assert inline.headers["x-extra"] == "1"


def test_head_sends_the_headers_without_the_body(anyio_backend: str, data_file: Path) -> None:
    response = client_for(file_app(data_file), anyio_backend).head("/file")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1024"
    assert response.content == b""


@pytest.mark.parametrize(("header", "content_range", "body"), [
    ("bytes=0-9", "bytes 0-9/1024", CONTENT[:10]),
    ("bytes=1000-", "bytes 1000-1023/1024", CONTENT[1000:]),
    ("bytes=-4", "bytes 1020-1023/1024", CONTENT[-4:]),
    ("bytes=10-19,15-29", "bytes 10-29/1024", CONTENT[10:30]),  # merged into one
])
def test_one_range_is_a_206(anyio_backend: str, data_file: Path, header: str,
                            content_range: str, body: bytes) -> None:
    response = client_for(file_app(data_file), anyio_backend).get(
        "/file", headers={"Range": header}
    )
    assert response.status_code == 206
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(body))
    assert response.content == body


def test_unsatisfiable_and_malformed_ranges(anyio_backend: str, data_file: Path) -> None:
    client = client_for(file_app(data_file), anyio_backend)
    response = client.get("/file", headers={"Range": "bytes=2000-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"
    assert response.content == b""
    response = client.get("/file", headers={"Range": "pages=1-2"})
    assert (response.status_code, response.text) == (400, "Only support bytes range")


def test_when_a_range_is_ignored(anyio_backend: str, data_file: Path) -> None:
    client = client_for(file_app(data_file), anyio_backend)
    whole = client.get("/file")
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]
    ignored = [
        client.get("/file", headers={"Range": "bytes=0-9,100-109"}),  # several: the whole file
        client.get("/file", headers={"Range": "bytes=0-9", "If-Range": '"stale"'}),
        client.get("/file", headers={"Range": "bytes=0-9", "If-Range": f"W/{etag}"}),
        client.post("/file", headers={"Range": "bytes=0-9"}),
        client_for(file_app(data_file, status_code=203), anyio_backend).get(
            "/file", headers={"Range": "bytes=0-9"}),
    ]
    assert [(r.status_code, len(r.content)) for r in ignored] == [
        (200, 1024), (200, 1024), (200, 1024), (200, 1024), (203, 1024),
    ]
    for validator in (etag, modified):
        honoured = client.get("/file", headers={"Range": "bytes=0-9", "If-Range": validator})
        assert (honoured.status_code, honoured.content) == (206, CONTENT[:10])


def test_a_missing_file_is_a_500_that_names_it(anyio_backend: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(RuntimeError, match=f"File at path {missing} does not exist"):
        client_for(file_app(missing), anyio_backend).get("/file")
    response = client_for(file_app(missing), anyio_backend,
                          raise_server_exceptions=False).get("/file")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    with pytest.raises(RuntimeError, match=f"File at path {tmp_path} is not a file"):
        client_for(file_app(tmp_path), anyio_backend).get("/file")


def test_response_class_file_response_takes_the_returned_path(
    anyio_backend: str, data_file: Path,
) -> None:
    app = MicroReady()

    @app.get("/", response_class=FileResponse)
    async def main() -> str:
        return str(data_file)

    response = client_for(app, anyio_backend).get("/", headers={"Range": "bytes=-2"})
    assert (response.status_code, response.content) == (206, CONTENT[-2:])


# -- the body, chunk by chunk ---------------------------------------------------------------


@pytest.mark.anyio
async def test_the_body_comes_in_64_kib_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(3 * 65536 + 100)
    path.write_bytes(data)
    reply = await call(file_app(path), "GET", "/file")
    response = reply.response
    assert isinstance(response, FileResponse)
    chunks = [chunk async for chunk in response.iterate()]
    assert [len(chunk) for chunk in chunks] == [65536, 65536, 65536, 100]
    assert b"".join(chunks) == data

    reply = await call(file_app(path), "GET", "/file", headers=[("Range", "bytes=65000-70000")])
    assert reply.response.status_code == 206
    chunks = [chunk async for chunk in reply.response.iterate()]  # type: ignore[attr-defined]
    assert [len(chunk) for chunk in chunks] == [5001]
    assert chunks[0] == data[65000:70001]


@pytest.mark.anyio
async def test_head_never_opens_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gone-soon.txt"
    path.write_bytes(b"12345")
    reply = await call(file_app(path), "HEAD", "/file")
    assert reply.response.headers["content-length"] == "5"
    path.unlink()  # reading it now would fail
    assert [chunk async for chunk in reply.response.iterate()] == []  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_file_that_grew_is_sent_as_long_as_announced(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"first\n")
    reply = await call(file_app(path), "GET", "/file")
    path.write_bytes(b"first\nsecond\n")  # it grew after its length was announced
    assert [chunk async for chunk in reply.response.iterate()] == [b"first\n"]  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_given_stat_result_is_used_and_an_unprepared_response_still_streams(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"abc")
    response = FileResponse(path, stat_result=os.stat(path))
    assert response.headers["content-length"] == "3"
    assert response.headers["etag"] == etag_for(os.stat(path))
    # Never given a request (say, returned by an exception handler): the whole file.
    assert [chunk async for chunk in FileResponse(path).iterate()] == [b"abc"]
