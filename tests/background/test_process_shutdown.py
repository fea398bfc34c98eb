"""Shutdown of a real server process: SIGTERM drains the tasks; the deadline drops them.

Each test writes a small app into tmp_path, serves it with
``python -m microready`` on port 0, and always stops the process by its own PID.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STARTUP_DEADLINE = 20.0
EXIT_DEADLINE = 30.0

APP = textwrap.dedent(
    """
    import time
    from pathlib import Path

    import anyio
    from microready import BackgroundTasks, MicroReady

    app = MicroReady()
    HERE = Path(__file__).parent


    async def slow_write(name: str) -> None:
        await anyio.sleep(1)
        (HERE / name).write_text("done")


    def slow_sync_write(name: str) -> None:
        time.sleep(1)
        (HERE / name).write_text("done")


    async def stuck_forever() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            (HERE / "finally-ran").write_text("yes")


    def stuck_in_thread() -> None:
        (HERE / "thread-started").write_text("yes")
        time.sleep(60)


    def never_started() -> None:
        (HERE / "never-started-ran").write_text("yes")


    @app.post("/drain")
    async def drain(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(slow_write, "async-done")
        background_tasks.add_task(slow_sync_write, "sync-done")
        return "queued"


    @app.post("/stuck")
    async def stuck(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(stuck_forever)
        background_tasks.add_task(never_started)
        return "queued"


    @app.post("/stuck-sync")
    async def stuck_sync(background_tasks: BackgroundTasks) -> str:
        background_tasks.add_task(stuck_in_thread)
        return "queued"
    """
)


class ServerProcess:
    def __init__(self, process: subprocess.Popen[str], port: int, log: list[str]) -> None:
        self.process = process
        self.port = port
        self.log = log

    def post(self, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def wait_for_exit(self) -> int:
        assert self.process.stderr is not None
        _, err = self.process.communicate(timeout=EXIT_DEADLINE)
        self.log.extend(err.splitlines())
        return self.process.returncode


@contextmanager
def server_process(app_dir: Path, *extra: str, backend: str) -> Iterator[ServerProcess]:
    (app_dir / "drain_app.py").write_text(APP)
    process = subprocess.Popen(
        [sys.executable, "-m", "microready", "drain_app:app", "--port", "0",
         "--app-dir", str(app_dir), "--backend", backend, *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        log: list[str] = []
        deadline = time.monotonic() + STARTUP_DEADLINE
        assert process.stderr is not None
        port = 0
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            log.append(line.rstrip())
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
                break
        assert port, f"the server did not start: {log}"
        yield ServerProcess(process, port, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sigterm_exits_0_after_the_queued_tasks_complete(tmp_path: Path, backend: str) -> None:
    with server_process(tmp_path, backend=backend) as server:
        assert server.post("/drain") == (200, b'"queued"')
        os.kill(server.process.pid, signal.SIGTERM)
        code = server.wait_for_exit()
    assert code == 0, server.log
    assert (tmp_path / "async-done").read_text() == "done"
    assert (tmp_path / "sync-done").read_text() == "done"
    assert any(
        "background tasks: 2 succeeded, 0 failed, 0 dropped, 0 unfinished" in line
        for line in server.log
    ), server.log


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_shutdown_deadline_cancels_async_tasks_and_names_what_it_dropped(
    tmp_path: Path, backend: str
) -> None:
    with server_process(
        tmp_path, "--timeout-graceful-shutdown", "0.5", backend=backend
    ) as server:
        assert server.post("/stuck") == (200, b'"queued"')
        assert server.post("/stuck-sync") == (200, b'"queued"')
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not (tmp_path / "thread-started").exists():
            assert time.monotonic() < deadline, "the sync task never started"
            time.sleep(0.01)
        os.kill(server.process.pid, signal.SIGTERM)
        started = time.monotonic()
        code = server.wait_for_exit()
        # The thread sleeps for 60 s; the process must not wait for it.
        assert time.monotonic() - started < EXIT_DEADLINE / 2
    assert code == 0, server.log
    assert (tmp_path / "finally-ran").read_text() == "yes"
    assert not (tmp_path / "never-started-ran").exists()
    text = "\n".join(server.log)
    assert "stuck_forever cancelled" in text, text
    assert "never_started dropped before it started" in text, text
    assert "stuck_in_thread left running in its worker thread" in text, text


def test_second_sigint_forces_an_immediate_exit(tmp_path: Path) -> None:
    with server_process(tmp_path, backend="asyncio") as server:
        assert server.post("/stuck-sync") == (200, b'"queued"')
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not (tmp_path / "thread-started").exists():
            assert time.monotonic() < deadline, "the sync task never started"
            time.sleep(0.01)
        os.kill(server.process.pid, signal.SIGINT)
        assert server.process.stderr is not None
        while "shutting down gracefully" not in (line := server.process.stderr.readline()):
            assert line, "the server exited before the second SIGINT"
            server.log.append(line)
        os.kill(server.process.pid, signal.SIGINT)
        code = server.wait_for_exit()
    assert code == 130, server.log
    assert any("SIGINT again" in line for line in server.log), server.log
