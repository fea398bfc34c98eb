"""What ``app.background`` counts, for operators, tests and the shutdown log line.

Every task is counted once as pending when it is queued, as running while it
runs, and then as succeeded, failed or dropped (the shutdown deadline passed).
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


class TaskCounters:
    """The runner's counters, read through properties; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # counters are touched from worker threads too
        self._pending = 0
        self._running = 0
        self._succeeded = 0
        self._failed = 0
        self._dropped = 0
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

    def stats(self) -> BackgroundStats:
        return BackgroundStats(
            self._pending, self._running, self._succeeded, self._failed, self._dropped
        )

    def summary(self) -> str:
        s = self.stats()
        return (
            f"background tasks: {s.succeeded} succeeded, {s.failed} failed, "
            f"{s.dropped} dropped, {s.pending + s.running} unfinished"
        )
