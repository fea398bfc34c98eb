"""At-least-once: a task survives its worker, the web process and Redis itself.

Each test has its own ``redis-server`` (AOF on) and kills a process by its PID
with SIGKILL: nothing gets to clean up, which is the point.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from ..support.live import connect, serving
from ..support.processes import app_process, fetch, wait_for_path
from ..support.redis_celery import (
    celery_worker,
    environment,
    make_celery,
    make_web_app,
    redis_server,
    wait_for_done,
    worker_env,
)

WEB_APP = "from tests.support.redis_celery import web_app_from_env\napp = web_app_from_env()\n"


async def post(port: int, path: str) -> int:
    async with connect(port) as client:
        await client.send(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
        return (await client.read_response("POST")).status


@pytest.mark.anyio
async def test_a_task_whose_worker_is_killed_mid_run_is_run_by_a_new_worker(
    tmp_path: Path
) -> None:
    queue = "q-killed-worker"
    with redis_server(tmp_path) as redis:
        app = make_web_app(*make_celery(redis.url, queue, tmp_path))
        # A short visibility timeout, so the unacknowledged task comes back soon.
        with celery_worker(redis.url, queue, tmp_path, name="first",
                           visibility_timeout=1) as first:
            async with serving(app) as server:
                assert await post(server.port, "/hang/t") == 200
            assert wait_for_path(tmp_path / "started-t") == str(first.pid)  # it is running
            first.send_signal(signal.SIGKILL)
            first.wait_for_exit()
        with celery_worker(redis.url, queue, tmp_path, name="second",
                           visibility_timeout=1) as second:
            lines = wait_for_done(tmp_path, lambda lines: bool(lines))
        assert lines == [["t", str(second.pid), lines[0][2], "after-hang"]]


def test_a_task_survives_a_sigkill_of_the_web_process_right_after_its_response(
    tmp_path: Path, anyio_backend: str
) -> None:
    queue = f"q-killed-web-{anyio_backend}"
    with redis_server(tmp_path) as redis:
        with environment(**worker_env(redis.url, queue, tmp_path)), app_process(
            tmp_path, WEB_APP, "--backend", anyio_backend
        ) as web:
            assert fetch(web.port, "POST", "/record/survivor").status == 200
            web.send_signal(signal.SIGKILL)  # no shutdown, no after-response phase
            assert web.wait_for_exit() == -signal.SIGKILL
        with celery_worker(redis.url, queue, tmp_path) as worker:
            lines = wait_for_done(tmp_path, lambda lines: bool(lines))
        assert [line[:2] for line in lines] == [["survivor", str(worker.pid)]]


@pytest.mark.anyio
async def test_a_queued_task_survives_a_redis_restart(tmp_path: Path) -> None:
    queue = "q-redis-restart"
    with redis_server(tmp_path, appendfsync="always") as redis:
        app = make_web_app(*make_celery(redis.url, queue, tmp_path))
        async with serving(app) as server:
            assert await post(server.port, "/record/kept") == 200
        with redis.client() as client:
            assert client.llen(queue) == 1
        redis.kill()  # SIGKILL: what Redis knows after this is what its AOF holds
        redis.start()
        with redis.client() as client:
            assert client.llen(queue) == 1
        with celery_worker(redis.url, queue, tmp_path) as worker:
            lines = wait_for_done(tmp_path, lambda lines: bool(lines))
        assert [line[:2] for line in lines] == [["kept", str(worker.pid)]]
