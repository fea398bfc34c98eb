"""Offloading is the app's, not the server's: the example works the same under uvicorn.

``examples/offload_celery.py`` served by real uvicorn (a child process, stopped
by PID): the task is enqueued before the response and a real worker runs it;
with Redis gone, uvicorn's client gets microready's 503.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from ..asgi.apps import served, uvicorn_command
from ..support.processes import wait_for_path
from ..support.redis_celery import celery_worker, environment, redis_server

EXAMPLE = "examples.offload_celery"


def test_the_example_under_uvicorn_offloads_before_the_response(tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis, environment(CELERY_BROKER_URL=redis.url), served(
        {"uvicorn": uvicorn_command(f"{EXAMPLE}:app")}, tmp_path / "servers"
    ) as processes:
        url = f"http://127.0.0.1:{processes['uvicorn'].port}/send-notification/foo@example.com"
        with httpx.Client(timeout=10.0) as client:
            assert client.post(url).status_code == 200
            with redis.client() as admin:
                assert admin.llen("celery") == 1  # queued, and no worker yet
            with celery_worker(redis.url, "celery", tmp_path, app=f"{EXAMPLE}:celery_app",
                               cwd=tmp_path):
                assert wait_for_path(tmp_path / "log.txt") == (
                    "notification for foo@example.com: some notification\n")
            redis.kill()
            response = client.post(url)
        assert response.status_code == 503
        assert response.json() == {"detail": "Service Unavailable"}
