"""The real Redis and the real Celery worker the offloading tests share, per module.

A module that asks for ``worker`` or ``celery`` names its queue in ``QUEUE``,
so each module's worker consumes only its own tasks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from ..support.redis_celery import RedisServer, celery_worker, make_celery, redis_server


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tasks")


@pytest.fixture(scope="module")
def worker(request: pytest.FixtureRequest, redis: RedisServer, out_dir: Path) -> Iterator[int]:
    with celery_worker(redis.url, request.module.QUEUE, out_dir) as process:
        yield process.pid


@pytest.fixture
def celery(request: pytest.FixtureRequest, redis: RedisServer,
           out_dir: Path) -> tuple[Celery, dict[str, Any]]:
    return make_celery(redis.url, request.module.QUEUE, out_dir)
