"""``--workers N``: one supervisor process, N worker processes sharing one socket.

The supervisor binds the listening socket once and hands it to each worker
(started with the ``spawn`` method, so no event-loop state is inherited), and
the kernel spreads connections between them. It then only watches:

* a worker that exits while we are not stopping is replaced, and that is logged
  (a worker exits on its own after ``--limit-max-requests``);
* SIGTERM or SIGINT is passed on to every worker as SIGTERM, so each one shuts
  down gracefully (a terminal's Ctrl+C reaches the workers directly too); a
  second SIGINT is passed on as SIGINT, which makes the workers exit at once;
* once every worker has exited, the supervisor exits: 0 when all of them did.

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
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

from .config import Config
from .listeners import bind_socket, cannot_listen, describe

__all__ = ["WorkerTarget", "supervise"]

logger = logging.getLogger("microready.server")

WorkerTarget = Callable[[socket.socket], int]
"""Serves in a worker process on the shared listening socket; returns its exit code.

It is pickled into each worker (the spawn start method), so it must be a
module-level function, or a ``functools.partial`` of one with picklable arguments.
"""

RESTART_BACKOFF = 1.0  # seconds between restarts of a worker that keeps dying at once


def _worker_process(target: WorkerTarget, sock: socket.socket) -> None:
    # The entry point of each worker process: module-level, so that the spawn
    # start method can pickle it, and turning the target's result into the
    # process's exit code (a Process ignores its target's return value).
    raise SystemExit(target(sock))


class _Supervisor:
    def __init__(self, target: WorkerTarget, sock: socket.socket) -> None:
        self.target = target
        self.sock = sock
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[BaseProcess] = []
        self.stopping = False
        self.signals: list[int] = []
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.wake_reader.setblocking(False)
        self.wake_writer.setblocking(False)

    def start_worker(self) -> BaseProcess:
        process = self.context.Process(
            target=_worker_process,
            args=(self.target, self.sock),
            name="microready-worker",
        )
        process.start()
        logger.info("started worker process %d", process.pid)
        return process

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only record it; the main loop acts (signal handlers must stay tiny).
        self.signals.append(signum)
        with contextlib.suppress(OSError):
            self.wake_writer.send(b"\0")

    def run(self, count: int) -> int:
        previous = {
            sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.workers = [self.start_worker() for _ in range(count)]
            return self.watch()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.sock.close()
            self.wake_reader.close()
            self.wake_writer.close()

    def watch(self) -> int:
        exit_codes: list[int] = []
        last_restart = 0.0
        while self.workers:
            sentinels = [w.sentinel for w in self.workers]
            multiprocessing.connection.wait([*sentinels, self.wake_reader], timeout=1.0)
            with contextlib.suppress(BlockingIOError):
                self.wake_reader.recv(1024)
            while self.signals:
                self.forward(self.signals.pop(0))
            for worker in [w for w in self.workers if not w.is_alive()]:
                worker.join()
                self.workers.remove(worker)
                code = worker.exitcode if worker.exitcode is not None else 1
                if self.stopping:
                    # A worker still starting up has no handler yet and dies of
                    # the SIGTERM we sent: that is the stop we asked for.
                    if code == -signal.SIGTERM:
                        code = 0
                    exit_codes.append(code)
                    if code != 0:
                        logger.warning("worker process %d exited with code %d", worker.pid, code)
                    continue
                logger.warning(
                    "worker process %d exited with code %d; starting a replacement",
                    worker.pid, code,
                )
                # A worker that dies straight away would otherwise spin here.
                wait = last_restart + RESTART_BACKOFF - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                last_restart = time.monotonic()
                self.workers.append(self.start_worker())
        logger.info("all workers have exited")
        return 0 if all(code == 0 for code in exit_codes) else 1

    def forward(self, signum: int) -> None:
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
        for worker in self.workers:
            if worker.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, forwarded)


def supervise(config: Config, target: WorkerTarget) -> int:
    """Bind the socket ``config`` names, run ``config.workers`` processes of
    ``target`` on it until they have all exited, and return the exit code."""
    try:
        sock = bind_socket(config)
    except OSError as exc:
        logger.error("%s", cannot_listen(config, exc))
        return 1
    logger.info(
        "supervisor process %d listening on %s with %d workers",
        os.getpid(), describe(sock.getsockname()), config.workers,
    )
    return _Supervisor(target, sock).run(config.workers)
