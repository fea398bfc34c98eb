"""The README's nginx block, run by a real nginx in front of ``python -m microready``.

nginx runs README.md's own ```nginx block ("Behind a reverse proxy"), changed
only where it must be to run here (tests/support/nginx.py lists the changes:
the socket path, the listening port, the certificate), in front of
``--workers 2`` on a Unix socket, as the README deploys it, on both backends.
The client speaks HTTPS to nginx, trusting a certificate made by trustme.

Upstream keep-alive is counted on TCP instead of the Unix socket, because
only there does each upstream connection have a name the app can see: nginx's
source port, ``request.client.port``. A Unix-socket peer has no address, and
counting the sockets connected to the path (``/proc/net/unix``) would show how
many are open at one moment, not how many a run of requests used. nginx's
upstream keep-alive is the same code for both kinds of upstream. The same
count with the block's ``keepalive`` line removed shows 100 connections, so
the check can tell the two apart.

nginx is a system package, which `.ci/run` installs: in CI (``CI`` set) a
missing nginx fails these tests; elsewhere they are skipped, so the README's
test command works on a machine with only Python and pip.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from microready.config import Config

from ..support.nginx import Nginx, nginx_binary, readme_block, run_nginx
from ..support.processes import (
    IO_DEADLINE,
    STARTUP_DEADLINE,
    ServerProcess,
    app_process,
    pid_exists,
    server_process,
)

APP = '''
import hashlib
import os
import time
from pathlib import Path

from microready import BackgroundTasks, MicroReady, Request

app = MicroReady()
MARKS = Path(__file__).parent


@app.get("/")
async def index(request: Request) -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "client": list(request.client) if request.client else None,
        "host": request.headers.get("host"),
        "forwarded_for": request.headers.get("x-forwarded-for"),
        "forwarded_proto": request.headers.get("x-forwarded-proto"),
    }


@app.post("/upload")
async def upload(request: Request) -> dict[str, object]:
    body = await request.body()
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def write_mark(name: str) -> None:
    # Held until the test releases it, so the response cannot have waited for it.
    deadline = time.monotonic() + 20
    while not (MARKS / f"{name}.release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    (MARKS / f"{name}.done").write_text(f"task {name} ran")


@app.post("/task/{name}")
async def task(name: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(write_mark, name)
    return {"queued": name}
'''

WORKERS = 2
WORKER_STARTED = r"started worker process (\d+)"
LOAD_CLIENTS = 4
ACCESS_LINE = re.compile(r'INFO: +unix - "')


@pytest.fixture(params=["asyncio", "trio"], scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Stack:
    """nginx in front of microready's supervisor on a Unix socket."""

    server: ServerProcess
    nginx: Nginx
    directory: Path

    def worker_pids(self) -> set[int]:
        return worker_pids(self.server)


def tail(text: str, lines: int = 30) -> str:
    """The end of a log, for a failure message, without microready's access lines."""
    kept = [line for line in text.splitlines() if not ACCESS_LINE.match(line)]
    return "\n".join(kept[-lines:])


def worker_pids(server: ServerProcess) -> set[int]:
    """Every worker the supervisor has started so far, by its log."""
    return {int(m.group(1)) for m in re.finditer(WORKER_STARTED, server.log)}


@contextlib.contextmanager
def served(directory: Path, backend: str) -> Iterator[Stack]:
    """The README's command (``--workers 2`` here) on ``directory/microready.sock``,
    with nginx in front."""
    nginx_binary()  # skipped (or failed, in CI) before anything starts
    (directory / "served_app.py").write_text(APP)
    socket_path = directory / "microready.sock"
    with server_process("served_app:app", "--app-dir", str(directory), "--uds", str(socket_path),
                        "--workers", str(WORKERS), "--forwarded-allow-ips", "unix",
                        "--backend", backend) as server:
        try:
            server.wait_for_log(WORKER_STARTED, count=WORKERS)
            with run_nginx(directory / "nginx", f"unix:{socket_path}") as nginx:
                stack = Stack(server, nginx, directory)
                wait_until_served(stack.nginx)
                yield stack
        finally:
            server.extra_pids.extend(worker_pids(server))  # stopped by PID if left behind


