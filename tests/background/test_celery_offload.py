"""Offloading ``add_task`` to Celery: which tasks leave, where they run, what is counted.

A real ``redis-server`` and a real ``celery worker`` (one for the module:
each test uses tags of its own), and the app served for real on both backends.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery, signals

from microready import BackgroundTasks, MicroReady, StreamingResponse
from microready.background.celery import CeleryOffload, at_least_once

from ..support.live import connect, serving
from ..support.processes import fetch, server_process, wait_for_path
from ..support.redis_celery import (
    RedisServer,
    celery_worker,
    done_lines,
    environment,
    make_celery,
    make_web_app,
    wait_for_done,
)

QUEUE = "offload-basics"


def tag() -> str:
    return uuid.uuid4().hex[:12]


async def post(port: int, path: str) -> int:
    async with connect(port) as client:
        await client.send(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
        return (await client.read_response("POST")).status


@pytest.mark.anyio
async def test_the_task_runs_in_the_worker_process(
    celery: tuple[Celery, dict[str, Any]], worker: int, out_dir: Path
) -> None:
    app = make_web_app(*celery)
    mine = tag()
    async with serving(app) as server:
        assert await post(server.port, f"/record/{mine}") == 200
        assert await post(server.port, f"/by-name/{mine}-n") == 200  # send_task, by name
    lines = wait_for_done(out_dir, lambda lines: {mine, f"{mine}-n"} <= {ln[0] for ln in lines})
    ran = {line[0]: line for line in lines if line[0] in (mine, f"{mine}-n")}
    assert int(ran[mine][1]) == worker != __import__("os").getpid()
    assert ran[f"{mine}-n"][3] == "by-name"
    # A stable id: the request's uuid and the task's position in its list.
    request_id, position = ran[mine][2].rsplit("-", 1)
    assert len(request_id) == 32 and position == "0"
    stats = app.background.stats()
    assert (stats.offloaded, stats.offload_failed, stats.publishing) == (2, 0, 0)
    assert (stats.succeeded, stats.pending) == (0, 0)  # nothing ran in-process
    assert app.background.summary().endswith(
        "; offloaded: 2 enqueued, 0 failed to enqueue, 0 unfinished")


@pytest.mark.anyio
async def test_one_request_publishes_its_tasks_in_one_hand_off_off_the_loop(
    celery: tuple[Celery, dict[str, Any]], worker: int, out_dir: Path
) -> None:
    celery_app, tasks = celery
    app = MicroReady(offload=CeleryOffload(celery_app))
    local: list[str] = []
    mine = tag()

    def write_local(text: str) -> None:
        local.append(text)

    @app.post("/mixed")
    def mixed(background_tasks: BackgroundTasks) -> str:  # a sync handler, in a thread
        background_tasks.add_task(tasks["record"], mine, note="first")
        background_tasks.add_task(write_local, "stays here")
        background_tasks.add_task(tasks["record"], mine, note="second")
        return "ok"

    publishers: list[str] = []

    def seen(**_: Any) -> None:
        publishers.append(threading.current_thread().name)

    signals.before_task_publish.connect(seen, weak=False)
    try:
        async with serving(app) as server:
            assert await post(server.port, "/mixed") == 200
            await app.background.join()
    finally:
        signals.before_task_publish.disconnect(seen)
    assert local == ["stays here"]
    lines = wait_for_done(out_dir, lambda lines: sum(ln[0] == mine for ln in lines) == 2)
    ids = sorted(line[2].rsplit("-", 1)[1] for line in lines if line[0] == mine)
    assert ids == ["0", "2"]  # positions in the request's task list
    assert len(publishers) == 2 and len(set(publishers)) == 1, publishers
    assert publishers[0].startswith("microready-offload-celery")
    assert app.background.stats().succeeded == 1  # write_local


@pytest.mark.anyio
async def test_after_response_publishes_once_the_response_is_out(
    celery: tuple[Celery, dict[str, Any]], worker: int, out_dir: Path
) -> None:
    app = make_web_app(*celery, when="after_response")
    mine = tag()
    async with serving(app) as server:
        assert await post(server.port, f"/record/{mine}") == 200
    # Leaving serving() waited for the publish: it is counted, and it runs.
    assert app.background.offloaded == 1
    wait_for_done(out_dir, lambda lines: any(ln[0] == mine for ln in lines))


@pytest.mark.anyio
async def test_a_per_task_when_and_tasks_a_streaming_generator_adds(
    celery: tuple[Celery, dict[str, Any]], worker: int, out_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    celery_app, tasks = celery
    offload = CeleryOffload(celery_app)  # before_response for the app...
    offload.register(tasks["record"], when="after_response")  # ...but not for record
    assert offload.when_for(tasks["record"]) == "after_response"
    app = MicroReady(offload=offload)
    assert app.background.offloader is offload
    mine = tag()
    local: list[str] = []

    @app.get("/stream", response_class=StreamingResponse)
    async def stream(background_tasks: BackgroundTasks) -> AsyncIterator[bytes]:
        yield b"one,"  # a generator endpoint: it may add tasks until its last item
        background_tasks.add_task(tasks["record"], mine, note="while-streaming")
        background_tasks.add_task(local.append, "in-process")
        background_tasks.add_task(tasks["record"], {"not", "json"})  # checked once sent
        yield b"two"

    with caplog.at_level(logging.ERROR, "microready.background"):
        async with serving(app) as server, connect(server.port) as client:
            await client.send(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            response = await client.read_response()
    assert response.body == b"one,two"
    lines = wait_for_done(out_dir, lambda lines: any(ln[0] == mine for ln in lines))
    assert [ln[3] for ln in lines if ln[0] == mine] == ["while-streaming"]
    assert app.background.offloaded == 1
    assert local == ["in-process"]
    assert "dropped background task" in caplog.text and "is a set" in caplog.text


@pytest.mark.anyio
async def test_a_registered_plain_function_is_offloaded(
    redis: RedisServer, out_dir: Path, tmp_path: Path
) -> None:
    celery_app = at_least_once(Celery("plain", broker=redis.url, set_as_current=False))
    celery_app.conf.task_default_queue = f"plain-{tag()}"
    offload = CeleryOffload(celery_app)

    def write_notification(email: str, message: str = "") -> None:
        raise AssertionError("runs in a worker, never here")

    assert offload.register(write_notification, name="plain.write") is write_notification
    app = MicroReady(offload=offload)

    @app.post("/send/{email}")
    async def send(email: str, background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(write_notification, email, message="hi")
        return "ok"

    async with serving(app) as server:
        assert await post(server.port, "/send/a@example.com") == 200
    with redis.client() as client:
        assert client.llen(celery_app.conf.task_default_queue) == 1  # queued, by name
    assert app.background.stats().succeeded == 0


@pytest.mark.anyio
async def test_arguments_celery_cannot_carry_raise_at_add_task(
    celery: tuple[Celery, dict[str, Any]]
) -> None:
    app = make_web_app(*celery)
    record = celery[1]["record"]
    errors: list[str] = []

    class User:
        id = 7

    @app.post("/bad")
    async def bad(background_tasks: BackgroundTasks) -> int:
        for call in (lambda: background_tasks.add_task(record, User()),
                     lambda: background_tasks.add_task(record, "t", note={1, 2}),
                     lambda: background_tasks.add_task(record, "t", "n", "extra")):
            try:
                call()
            except TypeError as exc:
                errors.append(str(exc))
        return len(background_tasks.tasks)

    async with serving(app) as server, connect(server.port) as client:
        await client.send(b"POST /bad HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        assert (await client.read_response("POST")).body == b"0"
    assert len(errors) == 3
    assert "argument 'tag' is a User, which Celery's JSON serializer cannot carry" in errors[0]
    assert "wrong: add_task(record, tag)\n    right: add_task(record, tag.id)" in errors[0]
    assert "argument 'note' is a set" in errors[1]
    assert "wrong: add_task(record, note=note)" in errors[1]
    assert "too many positional arguments; the task takes record(tag, note='')" \
        in errors[2]


def test_choices_are_checked_with_the_right_call_shown(
    celery: tuple[Celery, dict[str, Any]]
) -> None:
    celery_app, tasks = celery
    with pytest.raises(ValueError, match=r"right: CeleryOffload\(\.\.\., when='after_response'\)"):
        CeleryOffload(celery_app, when="later")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"right: MicroReady\(offload=CeleryOffload\(celery_app"):
        MicroReady(offload=celery_app)
    with pytest.raises(TypeError, match=r"takes your Celery app"):
        CeleryOffload("redis://127.0.0.1:6379/0")
    with pytest.raises(ValueError, match=r"threads=\.\.\.\) must be at least 1"):
        CeleryOffload(celery_app, threads=0)
    offload = CeleryOffload(celery_app)
    with pytest.raises(TypeError, match=r"right: offload.register\(record, when="):
        offload.register(tasks["record"])
    other = make_celery(celery_app.conf.broker_url, QUEUE, Path("."))[1]["record"]
    with pytest.raises(TypeError, match=r"another Celery app"):
        offload.register(other, when="after_response")
    assert not offload.is_offloaded(other)
    with pytest.raises(TypeError, match=r"takes the task's registered name"):
        offload.by_name("")
    remote = offload.by_name("mrtest.record", when="after_response")
    assert offload.when_for(remote) == "after_response"
    with pytest.raises(TypeError, match=r"right: background_tasks.add_task\(record, "):
        remote("x")


def test_a_celery_app_without_late_acks_is_warned_about(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "microready.background"):
        CeleryOffload(Celery("loose", broker=redis.url, set_as_current=False))
    assert "at_least_once(celery_app)" in caplog.text


def test_import_microready_does_not_import_celery() -> None:
    code = ("import sys, microready, microready.background.celery\n"
            "print('celery' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "False"


def test_without_celery_the_server_stops_at_start_up_with_one_line(tmp_path: Path) -> None:
    # A module that fails as an uninstalled one does, first on sys.path (--app-dir).
    (tmp_path / "celery.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'celery'\", name='celery')\n")
    source = ("from microready import MicroReady\n"
              "from microready.background.celery import CeleryOffload\n"
              "app = MicroReady(offload=CeleryOffload(object()))\n")
    (tmp_path / "served_app.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "microready", "served_app:app", "--port", "0",
         "--app-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1
    assert "pip install 'microready[celery]'" in errors[0]
    assert not done_lines(tmp_path)


def test_the_example_with_its_three_commands(redis: RedisServer, tmp_path: Path) -> None:
    with environment(CELERY_BROKER_URL=redis.url), server_process(
        "examples.offload_celery:app", "--port", "0"
    ) as web, celery_worker(redis.url, "celery", tmp_path,
                            app="examples.offload_celery:celery_app", cwd=tmp_path):
        port = web.listening_port()
        response = fetch(port, "POST", "/send-notification/foo@example.com")
        assert response.status == 200
        assert wait_for_path(tmp_path / "log.txt") == (
            "notification for foo@example.com: some notification\n")


def test_registration_and_checks_in_detail(celery: tuple[Celery, dict[str, Any]]) -> None:
    from pydantic import BaseModel

    celery_app = celery[0]
    offload = CeleryOffload(celery_app)

    def plain(email: str) -> None: ...

    offload.register(plain, when="after_response", name="detail.plain")
    assert offload.is_offloaded(plain) and offload.when_for(plain) == "after_response"
    assert offload.task_name(plain) == "detail.plain"
    remote = offload.by_name("mrtest.record")
    assert repr(remote) == "<RemoteTask mrtest.record>"
    with pytest.raises(TypeError, match=r"register\(\) takes a function"):
        offload.register(remote)

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self) -> None: ...

    assert not offload.is_offloaded(Unhashable())

    class Point(BaseModel):
        x: int

    @celery_app.task(name="detail.models", pydantic=True)
    def takes_models(point: Point) -> None: ...

    @celery_app.task(name="detail.untyped", typing=False)
    def untyped(value: int) -> None: ...

    offload.check_args(takes_models, (Point(x=1),), {}, "add_task")  # Celery dumps models
    offload.check_args(untyped, (1, 2, 3), {}, "add_task")  # Celery checks no signature
    with pytest.raises(TypeError, match=r"argument 'args\[1\]' is a object"):
        offload.check_args(untyped, (1, object()), {}, "add_task")
    offload.check_args(remote, ("any", "number", "of", "arguments"), {}, "add_task")

    @celery_app.task(name="detail.pickled", serializer="pickle")
    def pickled(value: object) -> None: ...

    offload.check_args(pickled, (object(),), {}, "add_task")  # pickle carries it
