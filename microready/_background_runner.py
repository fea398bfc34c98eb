"""Runs the background tasks that requests queue, after their responses are sent.

One ``BackgroundRunner`` lives on each app as ``app.background``. The server
opens it (``async with runner.serving()``) around everything it serves and
``submit``s each request's tasks once the response is flushed. Each submission
becomes one job that runs the request's tasks one after another:

* async tasks run on the event loop, in the runner's own task group, so a
  finished connection never cancels them;
* consecutive sync tasks go to a worker thread together, as one hand-off, under
  a limiter of their own, so slow ``def`` tasks cannot starve the threads that
  run sync handlers;
* a failing task is logged and the job goes on with the next one.

``max_concurrent`` caps how many jobs run at once; the others wait in a FIFO
queue (a deque of plain objects, not parked tasks, so a deep queue stays cheap)
and none is dropped. The counters are public so that operators and tests can
see what is going on, and ``join()`` waits for everything to finish.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from .background import BackgroundTask

__all__ = ["BackgroundRunner", "BackgroundStats"]

logger = logging.getLogger("microready.background")


@dataclass(frozen=True, slots=True)
class BackgroundStats:
    """A snapshot of ``app.background``'s counters."""

    pending: int
    running: int
    succeeded: int
    failed: int
    dropped: int


class _Job:
    """One request's tasks, plus the dependency teardown that follows them."""

    __slots__ = ("tasks", "cleanup", "origin", "next_index", "current")

    def __init__(
        self,
        tasks: list[BackgroundTask[Any]],
        cleanup: Callable[[], Awaitable[None]] | None,
        origin: str,
    ) -> None:
        self.tasks = tasks
        self.cleanup = cleanup
        self.origin = origin
        self.next_index = 0  # the first task not yet started
        self.current: list[BackgroundTask[Any]] = []  # what is running right now


