"""2,000 offloaded requests under load: 2,000 tasks run in the worker, none twice.

Twenty connections send their requests pipelined, so the publisher threads
see many requests at once; the worker writes one line per task run. The test
fails on a lost task and reports any duplicate by tag (at-least-once allows
one only when something died, and here nothing does).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import pytest

from ..support.live import connect, serving
from ..support.redis_celery import (
    celery_worker,
    make_celery,
    make_web_app,
    redis_server,
    wait_for_done,
)

pytestmark = pytest.mark.anyio

CONNECTIONS = 20
PER_CONNECTION = 100  # 2,000 requests in all


async def test_two_thousand_offloaded_requests_run_two_thousand_tasks(tmp_path: Path) -> None:
    queue = "q-load"
    with redis_server(tmp_path) as redis, celery_worker(redis.url, queue, tmp_path) as worker:
        app = make_web_app(*make_celery(redis.url, queue, tmp_path))
        statuses: Counter[int] = Counter()

        async def one_connection(port: int, number: int) -> None:
            async with connect(port) as client:
                await client.send(b"".join(
                    f"POST /record/{number}-{i} HTTP/1.1\r\nHost: t\r\n"
                    f"Content-Length: 0\r\n\r\n".encode() for i in range(PER_CONNECTION)))
                for _ in range(PER_CONNECTION):
                    statuses[(await client.read_response("POST")).status] += 1

        async with serving(app) as server, anyio.create_task_group() as group:
            for number in range(CONNECTIONS):
                group.start_soon(one_connection, server.port, number)
        total = CONNECTIONS * PER_CONNECTION
        assert statuses == {200: total}
        assert app.background.offloaded == total
        lines = wait_for_done(tmp_path, lambda lines: len(lines) >= total, timeout=120)
    runs = Counter(line[0] for line in lines)
    expected = {f"{n}-{i}" for n in range(CONNECTIONS) for i in range(PER_CONNECTION)}
    assert set(runs) == expected, f"lost: {sorted(expected - set(runs))[:20]}"
    duplicates = {tag: count for tag, count in runs.items() if count > 1}
    assert not duplicates, f"{len(duplicates)} task(s) ran more than once: {duplicates}"
    assert {line[1] for line in lines} == {str(worker.pid)}
    assert len({line[2] for line in lines}) == total  # every task id is its own
