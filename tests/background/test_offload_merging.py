"""Publications waiting for a publisher thread are merged into one ``publish`` call.

The engine here is a small in-memory queue written against the offloader
seam (``offload.py``), as a second engine's adapter would be: it lets a test
hold the first publish, queue requests behind it, and see how the runner
hands them over. Through the real server, on asyncio and trio.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import anyio
import pytest

from microready import BackgroundTasks, MicroReady
from microready.background import publishing
from microready.background.offload import OutgoingTask, When

from ..support.live import IO_TIMEOUT, connect, serving, wait_until

pytestmark = pytest.mark.anyio

REQUEST = b"POST /queue/%d HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"


def send_email(number: int) -> None:  # what the in-memory engine carries
    raise AssertionError("an offloaded task never runs in the web process")


class HeldQueue:
    """An engine whose first ``publish`` waits for ``release``; records every call."""

    name = "held"

    def __init__(self, when: When = "before_response", fail_call: int | None = None) -> None:
        self.threads = 1  # one publisher thread: the grouping is deterministic
        self.when: When = when
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self._fail_call = fail_call

    def is_offloaded(self, func: Any) -> bool:
        return func is send_email

    def when_for(self, func: Any) -> When:
        return self.when

    def task_name(self, func: Any) -> str:
        return "held.send_email"

    def check_args(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   where: str) -> None:
        return None

    def publish(self, batch: Sequence[OutgoingTask]) -> None:
        self.calls.append([str(task.args[0]) for task in batch])
        if len(self.calls) == 1:
            self.entered.set()
            if not self.release.wait(IO_TIMEOUT):
                raise TimeoutError("the test never released the first publish")
        if len(self.calls) == self._fail_call:
            raise ConnectionError("the broker went away")


def queue_app(engine: HeldQueue) -> MicroReady:
    app = MicroReady(offload=engine)

    @app.post("/queue/{number}")
    async def queue_one(number: int, background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(send_email, number)
        return "queued"

    return app


async def held_then_queued(app: MicroReady, engine: HeldQueue, waiting: int,
                           **options: Any) -> dict[int, int]:
    """Request 0 holds the publisher; ``waiting`` more queue behind it; release."""
    statuses: dict[int, int] = {}

    async def request(port: int, number: int) -> None:
        async with connect(port) as client:
            await client.send(REQUEST % number)
            statuses[number] = (await client.read_response("POST")).status

    async with serving(app, **options) as server, anyio.create_task_group() as group:
        group.start_soon(request, server.port, 0)
        await anyio.to_thread.run_sync(engine.entered.wait, IO_TIMEOUT)
        for number in range(1, waiting + 1):
            group.start_soon(request, server.port, number)
        await wait_until(lambda: app.background.publishing == waiting + 1)
        engine.release.set()
    return statuses


async def test_requests_waiting_for_the_publisher_share_one_publish_call() -> None:
    engine = HeldQueue()
    app = queue_app(engine)
    statuses = await held_then_queued(app, engine, waiting=5)
    assert statuses == {number: 200 for number in range(6)}
    assert engine.calls[0] == ["0"]
    assert len(engine.calls) == 2  # the five that waited went in one call
    assert sorted(engine.calls[1]) == ["1", "2", "3", "4", "5"]
    assert app.background.offloaded == 6


async def test_one_publish_call_carries_at_most_the_merge_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(publishing, "MERGE_LIMIT", 3)
    engine = HeldQueue()
    app = queue_app(engine)
    statuses = await held_then_queued(app, engine, waiting=5)
    assert set(statuses.values()) == {200}
    assert [len(call) for call in engine.calls] == [1, 3, 2]


async def test_requests_merged_into_a_failed_call_all_get_503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = HeldQueue(fail_call=2)
    app = queue_app(engine)
    with caplog.at_level(logging.ERROR, "microready.background"):
        statuses = await held_then_queued(app, engine, waiting=4)
    assert statuses == {0: 200, 1: 503, 2: 503, 3: 503, 4: 503}
    stats = app.background.stats()
    assert (stats.offloaded, stats.offload_failed) == (1, 4)
    failures = [r.getMessage() for r in caplog.records if "could not enqueue" in r.getMessage()]
    assert len(failures) == 4  # one line per request, each naming its own task
    assert all("(published with 3 other request(s)); the client gets 503" in line
               and line.endswith("ConnectionError: the broker went away")
               for line in failures), failures


async def test_after_response_publications_merge_and_shutdown_waits_for_them() -> None:
    engine = HeldQueue(when="after_response")
    app = queue_app(engine)
    statuses = await held_then_queued(app, engine, waiting=3)
    # serving() returned only once every publication was through.
    assert statuses == {number: 200 for number in range(4)}
    assert [len(call) for call in engine.calls] == [1, 3]
    assert app.background.stats().publishing == 0
    assert app.background.offloaded == 4


async def test_past_the_shutdown_deadline_the_thread_publishes_what_it_holds_and_exits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = HeldQueue(when="after_response")
    app = queue_app(engine)
    statuses: dict[int, int] = {}

    async def request(port: int, number: int) -> None:
        async with connect(port) as client:
            await client.send(REQUEST % number)
            statuses[number] = (await client.read_response("POST")).status

    with caplog.at_level(logging.WARNING, "microready.background"):
        async with serving(app, timeout_graceful_shutdown=0.1) as server:
            await request(server.port, 0)
            await anyio.to_thread.run_sync(engine.entered.wait, IO_TIMEOUT)
            for number in (1, 2):  # queued behind the held publish
                await request(server.port, number)
            await wait_until(lambda: app.background.publishing == 3)
    assert "3 offloaded task(s) were still being published" in caplog.text
    assert statuses == {0: 200, 1: 200, 2: 200}
    engine.release.set()
    threads = [t for t in threading.enumerate() if t.name.startswith("microready-offload-held")]
    for thread in threads:
        await anyio.to_thread.run_sync(thread.join, IO_TIMEOUT)
        assert not thread.is_alive()
    assert [len(call) for call in engine.calls] == [1, 2]
    assert app.background.offloaded == 0  # given up on: not counted either way
