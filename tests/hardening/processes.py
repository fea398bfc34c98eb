"""Real server processes for the shutdown and workers tests, and a blocking raw client.

``server_process`` writes an app module into a directory, starts
``python -m microready module:app --port 0`` on it, reads the port from the
log, and collects every log line in a background thread (workers share the
supervisor's stderr). It always ends the process it started, by its own PID.
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
from contextlib import contextmanager
from pathlib import Path

STARTUP_DEADLINE = 20.0
IO_DEADLINE = 5.0


class ServerProcess:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        self.port = 0

    def _read_log(self) -> None:
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
        """The first ``count`` log lines matching ``pattern``; waits up to ``timeout``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matches = [m for line in self.lines if (m := regex.search(line))]
                if len(matches) >= count:
                    return matches[:count]
                left = deadline - time.monotonic()
                if left <= 0 or (not self._reader.is_alive() and self.process.poll() is not None):
                    log = "\n".join(self.lines)
                    raise AssertionError(f"no {count} line(s) matching {pattern!r} in:\n{log}")
                self._changed.wait(min(left, 0.1))

    def wait_for_exit(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5.0)
        return code


@contextmanager
def server_process(app_dir: Path, source: str, *args: str) -> Iterator[ServerProcess]:
    (app_dir / "hardening_app.py").write_text(source)
    process = subprocess.Popen(
        [sys.executable, "-m", "microready", "hardening_app:app", "--port", "0",
         "--app-dir", str(app_dir), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        server = ServerProcess(process)
        match = server.wait_for_log(r"listening on http://127\.0\.0\.1:(\d+)")[0]
        server.port = int(match.group(1))
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


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


class SyncClient:
    """A blocking socket that writes raw bytes and reads responses one at a time."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_DEADLINE)
        self.buffer = b""

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(f"the server closed the connection; received {self.buffer!r}")
        self.buffer += chunk

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def read_until_eof(self) -> bytes:
        data, self.buffer = self.buffer, b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection."""
    with SyncClient(port) as client:
        client.send(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        return client.read_response()
