"""A real ``redis-server`` and real ``celery worker`` processes, for the offload tests.

* ``redis_server(directory)`` starts Redis on a free loopback port with AOF on
  (``--appendonly yes --save ''``), waits until it answers PING, and stops it by
  its PID on leaving; ``RedisServer.kill()``/``start()`` restart it on the same
  port and directory, so its AOF is read back.
* ``celery_worker(broker_url, queue, out_dir)`` runs ``python -m celery -A
  tests.support.redis_celery:worker_app worker --pool solo``: one process (no
  prefork children to outlive the test), stopped by its PID in ``finally``.
  ``worker_app`` is built from environment variables on first use, so the
  worker and the test agree on the broker, the queue and where tasks write.
* ``make_celery(...)`` is the Celery app both sides use: ``record(tag)``
  appends ``tag pid task_id`` to ``done.txt``; ``hang_once(tag)`` hangs on its
  first delivery (to be killed) and records on the next.

Without ``redis-server`` a test skips, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from microready import BackgroundTasks, MicroReady
from microready.background.celery import CeleryOffload, at_least_once

from .processes import EXIT_DEADLINE, STARTUP_DEADLINE, ServerProcess

__all__ = [
    "RedisServer", "celery_worker", "done_lines", "environment", "free_port", "make_celery",
    "make_web_app", "redis_server", "require_redis", "wait_for_done",
]

REPO = Path(__file__).resolve().parents[2]
WORKER_APP = "tests.support.redis_celery:worker_app"


def require_redis() -> str:
    """The path of ``redis-server``; skips without it, but fails under CI."""
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (.ci/run installs Debian's)")
        pytest.skip("redis-server is not installed")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` on 127.0.0.1, its AOF in ``directory``."""

    def __init__(self, directory: Path, appendfsync: str = "everysec") -> None:
        self.program = require_redis()
        self.directory = directory
        self.appendfsync = appendfsync
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5.0)

    def start(self) -> None:
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the child keeps it
        with log:
            self.process = subprocess.Popen(
                [self.program, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
                 "--dir", str(self.directory), "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            if self.process.poll() is not None:
                raise AssertionError("redis-server exited:\n"
                                     + (self.directory / "redis.log").read_text())
            with contextlib.suppress(redis.ConnectionError), self.client() as client:
                if client.ping():
                    return
            assert time.monotonic() < deadline, "redis-server never answered PING"
            time.sleep(0.02)

    def _end(self, signum: int) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signum)
            process.wait(EXIT_DEADLINE)

    def stop(self) -> None:
        """SIGTERM: Redis flushes its AOF and exits."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        self._end(signal.SIGKILL)


@contextlib.contextmanager
def redis_server(directory: Path, appendfsync: str = "everysec") -> Iterator[RedisServer]:
    server = RedisServer(directory, appendfsync)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    """``os.environ`` with ``variables`` set, for a child process started in the block."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def worker_env(broker_url: str, queue: str, out_dir: Path,
               visibility_timeout: float = 3600) -> dict[str, str]:
    return {"MR_TEST_BROKER": broker_url, "MR_TEST_QUEUE": queue,
            "MR_TEST_OUT": str(out_dir), "MR_TEST_VISIBILITY": str(visibility_timeout)}


