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
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from .config import Config

__all__ = ["bind_socket", "supervise"]

logger = logging.getLogger("microready.server")

RESTART_BACKOFF = 1.0  # seconds between restarts of a worker that keeps dying at once


def bind_socket(config: Config) -> socket.socket:
    """Bind the listening socket the workers will share; raises OSError."""
    if config.uds is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(config.uds)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address: Any = config.uds
    else:
        family, kind, proto, _, address = socket.getaddrinfo(
            config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(config.backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _describe(sock: socket.socket) -> str:
    address = sock.getsockname()
    if isinstance(address, str):
        return f"unix:{address}"
    host = f"[{address[0]}]" if ":" in address[0] else address[0]
    return f"http://{host}:{address[1]}"


def _worker_main(
    spec: str, config: Config, factory: bool, app_dir: str, sock: socket.socket
) -> None:
    # Runs in a fresh interpreter (spawn): set up logging and load the app here.
    from .loader import AppLoadError, load_app
    from .log import configure_logging
    from .run import serve_in_process

    configure_logging(config.log_level_number, access_log=config.access_log)
    try:
        app = load_app(spec, factory=factory, app_dir=app_dir)
    except AppLoadError as exc:
        logger.error("%s", exc)
        raise SystemExit(1) from None
    raise SystemExit(serve_in_process(app, config, sockets=[sock]))


class _Supervisor:
    def __init__(self, spec: str, config: Config, factory: bool, app_dir: str,
                 sock: socket.socket) -> None:
        self.spec = spec
        self.config = dataclasses.replace(config, workers=1)
        self.factory = factory
        self.app_dir = app_dir
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
            target=_worker_main,
            args=(self.spec, self.config, self.factory, self.app_dir, self.sock),
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


def supervise(spec: str, config: Config, *, factory: bool = False, app_dir: str = ".") -> int:
    """Run ``config.workers`` workers for the app named by ``spec``; return the exit code."""
    try:
        sock = bind_socket(config)
    except OSError as exc:
        where = config.uds if config.uds is not None else f"{config.host}:{config.port}"
        logger.error("cannot listen on %s: %s", where, exc.strerror or exc)
        return 1
    logger.info(
        "supervisor process %d listening on %s with %d workers",
        os.getpid(), _describe(sock), config.workers,
    )
    return _Supervisor(spec, config, factory, app_dir, sock).run(config.workers)
