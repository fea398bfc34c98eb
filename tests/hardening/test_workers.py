"""``--workers 2``: two worker processes serve, a killed one is replaced, SIGTERM ends all.

The worker PIDs come from the supervisor's "started worker process PID" log
lines, never from a process listing, so helpers such as multiprocessing's
resource tracker are not mistaken for workers.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

from tests.support.processes import (
    STARTUP_DEADLINE,
    ServerProcess,
    app_process,
    fetch,
    pid_exists,
)

APP = textwrap.dedent(
    """
    import os

    from microready import MicroReady

    app = MicroReady()


    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()
    """
)

STARTED = r"started worker process (\d+)"


def serving_pids(server: ServerProcess, wanted: set[int]) -> set[int]:
    """Ask /pid on new connections until every PID in ``wanted`` has answered."""
    seen: set[int] = set()
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not wanted <= seen:
        assert time.monotonic() < deadline, f"only {seen} answered; expected {wanted}"
        response = fetch(server.port, "GET", "/pid")
        assert response.status == 200
        seen.add(int(response.body))
    return seen


def test_two_workers_serve_a_killed_one_is_replaced_and_sigterm_ends_them_all(
    tmp_path: Path, anyio_backend: str
) -> None:
    with app_process(tmp_path, APP, "--workers", "2", "--backend", anyio_backend) as server:
        workers = [int(m.group(1)) for m in server.wait_for_log(STARTED, count=2)]
        server.extra_pids.extend(workers)  # whatever happens, teardown stops them
        assert len(set(workers)) == 2
        assert server.process.pid not in workers
        # Both workers serve, and only they do.
        assert serving_pids(server, set(workers)) == set(workers)

        victim, survivor = workers
        os.kill(victim, signal.SIGKILL)
        server.wait_for_log(
            rf"worker process {victim} exited with code -?\d+; starting a replacement"
        )
        replacement = int(server.wait_for_log(STARTED, count=3)[2].group(1))
        workers.append(replacement)
        server.extra_pids.append(replacement)
        assert replacement not in (victim, survivor)
        assert serving_pids(server, {survivor, replacement}) == {survivor, replacement}

        os.kill(server.process.pid, signal.SIGTERM)
        code = server.wait_for_exit()
        assert code == 0, server.log

        deadline = time.monotonic() + 10.0
        while alive := [pid for pid in workers if pid_exists(pid)]:
            assert time.monotonic() < deadline, f"left behind: {alive}\n{server.log}"
            time.sleep(0.05)
