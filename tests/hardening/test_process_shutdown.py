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

from tests.support.http import request
from tests.support.processes import IO_DEADLINE, SyncClient, app_process, wait_for_path

from .helpers import PING

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

SLOW = request("GET", "/slow")


@pytest.mark.parametrize(
    ("backend", "signum"),
    [("asyncio", signal.SIGTERM), ("trio", signal.SIGTERM), ("asyncio", signal.SIGINT)],
    ids=["asyncio-SIGTERM", "trio-SIGTERM", "asyncio-SIGINT"],
)
def test_shutdown_finishes_the_request_in_flight_closes_idle_ones_and_exits_0(
    tmp_path: Path, backend: str, signum: signal.Signals
) -> None:
    with app_process(tmp_path, APP, "--backend", backend) as server, SyncClient(
        server.port
    ) as idle, SyncClient(server.port) as in_flight:
        idle.send(PING)
        response = idle.read_response()
        assert response.status == 200 and response.header(b"connection") != b"close"
        in_flight.send(SLOW)
        wait_for_path(tmp_path / "started", IO_DEADLINE)

        os.kill(server.process.pid, signum)

        # The idle keep-alive connection is closed, with nothing sent on it.
        assert idle.read_until_eof() == b"", "an idle connection got bytes at shutdown"
        # The listener is closed before idle connections are: no new connections.
        with pytest.raises(ConnectionRefusedError):
            SyncClient(server.port).sock.close()
        assert server.process.poll() is None, "the server exited with a request in flight"

        (tmp_path / "release").write_text("yes")
        response = in_flight.read_response()
        assert (response.status, response.body) == (200, b'"finished"')
        assert response.header(b"connection") == b"close"
        assert in_flight.read_until_eof() == b""

        code = server.wait_for_exit()
    assert code == 0, server.log
    assert "shutting down gracefully" in server.log


def test_the_graceful_shutdown_deadline_bounds_a_stuck_request(
    tmp_path: Path, anyio_backend: str
) -> None:
    with app_process(
        tmp_path, APP, "--backend", anyio_backend, "--timeout-graceful-shutdown", "0.5"
    ) as server, SyncClient(server.port) as in_flight:
        in_flight.send(SLOW)  # never released
        wait_for_path(tmp_path / "started", IO_DEADLINE)
        os.kill(server.process.pid, signal.SIGTERM)
        started = time.monotonic()
        # The stuck request is cut off: its connection closes without an answer.
        assert in_flight.read_until_eof() == b""
        code = server.wait_for_exit(timeout=15.0)
        took = time.monotonic() - started
    assert code == 0, server.log
    assert took < 10.0, f"exit took {took:.1f}s with a 0.5 s shutdown deadline"
    assert "shutdown deadline" in server.log, server.log
