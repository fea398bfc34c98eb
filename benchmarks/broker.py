"""Redis and a Celery worker for the ``notify-celery`` targets, started per server.

``broker_services(directory, cpu)`` starts ``redis-server`` on a free loopback
port (AOF on, ``appendfsync everysec``: the README's recommended setting) and
``celery -A benchmarks.apps.celery_tasks:celery_app worker --pool solo`` (one
process), both pinned to ``cpu`` (the load generator's: the server's CPU stays
the server's), waits until Redis answers PING and the worker says it is ready,
and yields the environment the web app needs (``BENCH_CELERY_BROKER``). Both
are stopped by their PIDs in ``finally``: SIGTERM, then SIGKILL after a grace.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["BrokerFailed", "broker_services"]

REPO = Path(__file__).resolve().parent.parent
WORKER_APP = "benchmarks.apps.celery_tasks:celery_app"


class BrokerFailed(RuntimeError):
    """redis-server or the worker did not start; the message ends with its log."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _wait(ready: object, proc: subprocess.Popen[bytes], log: Path, what: str,
          timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrokerFailed(f"{what} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        if callable(ready) and ready():
            return
        time.sleep(0.05)
    raise BrokerFailed(f"{what} was not ready within {timeout} s:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def broker_services(directory: Path, cpu: int) -> Iterator[dict[str, str]]:
    program = shutil.which("redis-server")
    if program is None:
        raise BrokerFailed("redis-server is not installed; run benchmarks/run.py, "
                           "which installs it")
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = {**os.environ, "BENCH_CELERY_BROKER": url}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    started: list[subprocess.Popen[bytes]] = []
    redis_log, worker_log = directory / "redis.log", directory / "worker.log"
    try:
        with open(redis_log, "wb") as log:
            redis = subprocess.Popen(
                ["taskset", "-c", str(cpu), program, "--port", str(port), "--bind", "127.0.0.1",
                 "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                 "--dir", str(directory)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        started.append(redis)
        _wait(lambda: _ping(port), redis, redis_log, "redis-server")
        with open(worker_log, "wb") as log:
            worker = subprocess.Popen(
                ["taskset", "-c", str(cpu), sys.executable, "-m", "celery", "-A", WORKER_APP,
                 "worker", "--pool", "solo", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--loglevel", "INFO"],
                cwd=REPO, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True)
        started.append(worker)
        _wait(lambda: b" ready." in worker_log.read_bytes(), worker, worker_log, "celery worker")
        yield {"BENCH_CELERY_BROKER": url}
    finally:
        for proc in reversed(started):
            _stop(proc)
