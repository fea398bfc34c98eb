"""Background tasks run after the response is flushed, and never hold up the connection.

Each test runs a real server on 127.0.0.1 in the test's event loop and talks to
it with raw bytes. Tasks are held on events instead of sleeping, so "the task
is still running" is a fact the test controls, not a timing guess.
"""

from __future__ import annotations

import threading

import anyio
import pytest

from microready import BackgroundTasks, MicroReady, StreamingResponse
from tests.support.http import request
from tests.support.live import connect, serving

pytestmark = pytest.mark.anyio

DEADLINE = 10  # seconds; only reached when something is broken


class Gate:
    """An async task that starts, then waits for the test to let it finish."""

    def __init__(self) -> None:
        self.started = anyio.Event()
        self.release = anyio.Event()
        self.finished = anyio.Event()

    async def task(self) -> None:
        self.started.set()
        await self.release.wait()
        self.finished.set()


def gated_app(gate: Gate) -> MicroReady:
    app = MicroReady()

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(gate.task)
        return {"status": "queued"}

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    return app


async def test_response_arrives_while_the_task_is_still_running() -> None:
    gate = Gate()
    async with serving(gated_app(gate)) as running, connect(running.port) as client:
        await client.send(request("POST", "/work", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            response = await client.read_response()
            await gate.started.wait()
        assert (response.status, response.body) == (200, b'{"status":"queued"}')
        assert not gate.finished.is_set()
        gate.release.set()
        with anyio.fail_after(DEADLINE):
            await gate.finished.wait()


async def test_next_keep_alive_request_is_not_delayed_by_the_task() -> None:
    gate = Gate()
    async with serving(gated_app(gate)) as running, connect(running.port) as client:
        await client.send(request("POST", "/work", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            await client.read_response()
            await gate.started.wait()
            await client.send(request("GET", "/ping"))
            response = await client.read_response()
        assert (response.status, response.body) == (200, b'"pong"')
        assert not gate.finished.is_set()
        gate.release.set()


async def test_pipelined_request_is_not_delayed_by_the_task() -> None:
    gate = Gate()
    async with serving(gated_app(gate)) as running, connect(running.port) as client:
        await client.send(request("POST", "/work", "Content-Length: 0") + request("GET", "/ping"))
        with anyio.fail_after(DEADLINE):
            first = await client.read_response()
            second = await client.read_response()
        assert first.status == 200 and first.body == b'{"status":"queued"}'
        assert second.status == 200 and second.body == b'"pong"'
        assert not gate.finished.is_set()
        gate.release.set()


async def test_a_client_that_disconnects_does_not_cancel_its_tasks() -> None:
    gate = Gate()
    async with serving(gated_app(gate)) as running:
        async with connect(running.port) as client:
            await client.send(request("POST", "/work", "Content-Length: 0"))
            with anyio.fail_after(DEADLINE):
                await client.read_response()
                await gate.started.wait()
        # The client is gone; the task is still waiting. Let it go on.
        gate.release.set()
        with anyio.fail_after(DEADLINE):
            await gate.finished.wait()
        assert running.server.app.background.succeeded == 1


async def test_connection_close_closes_the_socket_before_the_task_finishes() -> None:
    gate = Gate()
    async with serving(gated_app(gate)) as running, connect(running.port) as client:
        await client.send(request("POST", "/work", "Connection: close", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            raw = await client.read_until_eof()
        assert raw.startswith(b"HTTP/1.1 200 ")
        assert b"connection: close" in raw.lower()
        assert not gate.finished.is_set()
        gate.release.set()
        with anyio.fail_after(DEADLINE):
            await gate.finished.wait()


async def test_streaming_response_tasks_start_after_the_last_chunk() -> None:
    order: list[str] = []
    app = MicroReady()

    async def chunks() -> object:
        for part in (b"one,", b"two,", b"three"):
            order.append(f"chunk {part.decode()}")
            yield part
        order.append("body done")

    async def record() -> None:
        order.append("task")

    @app.get("/stream")
    async def stream(background_tasks: BackgroundTasks) -> StreamingResponse:
        background_tasks.add_task(record)
        return StreamingResponse(chunks(), media_type="text/plain")  # type: ignore[arg-type]

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("GET", "/stream"))
        with anyio.fail_after(DEADLINE):
            response = await client.read_response()
            await running.server.app.background.join()
    assert (response.status, response.body) == (200, b"one,two,three")
    assert response.header(b"transfer-encoding") == b"chunked"
    assert order == ["chunk one,", "chunk two,", "chunk three", "body done", "task"]


async def test_sync_task_runs_in_a_thread_and_does_not_delay_other_requests() -> None:
    task_running = threading.Event()
    release = threading.Event()
    loop_thread = threading.get_ident()
    task_threads: list[int] = []

    def blocking_task() -> None:
        task_threads.append(threading.get_ident())
        task_running.set()
        release.wait(DEADLINE)

    app = MicroReady()

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(blocking_task)
        return "queued"

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    try:
        async with serving(app) as running:
            async with connect(running.port) as first:
                await first.send(request("POST", "/work", "Content-Length: 0"))
                with anyio.fail_after(DEADLINE):
                    await first.read_response()
                    await anyio.to_thread.run_sync(task_running.wait, DEADLINE)
            async with connect(running.port) as second:
                await second.send(request("GET", "/ping"))
                with anyio.fail_after(DEADLINE):
                    response = await second.read_response()
            assert (response.status, response.body) == (200, b'"pong"')
            assert task_running.is_set() and not release.is_set()
            assert task_threads and task_threads[0] != loop_thread
            release.set()
    finally:
        release.set()


async def test_slow_sync_tasks_do_not_starve_sync_handlers() -> None:
    """48 blocked sync tasks fill the 40 background threads; a `def` handler
    still runs, because handlers use a different pool of threads."""
    release = threading.Event()
    started = 0
    lock = threading.Lock()

    def stuck_task() -> None:
        nonlocal started
        with lock:
            started += 1
        release.wait(DEADLINE)

    app = MicroReady()

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(stuck_task)
        return "queued"

    @app.get("/sync")
    def sync_handler() -> str:
        return "handled in a thread"

    try:
        async with serving(app) as running:
            for _ in range(48):
                async with connect(running.port) as client:
                    await client.send(request("POST", "/work", "Content-Length: 0"))
                    with anyio.fail_after(DEADLINE):
                        await client.read_response()
            with anyio.fail_after(DEADLINE):
                while started < 40:  # every background thread is now blocked
                    await anyio.sleep(0.01)
            async with connect(running.port) as client:
                await client.send(request("GET", "/sync"))
                with anyio.fail_after(DEADLINE):
                    response = await client.read_response()
            assert (response.status, response.body) == (200, b'"handled in a thread"')
            background = running.server.app.background
            assert background.running == 40 and background.pending == 8
            release.set()
            with anyio.fail_after(DEADLINE):
                await background.join()
            assert background.succeeded == 48
    finally:
        release.set()
