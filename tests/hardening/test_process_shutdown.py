"""Graceful shutdown of a real server process, on asyncio and on trio.

On SIGTERM (or a first SIGINT) the server stops accepting, closes idle
keep-alive connections, lets the request in flight finish with
``connection: close``, and exits 0.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from .processes import IO_DEADLINE, SyncClient, server_process

APP = textwrap.dedent(
    """
    from pathlib import Path

    import anyio
    from microready import MicroReady

    app = MicroReady()
    HERE = Path(__file__).parent


    @app.get("/ping")
    async def ping() -> str:
        return "pong"


    @app.get("/slow")
    async def slow() -> str:
        (HERE / "started").write_text("yes")
        while not (HERE / "release").exists():
            await anyio.sleep(0.01)
        return "finished"
    """
)

PING = b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n"
SLOW = b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n"


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + IO_DEADLINE
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("backend", "signum"),
    [("asyncio", signal.SIGTERM), ("trio", signal.SIGTERM), ("asyncio", signal.SIGINT)],
    ids=["asyncio-SIGTERM", "trio-SIGTERM", "asyncio-SIGINT"],
)
def test_shutdown_finishes_the_request_in_flight_closes_idle_ones_and_exits_0(
    tmp_path: Path, backend: str, signum: signal.Signals
) -> None:
    with server_process(tmp_path, APP, "--backend", backend) as server, SyncClient(
        server.port
    ) as idle, SyncClient(server.port) as in_flight:
        idle.send(PING)
        status, headers, _ = idle.read_response()
        assert status == 200 and headers.get("connection") != "close"
        in_flight.send(SLOW)
        wait_for_file(tmp_path / "started")

        os.kill(server.process.pid, signum)

        # The idle keep-alive connection is closed, with nothing sent on it.
        assert idle.read_until_eof() == b"", "an idle connection got bytes at shutdown"
        # The listener is closed before idle connections are: no new connections.
        with pytest.raises(ConnectionRefusedError):
            SyncClient(server.port).sock.close()
        assert server.process.poll() is None, "the server exited with a request in flight"

        (tmp_path / "release").write_text("yes")
        status, headers, body = in_flight.read_response()
        assert (status, body) == (200, b'"finished"')
        assert headers.get("connection") == "close"
        assert in_flight.read_until_eof() == b""

        code = server.wait_for_exit()
    assert code == 0, server.log
    assert "shutting down gracefully" in server.log


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_graceful_shutdown_deadline_bounds_a_stuck_request(
    tmp_path: Path, backend: str
) -> None:
    with server_process(
        tmp_path, APP, "--backend", backend, "--timeout-graceful-shutdown", "0.5"
    ) as server, SyncClient(server.port) as in_flight:
        in_flight.send(SLOW)  # never released
        wait_for_file(tmp_path / "started")
        os.kill(server.process.pid, signal.SIGTERM)
        started = time.monotonic()
        # The stuck request is cut off: its connection closes without an answer.
        assert in_flight.read_until_eof() == b""
        code = server.wait_for_exit(timeout=15.0)
        took = time.monotonic() - started
    assert code == 0, server.log
    assert took < 10.0, f"exit took {took:.1f}s with a 0.5 s shutdown deadline"
    assert "shutdown deadline" in server.log, server.log
