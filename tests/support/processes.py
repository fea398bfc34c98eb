"""``python -m microready`` as a child process, and a blocking client for it.

``ServerProcess`` starts the command and collects its stderr line by line in a
thread, so no test ever blocks on a ``readline()``: every wait for a log line,
for the exit or for a file has a deadline. ``server_process`` stops the process
in ``finally`` by its own PID (and any worker PIDs the test learnt from the
log), whatever the test did.

``SyncClient`` is a blocking socket with a timeout on every operation; it reads
responses with the same ``ResponseParser`` the async client uses.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .http import HTTPResponse, ResponseParser, request

__all__ = [
    "EXIT_DEADLINE",
    "IO_DEADLINE",
    "STARTUP_DEADLINE",
    "ServerProcess",
    "SyncClient",
    "app_process",
    "fetch",
    "kill_leftover_worker",
    "pid_exists",
    "server_process",
    "wait_for_path",
]

STARTUP_DEADLINE = 20.0  # for a process to start, or to log what a test waits for
EXIT_DEADLINE = 30.0
IO_DEADLINE = 5.0

LISTENING = r"listening on http://127\.0\.0\.1:(\d+)"


class ServerProcess:
    """``python -m microready *args`` (or another ``module``), with its stderr
    collected line by line."""

    def __init__(self, args: list[str], cwd: Path | None = None, *,
                 module: str = "microready") -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("COLUMNS", None)  # --help output must not depend on the terminal
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.extra_pids: list[int] = []  # its workers, to clean up if it dies first
        self.port = 0  # set by ``app_process`` once the server says where it listens
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for_log(
        self, pattern: str, *, count: int = 1, timeout: float = STARTUP_DEADLINE
    ) -> list[re.Match[str]]:
        """The first ``count`` stderr lines that match ``pattern``, waiting up to ``timeout``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matches = [m for line in self.lines if (m := regex.search(line))]
                if len(matches) >= count:
                    return matches[:count]
                if not self._reader.is_alive():
                    raise AssertionError(
                        f"the process ended its log before {count} line(s) matching "
                        f"{pattern!r}:\n" + "\n".join(self.lines)
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no {count} line(s) matching {pattern!r} within {timeout}s:\n"
                        + "\n".join(self.lines)
                    )
                self._changed.wait(remaining)

    def listening_port(self) -> int:
        return int(self.wait_for_log(LISTENING)[0].group(1))

    def send_signal(self, signum: int) -> None:
        os.kill(self.process.pid, signum)

    def wait_for_exit(self, timeout: float = EXIT_DEADLINE) -> int:
        """The exit code; the test fails if the process takes longer than ``timeout``."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"did not exit within {timeout}s:\n{self.log}") from None
        # Workers share the stderr pipe; they may hold it open a little longer.
        self._reader.join(IO_DEADLINE)
        return code

    def terminate(self, timeout: float = EXIT_DEADLINE) -> int:
        """SIGTERM, then the exit code."""
        self.send_signal(signal.SIGTERM)
        return self.wait_for_exit(timeout)

    def stop(self) -> None:
        """Kill the process (by its PID) and any worker it left behind; close the pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in self.extra_pids:
            kill_leftover_worker(pid)
        self._reader.join(IO_DEADLINE)
        # Closing the pipe under a reader still blocked on it (a stray holder of
        # its write end) would fail that thread; it ends with the pipe instead.
        if self.process.stderr is not None and not self._reader.is_alive():
            self.process.stderr.close()


@contextlib.contextmanager
def server_process(*args: str, cwd: Path | None = None) -> Iterator[ServerProcess]:
    """``python -m microready *args`` for the length of the block; always stopped after."""
    server = ServerProcess(list(args), cwd)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def app_process(app_dir: Path, source: str, *args: str) -> Iterator[ServerProcess]:
    """Write ``source`` as ``app_dir/served_app.py`` and serve its ``app`` on a free port.

    The block starts once the server has said where it listens (``server.port``).
    """
    (app_dir / "served_app.py").write_text(source)
    with server_process(
        "served_app:app", "--port", "0", "--app-dir", str(app_dir), *args
    ) as server:
        server.port = server.listening_port()
        yield server


def pid_exists(pid: int) -> bool:
    """True while ``pid`` is a process, a zombie included (an unreaped child)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_leftover_worker(pid: int) -> None:
    """SIGKILL ``pid`` if it is still one of our spawned worker processes."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            command = file.read()
    except OSError:
        return
    if b"multiprocessing" in command:  # not a stranger that reused the PID
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def wait_for_path(path: Path, timeout: float = STARTUP_DEADLINE) -> str:
    """The text of ``path`` once it exists and is not empty; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and (text := path.read_text())):
        assert time.monotonic() < deadline, f"{path.name} was never written"
        time.sleep(0.01)
    return text


class SyncClient:
    """A blocking socket that writes raw bytes and reads responses one at a time."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_DEADLINE)
        self.parser = ResponseParser()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _receive(self) -> None:
        try:
            data = self.sock.recv(65536)  # times out after IO_DEADLINE: the test fails
        except ConnectionResetError:
            data = b""
        self.parser.feed(data)

    def read_response(self, method: str = "GET") -> HTTPResponse:
        while (response := self.parser.next_response(method)) is None:
            self._receive()
        return response

    def read_until_eof(self) -> bytes:
        while not self.parser.closed:
            self._receive()
        return self.parser.take_all()


def fetch(port: int, method: str, path: str) -> HTTPResponse:
    """One request on a new connection, which it closes."""
    with SyncClient(port) as client:
        headers = ["Connection: close"]
        if method in ("POST", "PUT"):
            headers.append("Content-Length: 0")
        client.send(request(method, path, *headers))
        return client.read_response(method)
