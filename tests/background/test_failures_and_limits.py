"""Failing tasks, the app-wide cap, the shutdown deadline and the counters."""

from __future__ import annotations

import logging
import threading

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread
import pytest

from microready import BackgroundTask, BackgroundTasks, MicroReady
from microready.config import Config
from microready.server import Server
from tests.support.http import request
from tests.support.live import connect, serving

pytestmark = pytest.mark.anyio

DEADLINE = 10


async def test_failing_task_is_logged_and_the_next_task_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def explode() -> None:
        raise RuntimeError("mail server is down")

    def after() -> None:
        ran.append("after")

    app = MicroReady()

    @app.post("/notify/{email}")
    async def notify(email: str, background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(explode)
        background_tasks.add_task(after)
        return email

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    caplog.set_level(logging.ERROR, logger="microready.background")
    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("POST", "/notify/foo@example.com", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            await client.read_response()
            await app.background.join()
            # The same connection keeps working after the failure.
            await client.send(request("GET", "/ping"))
            response = await client.read_response()
    assert (response.status, response.body) == (200, b'"pong"')
    assert ran == ["after"]
    assert (app.background.failed, app.background.succeeded) == (1, 1)
    [record] = [r for r in caplog.records if r.name == "microready.background"]
    assert record.levelno == logging.ERROR
    message = record.getMessage()
    assert "explode" in message
    assert '"POST /notify/foo@example.com HTTP/1.1"' in message
    assert record.exc_info is not None and "mail server is down" in str(record.exc_info[1])


async def test_max_background_tasks_queues_in_order_and_drops_nothing() -> None:
    order: list[int] = []
    first_may_finish = anyio.Event()

    async def task(number: int) -> None:
        if number == 0:
            await first_may_finish.wait()
        order.append(number)

    app = MicroReady()

    @app.post("/job/{number}")
    async def job(number: str, background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(task, int(number))
        return number

    async with serving(app, max_background_tasks=1) as running, connect(running.port) as client:
        for number in range(5):
            await client.send(request("POST", f"/job/{number}", "Content-Length: 0"))
            with anyio.fail_after(DEADLINE):
                await client.read_response()
        # Each job is submitted just after its response is written; wait for the last.
        with anyio.fail_after(DEADLINE):
            while app.background.pending + app.background.running < 5:
                await anyio.sleep(0.005)
        # Job 0 holds the only slot; the other four wait, in order.
        assert (app.background.running, app.background.pending) == (1, 4)
        first_may_finish.set()
        with anyio.fail_after(DEADLINE):
            await app.background.join()
    assert order == [0, 1, 2, 3, 4]
    assert app.background.succeeded == 5


async def test_counters_and_join() -> None:
    release = anyio.Event()

    async def wait_for_release() -> None:
        await release.wait()

    def fail() -> None:
        raise ValueError("no")

    app = MicroReady()

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(wait_for_release)
        background_tasks.add_task(fail)
        background_tasks.add_task(wait_for_release)
        return "ok"

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("POST", "/work", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            await client.read_response()
            while app.background.running == 0:
                await anyio.sleep(0.005)
        stats = app.background.stats()
        assert (stats.pending, stats.running, stats.succeeded, stats.failed) == (2, 1, 0, 0)
        release.set()
        with anyio.fail_after(DEADLINE):
            await app.background.join()
        stats = app.background.stats()
        assert (stats.pending, stats.running, stats.succeeded, stats.failed) == (0, 0, 2, 1)
    assert app.background.summary() == (
        "background tasks: 2 succeeded, 1 failed, 0 dropped, 0 unfinished"
    )


async def _wait_until_refused(port: int) -> None:
    """Poll (with the caller's deadline) until the server stops accepting."""
    while True:
        try:
            stream = await anyio.connect_tcp("127.0.0.1", port)
        except OSError:
            return
        await stream.aclose()
        await anyio.sleep(0.01)


async def test_shutdown_waits_for_queued_tasks_then_stops() -> None:
    done: list[str] = []
    release = anyio.Event()

    async def slow() -> None:
        await release.wait()
        done.append("slow")

    app = MicroReady()

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(slow)
        return "ok"

    server = Server(app, Config(port=0))
    stopped = anyio.Event()

    async def serve(*, task_status: anyio.abc.TaskStatus[list[str]]) -> None:
        await server.serve(task_status=task_status)
        stopped.set()

    async with anyio.create_task_group() as task_group:
        [address] = await task_group.start(serve)
        port = int(address.rsplit(":", 1)[1])
        async with connect(port) as client:
            await client.send(request("POST", "/work", "Content-Length: 0"))
            with anyio.fail_after(DEADLINE):
                await client.read_response()
        server.request_shutdown()
        with anyio.fail_after(DEADLINE):
            await _wait_until_refused(port)
        assert not stopped.is_set() and app.background.running == 1
        release.set()
        with anyio.fail_after(DEADLINE):
            await stopped.wait()
    assert done == ["slow"]


async def test_shutdown_deadline_cancels_tasks_runs_finally_and_names_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cleaned_up: list[str] = []
    never = anyio.Event()

    async def stuck_forever() -> None:
        try:
            await never.wait()
        finally:
            cleaned_up.append("finally ran")

    async def never_started() -> None:
        cleaned_up.append("should not run")

    app = MicroReady()

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(stuck_forever)
        background_tasks.add_task(never_started)
        return "ok"

    caplog.set_level(logging.INFO, logger="microready")
    async with serving(app, timeout_graceful_shutdown=0.2) as running, connect(
        running.port
    ) as client:
        await client.send(request("POST", "/work", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            await client.read_response()
    # serve() returned: the deadline cancelled the stuck task.
    assert cleaned_up == ["finally ran"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("stuck_forever cancelled" in m for m in messages), messages
    assert any("never_started dropped before it started" in m for m in messages), messages
    assert app.background.dropped == 2
    assert any(
        m == "background tasks: 0 succeeded, 0 failed, 2 dropped, 0 unfinished" for m in messages
    ), messages


async def test_a_sync_task_left_in_its_thread_is_counted_once_as_dropped() -> None:
    # The counts a worker thread keeps and the loop's own add up: the deadline
    # counts the task in the thread as dropped, and its finishing later changes
    # nothing. The async task queued with it had already succeeded.
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []
    ran_in: list[threading.Thread] = []

    async def first() -> None:
        finished.append("first")

    def stuck_in_thread() -> None:
        ran_in.append(threading.current_thread())
        started.set()
        release.wait(DEADLINE)
        finished.append("stuck_in_thread")

    app = MicroReady()

    @app.post("/work")
    async def work(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(first)
        background_tasks.add_task(stuck_in_thread)
        return "ok"

    try:
        async with serving(app, timeout_graceful_shutdown=0.2) as running:
            async with connect(running.port) as client:
                await client.send(request("POST", "/work", "Content-Length: 0"))
                with anyio.fail_after(DEADLINE):
                    await client.read_response()
            assert await anyio.to_thread.run_sync(started.wait, DEADLINE)
            assert (app.background.running, app.background.succeeded) == (1, 1)
        stats = app.background.stats()
        assert (stats.pending, stats.running, stats.succeeded, stats.dropped) == (0, 0, 1, 1)
        assert app.background.abandoned_threads == 1
    finally:
        release.set()
    # The thread runs on, counts nothing more and exits (shutdown stopped its pool):
    # once it has ended, whatever it would count is counted.
    [thread] = ran_in
    await anyio.to_thread.run_sync(thread.join, DEADLINE)
    assert not thread.is_alive() and finished == ["first", "stuck_in_thread"]
    stats = app.background.stats()
    assert (stats.running, stats.succeeded, stats.failed, stats.dropped) == (0, 1, 0, 1)


async def test_async_tasks_queued_together_run_side_by_side() -> None:
    # Jobs queued in one pass of the event loop share one worker wake-up; a
    # job that blocks must still not hold up the ones queued behind it.
    release = anyio.Event()
    app = MicroReady()

    async def wait_for_release() -> None:
        await release.wait()

    @app.post("/job/{number}")
    async def job(number: str, background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(wait_for_release)
        return number

    jobs = [request("POST", f"/job/{number}", "Content-Length: 0") for number in range(20)]
    pipelined = b"".join(jobs)
    async with serving(app) as running, connect(running.port) as client:
        await client.send(pipelined)
        with anyio.fail_after(DEADLINE):
            for _ in range(20):
                await client.read_response()
            while app.background.running < 20:
                await anyio.sleep(0.005)
        assert app.background.pending == 0
        release.set()
        with anyio.fail_after(DEADLINE):
            await app.background.join()
    assert app.background.succeeded == 20


async def test_async_tasks_that_wait_each_start_within_a_few_loop_passes() -> None:
    # Sixty jobs queued in one step, as sixty connections do in one pass of the
    # event loop, whose tasks all wait. Each must get a worker of its own at
    # once, not one more per pass behind the jobs that already wait.
    release = anyio.Event()

    async def wait_for_release() -> None:
        await release.wait()

    runner = MicroReady().background
    async with runner.serving():
        for number in range(60):
            runner.submit([BackgroundTask(wait_for_release)], origin=f"job {number}")
        passes = 0
        while runner.running < 60 and passes < 60:
            await anyio.lowlevel.checkpoint()
            passes += 1
        assert (runner.running, runner.pending) == (60, 0)
        assert passes <= 8, f"the last task started only after {passes} passes of the loop"
        release.set()
        with anyio.fail_after(DEADLINE):
            await runner.join()
    assert runner.succeeded == 60