class BackgroundRunner:
    """Runs request task lists and counts them; see the module docstring."""

    def __init__(self, *, thread_limit: int = 40, max_concurrent: int | None = None) -> None:
        self.configure(thread_limit=thread_limit, max_concurrent=max_concurrent)
        self._lock = threading.Lock()  # counters are touched from worker threads too
        self._pending = 0
        self._running = 0
        self._succeeded = 0
        self._failed = 0
        self._dropped = 0
        # Sync tasks still running in a thread when the shutdown deadline passed:
        # Python cannot cancel a thread, so the process must exit without it.
        self.abandoned_threads = 0
        self._active_jobs: set[_Job] = set()
        self._waiting: deque[_Job] = deque()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._thread_limiter: anyio.CapacityLimiter | None = None
        self._idle: anyio.Event | None = None

    def configure(self, *, thread_limit: int, max_concurrent: int | None) -> None:
        """Apply the server's settings; called before ``serving()`` opens."""
        if thread_limit < 1:
            raise ValueError(f"background thread limit must be at least 1, got {thread_limit}")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(
                f"max_background_tasks must be at least 1 or None (unlimited), got {max_concurrent}"
            )
        self.thread_limit = thread_limit
        self.max_concurrent = max_concurrent

    # -- counters ---------------------------------------------------------------

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

    # -- lifecycle ----------------------------------------------------------------

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[BackgroundRunner]:
        """Open the task group that background jobs run in.

        Leaving the block waits for every job; bound that wait with ``drain()``.
        """
        if self._task_group is not None:
            raise RuntimeError("this app is already being served; one server per app at a time")
        self._thread_limiter = anyio.CapacityLimiter(self.thread_limit)
        self._idle = anyio.Event()
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                yield self
        finally:
            self._task_group = None
            self._waiting.clear()

    def submit(
        self,
        tasks: list[BackgroundTask[Any]],
        cleanup: Callable[[], Awaitable[None]] | None = None,
        origin: str = "",
    ) -> None:
        """Queue one request's tasks (and its cleanup) to run now or when a slot frees."""
        if not tasks and cleanup is None:
            return
        if self._task_group is None:
            raise RuntimeError(
                "background tasks can only run while the app is served; "
                "use microready.run(app), the CLI or TestClient"
            )
        job = _Job(tasks, cleanup, origin)
        with self._lock:
            self._pending += len(tasks)
        if self._idle is not None and self._idle.is_set():
            self._idle = anyio.Event()
        if self.max_concurrent is not None and len(self._active_jobs) >= self.max_concurrent:
            self._waiting.append(job)
        else:
            self._start(job)

    def _start(self, job: _Job) -> None:
        assert self._task_group is not None  # submit() checked; an internal invariant
        self._active_jobs.add(job)
        self._task_group.start_soon(self._run_job, job, name=f"background job {job.origin}")

    async def join(self) -> None:
        """Wait until no background task is queued or running."""
        while self._pending or self._running or self._active_jobs or self._waiting:
            if self._idle is None or self._idle.is_set():
                self._idle = anyio.Event()
            await self._idle.wait()

    async def drain(self, within: float | None) -> bool:
        """Wait for every job, up to ``within`` seconds; then cancel what is left.

        Returns True when everything finished. Cancelled async tasks get to run
        their ``finally`` blocks; every task dropped is logged by name.
        """
        with anyio.move_on_after(within):
            await self.join()
            return True
        self._drop_unfinished()
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()
        return False

    def _drop_unfinished(self) -> None:
        for job in list(self._active_jobs) + list(self._waiting):
            with self._lock:  # a worker thread may be claiming the next task
                running, unstarted = job.current, job.tasks[job.next_index :]
                job.current, job.next_index = [], len(job.tasks)
                self._pending -= len(unstarted)
                self._running -= len(running)
                self._dropped += len(unstarted) + len(running)
                self.abandoned_threads += sum(1 for task in running if not task.is_async)
            for task in running:
                where = "cancelled" if task.is_async else "left running in its worker thread"
                logger.warning(
                    "shutdown deadline: background task %s %s (queued by %s)",
                    task.name, where, job.origin,
                )
            for task in unstarted:
                logger.warning(
                    "shutdown deadline: background task %s dropped before it started "
                    "(queued by %s)", task.name, job.origin,
                )
        self._waiting.clear()

    # -- running ------------------------------------------------------------------

    async def _run_job(self, job: _Job) -> None:
        try:
            tasks = job.tasks
            while job.next_index < len(tasks):
                task = tasks[job.next_index]
                if task.is_async:
                    if not self._claim(job):
                        break
                    await self._run_async_task(job, task)
                else:
                    # Consecutive sync tasks go to one worker thread together:
                    # one hand-off instead of one event-loop round trip per task.
                    await anyio.to_thread.run_sync(
                        self._run_sync_tasks, job, limiter=self._thread_limiter,
                        abandon_on_cancel=True,
                    )
            if job.cleanup is not None:
                try:
                    await job.cleanup()
                except Exception:
                    logger.exception("dependency teardown failed (request %s)", job.origin)
        finally:
            self._active_jobs.discard(job)
            if self._waiting and self._task_group is not None:
                self._start(self._waiting.popleft())
            self._notify_if_idle()

    def _notify_if_idle(self) -> None:
        if self._idle is not None and not (
            self._pending or self._running or self._active_jobs or self._waiting
        ):
            self._idle.set()

    def _claim(self, job: _Job) -> bool:
        """Mark the job's next task as running; False if shutdown dropped it."""
        with self._lock:
            if job.next_index >= len(job.tasks):
                return False
            job.current = [job.tasks[job.next_index]]
            job.next_index += 1
            self._pending -= 1
            self._running += 1
            return True

    def _release(self, job: _Job, ok: bool) -> None:
        with self._lock:
            if not job.current:  # already counted as dropped by the shutdown deadline
                return
            job.current = []
            self._running -= 1
            if ok:
                self._succeeded += 1
            else:
                self._failed += 1

    async def _run_async_task(self, job: _Job, task: BackgroundTask[Any]) -> None:
        ok = False
        try:
            await task.func(*task.args, **task.kwargs)
            ok = True
        except Exception:
            logger.exception("background task %s failed (queued by %s)", task.name, job.origin)
        finally:
            self._release(job, ok)

    def _run_sync_tasks(self, job: _Job) -> None:
        """Run the job's consecutive sync tasks; called in a worker thread."""
        tasks = job.tasks
        while job.next_index < len(tasks) and not tasks[job.next_index].is_async:
            task = tasks[job.next_index]
            if not self._claim(job):
                return
            ok = False
            try:
                task.func(*task.args, **task.kwargs)
                ok = True
            except Exception:
                logger.exception(
                    "background task %s failed (queued by %s)", task.name, job.origin
                )
            finally:
                self._release(job, ok)