@contextlib.contextmanager
def celery_worker(broker_url: str, queue: str, out_dir: Path, *, name: str = "w",
                  visibility_timeout: float = 3600, app: str = WORKER_APP,
                  cwd: Path = REPO) -> Iterator[ServerProcess]:
    """A ``celery worker --pool solo`` on ``queue``, ready when the block starts."""
    with environment(**worker_env(broker_url, queue, out_dir, visibility_timeout),
                     CELERY_BROKER_URL=broker_url):
        worker = ServerProcess(
            ["-A", app, "worker", "--pool", "solo", "-Q", queue,
             "-n", f"{name}-{queue}@localhost", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel", "INFO"],
            cwd, module="celery")
    try:
        worker.wait_for_log(r"ready\.")
        yield worker
    finally:
        worker.stop()


# -- the Celery app of both sides ---------------------------------------------------------


def make_celery(broker_url: str, queue: str, out_dir: Path,
                visibility_timeout: float = 3600) -> tuple[Celery, dict[str, Any]]:
    """A Celery app with the tests' tasks, configured for at-least-once delivery."""
    app = Celery("mrtest", broker=broker_url, set_as_current=False)
    at_least_once(app, visibility_timeout=visibility_timeout)
    # Look for messages whose visibility timeout ran out every second, not every ~100.
    app.conf.broker_transport_options.update(unacked_restore_interval=1,
                                             unacked_restore_throttle=1)
    app.conf.update(task_default_queue=queue, task_ignore_result=True,
                    broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)
    done = out_dir / "done.txt"

    @app.task(name="mrtest.record", bind=True)
    def record(self: Any, tag: str, note: str = "") -> None:
        with open(done, "a") as file:  # one short append per line: lines never interleave
            file.write(f"{tag} {os.getpid()} {self.request.id} {note}\n")

    @app.task(name="mrtest.hang_once", bind=True)
    def hang_once(self: Any, tag: str) -> None:
        started = out_dir / f"started-{tag}"
        if not started.exists():
            started.write_text(str(os.getpid()))
            time.sleep(60)  # the test kills this worker; a new one runs the task again
        record.run(tag, "after-hang")

    return app, {"record": record, "hang_once": hang_once}


_worker_app: Celery | None = None


def __getattr__(name: str) -> Any:
    """``worker_app``: the worker's Celery app, from ``worker_env``'s variables."""
    global _worker_app
    if name != "worker_app":
        raise AttributeError(name)
    if _worker_app is None:
        env = os.environ
        _worker_app = make_celery(env["MR_TEST_BROKER"], env["MR_TEST_QUEUE"],
                                  Path(env["MR_TEST_OUT"]),
                                  float(env["MR_TEST_VISIBILITY"]))[0]
    return _worker_app


def make_web_app(celery_app: Celery, tasks: dict[str, Any], when: str = "before_response",
                 ) -> MicroReady:
    """The web side: ``POST /record/{tag}`` offloads ``record``; ``GET /plain`` does not."""
    offload = CeleryOffload(celery_app, when=when)  # type: ignore[arg-type]
    app = MicroReady(offload=offload)
    record = tasks["record"]
    by_name = offload.by_name("mrtest.record")

    @app.post("/record/{tag}")
    async def record_tag(tag: str, background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(record, tag)
        return {"queued": tag}

    @app.post("/by-name/{tag}")
    def record_by_name(tag: str, background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(by_name, tag, note="by-name")
        return {"queued": tag}

    @app.post("/hang/{tag}")
    async def hang(tag: str, background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(tasks["hang_once"], tag)
        return {"queued": tag}

    @app.get("/plain")
    async def plain() -> dict[str, bool]:
        return {"ok": True}

    return app


def web_app_from_env() -> MicroReady:
    """``make_web_app`` for a server in a child process (``worker_env``'s variables)."""
    env = os.environ
    celery_app, tasks = make_celery(env["MR_TEST_BROKER"], env["MR_TEST_QUEUE"],
                                    Path(env["MR_TEST_OUT"]))
    return make_web_app(celery_app, tasks)


def done_lines(out_dir: Path) -> list[list[str]]:
    """``done.txt``'s lines, split: ``[tag, pid, task_id, note?]``."""
    path = out_dir / "done.txt"
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().splitlines() if line]


def wait_for_done(out_dir: Path, ready: Callable[[list[list[str]]], bool],
                  timeout: float = 30.0) -> list[list[str]]:
    """``done_lines`` once ``ready(lines)`` holds; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not ready(lines := done_lines(out_dir)):
        assert time.monotonic() < deadline, f"the tasks did not finish in time: {lines}"
        time.sleep(0.05)
    return lines
