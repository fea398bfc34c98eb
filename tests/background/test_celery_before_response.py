"""``before_response``: the broker has the task before the status line, or the client gets 503.

Redis is held up with ``CLIENT PAUSE ... WRITE`` from a connection of the test's:
a publish then waits inside Redis, which shows what waits for it (the
response) and what does not (the event loop, other requests). No worker
consumes these queues, so ``LLEN`` shows what was published.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import anyio
import pytest

from microready import BackgroundTasks, MicroReady

from ..support.live import connect, serving, wait_until
from ..support.redis_celery import (
    RedisServer,
    celery_worker,
    make_celery,
    make_web_app,
    redis_server,
    wait_for_done,
)

pytestmark = pytest.mark.anyio


def web_app(redis: RedisServer, out_dir: Path, when: str = "before_response"
            ) -> tuple[MicroReady, str]:
    """An app offloading to a queue of its own (which no worker consumes)."""
    queue = f"q-{uuid.uuid4().hex[:8]}"
    return make_web_app(*make_celery(redis.url, queue, out_dir), when=when), queue


REQUEST = b"POST /record/%s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"


async def test_the_task_is_in_redis_before_the_first_response_byte(
    redis: RedisServer, tmp_path: Path
) -> None:
    app, queue = web_app(redis, tmp_path)
    with redis.client() as admin:
        async with serving(app) as server, connect(server.port) as client:
            admin.client_pause(10_000, all=False)  # writes wait; reads still answer
            try:
                await client.send(REQUEST % b"early")
                await wait_until(lambda: app.background.publishing == 1)
                with anyio.move_on_after(0.3):  # the publish is stuck: nothing may come
                    await client.read_some()
                assert client.buffer == b""
                assert admin.llen(queue) == 0
            finally:
                admin.client_unpause()
            await client.read_some()  # the first bytes of the response...
            assert admin.llen(queue) == 1  # ...came after the task was in Redis
            assert (await client.read_response("POST")).status == 200
    assert app.background.offloaded == 1


async def test_after_response_sends_the_response_while_the_publish_waits(
    redis: RedisServer, tmp_path: Path
) -> None:
    app, queue = web_app(redis, tmp_path, when="after_response")
    with redis.client() as admin:
        async with serving(app) as server, connect(server.port) as client:
            admin.client_pause(10_000, all=False)
            try:
                await client.send(REQUEST % b"late")
                assert (await client.read_response("POST")).status == 200
                await wait_until(lambda: app.background.publishing == 1)
                assert admin.llen(queue) == 0
            finally:
                admin.client_unpause()
            await wait_until(lambda: app.background.offloaded == 1)
            assert admin.llen(queue) == 1


async def test_with_redis_stopped_the_client_gets_503_and_nothing_runs_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with redis_server(tmp_path) as redis:
        queue = "q-stopped"
        celery_app, tasks = make_celery(redis.url, queue, tmp_path)
        app = make_web_app(celery_app, tasks)
        local: list[str] = []

        @app.post("/mixed")
        async def mixed(background_tasks: BackgroundTasks) -> str:
            background_tasks.add_task(local.append, "in-process")
            background_tasks.add_task(tasks["record"], "lost")
            return "queued"

        redis.kill()
        async with serving(app) as server:
            with caplog.at_level(logging.ERROR, "microready.background"):
                async with connect(server.port) as client:
                    await client.send(b"POST /mixed HTTP/1.1\r\nHost: t\r\n"
                                      b"Content-Length: 0\r\n\r\n")
                    response = await client.read_response("POST")
            assert response.status == 503
            assert response.body == b'{"detail":"Service Unavailable"}'
        stats = app.background.stats()
        assert (stats.offloaded, stats.offload_failed, stats.succeeded) == (0, 1, 0)
        assert app.background.offload_failed == 1
        assert app.background.summary().endswith(
            "; offloaded: 0 enqueued, 1 failed to enqueue, 0 unfinished")
        assert "could not enqueue 1 task(s) to celery (mrtest.record[" in caplog.text
        assert "queued by POST /mixed; the client gets 503" in caplog.text
        # Redis back, a worker on the queue: a later task runs, the lost one never does.
        redis.start()
        with celery_worker(redis.url, queue, tmp_path):
            async with serving(app) as server, connect(server.port) as client:
                await client.send(REQUEST % b"after")
                assert (await client.read_response("POST")).status == 200
            lines = wait_for_done(tmp_path, lambda lines: any(ln[0] == "after" for ln in lines))
        assert [line[0] for line in lines] == ["after"]
        assert local == []


async def test_a_publish_waiting_on_redis_never_blocks_the_event_loop(
    redis: RedisServer, tmp_path: Path
) -> None:
    app, _ = web_app(redis, tmp_path)
    statuses: dict[str, int] = {}

    async def offloading_request(port: int) -> None:
        async with connect(port) as client:
            await client.send(REQUEST % b"slow")
            statuses["offloading"] = (await client.read_response("POST")).status

    with redis.client() as admin:
        async with serving(app) as server, anyio.create_task_group() as group:
            admin.client_pause(10_000, all=False)
            try:
                group.start_soon(offloading_request, server.port)
                await wait_until(lambda: app.background.publishing == 1)
                async with connect(server.port) as client:  # meanwhile, another request
                    await client.send(b"GET /plain HTTP/1.1\r\nHost: t\r\n\r\n")
                    assert (await client.read_response()).body == b'{"ok":true}'
                # It was answered while the publish still waited inside Redis.
                assert statuses == {}
                assert app.background.publishing == 1
            finally:
                admin.client_unpause()
    assert statuses == {"offloading": 200}
    assert app.background.offloaded == 1


async def test_graceful_shutdown_waits_for_pending_publishes(
    redis: RedisServer, tmp_path: Path
) -> None:
    app, queue = web_app(redis, tmp_path, when="after_response")
    with redis.client() as admin:
        async with serving(app) as server, connect(server.port) as client:
            await client.send(REQUEST % b"pending")
            assert (await client.read_response("POST")).status == 200
            await wait_until(lambda: app.background.offloaded == 1)
            admin.client_pause(1_500, all=False)  # lifts itself; the shutdown starts now
            await client.send(REQUEST % b"pending")
            assert (await client.read_response("POST")).status == 200
            assert app.background.publishing == 1
        # serving() has returned: the shutdown waited for the paused publish.
        assert app.background.stats().publishing == 0
        assert app.background.offloaded == 2
        assert admin.llen(queue) == 2


async def test_the_shutdown_deadline_gives_up_on_a_stuck_publish(
    redis: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, _ = web_app(redis, tmp_path, when="after_response")
    with redis.client() as admin:
        try:
            with caplog.at_level(logging.WARNING, "microready.background"):
                async with serving(app, timeout_graceful_shutdown=0.2) as server:
                    admin.client_pause(10_000, all=False)
                    async with connect(server.port) as client:
                        await client.send(REQUEST % b"stuck")
                        assert (await client.read_response("POST")).status == 200
        finally:
            admin.client_unpause()
    assert "1 offloaded task(s) were still being published" in caplog.text
    assert app.background.stats().publishing == 0
