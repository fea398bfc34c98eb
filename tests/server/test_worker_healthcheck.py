"""``--timeout-worker-healthcheck``: a worker that stops answering is replaced.

The supervisor pings each serving worker over its pipe, and the worker answers
from its event loop, so both a blocked loop (an ``async def`` handler calling
``time.sleep``) and a frozen process (SIGSTOP) miss the answer; such a worker
is killed and replaced, and the server keeps serving. A worker whose
supervisor is killed notices the pipe close and shuts down gracefully.
"""

from __future__ import annotations

import os
import signal
import socket
import textwrap
import time
from pathlib import Path

import pytest

from microready.server.worker_health import HealthCheck
from tests.support.http import request
from tests.support.processes import (
    STARTUP_DEADLINE,
    ServerProcess,
    app_process,
    fetch,
    pid_exists,
)

STARTED = r"started worker process (\d+)"

APP = textwrap.dedent(
    """
    import os
    import time

    from microready import MicroReady

    app = MicroReady()


    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()


    @app.get("/block")
    async def block() -> int:
        time.sleep(60)  # blocks the event loop: the mistake the health check catches
        return os.getpid()
    """
)


def answering_pids(server: ServerProcess, wanted: int) -> set[int]:
    """The PIDs that answer, asking until ``wanted`` is among them (or the deadline)."""
    answered: set[int] = set()
    deadline = time.monotonic() + STARTUP_DEADLINE
    while wanted not in answered:
        assert time.monotonic() < deadline, f"only {answered} answered:\n{server.log}"
        response = fetch(server.port, "GET", "/pid")
        assert response.status == 200
        answered.add(int(response.body))
    return answered


def gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_worker_whose_event_loop_is_blocked_is_replaced(tmp_path: Path) -> None:
    with app_process(tmp_path, APP, "--workers", "2",
                     "--timeout-worker-healthcheck", "1") as server:
        workers = [int(m.group(1)) for m in server.wait_for_log(STARTED, count=2)]
        server.extra_pids.extend(workers)
        server.wait_for_log(r"microready listening on", count=2)
        with socket.create_connection(("127.0.0.1", server.port)) as blocked:
            blocked.sendall(request("GET", "/block"))
            match = server.wait_for_log(
                r"worker process (\d+) did not answer the health check within 1s \(its "
                r"event loop is blocked, or the process hangs\); killing it"
            )[0]
            victim = int(match.group(1))
            assert victim in workers
            server.wait_for_log(rf"worker process {victim} was killed for failing its health "
                                r"check; starting a replacement in 0\.5s")
            replacement = int(server.wait_for_log(STARTED, count=3)[2].group(1))
            server.extra_pids.append(replacement)
            answered = answering_pids(server, replacement)
        survivor = next(pid for pid in workers if pid != victim)
        # The worker that kept answering was left alone all along.
        assert answered <= {survivor, replacement}, server.log
        assert pid_exists(survivor) and gone(victim)
        assert server.terminate() == 0, server.log


def test_a_frozen_worker_is_replaced(tmp_path: Path) -> None:
    with app_process(tmp_path, APP, "--workers", "2",
                     "--timeout-worker-healthcheck", "0.5") as server:
        workers = [int(m.group(1)) for m in server.wait_for_log(STARTED, count=2)]
        server.extra_pids.extend(workers)
        server.wait_for_log(r"microready listening on", count=2)
        victim = workers[0]
        os.kill(victim, signal.SIGSTOP)
        server.wait_for_log(rf"worker process {victim} did not answer the health check "
                            r"within 0\.5s")
        replacement = int(server.wait_for_log(STARTED, count=3)[2].group(1))
        server.extra_pids.append(replacement)
        assert victim not in answering_pids(server, replacement)
        assert server.terminate() == 0, server.log


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_workers_stop_gracefully_when_their_supervisor_is_killed(
    tmp_path: Path, backend: str
) -> None:
    # The pipe is watched from the worker's event loop, on either backend.
    with app_process(tmp_path, APP, "--workers", "2", "--backend", backend,
                     "--timeout-worker-healthcheck", "0.5") as server:
        workers = [int(m.group(1)) for m in server.wait_for_log(STARTED, count=2)]
        server.extra_pids.extend(workers)
        server.wait_for_log(r"microready listening on", count=2)
        # Serving workers answer every ping (one each 0.25s): none is killed.
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            assert fetch(server.port, "GET", "/pid").status == 200
        assert "did not answer" not in server.log, server.log
        assert all(pid_exists(pid) for pid in workers)
        server.process.kill()  # SIGKILL: the supervisor cannot pass anything on
        server.process.wait()
        server.wait_for_log(r"WARNING:  the supervisor process has gone: shutting down "
                            r"gracefully", count=2)
        server.wait_for_log(r"INFO:     stopped", count=2)
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not all(gone(pid) for pid in workers):
            assert time.monotonic() < deadline, server.log
            time.sleep(0.01)


def test_pings_go_out_one_at_a_time_and_late_answers_are_overdue() -> None:
    check = HealthCheck(timeout=5.0, now=100.0)
    assert check.interval == 1.0  # at most a second between pings
    assert check.next_event() == 101.0
    assert not check.overdue(104.0)  # nothing sent yet: nothing late
    assert HealthCheck(timeout=0.5, now=0.0).interval == 0.25


def test_a_health_check_over_a_real_pipe() -> None:
    import multiprocessing

    supervisor_end, worker_end = multiprocessing.get_context("spawn").Pipe(duplex=True)
    try:
        check = HealthCheck(timeout=1.0, now=0.0)
        check.ping_if_due(supervisor_end, now=0.1)  # not due yet
        assert not worker_end.poll()
        check.ping_if_due(supervisor_end, now=0.5)
        assert worker_end.recv_bytes() == b"ping"
        check.ping_if_due(supervisor_end, now=0.6)  # one at a time: still waiting
        assert not worker_end.poll()
        assert check.next_event() == 1.5 and not check.overdue(1.5) and check.overdue(1.6)
        check.answered(now=0.7)
        assert not check.overdue(5.0) and check.next_event() == 1.2
    finally:
        supervisor_end.close()
        worker_end.close()
