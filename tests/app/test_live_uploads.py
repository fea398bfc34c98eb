"""Uploads handed to background tasks, through the real server.

The promise (FastAPI 0.118+'s behaviour, fastapi#10857): an ``UploadFile`` a
handler passes to ``add_task`` is still open and readable when the task runs,
after the response has gone; it is closed once the request's tasks are done,
and also when the shutdown deadline drops them.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import pytest

from microready import BackgroundTasks, Form, MicroReady, UploadFile

from ..support.http import HTTPResponse, request
from ..support.live import IO_TIMEOUT, connect, serving
from .test_forms import BOUNDARY, multipart, part

pytestmark = pytest.mark.anyio


def upload_request(path: str, content: bytes, *extra: bytes) -> bytes:
    body = multipart(part("file", content, filename="data.txt"), *extra)
    return request("POST", path, f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
                   f"Content-Length: {len(body)}", body=body)


async def post(port: int, data: bytes) -> HTTPResponse:
    """Send one request on a new connection and read its response (leaving it open)."""
    async with connect(port) as client:
        await client.send(data)
        return await client.read_response("POST")


class Probe:
    """What the background task saw, and the switch that lets it finish."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.done = anyio.Event()
        self.started = anyio.Event()
        self.read: bytes = b""
        self.upload: UploadFile | None = None


def app_with_task(probe: Probe) -> MicroReady:
    app = MicroReady()

    async def count_later(upload: UploadFile) -> None:
        probe.started.set()
        await probe.release.wait()
        await upload.seek(0)
        probe.read = await upload.read()
        probe.done.set()

    def count_in_a_thread(upload: UploadFile) -> None:
        upload.file.seek(0)
        probe.read = upload.file.read()

    @app.post("/async/", status_code=202)
    async def take_async(file: UploadFile, background_tasks: BackgroundTasks) -> Any:
        probe.upload = file
        background_tasks.add_task(count_later, file)
        return {"filename": file.filename}

    @app.post("/sync/", status_code=202)
    def take_sync(file: UploadFile, background_tasks: BackgroundTasks,
                  note: Annotated[str, Form()] = "") -> Any:
        probe.upload = file
        background_tasks.add_task(count_in_a_thread, file)
        return {"filename": file.filename, "note": note}

    return app


@pytest.mark.parametrize("size", [10, 3 * 1024 * 1024])  # in memory, and spooled to disk
async def test_the_task_reads_the_upload_after_the_response(size: int) -> None:
    probe = Probe()
    content = bytes(range(256)) * (size // 256) + b"end"
    async with serving(app_with_task(probe)) as server:
        response = await post(server.port, upload_request("/async/", content))
        # The 202 is here while the task still waits: it has not read a byte.
        assert response.status == 202
        assert response.json() == {"filename": "data.txt"}
        with anyio.fail_after(IO_TIMEOUT):
            await probe.started.wait()
        assert probe.upload is not None and not probe.upload.file.closed
        assert probe.read == b""
        probe.release.set()
        with anyio.fail_after(IO_TIMEOUT):
            await probe.done.wait()
        assert probe.read == content
        with anyio.fail_after(IO_TIMEOUT):
            await server.server.app.background.join()
        assert probe.upload.file.closed  # closed once its tasks were done


async def test_a_sync_task_reads_the_upload_in_its_thread() -> None:
    probe = Probe()
    content = b"line\n" * 1000
    async with serving(app_with_task(probe)) as server:
        response = await post(server.port, upload_request("/sync/", content, part("note", b"hi")))
        assert response.status == 202
        assert response.json() == {"filename": "data.txt", "note": "hi"}
        with anyio.fail_after(IO_TIMEOUT):
            await server.server.app.background.join()
    assert probe.read == content
    assert probe.upload is not None and probe.upload.file.closed


async def test_uploads_of_dropped_tasks_are_closed_at_the_shutdown_deadline() -> None:
    # Two requests, one job at a time: the first task never finishes (it is cancelled
    # at the deadline), the second never starts (it is dropped). Both files close.
    probes = [Probe(), Probe()]
    app = MicroReady()
    uploads: list[UploadFile] = []

    async def never_done(index: int) -> None:
        probes[index].started.set()
        await anyio.sleep_forever()

    @app.post("/hang/{index}", status_code=202)
    async def hang(index: int, file: UploadFile, background_tasks: BackgroundTasks) -> None:
        uploads.append(file)
        background_tasks.add_task(never_done, index)

    async with serving(app, max_background_tasks=1, timeout_graceful_shutdown=0.2) as server:
        for index in range(2):
            response = await post(
                server.port, upload_request(f"/hang/{index}", b"x" * (2 * 1024 * 1024)))
            assert response.status == 202
        with anyio.fail_after(IO_TIMEOUT):
            await probes[0].started.wait()
        assert [u.file.closed for u in uploads] == [False, False]
    # serving() has shut the server down, past its 0.2 s deadline.
    assert not probes[1].started.is_set()
    assert [u.file.closed for u in uploads] == [True, True]


async def test_a_body_over_max_body_size_is_413() -> None:
    probe = Probe()
    async with serving(app_with_task(probe), max_body_size=4096) as server:
        response = await post(server.port, upload_request("/async/", b"x" * 5000))
    assert response.status == 413
    assert probe.upload is None


async def test_an_upload_over_keep_alive_leaves_the_next_request_intact() -> None:
    probe = Probe()
    probe.release.set()
    async with serving(app_with_task(probe)) as server, connect(server.port) as client:
        for _ in range(2):
            await client.send(upload_request("/async/", b"abc"))
            response = await client.read_response("POST")
            assert response.status == 202
