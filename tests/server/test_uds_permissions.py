"""``--uds-permissions``: the Unix socket's mode is ours, not the umask's.

A proxy's worker runs as another user, so a socket made with the umask's mode
(``srwxr-xr-x``) answers it Permission denied. Each server here runs with a
umask of 077, the most restrictive one, so only a chmod can give the mode.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from microready.server.cli import main
from microready.server.config import Config, ConfigError
from tests.support.processes import EXIT_DEADLINE, STARTUP_DEADLINE, kill_leftover_worker

APP = textwrap.dedent(
    """
    from microready import MicroReady

    app = MicroReady()


    @app.get("/")
    async def index() -> str:
        return "ok"
    """
)


@contextlib.contextmanager
def uds_server(tmp_path: Path, *args: str) -> Iterator[Path]:
    """``python -m microready`` on a Unix socket, with umask 077; yields the socket path
    once a request over it is answered (after listen(), so after the chmod)."""
    (tmp_path / "served_app.py").write_text(APP)
    path = tmp_path / "app.sock"
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "microready", "served_app:app", "--app-dir", str(tmp_path),
             "--uds", str(path), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            umask=0o077,
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"never listened:\n{log.read_text()}"
            # Served, not just connectable: the supervisor binds and listens before
            # it has set its signal handlers, and the SIGTERM below must find them.
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(STARTUP_DEADLINE)
                probe.connect(str(path))
                probe.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    break
            time.sleep(0.02)
        yield path
        process.send_signal(signal.SIGTERM)
        assert process.wait(EXIT_DEADLINE) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for line in log.read_text().splitlines():
            if "started worker process" in line:
                kill_leftover_worker(int(line.rsplit(" ", 1)[1]))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_socket_is_0666_by_default_whatever_the_umask(tmp_path: Path, workers: str) -> None:
    with uds_server(tmp_path, "--workers", workers) as path:
        assert mode(path) == 0o666


@pytest.mark.parametrize(("workers", "given"), [("1", "660"), ("2", "0o660")])
def test_uds_permissions_sets_the_mode(tmp_path: Path, workers: str, given: str) -> None:
    with uds_server(tmp_path, "--workers", workers, "--uds-permissions", given) as path:
        assert mode(path) == 0o660


@pytest.mark.parametrize("given", ["660", "0660", "0o660", 0o660])
def test_uds_permissions_reads_octal_text_and_takes_an_int_as_is(given: int | str) -> None:
    assert Config(uds_permissions=given).uds_mode == 0o660


@pytest.mark.parametrize("given", ["999", "rw-rw----", "", "01777", 660, 0o1000, True])
def test_a_bad_uds_permissions_shows_the_right_call(given: int | str) -> None:
    with pytest.raises(ConfigError, match=r"right: --uds-permissions 660, or "
                                          r"uds_permissions=0o660 from Python"):
        Config(uds_permissions=given)


def test_an_int_that_reads_as_octal_is_pointed_at() -> None:
    with pytest.raises(ConfigError, match=r"not 660 \(0o660 if you meant octal\)"):
        Config(uds_permissions=660)


def test_the_cli_rejects_a_bad_mode_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["served_app:app", "--uds", "x.sock", "--uds-permissions", "9"]) == 2
    assert "right: --uds-permissions 660" in capsys.readouterr().err
