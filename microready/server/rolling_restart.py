"""SIGHUP to the ``--workers`` supervisor: replace the workers one at a time.

For each old worker in turn: start a new one, wait until it listens, then send
the old one SIGTERM, so it drains gracefully (it answers what has reached it,
with ``Connection: close``), and wait for it to exit before going on to the
next. The listening socket stays open in the supervisor all along, and at
least N workers accept from it at every moment (N + 1 while one drains), so no
connection is refused or reset.

uvicorn's supervisor replaces its workers on SIGHUP in the same order, but
blocks its loop meanwhile and gives a new worker ``--timeout-worker-healthcheck``
seconds to start. Here the restart is a state the supervisor's loop moves on a
step at a time, so signals, crashes and health checks are still seen during
it, and a new worker may take as long to start as the first ones could.

A new worker that fails to start ends the restart: the workers not yet
replaced go on serving and the error is logged, so a broken deploy does not
take the service down (at startup, the same failure stops the supervisor).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

__all__ = ["RollingRestart"]

logger = logging.getLogger("microready.server")


class ReplaceableWorker(Protocol):
    @property
    def pid(self) -> int: ...

    started: bool  # it said it listens
    retiring: bool  # told to stop by the restart: its exit is expected


W = TypeVar("W", bound=ReplaceableWorker)


class RollingRestart(Generic[W]):
    """One rolling restart, under way."""

    def __init__(self, old: list[W]) -> None:
        self.to_replace = list(old)
        # The new worker starting, and the old one it replaces (None once that
        # one died by itself); the old one draining.
        self.incoming: tuple[W, W | None] | None = None
        self.outgoing: W | None = None
        self.abandoned = False

    def step(self, workers: list[W], start_worker: Callable[[], W]) -> bool:
        """Move the restart on as far as it can go now; True once it is complete."""
        while True:
            if self.outgoing is not None:
                if self.outgoing in workers:
                    return False  # still draining
                self.outgoing = None
            if self.incoming is None:
                self.to_replace = [w for w in self.to_replace if w in workers]
                if not self.to_replace:
                    logger.info("rolling restart complete: every worker was replaced")
                    return True
                self.incoming = (start_worker(), self.to_replace.pop(0))
                return False
            new, old = self.incoming
            if not new.started:
                return False
            self.incoming = None
            if old is not None:
                logger.info(
                    "worker process %d is serving; stopping worker process %d gracefully",
                    new.pid, old.pid,
                )
                old.retiring = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(old.pid, signal.SIGTERM)
                self.outgoing = old

    def accounts_for(self, worker: W, code: int) -> bool:
        """Whether the restart accounts for this worker's exit, so that no
        replacement is due. Sets ``abandoned`` when a new worker failed to start."""
        if worker.retiring:
            logger.info("worker process %d has stopped", worker.pid)
            return True
        if worker in self.to_replace:
            self.to_replace.remove(worker)  # it died old: replaced the usual way
            return False
        if self.incoming is None:
            return False
        new, old = self.incoming
        if worker is old:
            logger.warning(
                "worker process %d exited with code %d during the rolling restart; "
                "worker process %d, starting, replaces it", worker.pid, code, new.pid,
            )
            self.incoming = (new, None)
            return True
        if worker is new and not new.started:
            kept = len(self.to_replace) + (old is not None)
            logger.error(
                "new worker process %d could not start (exit code %d); the rolling restart "
                "stops here, and the %d worker(s) not replaced go on serving",
                worker.pid, code, kept,
            )
            self.abandoned = True
            return True
        if worker is new:
            self.incoming = None  # it crashed as soon as it started: replaced the usual way
            if old is not None:
                self.to_replace.insert(0, old)
        return False
