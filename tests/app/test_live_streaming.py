"""Streamed responses through the real server, over a real socket.

Each test serves the app on an ephemeral port in the test's event loop
(``tests.support.live``) and reads what arrives with a deadline. A generator
that must wait does so on an event the test sets once it has seen what it
expects on the wire, so the order is forced, not hoped for.
"""

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest

from microready import BackgroundTasks, MicroReady
from microready.sse import EventSourceResponse
from microready.staticfiles import StaticFiles
from tests.support.http import request
from tests.support.live import IO_TIMEOUT, RawClient, connect, serving

pytestmark = pytest.mark.anyio


async def wait_for(client: RawClient, marker: bytes) -> None:
    """Read until ``marker`` has arrived, leaving it in the buffer for the parser."""
    with anyio.fail_after(IO_TIMEOUT):
        while marker not in client.buffer:
            await client.read_some()


async def test_json_lines_arrive_as_they_are_produced() -> None:
    release = anyio.Event()
    app = MicroReady()

    @app.get("/items")
    async def stream() -> AsyncIterator[dict[str, int]]:
        yield {"n": 1}
        await release.wait()  # the test has seen the first line by now
        yield {"n": 2}

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("GET", "/items"))
        await wait_for(client, b'{"n":1}\n')
        assert b'{"n":2}' not in client.buffer
        release.set()
        response = await client.read_response()
    assert response.status == 200
    assert response.header(b"content-type") == b"application/jsonl"
    assert response.header(b"transfer-encoding") == b"chunked"
    assert response.body == b'{"n":1}\n{"n":2}\n'


async def test_a_background_task_starts_only_after_the_final_chunk() -> None:
    release = threading.Event()
    task_ran = anyio.Event()
    events: list[str] = []
    app = MicroReady()

    async def task() -> None:
        events.append("task")
        task_ran.set()

    @app.get("/stream")
    def stream(tasks: BackgroundTasks) -> Iterator[str]:
        tasks.add_task(task)
        try:
            events.append("chunk 1")
            yield "first"
            assert release.wait(IO_TIMEOUT)  # held until the test has read chunk 1
            events.append("chunk 2")
            yield "last"
        finally:
            events.append("generator closed")

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("GET", "/stream"))
        await wait_for(client, b'"first"\n')
        assert events == ["chunk 1"]  # the response is under way: no task yet
        release.set()
        response = await client.read_response()
        with anyio.fail_after(IO_TIMEOUT):
            await task_ran.wait()
    assert response.body == b'"first"\n"last"\n'
    assert events == ["chunk 1", "chunk 2", "generator closed", "task"]


class FastPings(EventSourceResponse):
    ping_interval = 0.01


async def test_an_idle_event_stream_is_kept_alive_with_pings() -> None:
    release = anyio.Event()
    app = MicroReady()

    @app.get("/events", response_class=FastPings)
    async def events() -> AsyncIterator[str]:
        yield "first"
        await release.wait()
        yield "second"

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("GET", "/events"))
        await wait_for(client, b'data: "first"\n\n')
        after_first = client.buffer.index(b'data: "first"\n\n')
        await wait_for(client, b": ping\n\n")
        assert client.buffer.rindex(b": ping\n\n") > after_first
        release.set()
        response = await client.read_response()
    assert response.header(b"content-type") == b"text/event-stream; charset=utf-8"
    assert response.header(b"cache-control") == b"no-cache"
    assert response.header(b"x-accel-buffering") == b"no"
    events_sent = [e for e in response.body.split(b"\n\n") if e and e != b": ping"]
    assert events_sent == [b'data: "first"', b'data: "second"']


async def test_a_client_that_leaves_closes_the_generator() -> None:
    closed = anyio.Event()
    app = MicroReady()

    @app.get("/endless")
    async def endless() -> AsyncIterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
                await anyio.lowlevel.checkpoint()
        finally:
            closed.set()

    async with serving(app) as running:
        async with connect(running.port) as client:
            await client.send(request("GET", "/endless"))
            await wait_for(client, b"\n5\n")
        with anyio.fail_after(IO_TIMEOUT):
            await closed.wait()


async def test_files_with_httpx_ranges_and_head(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1024  # 256 KiB: several 64 KiB chunks
    (tmp_path / "data.bin").write_bytes(data)
    app = MicroReady()
    app.mount("/static", StaticFiles(directory=tmp_path), name="static")

    async with serving(app) as running, httpx.AsyncClient(base_url=running.address) as http:
        response = await http.get("/static/data.bin")
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(data))
        assert response.content == data
        ranged = await http.get("/static/data.bin", headers={"Range": "bytes=100000-100009"})
        assert ranged.status_code == 206
        assert ranged.headers["content-range"] == f"bytes 100000-100009/{len(data)}"
        assert ranged.content == data[100000:100010]
        etag = response.headers["etag"]
        assert (await http.get("/static/data.bin", headers={"If-None-Match": etag})
                ).status_code == 304

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("HEAD", "/static/data.bin"))
        head = await client.read_response("HEAD")
        await client.send(request("GET", "/static/data.bin", "Range: bytes=-3"))
        tail = await client.read_response()  # the connection is still usable after HEAD
    assert head.header(b"content-length") == str(len(data)).encode()
    assert head.body == b""
    assert (tail.status, tail.body) == (206, data[-3:])