@pytest.fixture(scope="module")
def stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with served(tmp_path_factory.mktemp(f"nginx-{backend}"), backend) as running:
        yield running


# -- a client of nginx ----------------------------------------------------------------------------


def connect(nginx: Nginx) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection("localhost", nginx.port, context=nginx.client_context,
                                       timeout=IO_DEADLINE)


def call(connection: http.client.HTTPSConnection, method: str, path: str,
         body: bytes | None = None) -> tuple[int, Any]:
    """One request on ``connection`` (kept alive): the status and the body, as JSON if it is."""
    connection.request(method, path, body=body)
    response = connection.getresponse()
    data = response.read()
    if response.getheader("content-type", "").startswith("application/json"):
        return response.status, json.loads(data)
    return response.status, data


def wait_until_served(nginx: Nginx) -> None:
    """Until a request through nginx gets microready's 200 (the workers may still start)."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        connection = connect(nginx)
        try:
            if call(connection, "GET", "/")[0] == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        assert time.monotonic() < deadline, f"nginx served nothing:\n{tail(nginx.error_log)}"
        time.sleep(0.05)


# -- the documented settings -----------------------------------------------------------------------


def test_block_keeps_below_microreadys_timeout_and_above_its_body_cap() -> None:
    """The README's numbers against microready's defaults (the reasons are in the README)."""
    block = readme_block()
    assert re.search(r"^\s*keepalive \d+;", block, re.MULTILINE), block
    timeout = re.search(r"^\s*keepalive_timeout (\d+)s;", block, re.MULTILINE)
    assert timeout, block
    assert int(timeout.group(1)) < Config().timeout_keep_alive
    body_cap = re.search(r"^\s*client_max_body_size (\d+)m;", block, re.MULTILINE)
    assert body_cap, block
    assert int(body_cap.group(1)) * 2**20 >= Config().max_body_size


# -- through nginx --------------------------------------------------------------------------------


def test_requests_through_nginx_get_microreadys_200(stack: Stack) -> None:
    connection = connect(stack.nginx)
    try:
        for _ in range(10):
            status, body = call(connection, "GET", "/")
            assert status == 200, body
            assert body["pid"] in stack.worker_pids()
            assert body["host"] == "localhost"  # nginx's $host: the client's, without the port
            assert body["forwarded_proto"] == "https"
            assert body["forwarded_for"] == "127.0.0.1"
            # --forwarded-allow-ips unix, as the README runs it: nginx's client.
            assert body["client"][0] == "127.0.0.1"
    finally:
        connection.close()


@pytest.mark.parametrize("size", [5 * 2**20, Config().max_body_size])
def test_a_large_post_reaches_the_app_whole(stack: Stack, size: int) -> None:
    """5 MiB (the issue's case) and exactly microready's cap: nginx's cap lets both by."""
    payload = os.urandom(size)
    connection = connect(stack.nginx)
    try:
        status, body = call(connection, "POST", "/upload", payload)
    finally:
        connection.close()
    assert status == 200, body
    assert body == {"length": size, "sha256": hashlib.sha256(payload).hexdigest()}


def test_a_background_task_runs_after_its_response(stack: Stack) -> None:
    name = f"task-{time.monotonic_ns()}"
    connection = connect(stack.nginx)
    try:
        status, body = call(connection, "POST", f"/task/{name}")
    finally:
        connection.close()
    assert (status, body) == (200, {"queued": name})
    done = stack.directory / f"{name}.done"
    assert not done.exists()  # the task waits for the release below: the response did not
    (stack.directory / f"{name}.release").write_text("")
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not done.exists():
        assert time.monotonic() < deadline, f"the task never ran:\n{tail(stack.server.log)}"
        time.sleep(0.01)
    assert done.read_text() == f"task {name} ran"


# -- upstream keep-alive -------------------------------------------------------------------------


def upstream_ports(nginx: Nginx, requests: int) -> set[int]:
    """nginx's source ports for ``requests`` requests in a row, as microready saw them."""
    ports: set[int] = set()
    connection = connect(nginx)
    try:
        for _ in range(requests):
            status, body = call(connection, "GET", "/")
            assert status == 200, body
            ports.add(body["client"][1])
    finally:
        connection.close()
    return ports


def test_100_requests_use_one_upstream_connection(backend: str, tmp_path: Path) -> None:
    """On TCP, where each upstream connection has a port (see the module's docstring)."""
    nginx_binary()
    without_keepalive = re.sub(r"^\s*keepalive \d+;.*\n", "", readme_block(), flags=re.MULTILINE)
    # --no-proxy-headers: request.client must be nginx's own address, not the one
    # its X-Forwarded-For names (port 0), which loopback peers are trusted to send.
    with app_process(tmp_path, APP, "--backend", backend, "--no-proxy-headers") as server:
        upstream = f"127.0.0.1:{server.port}"
        with run_nginx(tmp_path / "nginx", upstream) as nginx:
            kept_alive = upstream_ports(nginx, 100)
        with run_nginx(tmp_path / "nginx-without-keepalive", upstream,
                       block=without_keepalive) as nginx:
            one_each = upstream_ports(nginx, 100)
    assert len(kept_alive) == 1 and 0 not in kept_alive, kept_alive
    assert len(one_each) == 100


# -- a graceful restart under load --------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One request of the load: when it was sent, and its status and worker, or its error."""

    sent_at: float
    status: int = 0
    pid: int = 0
    error: str = ""


@dataclass
class Load:
    """Clients sending ``GET /`` through nginx, each on its own kept-alive connection,
    until ``stop`` is set; every request's ``Outcome`` is kept."""

    nginx: Nginx
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        connection = connect(self.nginx)
        try:
            while not self.stop.is_set():
                sent_at = time.monotonic()
                try:
                    status, body = call(connection, "GET", "/")
                    outcome = Outcome(sent_at, status, body["pid"] if status == 200 else 0)
                except (OSError, http.client.HTTPException) as error:
                    outcome = Outcome(sent_at, error=repr(error))
                    connection.close()
                    connection = connect(self.nginx)
                with self.lock:
                    self.outcomes.append(outcome)
        finally:
            connection.close()

    def since(self, moment: float) -> list[Outcome]:
        """The requests sent after ``moment`` (``time.monotonic()``)."""
        with self.lock:
            return [o for o in self.outcomes if o.sent_at > moment]

    def wait_for(self, requests: int, since: float) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while len(self.since(since)) < requests:
            assert time.monotonic() < deadline, f"the load stalled:\n{tail(self.nginx.error_log)}"
            time.sleep(0.01)


def test_no_502_across_a_graceful_restart_under_load(backend: str, tmp_path: Path) -> None:
    """``kill -HUP <supervisor pid>``, as the README says, while clients keep asking.

    Every request gets microready's 200 (never nginx's 502 nor a broken
    connection), and once the old workers have exited the answers come from
    new ones. A stack of its own: the restart must not touch the other tests'.
    """
    with served(tmp_path, backend) as stack:
        old = stack.worker_pids()
        assert len(old) == WORKERS, stack.server.log
        load = Load(stack.nginx)
        clients = [threading.Thread(target=load.run) for _ in range(LOAD_CLIENTS)]
        for client in clients:
            client.start()
        try:
            load.wait_for(50, since=0)
            restarted_at = time.monotonic()
            stack.server.send_signal(signal.SIGHUP)
            deadline = restarted_at + 60
            while any(pid_exists(pid) for pid in old) or not (
                    {o.pid for o in load.since(restarted_at)} - old - {0}):
                assert time.monotonic() < deadline, (
                    f"old workers {old} still there 60 s after SIGHUP:\n{tail(stack.server.log)}")
                assert stack.server.process.poll() is None, (
                    f"the supervisor exited on SIGHUP:\n{tail(stack.server.log)}")
                time.sleep(0.05)
            settled_at = time.monotonic()
            load.wait_for(50, since=settled_at)
        finally:
            load.stop.set()
            for client in clients:
                client.join(IO_DEADLINE * 2)
        failures = [o for o in load.outcomes if o.status != 200]
        assert not failures, (
            f"{len(failures)} of {len(load.outcomes)} requests failed: {failures[:5]}\n"
            f"nginx:\n{tail(stack.nginx.error_log)}\nmicroready:\n{tail(stack.server.log)}")
        assert not {o.pid for o in load.since(settled_at)} & old, "an exited worker answered"
        assert stack.server.process.poll() is None  # the supervisor lives on
