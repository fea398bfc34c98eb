"""Runs the background tasks that requests queue, after their responses are sent.

One ``BackgroundRunner`` lives on each app as ``app.background``. The server
opens it (``async with runner.serving()``) around everything it serves and
``submit``s each request's tasks once the response is flushed. Each submission
becomes one job that runs the request's tasks one after another:

* async tasks run on the event loop, in the runner's own task group, so a
  finished connection never cancels them;
* consecutive sync tasks go to a worker thread together, as one hand-off, on
  threads of their own (``_worker_threads``), so slow ``def`` tasks cannot
  starve the threads that run sync handlers. A job made only of sync tasks goes
  straight to those threads: nothing of it runs on the event loop, and only
  ``join()`` and backpressure ever ask the threads to call back;
* a failing task is logged and the job goes on with the next one.

When sync tasks arrive faster than the threads run them, ``backlogged`` turns
true and the connection that queued the last job waits (``wait_for_capacity``)
before reading its next request, so memory stays bounded instead of growing
with the queue.

``max_concurrent`` caps how many jobs run at once; the others wait in a FIFO
queue (a deque of plain objects, not parked tasks, so a deep queue stays cheap)
and none is dropped. The counters are public so that operators and tests can
see what is going on, and ``join()`` waits for everything to finish.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread

from .tasks import BackgroundTask
from .threads import WorkerThreads

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

    def __init__(
        self,
        *,
        thread_limit: int = 40,
        max_concurrent: int | None = None,
        backlog_limit: int | None = None,
    ) -> None:
        self.configure(
            thread_limit=thread_limit, max_concurrent=max_concurrent, backlog_limit=backlog_limit
        )
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
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._threads: WorkerThreads | None = None
        # Async jobs are run by long-lived worker tasks that pull from a deque;
        # starting an anyio task per job costs more than most jobs do.
        self._async_jobs: deque[_Job] = deque()
        self._idle_async_workers: list[anyio.Event] = []
        self._workers_waking = 0  # woken (or started) and not yet running
        self._workers_in_a_job = 0  # seen from another task: suspended inside a job
        self._idle: anyio.Event | None = None  # exists only while join() waits
        self._capacity: anyio.Event | None = None  # exists only while a connection waits

    def configure(
        self,
        *,
        thread_limit: int,
        max_concurrent: int | None,
        backlog_limit: int | None = None,
    ) -> None:
        """Apply the server's settings; called before ``serving()`` opens.

        ``backlog_limit`` is how many queued tasks make ``backlogged`` true
        (default: 16 per thread); waiting connections go on at half of it.
        """
        if thread_limit < 1:
            raise ValueError(f"background thread limit must be at least 1, got {thread_limit}")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(
                f"max_background_tasks must be at least 1 or None (unlimited), got {max_concurrent}"
            )
        self.thread_limit = thread_limit
        self.max_concurrent = max_concurrent
        self.backlog_limit = backlog_limit if backlog_limit is not None else 16 * thread_limit

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
        threads = self._threads = WorkerThreads(self.thread_limit)
        try:
            async with anyio.from_thread.BlockingPortal() as portal:
                self._portal = portal
                async with anyio.create_task_group() as task_group:
                    self._task_group = task_group
                    yield self
                    # Jobs on worker threads are not in the task group: wait for
                    # them here; then only idle workers are left, so stop them.
                    await self.join()
                    task_group.cancel_scope.cancel()
        finally:
            self._task_group = None
            self._portal = None
            self._threads = None
            self._waiting.clear()
            self._async_jobs.clear()
            self._idle_async_workers.clear()
            self._workers_waking = self._workers_in_a_job = 0
            threads.stop()

    def submit(
        self,
        tasks: list[BackgroundTask[Any]],
        cleanup: Callable[[], Awaitable[None]] | None = None,
        origin: str = "",
    ) -> None:
        """Queue one request's tasks (and its cleanup) to run now or when a slot frees."""
        if not tasks and cleanup is None:
            return
        if self._task_group is None or self._threads is None:
            raise RuntimeError(
                "background tasks can only run while the app is served; "
                "use microready.run(app), the CLI or TestClient"
            )
        job = _Job(tasks, cleanup, origin)
        with self._lock:
            self._pending += len(tasks)
            capped = (
                self.max_concurrent is not None and len(self._active_jobs) >= self.max_concurrent
            )
            if not capped:
                self._active_jobs.add(job)
        if capped:
            self._waiting.append(job)
        elif cleanup is None and self.max_concurrent is None and not any(
            task.is_async for task in tasks
        ):
            self._threads.submit(partial(self._run_sync_job, job))
        else:
            self._start_async(job)

    def _start_async(self, job: _Job) -> None:
        self._async_jobs.append(job)
        self._wake_async_workers()

    def _wake_async_workers(self) -> None:
        # Most async jobs finish without ever waiting. For those, one worker
        # on its way is enough: it takes every job queued by then, so a burst
        # of them costs one wake-up, not one per job. But a job that waits
        # (sleeps, talks to a mail server) would hold up the ones queued
        # behind it. A worker suspended inside a job is the sign that jobs do
        # wait; then every queued job gets a worker of its own, at once.
        wanted = len(self._async_jobs) if self._workers_in_a_job else 1
        while self._workers_waking < wanted:
            if self._idle_async_workers:
                self._idle_async_workers.pop().set()
            elif self._task_group is not None:
                self._task_group.start_soon(
                    self._async_worker, name="microready background worker"
                )
            else:
                return
            self._workers_waking += 1

    async def _async_worker(self) -> None:
        """Run queued async jobs one after another; wait when there are none."""
        jobs = self._async_jobs
        while True:
            self._workers_waking -= 1
            while jobs:
                job = jobs.popleft()
                if jobs:  # in case this job waits, someone must take the next
                    self._wake_async_workers()
                self._workers_in_a_job += 1
                try:
                    await self._run_job(job)
                finally:
                    self._workers_in_a_job -= 1
            wake = anyio.Event()
            self._idle_async_workers.append(wake)
            await wake.wait()

    def _start_waiting(self) -> None:
        """A job finished under the cap: start the next waiting one, in order."""
        while self._waiting and self._task_group is not None:
            with self._lock:
                cap = self.max_concurrent
                if cap is not None and len(self._active_jobs) >= cap:
                    return
                job = self._waiting.popleft()
                self._active_jobs.add(job)
            self._start_async(job)

    @property
    def backlogged(self) -> bool:
        """More tasks are queued than the threads keep up with: slow the intake."""
        return self._pending > self.backlog_limit

    async def wait_for_capacity(self) -> None:
        """Wait until the queue is down to half of ``backlog_limit``."""
        while self._pending > self.backlog_limit // 2 and self._task_group is not None:
            if self._capacity is None:
                self._capacity = anyio.Event()
            await self._capacity.wait()

    def _is_idle(self) -> bool:
        return not (self._pending or self._running or self._active_jobs or self._waiting)

    async def join(self) -> None:
        """Wait until no background task is queued or running."""
        while not self._is_idle():
            if self._idle is None:
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
        with self._lock:
            # Jobs still queued for a worker will find nothing left to run.
            self._active_jobs.clear()
        self._waiting.clear()
        self._async_jobs.clear()

    # -- running ------------------------------------------------------------------

    async def _run_job(self, job: _Job) -> None:
        """Run a job that has async tasks or a cleanup (or waited under the cap)."""
        try:
            tasks = job.tasks
            while job.next_index < len(tasks):
                task = tasks[job.next_index]
                if task.is_async:
                    if not self._claim(job):
                        break
                    await self._run_async_task(job, task)
                else:
                    await self._run_sync_segment(job)
            if job.cleanup is not None:
                try:
                    await job.cleanup()
                except Exception:
                    logger.exception("dependency teardown failed (request %s)", job.origin)
        finally:
            with self._lock:
                self._active_jobs.discard(job)
            self._start_waiting()
            self._on_progress()

    async def _run_sync_segment(self, job: _Job) -> None:
        """Run the job's next consecutive sync tasks on a worker thread, and wait."""
        done = anyio.Event()
        portal = self._portal
        threads = self._threads
        if portal is None or threads is None:  # the runner is closing: nothing to run on
            job.next_index = len(job.tasks)
            return

        def run_then_report() -> None:
            try:
                self._run_sync_tasks(job)
            finally:
                with contextlib.suppress(RuntimeError):  # the loop has gone away
                    portal.start_task_soon(done.set)

        threads.submit(run_then_report)
        await done.wait()

    def _run_sync_job(self, job: _Job) -> None:
        """A job of sync tasks only, run entirely on a worker thread."""
        try:
            self._run_sync_tasks(job)
        finally:
            with self._lock:
                self._active_jobs.discard(job)
            self._call_back_if_waited_for()

    def _call_back_if_waited_for(self) -> None:
        """From a worker thread: wake join() or a waiting connection, if any waits."""
        portal = self._portal
        idle_waited = self._idle is not None and self._is_idle()
        capacity_waited = (
            self._capacity is not None and self._pending <= self.backlog_limit // 2
        )
        if portal is not None and (idle_waited or capacity_waited):
            with contextlib.suppress(RuntimeError):  # the loop has gone away
                portal.start_task_soon(self._on_progress)

    def _on_progress(self) -> None:
        """On the event loop: set the events that waiters are waiting on."""
        if self._idle is not None and self._is_idle():
            self._idle.set()
            self._idle = None
        if self._capacity is not None and self._pending <= self.backlog_limit // 2:
            self._capacity.set()
            self._capacity = None

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
