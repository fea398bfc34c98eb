"""A small, fixed-size set of worker threads that pull work from a queue.

Sync background tasks run here rather than through ``anyio.to_thread``: a
request's sync tasks become one queue entry that a free thread picks up
directly, with no event-loop round trip to start it or to report its end.
Under load that is the difference between keeping up and piling up (see the
notify-sync benchmark). Threads start on demand, up to the limit, and are
daemons: a task still running at a shutdown deadline cannot hold the process.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["WorkerThreads"]

logger = logging.getLogger("microready.background")

Work = Callable[[], None]
_STOP = None


class WorkerThreads:
    def __init__(self, limit: int, name: str = "microready-background") -> None:
        if limit < 1:
            raise ValueError(f"the thread limit must be at least 1, got {limit}")
        self.limit = limit
        self.name = name
        self._queue: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for work
        self._stopped = False

    @property
    def size(self) -> int:
        return len(self._threads)

    def submit(self, work: Work) -> None:
        """Queue ``work``; a free thread runs it (a new one, below the limit)."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("the worker threads have been stopped")
            if self._idle == 0 and len(self._threads) < self.limit:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads) + 1}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                # Claimed here, so two submits in a row do not both count on
                # the same idle thread and leave the second one waiting.
                self._idle -= 1 if self._idle else 0
        self._queue.put(work)

    def stop(self) -> None:
        """Let each thread finish what it is doing, then exit. Does not wait."""
        with self._lock:
            self._stopped = True
            count = len(self._threads)
        for _ in range(count):
            self._queue.put(_STOP)

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            if work is _STOP:
                return
            try:
                work()
            except BaseException:  # the work logs its own errors; this is a last resort
                logger.exception("unexpected error in a background worker thread")
            with self._lock:
                self._idle += 1
