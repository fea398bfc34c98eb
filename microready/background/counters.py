"""What ``app.background`` counts, for operators, tests and the shutdown log line.

Every task is counted once as pending when it is queued, as running while it
runs, and then as succeeded, failed or dropped (the shutdown deadline passed).
A task offloaded to a queue's workers (``offload.py``) is counted apart: as
publishing while its batch is with the publisher threads, then as offloaded
(the broker has it) or as failed to offload.
The runner moves the counts; this is where they live and how they are read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["BackgroundStats", "TaskCounters"]


@dataclass(frozen=True, slots=True)
class BackgroundStats:
    """A snapshot of ``app.background``'s counters."""

    pending: int
    running: int
    succeeded: int
    failed: int
    dropped: int
    offloaded: int = 0  # enqueued to another process's workers (offload.py)
    offload_failed: int = 0  # the broker did not take them
    publishing: int = 0  # with the publisher threads now


class TaskCounters:
    """The runner's counters, read through properties; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # counters are touched from worker threads too
        self._pending = 0
        self._running = 0
        self._succeeded = 0
        self._failed = 0
        self._dropped = 0
        self._offloaded = 0
        self._offload_failed = 0
        self._in_flight: dict[object, int] = {}  # a batch being published -> its size
        # Sync tasks still running in a thread when the shutdown deadline passed:
        # Python cannot cancel a thread, so the process must exit without it.
        self.abandoned_threads = 0

    @property
    def pending(self) -> int:
        """Tasks queued and not yet started."""
        return self._pending

    @property
    def running(self) -> int:
        """Tasks running right now."""
        return self._running

    @property
    def succeeded(self) -> int:
        return self._succeeded

    @property
    def failed(self) -> int:
        return self._failed

    @property
    def dropped(self) -> int:
        """Tasks cancelled or never started because the shutdown deadline passed."""
        return self._dropped

    @property
    def offloaded(self) -> int:
        """Tasks the broker took, to run in another process."""
        return self._offloaded

    @property
    def offload_failed(self) -> int:
        """Offloaded tasks the broker did not take."""
        return self._offload_failed

    @property
    def publishing(self) -> int:
        """Offloaded tasks with the publisher threads, not yet through."""
        with self._lock:
            return sum(self._in_flight.values())

    def stats(self) -> BackgroundStats:
        return BackgroundStats(
            self._pending, self._running, self._succeeded, self._failed, self._dropped,
            self._offloaded, self._offload_failed, self.publishing,
        )

    def summary(self) -> str:
        s = self.stats()
        line = (
            f"background tasks: {s.succeeded} succeeded, {s.failed} failed, "
            f"{s.dropped} dropped, {s.pending + s.running} unfinished"
        )
        if s.offloaded or s.offload_failed or s.publishing:
            line += (f"; offloaded: {s.offloaded} enqueued, {s.offload_failed} failed to "
                     f"enqueue, {s.publishing} unfinished")
        return line
