"""``--workers N``: one supervisor process, N worker processes sharing one socket.

The supervisor binds the listening socket once and hands it to each worker
(started with the ``spawn`` method, so no event-loop state is inherited), and
the kernel spreads connections between them. It then only watches:

* a worker that exits before it has finished starting up (its app failed to
  import, its lifespan startup failed) stops everything with exit code 1: a
  replacement would fail the same way, forever, with the port open;
* a worker that exits after startup is replaced, and that is logged: at once
  when it exited 0 (a worker does so after ``--limit-max-requests``), after a
  backoff that doubles with each recent crash otherwise; too many crashes
  within a window (``RestartPolicy``) stop everything with exit code 1;
* SIGTERM or SIGINT is passed on to every worker as SIGTERM, so each one shuts
  down gracefully (a terminal's Ctrl+C reaches the workers directly too); a
  second SIGINT is passed on as SIGINT, which makes the workers exit at once;
* SIGHUP replaces the workers one at a time, each new one serving before its
  old one is told to drain (``rolling_restart``), after the ``--env-file``
  is read again (the new workers see an edited one);
* a worker that stops answering the health check for
  ``--timeout-worker-healthcheck`` seconds is killed and replaced
  (``worker_health``: the answer comes from its event loop);
* once every worker has exited, the supervisor exits: 0 when all of them did.

A worker tells the supervisor that it got through startup over a pipe, once it
listens on the shared socket (``listeners.when_listening``); the same pipe
then carries the health checks.

What a worker does is not the supervisor's business: it is handed the function
that serves in a worker process (``run.serve()`` passes one that loads the app
and serves it on the shared socket), so this module never imports the server.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType

from .config import Config
from .env_file import EnvFile, EnvFileError
from .listeners import bind_socket, cannot_listen, describe, when_listening
from .rolling_restart import RollingRestart
from .worker_health import PONG, READY, HealthCheck

__all__ = ["RestartPolicy", "WorkerTarget", "supervise"]

logger = logging.getLogger("microready.server")

WorkerTarget = Callable[[socket.socket, Connection | None], int]
"""Serves in a worker process on the shared listening socket; returns its exit code.

Its second argument is the worker's end of the pipe to its supervisor, which
the target answers health checks on (``worker_health.answer_health_checks``);
None when no supervisor checks it (the server process of ``--reload``).

It is pickled into each worker (the spawn start method), so it must be a
module-level function, or a ``functools.partial`` of one with picklable arguments.
"""

# run.EXIT_STARTUP_FAILED (this module does not import the server): a worker
# that exits with it has logged its own one-line reason, so we add no ERROR.
EXIT_STARTUP_FAILED = 1

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SignalHandler = Callable[[int, FrameType | None], None]


@contextlib.contextmanager
def handling_signals(handler: SignalHandler) -> Iterator[None]:
    """``handler`` for SIGINT, SIGTERM and SIGHUP while inside; the previous
    handlers after. The supervisor and the reloader both record signals this way."""
    previous = {sig: signal.signal(sig, handler) for sig in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How the supervisor replaces workers that crash after starting up."""

    backoff: float = 0.5  # seconds before the first replacement; doubled per recent crash
    max_backoff: float = 10.0
    crash_limit: int = 5  # this many crashes within ``crash_window`` stop the supervisor
    crash_window: float = 60.0  # seconds

    def delay(self, recent_crashes: int) -> float:
        return float(min(self.backoff * 2 ** max(recent_crashes - 1, 0), self.max_backoff))


def _worker_process(target: WorkerTarget, sock: socket.socket, channel: Connection) -> None:
    # The entry point of each worker process: module-level, so that the spawn
    # start method can pickle it, and turning the target's result into the
    # process's exit code (a Process ignores its target's return value).
    # SIGHUP is the supervisor's to act on (a rolling restart); a terminal's
    # hangup reaches the whole process group, and must not kill the workers.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def report_ready() -> None:
        with contextlib.suppress(OSError):
            channel.send_bytes(READY)

    when_listening(report_ready)
    raise SystemExit(target(sock, channel))


class _Worker:
    def __init__(self, process: BaseProcess, channel: Connection, health: HealthCheck) -> None:
        self.process = process
        self.channel = channel  # the supervisor's end of the pipe
        self.channel_open = True  # until it reads end-of-file: the worker is gone
        self.health = health
        self.started = False  # it said it listens
        self.retiring = False  # sent SIGTERM by a rolling restart: its exit is expected
        self.unhealthy = False  # killed for missing its health check

    @property
    def pid(self) -> int:
        return self.process.pid or 0


