"""Start one server pinned to a CPU, wait until it answers, and always stop it.

Every server is a child process started here, stopped by its own PID in a
``finally`` (SIGTERM, then SIGKILL after a grace period). Servers that fork a
worker (hypercorn, granian) have their descendants recorded while they run,
and any that outlive the parent are killed by PID too, after checking the PID
still belongs to the same process (its start time is unchanged).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import client
from .broker import BrokerFailed, broker_services
from .settings import LOAD_CPU
from .targets import Target

__all__ = ["REPO", "Server", "ServerFailed", "running"]

REPO = Path(__file__).resolve().parent.parent


class ServerFailed(RuntimeError):
    """The server exited or never answered; the message ends with its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent PID, start time) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name may contain spaces
    return int(fields[1]), fields[19]


def _descendants(root: int) -> dict[int, str]:
    """Every live descendant of ``root``: PID -> start time."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                parents.setdefault(stat[0], []).append((int(entry), stat[1]))
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        for pid, started in parents.get(todo.pop(), []):
            if pid not in found:
                found[pid] = started
                todo.append(pid)
    return found


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Server:
    target: Target
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    children: dict[int, str] = field(default_factory=dict)

    def peak_rss_mib(self) -> float | None:
        """The largest peak RSS (VmHWM) among the server's processes.

        For servers that fork a worker that is the worker; the supervisor is
        not counted, so every target is measured by the process that serves.
        """
        self.children.update(_descendants(self.proc.pid))
        peaks = [_vm_hwm_kib(pid) for pid in (self.proc.pid, *self.children)]
        known = [p for p in peaks if p is not None]
        return max(known) / 1024 if known else None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def exited(self) -> bool:
        return self.proc.poll() is not None


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.exited():
            raise ServerFailed(
                f"{server.target.key} exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        try:
            reply = client.request(server.port, "GET", "/plaintext", timeout=1.0)
        except OSError:
            time.sleep(0.05)
            continue
        if reply.status == 200:
            server.children.update(_descendants(server.proc.pid))
            return
        raise ServerFailed(f"{server.target.key} answered {reply.status} to GET /plaintext")
    raise ServerFailed(
        f"{server.target.key} did not answer within {timeout} s:\n{server.log_tail()}"
    )


def _stop(server: Server, grace: float) -> None:
    proc = server.proc
    if proc.poll() is None:
        server.children.update(_descendants(proc.pid))
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for pid, started in server.children.items():
        stat = _stat(pid)
        if stat is not None and stat[1] == started:  # still ours, not a reused PID
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running(
    target: Target, *, cpu: int, ready_timeout: float = 30.0, grace: float = 3.0
) -> Iterator[Server]:
    """Run ``target`` pinned to ``cpu`` for the duration of the block (with Redis and
    a Celery worker beside it for a ``broker`` target, stopped after it)."""
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if target.broker:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-broker-"))
            try:
                env = stack.enter_context(broker_services(Path(directory), LOAD_CPU))
            except BrokerFailed as exc:
                raise ServerFailed(str(exc)) from None
        yield stack.enter_context(_running(target, cpu, ready_timeout, grace, env))


@contextlib.contextmanager
def _running(
    target: Target, cpu: int, ready_timeout: float, grace: float, extra_env: dict[str, str]
) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, **extra_env}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in the finally)
        prefix=f"bench-{target.key}-", suffix=".log", delete=False
    )
    command = ["taskset", "-c", str(cpu), *target.command(sys.executable, port)]
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True,  # a Ctrl-C at the terminal reaches us, and we stop it
    )
    server = Server(target, port, proc, Path(log.name))
    try:
        _wait_ready(server, ready_timeout)
        yield server
    finally:
        try:
            _stop(server, grace)
        finally:
            log.close()
            os.unlink(log.name)
