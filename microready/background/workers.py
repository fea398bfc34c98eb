"""The long-lived tasks that run background jobs on the event loop.

Starting an anyio task per job costs more than most jobs do, so the runner
queues its async jobs here instead, and a few worker tasks pull them from a
deque, one job after another; an idle worker waits on an event of its own.
(``threads.py`` is the same idea for sync tasks, on threads.)

How many workers run is the one decision here. Most async jobs finish without
ever waiting; for those, one worker on its way is enough: it takes every job
queued by then, so a burst of them costs one wake-up, not one per job. But a
job that waits (sleeps, talks to a mail server) would hold up the ones queued
behind it. A worker suspended inside a job is the sign that jobs do wait; then
every queued job gets a worker of its own, at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio
import anyio.abc

__all__ = ["AsyncWorkers"]

Job = TypeVar("Job")


class AsyncWorkers(Generic[Job]):
    """Runs queued jobs with ``run_job`` in worker tasks of a task group."""

    def __init__(self, run_job: Callable[[Job], Awaitable[None]]) -> None:
        self._run_job = run_job
        self._task_group: anyio.abc.TaskGroup | None = None
        self._new_event: Callable[[], anyio.Event] = anyio.Event
        self._jobs: deque[Job] = deque()
        self._idle: list[anyio.Event] = []  # one event per worker waiting for a job
        self._waking = 0  # woken (or started) and not yet running
        self._in_a_job = 0  # seen from another task: suspended inside a job

    def open(self, task_group: anyio.abc.TaskGroup) -> None:
        """Start workers in ``task_group`` from now on (it must outlive them).

        Called on the event loop, which also finds the backend's own ``Event``
        class: ``anyio.Event()`` looks the running backend up on every call, and
        an idle worker makes one for each wait.
        """
        self._task_group = task_group
        self._new_event = type(anyio.Event())

    def close(self) -> None:
        """Forget the task group and every queued job (the group has ended)."""
        self._task_group = None
        self.drop_queued()
        self._idle.clear()
        self._waking = self._in_a_job = 0

    def drop_queued(self) -> int:
        """Forget the jobs no worker has taken yet; how many there were."""
        dropped = len(self._jobs)
        self._jobs.clear()
        return dropped

    def start(self, job: Job) -> None:
        """Queue ``job``; a worker runs it as soon as the event loop lets it."""
        self._jobs.append(job)
        self._wake()

    def _wake(self) -> None:
        wanted = len(self._jobs) if self._in_a_job else 1
        while self._waking < wanted:
            if self._idle:
                self._idle.pop().set()
            elif self._task_group is not None:
                self._task_group.start_soon(self._work, name="microready background worker")
            else:
                return
            self._waking += 1

    async def _work(self) -> None:
        """Run queued jobs one after another; wait when there are none."""
        jobs = self._jobs
        run_job = self._run_job
        while True:
            self._waking -= 1
            while jobs:
                job = jobs.popleft()
                if jobs:  # in case this job waits, someone must take the next
                    self._wake()
                self._in_a_job += 1
                try:
                    await run_job(job)
                finally:
                    self._in_a_job -= 1
            wake = self._new_event()
            self._idle.append(wake)
            await wake.wait()
