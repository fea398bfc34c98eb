"""``--workers N`` when workers fail: at startup the supervisor stops, after it they are replaced.

A worker that cannot start (its app fails to import, its lifespan startup
fails) would fail the same way each time it is replaced, so the supervisor
exits 1 with the worker's one error line, and the port closes. A worker that
dies after it has served is replaced, after a backoff; too many such crashes
within a window stop the supervisor too.
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import textwrap
import time
from pathlib import Path

import h11
import pytest

from microready.config import Config
from microready.server import run, supervisor
from microready.server.supervisor import RestartPolicy
from tests.support.processes import (
    STARTUP_DEADLINE,
    ServerProcess,
    app_process,
    fetch,
)

STARTED = r"started worker process (\d+)"
QUICKLY = 10.0  # seconds: two interpreters starting and failing, with room for a busy machine

BAD_IMPORT = "raise RuntimeError('the database URL is not set')\n"

BAD_LIFESPAN = textwrap.dedent(
    """
    import contextlib

    from microready import MicroReady


    @contextlib.asynccontextmanager
    async def lifespan(app):
        raise RuntimeError("the database is down")
        yield


    app = MicroReady(lifespan=lifespan)
    """
)

CRASH_AFTER_RESPONSE = textwrap.dedent(
    """
    import os

    from microready import BackgroundTasks, MicroReady

    app = MicroReady()


    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()


    @app.get("/crash")
    async def crash(tasks: BackgroundTasks) -> int:
        tasks.add_task(os._exit, 3)  # after the response is sent
        return os.getpid()
    """
)


def error_lines(server: ServerProcess) -> list[str]:
    return [line for line in server.lines if line.startswith("ERROR:")]


def assert_port_closed(port: int) -> None:
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_the_supervisor_knows_the_startup_failure_exit_code() -> None:
    assert supervisor.EXIT_STARTUP_FAILED == run.EXIT_STARTUP_FAILED


def test_restart_backoff_doubles_up_to_its_ceiling() -> None:
    policy = RestartPolicy(backoff=0.5, max_backoff=10.0)
    assert [policy.delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (BAD_IMPORT, 'could not import module "served_app": RuntimeError: '
                     "the database URL is not set"),
        (BAD_LIFESPAN, "lifespan startup failed: RuntimeError('the database is down')"),
    ],
    ids=["import", "lifespan"],
)
def test_a_worker_that_cannot_start_stops_the_supervisor(
    tmp_path: Path, source: str, error: str
) -> None:
    with app_process(tmp_path, source, "--workers", "2") as server:
        code = server.wait_for_exit(QUICKLY)
        server.extra_pids.extend(int(m.group(1)) for m in server.wait_for_log(STARTED))
        assert code == 1, server.log
        assert error_lines(server) == [f"ERROR:    {error}"], server.log
        # One worker tried, not one per --workers, and none was restarted.
        assert len(re.findall(STARTED, server.log)) == 1, server.log
        assert_port_closed(server.port)


def test_a_worker_that_crashes_after_serving_is_replaced(tmp_path: Path) -> None:
    with app_process(tmp_path, CRASH_AFTER_RESPONSE, "--workers", "2") as server:
        workers = {int(m.group(1)) for m in server.wait_for_log(STARTED, count=2)}
        server.extra_pids.extend(workers)
        response = fetch(server.port, "GET", "/crash")
        assert response.status == 200
        victim = int(response.body)
        server.wait_for_log(
            rf"worker process {victim} exited with code 3; starting a replacement in 0.5s"
        )
        replacement = int(server.wait_for_log(STARTED, count=3)[2].group(1))
        server.extra_pids.append(replacement)
        # The replacement answers, next to the survivor; keep asking until it has.
        # (It is listening once it has imported the app; until then the survivor answers.)
        answered: set[int] = set()
        deadline = time.monotonic() + STARTUP_DEADLINE
        while replacement not in answered:
            assert time.monotonic() < deadline, f"only {answered} answered:\n{server.log}"
            answered.add(int(fetch(server.port, "GET", "/pid").body))
        assert victim not in answered, server.log
        assert server.terminate() == 0, server.log


# The real CLI, with a supervisor whose restart policy is small enough to test.
CRASH_LOOP_MAIN = textwrap.dedent(
    """
    import functools
    import sys

    from microready.server import cli, supervisor

    if __name__ == "__main__":  # the workers are spawned: they import this module again
        supervisor.supervise = functools.partial(
            supervisor.supervise,
            policy=supervisor.RestartPolicy(backoff=0.05, crash_limit=3, crash_window=30.0),
        )
        sys.exit(cli.main(sys.argv[1:]))
    """
)


def test_repeated_crashes_within_the_window_stop_the_supervisor(tmp_path: Path) -> None:
    # Each GET /crash makes the worker that answers it exit with code 3 after its
    # response; the test keeps asking until the supervisor gives up. Driven by
    # requests, not by a timer: a crash can never come before a worker is up.
    (tmp_path / "served_app.py").write_text(CRASH_AFTER_RESPONSE)
    (tmp_path / "crash_loop_cli.py").write_text(CRASH_LOOP_MAIN)
    server = ServerProcess(
        ["served_app:app", "--app-dir", str(tmp_path), "--port", "0", "--workers", "2"],
        tmp_path, module="crash_loop_cli",
    )
    try:
        port = server.listening_port()
        deadline = time.monotonic() + 30.0
        while server.process.poll() is None:
            assert time.monotonic() < deadline, server.log
            # The worker may go while answering, or none be up yet: ask again.
            with contextlib.suppress(OSError, h11.ProtocolError, AssertionError):
                fetch(port, "GET", "/crash")
        assert server.wait_for_exit() == 1, server.log
    finally:
        server.extra_pids.extend(int(m) for m in re.findall(STARTED, server.log))
        server.stop()
    errors = [line for line in server.log.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, server.log
    assert re.fullmatch(
        r"ERROR: +worker process \d+ exited with code 3, the 3rd crash within 30s; "
        r"stopping: fix the app and start again",
        errors[0],
    ), server.log
    assert "starting a replacement in 0.05s" in server.log and "in 0.1s" in server.log, server.log


def test_the_supervisor_handles_signals_from_before_it_binds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # It says it listens once the socket is bound; a SIGTERM from then on (a
    # deploy script that waits for that line) must be a graceful stop, never
    # the default action that kills it. So its handlers are set before binding.
    seen: list[object] = []
    original = signal.getsignal(signal.SIGTERM)

    def bind_socket(config: Config) -> socket.socket:
        seen.append(signal.getsignal(signal.SIGTERM))
        raise OSError("the test stops here")

    monkeypatch.setattr(supervisor, "bind_socket", bind_socket)
    assert supervisor.supervise(Config(workers=2), lambda sock: 0) == 1
    assert len(seen) == 1 and seen[0] not in (signal.SIG_DFL, signal.SIG_IGN, None, original)
    assert signal.getsignal(signal.SIGTERM) is original  # put back afterwards