class _Supervisor:
    def __init__(self, target: WorkerTarget, policy: RestartPolicy, config: Config,
                 env_file: EnvFile | None) -> None:
        self.target = target
        self.sock: socket.socket | None = None  # bound by supervise() once signals are handled
        self.policy = policy
        self.health_timeout = config.timeout_worker_healthcheck
        self.env_file = env_file
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []
        self.stopping = False
        self.failed = False
        self.to_start = 0  # workers still to start once the first one is up
        self.restarts: list[float] = []  # when each pending replacement is due
        self.crashes: list[float] = []  # when recent crashes happened
        self.signals: list[int] = []
        self.rollover: RollingRestart[_Worker] | None = None  # a SIGHUP's, under way
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.wake_reader.setblocking(False)
        self.wake_writer.setblocking(False)

    def start_worker(self) -> _Worker:
        supervisor_end, worker_end = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=_worker_process,
            args=(self.target, self.sock, worker_end),
            name="microready-worker",
        )
        process.start()
        worker_end.close()  # the worker holds its own copy; EOF here means it is gone
        logger.info("started worker process %d", process.pid)
        worker = _Worker(process, supervisor_end, HealthCheck(self.health_timeout,
                                                              time.monotonic()))
        self.workers.append(worker)
        return worker

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only record it; the main loop acts (signal handlers must stay tiny).
        self.signals.append(signum)
        with contextlib.suppress(OSError):
            self.wake_writer.send(b"\0")

    def run(self, count: int) -> int:
        try:
            stops = [s for s in self.signals if s != signal.SIGHUP]
            if stops:  # stopped before it started: nothing to start
                logger.info("received %s before any worker started: stopping",
                            signal.Signals(stops[0]).name)
                return 0
            self.signals.clear()  # a SIGHUP: the workers about to start are new already
            # One worker first: if the app cannot start, it fails once, with one
            # error line, instead of once per worker. The rest start once it is up.
            self.to_start = count - 1
            self.start_worker()
            return self.watch()
        finally:
            for worker in self.workers:
                worker.channel.close()
            self.close()

    def close(self) -> None:
        """Close the listening socket (if bound) and the wake-up pair."""
        if self.sock is not None:
            self.sock.close()
        self.wake_reader.close()
        self.wake_writer.close()

    def watch(self) -> int:
        exit_codes: list[int] = []
        while self.workers or (self.restarts and not self.stopping):
            multiprocessing.connection.wait(self.waiting_for(), timeout=self.wait_timeout())
            with contextlib.suppress(BlockingIOError):
                self.wake_reader.recv(1024)
            while self.signals:
                self.act_on_signal(self.signals.pop(0))
            self.read_channels()
            for worker in [w for w in self.workers if not w.process.is_alive()]:
                self.workers.remove(worker)
                worker.channel.close()
                worker.process.join()
                code = worker.process.exitcode if worker.process.exitcode is not None else 1
                if self.stopping:
                    # A worker still starting up has no handler yet and dies of
                    # the SIGTERM we sent: that is the stop we asked for.
                    if code == -signal.SIGTERM:
                        code = 0
                    exit_codes.append(code)
                    if code != 0:
                        logger.warning("worker process %d exited with code %d", worker.pid, code)
                    continue
                self.exited(worker, code)
            self.roll()
            now = time.monotonic()
            self.check_health(now)
            if not self.stopping:
                for due in [t for t in self.restarts if t <= now]:
                    self.restarts.remove(due)
                    self.start_worker()
        logger.info("all workers have exited")
        return 1 if self.failed or any(code != 0 for code in exit_codes) else 0

    def waiting_for(self) -> list[Connection | socket.socket | int]:
        waiting: list[Connection | socket.socket | int] = [self.wake_reader]
        for worker in self.workers:
            waiting.append(worker.process.sentinel)
            if worker.channel_open:
                waiting.append(worker.channel)
        return waiting

    def wait_timeout(self) -> float:
        now = time.monotonic()
        timeout = 1.0
        if self.restarts and not self.stopping:
            timeout = min(timeout, min(self.restarts) - now)
        for worker in self.checked():
            timeout = min(timeout, worker.health.next_event() - now)
        return max(0.0, timeout)

    def read_channels(self) -> None:
        for worker in self.workers:
            while worker.channel_open and worker.channel.poll():
                try:
                    message = worker.channel.recv_bytes()
                except (EOFError, OSError):
                    worker.channel_open = False  # it exited, or is exiting
                    break
                if message == READY:
                    worker.started = True
                elif message == PONG:
                    worker.health.answered(time.monotonic())
        if self.to_start and not self.stopping and any(w.started for w in self.workers):
            for _ in range(self.to_start):
                self.start_worker()
            self.to_start = 0

    def checked(self) -> list[_Worker]:
        """The workers the health check watches: serving, and not asked to stop."""
        if self.stopping:
            return []
        return [w for w in self.workers
                if w.started and w.channel_open and not (w.retiring or w.unhealthy)]

    def check_health(self, now: float) -> None:
        for worker in self.checked():
            if worker.health.overdue(now):
                logger.warning(
                    "worker process %d did not answer the health check within %gs "
                    "(its event loop is blocked, or the process hangs); killing it",
                    worker.pid, self.health_timeout,
                )
                worker.unhealthy = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
            else:
                worker.health.ping_if_due(worker.channel, now)

    def exited(self, worker: _Worker, code: int) -> None:
        """A worker exited while we were not stopping: replace it, or stop."""
        pid = worker.pid
        if self.rollover is not None and self.rollover.accounts_for(worker, code):
            return
        if not worker.started:
            if code == EXIT_STARTUP_FAILED:
                # Its ERROR line, above, says why; one is enough.
                logger.info("worker process %d could not start; stopping", pid)
            else:
                logger.error(
                    "worker process %d exited with code %d before it started serving; "
                    "stopping", pid, code,
                )
            self.stop()
            return
        if code == 0:
            logger.info("worker process %d exited; starting a replacement", pid)
            self.restarts.append(time.monotonic())
            return
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if t > now - self.policy.crash_window]
        self.crashes.append(now)
        what = ("was killed for failing its health check" if worker.unhealthy
                else f"exited with code {code}")
        if len(self.crashes) >= self.policy.crash_limit:
            logger.error(
                "worker process %d %s, the %d%s crash within %gs; "
                "stopping: fix the app and start again",
                pid, what, len(self.crashes), _ordinal(len(self.crashes)),
                self.policy.crash_window,
            )
            self.stop()
            return
        delay = self.policy.delay(len(self.crashes))
        logger.warning("worker process %d %s; starting a replacement in %gs", pid, what, delay)
        self.restarts.append(now + delay)

    # -- the rolling restart (SIGHUP) ------------------------------------------------

    def begin_rolling_restart(self) -> None:
        if self.rollover is not None:
            logger.warning("received SIGHUP during a rolling restart: it goes on as it was")
            return
        if self.env_file is not None:
            try:
                self.env_file.load()
            except EnvFileError as exc:
                logger.error("%s; the workers are not restarted", exc)
                return
        logger.info("received SIGHUP: replacing %d worker(s) one at a time", len(self.workers))
        self.rollover = RollingRestart(self.workers)

    def roll(self) -> None:
        if self.rollover is not None and not self.stopping and (
            self.rollover.abandoned or self.rollover.step(self.workers, self.start_worker)
        ):
            self.rollover = None

    # -- stopping --------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every worker gracefully, and exit non-zero once they are gone."""
        self.failed = True
        self.stopping = True
        self.restarts.clear()
        self.signal_workers(signal.SIGTERM)

    def act_on_signal(self, signum: int) -> None:
        if signum == signal.SIGHUP:
            if not self.stopping:
                self.begin_rolling_restart()
            return
        if not self.stopping:
            self.stopping = True
            logger.info(
                "received %s: stopping %d worker(s) gracefully",
                signal.Signals(signum).name, len(self.workers),
            )
            forwarded = signal.SIGTERM
        elif signum == signal.SIGINT:
            logger.warning("received SIGINT again: stopping the workers now")
            forwarded = signal.SIGINT
        else:
            return
        self.signal_workers(forwarded)

    def signal_workers(self, signum: int) -> None:
        for worker in self.workers:
            if worker.process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signum)


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def supervise(
    config: Config, target: WorkerTarget, *, policy: RestartPolicy | None = None,
    env_file: EnvFile | None = None,
) -> int:
    """Bind the socket ``config`` names, run ``config.workers`` processes of
    ``target`` on it until they have all exited, and return the exit code.

    ``env_file``, loaded already, is loaded again before each rolling restart."""
    supervisor = _Supervisor(target, policy or RestartPolicy(), config, env_file)
    # From before the socket is bound: a signal that comes once the supervisor
    # says it listens is acted on, never the default action that would kill it.
    with handling_signals(supervisor.on_signal):
        try:
            sock = bind_socket(config)
        except OSError as exc:
            logger.error("%s", cannot_listen(config, exc))
            supervisor.close()
            return 1
        supervisor.sock = sock
        logger.info(
            "supervisor process %d listening on %s with %d workers",
            os.getpid(), describe(sock.getsockname(), "https" if config.ssl_enabled else "http"),
            config.workers,
        )
        return supervisor.run(config.workers)
