"""Offloading in-process, through ``TestClient``: what a user's own tests see.

The same real Redis and real ``celery worker`` as the served tests; the app is
called by ``microready.testing.TestClient`` on each backend, with no socket.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any, Literal

import pytest
from celery import Celery

from microready import BackgroundTasks
from microready.testing import TestClient

from ..support.redis_celery import (
    make_celery,
    make_web_app,
    redis_server,
    wait_for_done,
)

QUEUE = "offload-testclient"
BACKENDS = ["asyncio", "trio"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("when", ["before_response", "after_response"])
def test_testclient_offloads_to_the_worker(
    celery: tuple[Celery, dict[str, Any]], worker: int, out_dir: Path,
    backend: Literal["asyncio", "trio"], when: str,
) -> None:
    app = make_web_app(*celery, when=when)
    mine = uuid.uuid4().hex[:12]
    with TestClient(app, backend=backend) as client:
        response = client.post(f"/record/{mine}")
        assert response.status_code == 200
        assert response.json() == {"queued": mine}
    lines = wait_for_done(out_dir, lambda lines: any(line[0] == mine for line in lines))
    ran = [line for line in lines if line[0] == mine]
    assert len(ran) == 1 and ran[0][1] == str(worker)  # in the worker, not here
    assert app.background.offloaded == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_testclient_shows_the_503_when_redis_cannot_take_the_task(
    tmp_path: Path, backend: Literal["asyncio", "trio"], caplog: pytest.LogCaptureFixture,
) -> None:
    with redis_server(tmp_path) as stopped:
        celery_app, tasks = make_celery(stopped.url, "q-testclient-down", tmp_path)
        stopped.kill()
    app = make_web_app(celery_app, tasks)
    local: list[str] = []

    @app.post("/mixed")
    def mixed(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(local.append, "in-process")
        background_tasks.add_task(tasks["record"], "never")
        return "queued"

    with (caplog.at_level(logging.ERROR, "microready.background"),
          TestClient(app, backend=backend) as client):
        response = client.post("/mixed")
    assert response.status_code == 503
    assert response.json() == {"detail": "Service Unavailable"}
    assert local == []  # nothing of the failed request runs, in-process tasks included
    assert app.background.offload_failed == 1
    assert "queued by POST /mixed; the client gets 503" in caplog.text
