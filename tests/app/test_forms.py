"""Forms and uploads: parsing, spooling, limits and hostile bodies.

The bodies are written by hand (``multipart``), so each test says exactly what
the client sent; they go through ``TestClient``, which drives the real
connection code. The tutorial pages' own examples are in test_tutorial_request_*.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pytest

from microready import File, Form, MicroReady, Request, UploadFile
from microready.formparsers import SPOOL_MAX_SIZE

from .helpers import client_for

BOUNDARY = "x-boundary-7f3a"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def part(name: str, content: bytes, *, filename: str | None = None,
         headers: tuple[str, ...] = ()) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    lines = [f"--{BOUNDARY}", f"Content-Disposition: {disposition}", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1") + content + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def upload_app() -> tuple[MicroReady, dict[str, Any]]:
    """An app that reports what it received, and keeps the uploads for the test to inspect."""
    app = MicroReady()
    seen: dict[str, Any] = {}

    @app.post("/upload/")
    async def upload(files: list[UploadFile], note: Annotated[str, Form()] = "") -> Any:
        seen["files"] = files
        return [
            {"name": f.filename, "size": f.size, "type": f.content_type,
             "in_memory": not f.file._rolled,  # type: ignore[attr-defined]
             "head": (await f.read(4)).decode("latin-1")}
            for f in files
        ] + [note]

    @app.post("/form/")
    async def form(request: Request) -> Any:
        parsed = await request.form()
        return [[key, value if isinstance(value, str) else value.filename]
                for key, value in parsed.multi_items()]

    return app, seen


def test_small_files_stay_in_memory_and_large_ones_spool_to_disk(anyio_backend: str) -> None:
    app, seen = upload_app()
    small = b"smol" * 100
    large = b"big!" * (SPOOL_MAX_SIZE // 4 + 1)  # just over the spool size
    body = multipart(
        part("files", small, filename="small.txt", headers=("Content-Type: text/plain",)),
        part("files", large, filename="large.bin"),
        part("note", b"two files"),
    )
    response = client_for(app, anyio_backend).post("/upload/", content=body, headers=MULTIPART)
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"name": "small.txt", "size": len(small), "type": "text/plain", "in_memory": True,
         "head": "smol"},
        {"name": "large.bin", "size": len(large), "type": None, "in_memory": False,
         "head": "big!"},
        "two files",
    ]
    # The request is over: both files were closed, the spooled one with its disk file.
    assert all(f.file.closed for f in seen["files"])


def test_fields_and_files_keep_their_order_and_repeats(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = multipart(part("a", b"1"), part("f", b"x", filename="one"), part("a", b"2"),
                     part("empty", b""))
    response = client_for(app, anyio_backend).post("/form/", content=body, headers=MULTIPART)
    assert response.json() == [["a", "1"], ["f", "one"], ["a", "2"], ["empty", ""]]


def test_urlencoded_form_is_decoded(anyio_backend: str) -> None:
    app, _ = upload_app()
    response = client_for(app, anyio_backend).post(
        "/form/", content=b"a=1&b=x+y%21&a=&c",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == [["a", "1"], ["b", "x y!"], ["a", ""], ["c", ""]]


def test_a_body_that_is_not_a_form_is_an_empty_form(anyio_backend: str) -> None:
    app, _ = upload_app()
    response = client_for(app, anyio_backend).post("/form/", json={"a": 1})
    assert response.json() == []


# -- limits and hostile bodies ------------------------------------------------------------


def detail_of(app: MicroReady, anyio_backend: str, body: bytes,
              headers: dict[str, str] = MULTIPART) -> tuple[int, Any]:
    response = client_for(app, anyio_backend).post("/form/", content=body, headers=headers)
    return response.status_code, response.json()["detail"]


def test_ten_thousand_tiny_fields_are_refused(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = multipart(*(part(f"f{i}", b"x") for i in range(10_000)))
    assert detail_of(app, anyio_backend, body) == (
        400, "Too many fields. Maximum number of fields is 1000.")
    urlencoded = "&".join(f"f{i}=x" for i in range(10_000)).encode()
    assert detail_of(app, anyio_backend, urlencoded,
                     {"content-type": "application/x-www-form-urlencoded"}) == (
        400, "Too many fields. Maximum number of fields is 1000.")


def test_a_thousand_fields_are_accepted(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = multipart(*(part(f"f{i}", b"x") for i in range(1000)))
    response = client_for(app, anyio_backend).post("/form/", content=body, headers=MULTIPART)
    assert response.status_code == 200
    assert len(response.json()) == 1000


def test_too_many_files_are_refused_and_the_opened_ones_closed(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = multipart(*(part("f", b"x", filename=f"{i}.txt") for i in range(1001)))
    assert detail_of(app, anyio_backend, body) == (
        400, "Too many files. Maximum number of files is 1000.")


def test_a_field_over_the_part_size_is_refused(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = multipart(part("big", b"x" * (1024 * 1024 + 1)))
    assert detail_of(app, anyio_backend, body) == (400, "Part exceeded maximum size of 1024KB.")


def test_a_part_with_no_end_boundary_is_refused(anyio_backend: str) -> None:
    app, _ = upload_app()
    unfinished = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="b"\r\n\r\nno end'
    body = part("a", b"1") + unfinished.encode()
    status, detail = detail_of(app, anyio_backend, body)
    assert status == 400
    assert detail == "Invalid multipart body: it ended before its closing boundary."


def test_a_huge_header_inside_a_part_is_refused(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = multipart(part("a", b"1", headers=("X-Padding: " + "p" * 100_000,)))
    status, detail = detail_of(app, anyio_backend, body)
    assert status == 400
    assert detail.startswith("Invalid multipart body: "), detail


def test_too_many_headers_inside_a_part_are_refused(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = multipart(part("a", b"1", headers=tuple(f"X-H{i}: v" for i in range(20))))
    status, detail = detail_of(app, anyio_backend, body)
    assert status == 400
    assert detail.startswith("Invalid multipart body: "), detail


def test_a_part_without_a_name_is_refused(anyio_backend: str) -> None:
    app, _ = upload_app()
    body = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode()
    assert detail_of(app, anyio_backend, body) == (
        400, 'The Content-Disposition header field "name" must be provided.')


def test_multipart_without_a_boundary_is_refused(anyio_backend: str) -> None:
    app, _ = upload_app()
    assert detail_of(app, anyio_backend, multipart(part("a", b"1")),
                     {"content-type": "multipart/form-data"}) == (
        400, "Missing boundary in multipart.")


def test_a_hostile_filename_is_only_data(anyio_backend: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # The spooled files go to the temp dir under names of their own; the client's
    # filename is never a path, so ../ and NUL reach the handler as plain text.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app, _ = upload_app()
    hostile = "../../etc/passwd\x00.txt"
    body = multipart(part("files", b"y" * (SPOOL_MAX_SIZE + 1), filename=hostile))
    response = client_for(app, anyio_backend).post("/upload/", content=body, headers=MULTIPART)
    assert response.status_code == 200, response.text
    assert response.json()[0]["name"] == hostile
    assert response.json()[0]["in_memory"] is False
    assert os.listdir(tmp_path) == []  # anonymous: nothing on disk under any name
    assert not (tmp_path.parent.parent / "etc").exists()


# -- the extra ----------------------------------------------------------------------------


def test_a_form_parameter_without_python_multipart_fails_at_registration(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "python_multipart", None)  # import now fails
    app = MicroReady()

    @app.get("/plain")
    async def plain(q: str = "") -> str:  # no form: no need for the extra
        return q

    with pytest.raises(RuntimeError) as caught:
        @app.post("/login/")
        async def login(username: Annotated[str, Form()]) -> str:
            return username
    message = str(caught.value)
    assert "\n" not in message
    assert "pip install 'microready[forms]'" in message
    assert "'username'" in message and "POST /login/" in message

    with pytest.raises(RuntimeError, match=r"pip install 'microready\[forms\]'"):
        @app.post("/files/")
        async def upload(file: UploadFile) -> None: ...

    with pytest.raises(RuntimeError, match=r"pip install 'microready\[forms\]'"):
        @app.post("/bytes/")
        async def raw(file: Annotated[bytes, File()]) -> None: ...
