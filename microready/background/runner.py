"""Runs the background tasks that requests queue, after their responses are sent.

One ``BackgroundRunner`` lives on each app as ``app.background``. The server
opens it (``async with runner.serving()``) around everything it serves and
``submit``s each request's tasks once the response is flushed. Each submission
becomes one job that runs the request's tasks one after another:

* async tasks run on the event loop, in the runner's own task group (by the
  long-lived worker tasks of ``workers.py``), so a finished connection never
  cancels them;
* consecutive sync tasks go to a worker thread together, as one hand-off, on
  threads of their own (``threads.py``), so slow ``def`` tasks cannot
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
and none is dropped. The counters (``counters.py``) are public so that
operators and tests can see what is going on, and ``join()`` waits for
everything to finish.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread

from .calls import CallHost, serving_runner
from .counters import BackgroundStats, TaskCounters
from .jobs import CLEANUP_GRACE, Job
from .publishing import OffloadHost
from .tasks import BackgroundTask
from .threads import WorkerThreads
from .workers import AsyncWorkers

__all__ = ["BackgroundRunner", "BackgroundStats", "serving_runner"]

logger = logging.getLogger("microready.background")


class BackgroundRunner(TaskCounters, CallHost, OffloadHost):
    """Runs request task lists and counts them (offloaded ones: ``publishing.py``)."""

    def __init__(
        self,
        *,
        thread_limit: int = 40,
        max_concurrent: int | None = None,
        backlog_limit: int | None = None,
    ) -> None:
        super().__init__()
        self.configure(
            thread_limit=thread_limit, max_concurrent=max_concurrent, backlog_limit=backlog_limit
        )
        self._active_jobs: set[Job] = set()
        self._waiting: deque[Job] = deque()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._threads: WorkerThreads | None = None
        # Async jobs are run by long-lived worker tasks (see workers.py); the
        # bound method is kept, so queueing a job costs no extra lookup.
        self._async_workers = AsyncWorkers(self._run_job)
        self._start_async = self._async_workers.start
        self._call_workers: AsyncWorkers[tuple[Callable[[], Awaitable[None]], str]] = (
            AsyncWorkers(self._run_call))
        self._idle: anyio.Event | None = None  # exists only while join() waits
        self._capacity: anyio.Event | None = None  # exists only while a connection waits
        self._calls = 0  # ASGI calls running in the task group (calls.py)

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
                    self._async_workers.open(task_group)
                    self._call_workers.open(task_group)
                    with self.as_current():
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
            self._async_workers.close()
            self._call_workers.close()
            threads.stop()
            self._stop_publishers()

    @property
    def is_serving(self) -> bool:
        """Whether ``serving()`` is open, so ``submit`` may be called."""
        return self._task_group is not None

    def submit(
        self,
        tasks: list[BackgroundTask[Any]],
        cleanup: Callable[[], Awaitable[None]] | None = None,
        origin: object = "",
    ) -> None:
        """Queue one request's tasks (and its cleanup) to run now or when a slot frees.

        Called on the event loop. ``origin`` names the request in log lines
        (as ``str(origin)``, written out only if one needs it).
        """
        if not tasks and cleanup is None:
            return
        if self._task_group is None or self._threads is None:
            raise RuntimeError(
                "background tasks can only run while the app is served; "
                "use microready.run(app), the CLI or TestClient"
            )
        job = Job(tasks, cleanup, origin)
        self._pending += len(tasks)  # on the loop: no lock (counters.py)
        cap = self.max_concurrent
        if cap is not None:
            if len(self._active_jobs) >= cap:
                self._waiting.append(job)
            else:
                self._active_jobs.add(job)
                self._start_async(job)
            return
        # A set's add and discard are atomic, and with no cap no decision here
        # rests on its size, so the threads' discards need no lock with this add.
        self._active_jobs.add(job)
        if cleanup is None:
            for task in tasks:
                if task.is_async:
                    break
            else:  # sync tasks only: straight to the threads
                self._threads.submit(partial(self._run_sync_job, job))
                return
        self._start_async(job)

    def _start_waiting(self) -> None:
        """A job finished under the cap: start the next waiting one, in order."""
        # Under a cap every job runs on the loop, so only the loop changes the set.
        while self._waiting and self._task_group is not None:
            cap = self.max_concurrent
            if cap is not None and len(self._active_jobs) >= cap:
                return
            job = self._waiting.popleft()
            self._active_jobs.add(job)
            self._start_async(job)

    @property
    def backlogged(self) -> bool:
        """More tasks are queued than the threads keep up with: slow the intake."""
        return self.pending > self.backlog_limit

    async def wait_for_capacity(self) -> None:
        """Wait until the queue is down to half of ``backlog_limit``."""
        while self.pending > self.backlog_limit // 2 and self._task_group is not None:
            if self._capacity is None:
                self._capacity = anyio.Event()
            await self._capacity.wait()

    def _is_idle(self) -> bool:
        return not (self.pending or self.running or self._active_jobs or self._waiting
                    or self._calls or self._in_flight)

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
        never_started = self._drop_unfinished()
        self._give_up_publishing()
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()
        # The teardowns of jobs that never started still run (closing their uploads,
        # for one); a job that was running runs its own as it is cancelled.
        with anyio.CancelScope(shield=True) as scope:
            scope.deadline = anyio.current_time() + CLEANUP_GRACE
            for job in never_started:
                await self._clean_up(job)
        return False

    def _drop_unfinished(self) -> list[Job]:
        """Drop every task not finished; return the jobs that never started."""
        never_started = [
            job for job in [*self._active_jobs, *self._waiting]
            if not job.started and job.cleanup is not None
        ]
        for job in list(self._active_jobs) + list(self._waiting):
            with self._lock:  # a worker thread may be claiming the next task
                running, unstarted = job.current, job.tasks[job.next_index :]
                job.current, job.next_index = [], len(job.tasks)
                # The loop's counts, whoever started the task: a thread's count of
                # it stays "started" and never "finished", so the sums come out right.
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
        # Jobs still queued for a worker will find nothing left to run.
        self._active_jobs.clear()
        self._waiting.clear()
        self._async_workers.drop_queued()
        # ASGI calls not started yet never will be: nobody waits for them now.
        self._calls -= self._call_workers.drop_queued()
        return never_started

    # -- running ------------------------------------------------------------------

    async def _run_job(self, job: Job) -> None:
        """Run a job that has async tasks or a cleanup (or waited under the cap)."""
        job.started = True
        try:
            tasks = job.tasks
            while job.next_index < len(tasks):
                task = tasks[job.next_index]
                if not task.is_async:
                    await self._run_sync_segment(job)
                    continue
                if not self._start_on_loop(job):
                    break
                ok = False
                try:
                    await task.func(*task.args, **task.kwargs)
                    ok = True
                except Exception:
                    logger.exception(
                        "background task %s failed (queued by %s)", task.name, job.origin)
                finally:
                    self._finish_on_loop(job, ok)
            if job.cleanup is not None:
                await self._clean_up(job)
        except anyio.get_cancelled_exc_class():
            # Cancelled at the shutdown deadline: the teardown still runs (closing the
            # request's dependencies and uploads), shielded but bounded.
            with anyio.CancelScope(shield=True) as scope:
                scope.deadline = anyio.current_time() + CLEANUP_GRACE
                await self._clean_up(job)
            raise
        finally:
            self._active_jobs.discard(job)
            if self._waiting:
                self._start_waiting()
            self._on_progress()

    @staticmethod
    async def _clean_up(job: Job) -> None:
        cleanup, job.cleanup = job.cleanup, None
        if cleanup is None:
            return
        try:
            await cleanup()
        except Exception:
            logger.exception("dependency teardown failed (request %s)", job.origin)

    async def _run_sync_segment(self, job: Job) -> None:
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

    def _run_sync_job(self, job: Job) -> None:
        """A job of sync tasks only, run entirely on a worker thread."""
        try:
            self._run_sync_tasks(job)
        finally:
            self._active_jobs.discard(job)  # atomic; see submit()
            self._call_back_if_waited_for()

    def _call_back_if_waited_for(self) -> None:
        """From a worker thread: wake join() or a waiting connection, if any waits."""
        portal = self._portal
        idle_waited = self._idle is not None and self._is_idle()
        capacity_waited = (
            self._capacity is not None and self.pending <= self.backlog_limit // 2
        )
        if portal is not None and (idle_waited or capacity_waited):
            with contextlib.suppress(RuntimeError):  # the loop has gone away
                portal.start_task_soon(self._on_progress)

    def _on_progress(self) -> None:
        """On the event loop: set the events that waiters are waiting on."""
        if self._idle is not None and self._is_idle():
            self._idle.set()
            self._idle = None
        if self._capacity is not None and self.pending <= self.backlog_limit // 2:
            self._capacity.set()
            self._capacity = None

    def _run_sync_tasks(self, job: Job) -> None:
        """Run the job's consecutive sync tasks; called in a worker thread."""
        tasks = job.tasks
        while job.next_index < len(tasks) and not tasks[job.next_index].is_async:
            task = tasks[job.next_index]
            if not self._start_in_thread(job):
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
                self._finish_in_thread(job, ok)
