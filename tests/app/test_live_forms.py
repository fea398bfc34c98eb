"""Forms and uploads through the real server, over a real socket.

Each test serves the app on an ephemeral port in the test's event loop
(``tests.support.live``) and sends the same kinds of requests two ways: with a real
client, ``httpx.AsyncClient`` (which runs on asyncio and on trio alike), and as raw
bytes, written out here, so nothing but the server and the form parser stands between
the test and the handler.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest

from microready import File, Form, MicroReady, UploadFile
from tests.support.http import request
from tests.support.live import IO_TIMEOUT, connect, serving

pytestmark = pytest.mark.anyio


def forms_app() -> MicroReady:
    app = MicroReady()

    @app.post("/login/")
    async def login(username: Annotated[str, Form()],
                    tags: Annotated[list[str], Form()]) -> dict[str, Any]:
        return {"username": username, "tags": tags}

    @app.post("/files/")
    async def create_file(
        file: Annotated[bytes, File()],
        fileb: Annotated[UploadFile, File()],
        token: Annotated[str, Form()],
    ) -> dict[str, Any]:
        return {
            "file_size": len(file),
            "token": token,
            "fileb": {"filename": fileb.filename, "content_type": fileb.content_type,
                      "content": (await fileb.read()).decode()},
        }

    @app.post("/uploadfiles/")
    async def create_upload_files(files: list[UploadFile]) -> list[dict[str, Any]]:
        return [{"filename": file.filename, "content_type": file.content_type,
                 "size": len(await file.read())} for file in files]

    @app.post("/sync-upload/")
    def sync_upload(file: UploadFile) -> dict[str, Any]:  # runs in a worker thread
        return {"filename": file.filename, "size": len(file.file.read())}

    return app


def multipart(*parts: tuple[str, str | None, str | None, bytes],
              boundary: str = "xYzZY") -> tuple[str, bytes]:
    """A multipart/form-data body of ``(name, filename, content_type, content)`` parts."""
    body = b""
    for name, filename, content_type, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if content_type is not None:
            body += f"Content-Type: {content_type}\r\n".encode()
        body += b"\r\n" + content + b"\r\n"
    return f"multipart/form-data; boundary={boundary}", body + f"--{boundary}--\r\n".encode()


TWO_FILES_AND_A_FIELD = (
    ("token", None, None, b"foo"),
    ("file", "test.txt", "text/plain", b"<file content>"),
    ("fileb", "testb.txt", "text/plain", b"<file b content>"),
)
TWO_FILES_ANSWER = {
    "file_size": 14,
    "token": "foo",
    "fileb": {"filename": "testb.txt", "content_type": "text/plain",
              "content": "<file b content>"},
}


# -- with httpx.AsyncClient -----------------------------------------------------------------


async def test_forms_and_uploads_sent_by_httpx() -> None:
    async with serving(forms_app()) as running, httpx.AsyncClient(
        base_url=running.address, timeout=IO_TIMEOUT
    ) as client:
        response = await client.post("/login/", data={"username": "Foo", "tags": ["a", "b"]})
        assert (response.status_code, response.json()) == (
            200, {"username": "Foo", "tags": ["a", "b"]}
        )

        response = await client.post("/files/", data={"token": "foo"}, files={
            "file": ("test.txt", b"<file content>"),
            "fileb": ("testb.txt", b"<file b content>", "text/plain"),
        })
        assert (response.status_code, response.json()) == (200, TWO_FILES_ANSWER)

        response = await client.post("/uploadfiles/", files=[
            ("files", ("a.png", b"\x89PNG" * 10)),
            ("files", ("b.bin", bytes(range(256)))),
        ])
        assert (response.status_code, response.json()) == (200, [
            {"filename": "a.png", "content_type": "image/png", "size": 40},
            {"filename": "b.bin", "content_type": "application/octet-stream", "size": 256},
        ])

        response = await client.post("/sync-upload/", files={"file": ("s.txt", b"sync")})
        assert (response.status_code, response.json()) == (200, {"filename": "s.txt", "size": 4})


async def test_a_large_upload_sent_by_httpx_arrives_whole() -> None:
    content = bytes(range(256)) * 8192  # 2 MiB: many reads, and more than a spool in memory
    async with serving(forms_app()) as running, httpx.AsyncClient(
        base_url=running.address, timeout=IO_TIMEOUT
    ) as client:
        response = await client.post("/uploadfiles/", files=[
            ("files", ("big.bin", content)), ("files", ("small.txt", b"x")),
        ])
    assert (response.status_code, response.json()) == (200, [
        {"filename": "big.bin", "content_type": "application/octet-stream",
         "size": len(content)},
        {"filename": "small.txt", "content_type": "text/plain", "size": 1},
    ])


async def test_a_missing_field_is_a_422_sent_by_httpx() -> None:
    async with serving(forms_app()) as running, httpx.AsyncClient(
        base_url=running.address, timeout=IO_TIMEOUT
    ) as client:
        response = await client.post("/files/", data={"token": "foo"},
                                     files={"file": ("test.txt", b"x")})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["body", "fileb"], "msg": "Field required", "input": None},
    ]}


# -- as raw bytes ------------------------------------------------------------------------


async def test_forms_and_uploads_as_raw_bytes() -> None:
    async with serving(forms_app()) as running, connect(running.port) as client:
        body = b"username=Foo&tags=a&tags=b"
        await client.send(request("POST", "/login/",
                                  "Content-Type: application/x-www-form-urlencoded",
                                  f"Content-Length: {len(body)}", body=body))
        response = await client.read_response("POST")
        assert (response.status, response.json()) == (200, {"username": "Foo", "tags": ["a", "b"]})

        # Keep-alive: the next request on the same connection is a multipart one.
        content_type, body = multipart(*TWO_FILES_AND_A_FIELD)
        await client.send(request("POST", "/files/", f"Content-Type: {content_type}",
                                  f"Content-Length: {len(body)}", body=body))
        response = await client.read_response("POST")
        assert (response.status, response.json()) == (200, TWO_FILES_ANSWER)

        content_type, body = multipart(
            ("files", "a.txt", "text/plain", b"one"),
            ("files", "b.txt", None, b"two!"),
        )
        await client.send(request("POST", "/uploadfiles/", f"Content-Type: {content_type}",
                                  f"Content-Length: {len(body)}", body=body))
        response = await client.read_response("POST")
        assert (response.status, response.json()) == (200, [
            {"filename": "a.txt", "content_type": "text/plain", "size": 3},
            {"filename": "b.txt", "content_type": None, "size": 4},
        ])


async def test_a_chunked_multipart_body_sent_a_byte_at_a_time() -> None:
    # Every boundary, header and CRLF is split across reads: the parser must stream.
    content_type, body = multipart(*TWO_FILES_AND_A_FIELD)
    async with serving(forms_app()) as running, connect(running.port) as client:
        await client.send(request("POST", "/files/", f"Content-Type: {content_type}",
                                  "Transfer-Encoding: chunked"))
        for byte in body:
            await client.send(b"1\r\n" + bytes([byte]) + b"\r\n")
        await client.send(b"0\r\n\r\n")
        response = await client.read_response("POST")
    assert (response.status, response.json()) == (200, TWO_FILES_ANSWER)


async def test_expect_100_continue_is_answered_when_the_form_is_read() -> None:
    content_type, body = multipart(("files", "a.txt", "text/plain", b"one"))
    async with serving(forms_app()) as running, connect(running.port) as client:
        await client.send(request("POST", "/uploadfiles/", f"Content-Type: {content_type}",
                                  f"Content-Length: {len(body)}", "Expect: 100-continue"))
        assert (await client.read_until(b"\r\n\r\n")).startswith(b"HTTP/1.1 100 ")
        await client.send(body)
        response = await client.read_response("POST")
    assert (response.status, response.json()) == (200, [
        {"filename": "a.txt", "content_type": "text/plain", "size": 3},
    ])


async def test_a_form_with_a_missing_field_is_a_422_as_raw_bytes() -> None:
    body = b"username=Foo"
    async with serving(forms_app()) as running, connect(running.port) as client:
        await client.send(request("POST", "/login/",
                                  "Content-Type: application/x-www-form-urlencoded",
                                  f"Content-Length: {len(body)}", body=body))
        response = await client.read_response("POST")
    assert (response.status, response.json()) == (422, {"detail": [
        {"type": "missing", "loc": ["body", "tags"], "msg": "Field required", "input": None},
    ]})
