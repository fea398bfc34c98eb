"""What ``app.background`` counts, for operators, tests and the shutdown log line.

Every task is counted once as pending when it is queued, as running while it
runs, and then as succeeded, failed or dropped (the shutdown deadline passed).
A task offloaded to a queue's workers (``offload.py``) is counted apart: as
publishing while its batch is with the publisher threads, then as offloaded
(the broker has it) or as failed to offload.
The runner moves the counts; this is where they live and how they are read.

The counts are kept twice, so that a task that stays on the event loop takes no
lock: the loop's own counts are written only by the event loop's thread (queueing,
async tasks, the shutdown deadline), so they need none; the worker threads that
run sync tasks write counts of their own, under ``_lock``. Each public count is
the sum of the two.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .jobs import Job

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
        self._lock = threading.Lock()  # for the worker threads' counts (and publishing.py's)
        # Written on the event loop's thread only: never under a lock.
        self._pending = 0  # queued, minus the tasks the loop started or dropped
        self._running = 0
        self._succeeded = 0
        self._failed = 0
        self._dropped = 0
        # Written by worker threads, always under _lock: the sync tasks they ran.
        self._thread_started = 0
        self._thread_succeeded = 0
        self._thread_failed = 0
        self._offloaded = 0
        self._offload_failed = 0
        self._in_flight: dict[object, int] = {}  # a batch being published -> its size
        # Sync tasks still running in a thread when the shutdown deadline passed:
        # Python cannot cancel a thread, so the process must exit without it.
        self.abandoned_threads = 0

    @property
    def pending(self) -> int:
        """Tasks queued and not yet started."""
        return self._pending - self._thread_started  # the latter only grows

    @property
    def running(self) -> int:
        """Tasks running right now."""
        with self._lock:  # three counts that move together
            in_threads = self._thread_started - self._thread_succeeded - self._thread_failed
        return self._running + in_threads

    @property
    def succeeded(self) -> int:
        return self._succeeded + self._thread_succeeded

    @property
    def failed(self) -> int:
        return self._failed + self._thread_failed

    @property
    def dropped(self) -> int:
        """Tasks cancelled or never started because the shutdown deadline passed."""
        return self._dropped

    # -- moving the counts, on the loop and in worker threads --------------------------

    def _start_on_loop(self, job: Job) -> bool:
        """Mark the job's next (async) task as running; False if shutdown dropped it.

        No lock: the loop is the only writer of its counts, and no worker thread
        holds this job while the loop runs one of its async tasks.
        """
        if job.next_index >= len(job.tasks):
            return False
        job.current = [job.tasks[job.next_index]]
        job.next_index += 1
        self._pending -= 1
        self._running += 1
        return True

    def _finish_on_loop(self, job: Job, ok: bool) -> None:
        if not job.current:  # already counted as dropped by the shutdown deadline
            return
        job.current = []
        self._running -= 1
        if ok:
            self._succeeded += 1
        else:
            self._failed += 1

    def _start_in_thread(self, job: Job) -> bool:
        """``_start_on_loop`` for a sync task, in a worker thread."""
        with self._lock:  # the shutdown deadline, on the loop, may be dropping the job
            if job.next_index >= len(job.tasks):
                return False
            job.current = [job.tasks[job.next_index]]
            job.next_index += 1
            self._thread_started += 1
            return True

    def _finish_in_thread(self, job: Job, ok: bool) -> None:
        with self._lock:
            if not job.current:  # the deadline counted it as dropped (and abandoned)
                return
            job.current = []
            if ok:
                self._thread_succeeded += 1
            else:
                self._thread_failed += 1

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
            self.pending, self.running, self.succeeded, self.failed, self._dropped,
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
