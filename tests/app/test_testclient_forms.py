"""TestClient's ``data=`` and ``files=``, and the headers it sends, as FastAPI's (httpx's).

Each multipart body is read back by two independent parsers, python-multipart
(what servers use) and the standard library's ``email`` package, and compared
with what httpx itself sends for the same arguments: byte for byte when httpx
is given the same boundary, part by part when each picks its own.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import httpx._multipart
import pytest
import python_multipart

from microready import MicroReady, Request, Response
from microready._client_request import (
    boundary_from_content_type,
    encode_multipart,
    encode_urlencoded,
)

from .helpers import client_for

# -- reading multipart bodies back ------------------------------------------------------------


@dataclass
class Part:
    headers: list[tuple[str, str]] = field(default_factory=list)  # names lower-cased
    content: bytes = b""


def boundary_of(content_type: str) -> str:
    kind, _, boundary = content_type.partition("; boundary=")
    assert kind == "multipart/form-data", content_type
    return boundary


def parse_with_python_multipart(body: bytes, content_type: str) -> list[Part]:
    parts: list[Part] = []
    name = bytearray()
    value = bytearray()

    def on_part_begin() -> None:
        parts.append(Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1].headers.append((name.decode().lower(), value.decode()))
        name.clear()
        value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].content += data[start:end]

    callbacks: Any = {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    parser = python_multipart.MultipartParser(boundary_of(content_type), callbacks)
    assert parser.write(body) == len(body)
    parser.finalize()
    return parts


def parse_with_email(body: bytes, content_type: str) -> list[Part]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    assert message.is_multipart()
    assert not message.defects, message.defects
    parsed = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parsed.append(Part([(k.lower(), str(v)) for k, v in part.items()], payload))
    return parsed


def read_back(body: bytes, content_type: str) -> list[Part]:
    """The parts, as both parsers see them (they must agree)."""
    parts = parse_with_python_multipart(body, content_type)
    assert parse_with_email(body, content_type) == parts
    return parts


def httpx_encoding(data: Any, files: Any, boundary: str | None = None) -> tuple[bytes, str]:
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"} if boundary else {}
    request = httpx.Request("POST", "http://testserver/", data=data, files=files,
                            headers=headers)
    return request.read(), request.headers["content-type"]


DISPOSITION = "content-disposition"


# -- the encoder, against httpx and both parsers ------------------------------------------------

# Each case builds its arguments afresh, since a file object is read by each encoding.
CASES: dict[str, Callable[[], tuple[dict[str, Any], Any]]] = {
    "field and bytes": lambda: ({"token": "foo"}, {"file": b"<file content>"}),
    "list value, numbers, booleans, None": lambda: (
        {"tags": ["a", "b"], "n": 3, "x": 1.5, "yes": True, "no": False, "none": None},
        {"f": b"x"}),
    "files as a list of pairs, one name twice": lambda: (
        {}, [("files", ("a.txt", b"one")), ("files", ("b.txt", b"two"))]),
    "file objects": lambda: ({}, {"f": io.BytesIO(b"bytes io"), "g": ("g.png", io.BytesIO(b"x"))}),
    "str content": lambda: ({}, {"f": "text, sent as UTF-8: \u00e9", "g": ("g.txt", "\u00e9")}),
    "given content type": lambda: ({}, {"f": ("f.bin", b"x", "image/jpeg")}),
    "part headers": lambda: ({}, {"f": ("f.txt", b"x", "text/plain", {"X-Extra": "1"})}),
    "a content-type part header wins": lambda: (
        {}, {"f": ("f.txt", b"x", "text/plain", {"Content-Type": "text/csv"})}),
    "no filename": lambda: ({}, {"f": (None, b"like a field")}),
    "unknown extension": lambda: ({}, {"f": ("f.unknownext", b"x")}),
    "quoting": lambda: ({'we"ird\\na\nme': "v"}, {"f": ('a"b\\c\r\n\x1b\x7f.txt', b"x")}),
    "binary": lambda: ({"b": bytes(range(256))}, {"f": ("f.bin", bytes(range(256)) * 3)}),
    "empty": lambda: ({"e": ""}, {"f": ("empty.txt", b"")}),
}


@pytest.mark.parametrize("case", CASES)
def test_same_bytes_as_httpx_given_the_same_boundary(case: str) -> None:
    ours = encode_multipart(*CASES[case](), boundary=b"test-boundary-1234")
    assert ours == httpx_encoding(*CASES[case](), boundary="test-boundary-1234")


@pytest.mark.parametrize("case", CASES)
def test_same_parts_as_httpx_each_with_its_own_boundary(case: str) -> None:
    body, content_type = encode_multipart(*CASES[case]())
    their_body, their_type = httpx_encoding(*CASES[case]())
    assert boundary_of(content_type) != boundary_of(their_type)
    assert read_back(body, content_type) == read_back(their_body, their_type)


def test_boundaries_are_random_hex() -> None:
    boundaries = {boundary_of(encode_multipart({}, {"f": b"x"})[1]) for _ in range(20)}
    assert len(boundaries) == 20
    assert all(len(b) == 32 and int(b, 16) >= 0 for b in boundaries)


def test_fields_first_then_files_with_httpx_s_headers() -> None:
    body, content_type = encode_multipart(
        {"token": "foo", "tags": ["a", "b"]},
        {"file": ("test.txt", b"<file content>"), "raw": b"\x00\x01", "img": ("a.png", b"PNG")},
    )
    assert read_back(body, content_type) == [
        Part([(DISPOSITION, 'form-data; name="token"')], b"foo"),
        Part([(DISPOSITION, 'form-data; name="tags"')], b"a"),
        Part([(DISPOSITION, 'form-data; name="tags"')], b"b"),
        Part([(DISPOSITION, 'form-data; name="file"; filename="test.txt"'),
              ("content-type", "text/plain")], b"<file content>"),
        Part([(DISPOSITION, 'form-data; name="raw"; filename="upload"'),
              ("content-type", "application/octet-stream")], b"\x00\x01"),
        Part([(DISPOSITION, 'form-data; name="img"; filename="a.png"'),
              ("content-type", "image/png")], b"PNG"),
    ]
    assert body.endswith(f"--{boundary_of(content_type)}--\r\n".encode())


def test_names_and_filenames_are_quoted_as_html_forms_are() -> None:
    body, content_type = encode_multipart({'a"b': "v"}, {"f": ('x"y\\z\n\x1b.txt', b"")})
    headers = [dict(part.headers)[DISPOSITION] for part in read_back(body, content_type)]
    assert headers == [
        'form-data; name="a%22b"',
        'form-data; name="f"; filename="x%22y\\\\z%0A\x1b.txt"',
    ]


def test_a_real_file_is_named_by_its_basename_and_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"<file content>")
    with path.open("rb") as file:
        file.read(3)
        body, content_type = encode_multipart({}, {"file": file})
    [part] = read_back(body, content_type)
    assert part == Part([(DISPOSITION, 'form-data; name="file"; filename="notes.txt"'),
                         ("content-type", "text/plain")], b"<file content>")


class ReadOnly:
    """A file-like object with ``read`` and nothing else, as a socket file or a pipe."""

    def __init__(self, data: bytes, seekable: bool) -> None:
        self._stream = io.BytesIO(data)
        if seekable:
            self.seek = self._refuse_seek

    def _refuse_seek(self, offset: int) -> int:
        raise io.UnsupportedOperation("seek")

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


@pytest.mark.parametrize("seekable", [False, True], ids=["no seek", "seek refused"])
def test_a_stream_that_cannot_seek_is_read_from_where_it_is(seekable: bool) -> None:
    stream = ReadOnly(b"abcdef", seekable)
    stream.read(2)
    body, content_type = encode_multipart({}, {"f": ("f.bin", stream)})
    assert read_back(body, content_type)[0].content == b"cdef"


def test_large_files_are_read_whole() -> None:
    content = bytes(range(256)) * 1000  # several reads' worth
    body, content_type = encode_multipart({}, {"f": ("big.bin", io.BytesIO(content))})
    assert read_back(body, content_type)[0].content == content


@pytest.mark.parametrize("content_type", [
    "multipart/form-data; boundary=abc", 'multipart/form-data; boundary="abc"',
    "multipart/form-data; charset=utf-8; Boundary=abc ", "multipart/form-data",
    "multipart/form-data; charset=utf-8", "application/x-www-form-urlencoded", None,
])
def test_the_boundary_of_a_given_content_type_is_httpx_s(content_type: str | None) -> None:
    ours = boundary_from_content_type(content_type)
    theirs = httpx._multipart.get_multipart_boundary_from_content_type(
        content_type.encode() if content_type else None
    )
    assert ours == theirs

def test_urlencoded_as_httpx() -> None:
    data = {"username": "x y", "tags": ["a", "b"], "n": 1, "ok": True, "no": False, "e": None,
            "t": ("c",), "odd": "&=?\u00e9"}
    assert encode_urlencoded(data) == httpx.Request("POST", "http://x/", data=data).read()
    assert encode_urlencoded({"b": b"\xff"}) == b"b=%FF"  # httpx would send "b%27%5Cxff%27"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"f": io.StringIO("text")}, "require 'io.BytesIO', not 'io.StringIO'"),
        ({"f": ("f.txt", io.StringIO("text"))}, "require 'io.BytesIO'"),
        ({"f": ("only a name",)}, r"got a tuple of 1; a file is \(filename, content\)"),
        ({"f": ("a", b"b", "c", {}, "e")}, "got a tuple of 5"),
    ],
)
def test_bad_files_are_refused(files: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        encode_multipart({}, files)


def test_a_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("text")
    with path.open() as file, pytest.raises(TypeError, match="opened in binary mode"):
        encode_multipart({}, {"f": file})


@pytest.mark.parametrize(("data", "message"), [
    ({"f": object()}, "Expected primitive type, got <class 'object'>"),
    ({"f": [{"nested": 1}]}, "Expected primitive type, got <class 'dict'>"),
    ({1: "v"}, "Invalid type for name. Expected str, got <class 'int'>"),
])
def test_bad_multipart_fields_are_refused(data: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        encode_multipart(data, {"f": b"x"})


# -- through TestClient ---------------------------------------------------------------------


def echo_app() -> MicroReady:
    app = MicroReady()

    @app.api_route("/echo", methods=["GET", "POST", "PUT"])
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"headers": request.headers.multi_items(), "body": body.decode("latin-1")}

    return app


def echoed(response: Any) -> tuple[list[tuple[str, str]], bytes]:
    assert response.status_code == 200, response.text
    answer = response.json()
    return [tuple(pair) for pair in answer["headers"]], answer["body"].encode("latin-1")


def header(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key == name]


def test_data_alone_is_urlencoded(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    headers, body = echoed(client.post("/echo", data={"username": "x", "tags": ["a", "b"]}))
    assert body == b"username=x&tags=a&tags=b"
    assert header(headers, "content-type") == ["application/x-www-form-urlencoded"]
    assert header(headers, "content-length") == [str(len(body))]


def test_files_with_data_are_one_multipart_body(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "test.txt"
    path.write_bytes(b"<file content>")
    client = client_for(echo_app(), anyio_backend)
    with path.open("rb") as file:
        response = client.post("/echo", data={"token": "foo"}, files={
            "file": file, "fileb": ("testb.txt", b"<file b content>", "text/plain"),
        })
    headers, body = echoed(response)
    [content_type] = header(headers, "content-type")
    assert header(headers, "content-length") == [str(len(body))]
    assert read_back(body, content_type) == [
        Part([(DISPOSITION, 'form-data; name="token"')], b"foo"),
        Part([(DISPOSITION, 'form-data; name="file"; filename="test.txt"'),
              ("content-type", "text/plain")], b"<file content>"),
        Part([(DISPOSITION, 'form-data; name="fileb"; filename="testb.txt"'),
              ("content-type", "text/plain")], b"<file b content>"),
    ]


def test_files_as_a_tuple_of_pairs(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    files = (("files", ("a.txt", b"one")), ("files", ("b.txt", b"two")))
    headers, body = echoed(client.post("/echo", files=files))
    [content_type] = header(headers, "content-type")
    assert [part.content for part in read_back(body, content_type)] == [b"one", b"two"]


def test_a_given_content_type_is_kept(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    headers, body = echoed(client.post(
        "/echo", files={"f": b"x"}, headers={"Content-Type": "multipart/form-data; boundary=abc"}
    ))
    assert header(headers, "content-type") == ["multipart/form-data; boundary=abc"]
    assert body.startswith(b"--abc\r\n") and body.endswith(b"--abc--\r\n")
    assert read_back(body, "multipart/form-data; boundary=abc")[0].content == b"x"

    # As httpx: a multipart type without a boundary is kept, and the body gets its own.
    headers, body = echoed(client.post(
        "/echo", files={"f": b"x"}, headers={"Content-Type": "multipart/form-data; charset=x"}
    ))
    assert header(headers, "content-type") == ["multipart/form-data; charset=x"]
    boundary = body.split(b"\r\n", 1)[0].removeprefix(b"--").decode()
    assert len(boundary) == 32
    assert read_back(body, f"multipart/form-data; boundary={boundary}")[0].content == b"x"

    headers, body = echoed(client.post(
        "/echo", data={"a": "1"},
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    ))
    assert header(headers, "content-type") == [
        "application/x-www-form-urlencoded; charset=utf-8"
    ]
    assert body == b"a=1"


def test_empty_files_or_data_count_as_not_given(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    headers, body = echoed(client.post("/echo", data={"a": "1"}, files={}))
    assert (header(headers, "content-type"), body) == (["application/x-www-form-urlencoded"],
                                                       b"a=1")
    headers, body = echoed(client.post("/echo", data={}))
    assert (header(headers, "content-type"), body) == ([], b"")


def test_a_redirect_that_turns_post_into_get_drops_the_form(anyio_backend: str) -> None:
    app = echo_app()

    @app.post("/old")
    async def old() -> Response:
        return Response(status_code=303, headers={"location": "/echo"})

    headers, body = echoed(client_for(app, anyio_backend).post("/old", files={"f": b"x"}))
    assert (header(headers, "content-type"), body) == ([], b"")


@pytest.mark.parametrize(("given", "keep", "alternative"), [
    ({"json": {"a": 1}, "data": {"a": 1}}, "keep json= to send JSON", "keep data= to send a form"),
    ({"json": {"a": 1}, "files": {"f": b"x"}}, "keep json=", "keep files= to send a form"),
    ({"json": [], "data": {}, "files": {}}, "keep json=", "keep data= and files= to send a form"),
    ({"content": b"x", "data": {"a": 1}}, "keep content= to send raw bytes", "keep data="),
    ({"content": "x", "files": {"f": b"x"}}, "keep content=", "keep files="),
])
def test_two_bodies_are_refused_saying_which_to_keep(
    anyio_backend: str, given: dict[str, Any], keep: str, alternative: str
) -> None:
    client = client_for(echo_app(), anyio_backend)
    with pytest.raises(TypeError) as refused:
        client.post("/echo", **given)
    message = str(refused.value)
    assert message.startswith("client.post(url, ...) got ")
    assert "a request has one body" in message
    assert keep in message and alternative in message


def test_json_and_content_together_are_refused(anyio_backend: str) -> None:
    with pytest.raises(TypeError, match="got json= and content=: a request has one body"):
        client_for(echo_app(), anyio_backend).put("/echo", json={}, content=b"{}")


def test_raw_bytes_as_data_point_at_content(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    with pytest.raises(TypeError, match=r"data= takes form fields .*got bytes; .* content="):
        client.post("/echo", data=b"raw")  # type: ignore[arg-type]


# -- the headers TestClient sends -------------------------------------------------------------


def test_the_default_headers_are_fastapi_s_test_client_s(anyio_backend: str) -> None:
    headers, _ = echoed(client_for(echo_app(), anyio_backend).get("/echo"))
    assert headers == [
        ("host", "testserver"), ("accept", "*/*"), ("accept-encoding", "gzip, deflate"),
        ("connection", "keep-alive"), ("user-agent", "testclient"),
    ]


def test_clearing_the_client_s_headers_leaves_only_host(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    client.headers.clear()
    headers, _ = echoed(client.get("/echo"))
    assert headers == [("host", "testserver")]


def test_request_headers_replace_the_client_s_and_may_repeat(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend, headers={"X-Client": "c", "Accept": "a/b"})
    headers, _ = echoed(client.get(
        "/echo", headers=[("User-Agent", "mine"), ("x-tag", "one"), ("X-Tag", "two")]
    ))
    assert header(headers, "user-agent") == ["mine"]
    assert header(headers, "x-tag") == ["one", "two"]
    assert header(headers, "x-client") == ["c"]
    assert header(headers, "accept") == ["a/b"]


def compressed_app() -> MicroReady:
    app = MicroReady()
    encodings: dict[str, Callable[[bytes], bytes]] = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "raw-deflate": lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS),
        "gzip-then-deflate": lambda data: zlib.compress(gzip.compress(data)),
    }
    header_for = {"raw-deflate": "deflate", "gzip-then-deflate": "gzip, deflate"}

    @app.api_route("/{coding}", methods=["GET", "HEAD"])
    async def compressed(coding: str) -> Response:
        return Response(encodings[coding](b"hello " * 100), media_type="text/plain",
                        headers={"content-encoding": header_for.get(coding, coding)})

    return app


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "gzip-then-deflate"])
def test_compressed_answers_are_decoded_as_httpx_decodes_them(
    anyio_backend: str, coding: str
) -> None:
    client = client_for(compressed_app(), anyio_backend)
    assert client.get(f"/{coding}").content == b"hello " * 100
    assert client.head(f"/{coding}").content == b""

