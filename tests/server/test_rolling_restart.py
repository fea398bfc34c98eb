"""SIGHUP: the supervisor replaces its workers one at a time, under load, with no error.

Clients hammer a ``--workers 2`` server, on keep-alive connections and on new
connections, while it replaces every worker; none of them sees a refused or
reset connection, a timeout or a status other than 200, and the answering
PIDs change. The one thing a client may meet is the race every keep-alive
client handles: a reused connection that the server closed as idle just as the
next request went out ends with no byte of a response, and that request is
sent again on a new connection (RFC 9112 section 9.3.1; nginx gives a cached
upstream connection that extra try too).
"""

from __future__ import annotations

import contextlib
import re
import select
import signal
import socket
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from microready.server.rolling_restart import RollingRestart
from tests.support.http import ResponseParser, request
from tests.support.processes import (
    IO_DEADLINE,
    STARTUP_DEADLINE,
    ServerProcess,
    app_process,
    fetch,
)

STARTED = r"started worker process (\d+)"
SERVING = r"microready listening on"
COMPLETE = r"rolling restart complete: every worker was replaced"

APP = textwrap.dedent(
    """
    import os

    from microready import MicroReady

    app = MicroReady()


    @app.get("/pid")
    async def pid() -> dict[str, object]:
        return {"pid": os.getpid(), "release": os.environ.get("MR_RELEASE")}
    """
)


