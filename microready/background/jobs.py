"""One request's background work, as the runner queues and runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .tasks import BackgroundTask

__all__ = ["CLEANUP_GRACE", "Job"]


# How long the teardowns of jobs cut short by the shutdown deadline may take, all
# together: they close uploads and database sessions, and must not hang the exit.
CLEANUP_GRACE = 2.0


class Job:
    """One request's tasks, plus the dependency teardown that follows them."""

    __slots__ = ("tasks", "cleanup", "origin", "next_index", "current", "started")

    def __init__(
        self,
        tasks: list[BackgroundTask[Any]],
        cleanup: Callable[[], Awaitable[None]] | None,
        origin: object,
    ) -> None:
        self.tasks = tasks
        self.cleanup = cleanup
        self.origin = origin  # names the request in log lines, as str(origin)
        self.next_index = 0  # the first task not yet started
        self.current: list[BackgroundTask[Any]] = []  # what is running right now
        self.started = False  # _run_job has it: its own finally runs the cleanup