@dataclass
class Load:
    """What the clients saw."""

    answers: list[tuple[float, int]] = field(default_factory=list)  # (when, pid)
    errors: list[str] = field(default_factory=list)
    retried: int = 0  # the keep-alive race, above
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def answered(self, pid: int) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), pid))

    def failed(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


class Connection:
    """A keep-alive client connection that knows whether it was used before."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_DEADLINE)
        self.parser = ResponseParser()
        self.used = False

    def closed_by_server(self) -> bool:
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable) and self.sock.recv(1) == b""

    def get(self) -> tuple[int, bool] | None:
        """(pid, keep alive?), or None when the server closed it before any byte came."""
        self.sock.sendall(request("GET", "/pid"))
        got_any = False
        while (response := self.parser.next_response("GET")) is None:
            data = self.sock.recv(65536)  # a reset raises, a timeout raises: both are errors
            if not data and not got_any:
                return None
            got_any = True
            self.parser.feed(data)
        assert response.status == 200, response
        self.used = True
        return response.json()["pid"], response.header(b"connection") != b"close"


def keep_alive_client(port: int, load: Load) -> None:
    connection: Connection | None = None
    try:
        while not load.stop.is_set():
            if connection is None or connection.closed_by_server():
                if connection is not None:
                    connection.sock.close()
                connection = Connection(port)
            answer = connection.get()
            if answer is None:
                if not connection.used:
                    load.failed("a new connection closed with no response")
                    return
                with load.lock:
                    load.retried += 1
                connection.sock.close()
                connection = None
                continue
            pid, keep_alive = answer
            load.answered(pid)
            if not keep_alive:
                connection.sock.close()
                connection = None
    except Exception as exc:  # every failure is what the test reports
        load.failed(f"keep-alive client: {exc!r}")
    finally:
        if connection is not None:
            connection.sock.close()


def new_connection_client(port: int, load: Load) -> None:
    try:
        while not load.stop.is_set():
            response = fetch(port, "GET", "/pid")
            assert response.status == 200, response
            load.answered(response.json()["pid"])
    except Exception as exc:
        load.failed(f"new-connection client: {exc!r}")


@contextlib.contextmanager
def under_load(port: int) -> Iterator[Load]:
    load = Load()
    threads = [threading.Thread(target=client, args=(port, load), daemon=True)
               for client in (keep_alive_client, keep_alive_client, new_connection_client)]
    for thread in threads:
        thread.start()
    try:
        yield load
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(IO_DEADLINE * 2)


def wait_until(condition: object, server: ServerProcess, what: str) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}:\n{server.log}"
        time.sleep(0.01)


def test_sighup_replaces_every_worker_with_no_error_under_load(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MR_RELEASE=1\n")
    with app_process(tmp_path, APP, "--workers", "2", "--env-file", str(env_file),
                     "--no-access-log") as server:
        old = {int(m.group(1)) for m in server.wait_for_log(STARTED, count=2)}
        server.extra_pids.extend(old)
        assert fetch(server.port, "GET", "/pid").json()["release"] == "1"
        env_file.write_text("MR_RELEASE=2\n")  # read again before the restart
        with under_load(server.port) as load:
            wait_until(lambda: len(load.answers) >= 50 or load.errors, server, "no load")
            hup_at = time.monotonic()
            server.send_signal(signal.SIGHUP)
            server.wait_for_log(COMPLETE, timeout=STARTUP_DEADLINE * 2)
            started = [int(m.group(1)) for m in server.wait_for_log(STARTED, count=4)[2:]]
            server.extra_pids.extend(started)
            new = set(started)
            done_at = time.monotonic()
            # (A response an old worker sent just before it exited may be read
            # a little after the log line: those are left out.)
            settled = done_at + 0.2
            wait_until(lambda: sum(at > settled for at, _ in load.answers) >= 50
                       or load.errors, server, "no answers after the restart")
        assert load.errors == [], f"{load.errors}\n{server.log}"
        during = [pid for at, pid in load.answers if hup_at <= at <= done_at]
        after = {pid for at, pid in load.answers if at > settled}
        assert len(during) > 20, server.log  # the restart did happen under load
        assert old & set(during) and new & set(during)
        assert after and after <= new, (old, new, after)
        assert fetch(server.port, "GET", "/pid").json()["release"] == "2"
        # One at a time: each old worker is told to stop once its replacement said
        # it listens (the supervisor's lines; a worker's own may come later).
        after_hup = server.log.split("received SIGHUP", 1)[1]
        steps = re.findall(r"started worker process (\d+)|worker process (\d+) is serving; "
                           r"stopping worker process (\d+) gracefully|"
                           r"worker process (\d+) has stopped", after_hup)
        first, second = sorted(old)
        a, b = started
        started_a, serving_a, stopped_1, started_b, serving_b, stopped_2 = steps
        assert (started_a[0], serving_a[1], started_b[0], serving_b[1]) == (
            str(a), str(a), str(b), str(b)), server.log
        assert {serving_a[2], serving_b[2]} == {str(first), str(second)}
        assert (stopped_1[3], stopped_2[3]) == (serving_a[2], serving_b[2]), server.log
        print(f"{len(load.answers)} answers, {len(during)} during the restart, "
              f"{load.retried} keep-alive retries")
        assert server.terminate() == 0, server.log


def test_a_new_worker_that_cannot_start_ends_the_restart_and_the_old_ones_serve_on(
    tmp_path: Path,
) -> None:
    with app_process(tmp_path, APP, "--workers", "2") as server:
        old = {int(m.group(1)) for m in server.wait_for_log(STARTED, count=2)}
        server.extra_pids.extend(old)
        server.wait_for_log(SERVING, count=2)  # both imported the app before it breaks
        (tmp_path / "served_app.py").write_text("raise RuntimeError('a broken deploy')\n")
        server.send_signal(signal.SIGHUP)
        server.wait_for_log(r"new worker process \d+ could not start \(exit code 1\); the "
                            r"rolling restart stops here, and the 2 worker\(s\) not replaced "
                            r"go on serving")
        seen = {fetch(server.port, "GET", "/pid").json()["pid"] for _ in range(20)}
        assert seen <= old, server.log
        # The supervisor goes on: SIGTERM still stops it cleanly.
        assert server.terminate() == 0, server.log


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_one_worker_alone_logs_what_a_restart_needs_and_serves_on(
    tmp_path: Path, backend: str
) -> None:
    # --workers 1 serves in-process: it cannot replace itself without closing the
    # socket, and a SIGHUP sent to restart must not become an outage.
    with app_process(tmp_path, APP, "--backend", backend) as server:
        pid = fetch(server.port, "GET", "/pid").json()["pid"]
        assert pid == server.pid
        server.send_signal(signal.SIGHUP)
        server.wait_for_log(r"WARNING:  received SIGHUP: a graceful restart needs a "
                            r"supervisor; serve with --workers 2 or more")
        assert fetch(server.port, "GET", "/pid").json()["pid"] == pid
        assert server.terminate() == 0, server.log


# -- the restart's steps, with real processes standing in for workers ----------------------------


@dataclass(eq=False)
class StandIn:
    """A real process (``sleep``) in a worker's place: SIGTERM ends it."""

    process: subprocess.Popen[bytes]
    started: bool = False
    retiring: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def stand_ins() -> Iterator[Callable[[], StandIn]]:
    made: list[StandIn] = []

    def start() -> StandIn:
        made.append(StandIn(subprocess.Popen(["sleep", "60"])))
        return made[-1]

    try:
        yield start
    finally:
        for stand_in in made:
            stand_in.process.kill()
            stand_in.process.wait()


def joined(workers: list[StandIn], start: Callable[[], StandIn]) -> Callable[[], StandIn]:
    """``start``, with the new stand-in added to ``workers``, as the supervisor does."""

    def start_worker() -> StandIn:
        workers.append(start())
        return workers[-1]

    return start_worker


def test_each_old_worker_is_stopped_only_once_its_replacement_serves() -> None:
    with stand_ins() as start:
        workers = [start(), start()]
        old = list(workers)
        restart = RollingRestart(workers)

        def step() -> bool:
            return restart.step(workers, joined(workers, start))

        assert not step() and len(workers) == 3  # the first replacement is starting
        assert not step() and len(workers) == 3  # not serving yet: nothing else happens
        assert all(w.process.poll() is None for w in old)
        workers[2].started = True
        assert not step()  # old[0] told to stop, and waited for
        assert old[0].retiring and old[0].process.wait(IO_DEADLINE) == -signal.SIGTERM
        assert old[1].process.poll() is None and len(workers) == 3
        assert restart.accounts_for(old[0], 0)  # its exit is expected: no replacement
        workers.remove(old[0])
        assert not step() and len(workers) == 3  # the second replacement is starting
        workers[2].started = True
        assert not step()
        assert old[1].process.wait(IO_DEADLINE) == -signal.SIGTERM
        workers.remove(old[1])
        assert step()  # complete
        assert [w.retiring for w in workers] == [False, False]


def test_an_old_worker_that_dies_while_its_replacement_starts_is_not_replaced_twice() -> None:
    with stand_ins() as start:
        workers = [start()]
        old = workers[0]
        restart = RollingRestart(workers)
        assert not restart.step(workers, joined(workers, start))
        new = workers[1]
        old.process.kill()
        workers.remove(old)
        assert restart.accounts_for(old, -9)
        new.started = True
        assert restart.step(workers, start)
        assert workers == [new] and new.process.poll() is None


def test_a_replacement_that_cannot_start_abandons_the_restart() -> None:
    with stand_ins() as start:
        workers = [start(), start()]
        restart = RollingRestart(workers)
        assert not restart.step(workers, joined(workers, start))
        new = workers.pop()
        assert restart.accounts_for(new, 1) and restart.abandoned
        assert all(w.process.poll() is None and not w.retiring for w in workers)


def test_a_queued_old_worker_that_crashes_is_replaced_the_usual_way() -> None:
    with stand_ins() as start:
        workers = [start(), start()]
        queued = workers[1]
        restart = RollingRestart(workers)
        assert not restart.step(workers, joined(workers, start))
        workers.remove(queued)
        assert not restart.accounts_for(queued, 3)  # the supervisor replaces it
        assert restart.to_replace == []
