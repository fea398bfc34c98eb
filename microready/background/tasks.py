"""Background tasks: work queued by a request, run after its response is sent.

``BackgroundTasks`` is the list a handler (or any of its dependencies) fills
with ``add_task``; the server runs it once the response's last byte is on the
wire. Running them is the job of ``_background_runner``; this module only
describes what to run.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from types import FunctionType
from typing import Any, Generic, NoReturn, ParamSpec, TypeVar

import anyio.to_thread

from .._utils import callable_name, is_async_callable
from .offload import Offloaded, claim

__all__ = ["BackgroundTask", "BackgroundTasks"]

P = ParamSpec("P")
R = TypeVar("R")
_CO_COROUTINE = inspect.CO_COROUTINE


def _reject_non_callable(func: object, where: str) -> NoReturn:
    """``func`` is not callable: raise TypeError for ``add_task(send_email(x))`` and
    its kind, at the call site.

    The commonest mistake is calling the function instead of passing it; for a
    coroutine that also means the work silently never happens, so we close it
    (which silences "never awaited") and say what to write instead.
    """
    if inspect.iscoroutine(func):
        name = func.__qualname__
        func.close()
        raise TypeError(
            f"{where} got a coroutine object, the result of calling {name}(...).\n"
            f"Pass the function and its arguments instead:\n"
            f"    wrong: {where}({name}(email, message=...))\n"
            f"    right: {where}({name}, email, message=...)"
        )
    raise TypeError(
        f"{where} needs a function to call later, not {type(func).__name__} {func!r}.\n"
        f"Pass the function and its arguments:  {where}(send_email, email, message=...)"
    )


class BackgroundTask(Generic[P]):
    """One function call to run after the response is sent.

    ``Response(..., background=BackgroundTask(write_log, "done"))``. ``async def``
    functions run on the event loop; plain ``def`` functions run in a worker
    thread, so a slow one never blocks the server. A function the app's
    offloader claims (``MicroReady(offload=...)``) is enqueued to another
    process's workers instead; ``offload`` says so.
    """

    __slots__ = ("func", "args", "kwargs", "is_async", "offload")

    def __init__(self, func: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        self._set(func, args, kwargs, "BackgroundTask")

    def _set(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
             where: str) -> None:
        if not callable(func):
            _reject_non_callable(func, where)
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.offload: Offloaded | None = claim(func, args, kwargs, where)
        # An ``async def`` function, the common case, is told by its code's flag
        # alone; anything else (partials, callable objects) takes the full look.
        self.is_async = self.offload is None and (
            (type(func) is FunctionType and bool(func.__code__.co_flags & _CO_COROUTINE))
            or is_async_callable(func))

    @property
    def name(self) -> str:
        """The function's name (the queue's task name when offloaded), for log lines."""
        return callable_name(self.func) if self.offload is None else self.offload.name

    async def __call__(self) -> None:
        """Run the task directly (the server does not call this; it batches sync tasks)."""
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await anyio.to_thread.run_sync(functools.partial(self.func, *self.args, **self.kwargs))

    def run_sync(self) -> None:
        """Call a sync task in the current thread."""
        self.func(*self.args, **self.kwargs)

    def __repr__(self) -> str:
        return f"<BackgroundTask {self.name}>"


class BackgroundTasks:
    """The list of tasks one request queues, in the order they were added.

    Declare a parameter ``background_tasks: BackgroundTasks`` in a handler, a
    dependency or a sub-dependency: every one of them gets the same object.
    """

    __slots__ = ("tasks",)

    def __init__(self, tasks: list[BackgroundTask[Any]] | None = None) -> None:
        self.tasks: list[BackgroundTask[Any]] = list(tasks) if tasks else []

    def add_task(self, func: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue ``func(*args, **kwargs)`` to run after the response is sent."""
        task: BackgroundTask[Any] = BackgroundTask.__new__(BackgroundTask)
        task._set(func, args, kwargs, "add_task")
        self.tasks.append(task)

    def __iter__(self) -> Iterator[BackgroundTask[Any]]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    async def __call__(self) -> None:
        """Run every task in order (for code that runs a list by hand)."""
        for task in self.tasks:
            await task()

    def __repr__(self) -> str:
        return f"<BackgroundTasks {[t.name for t in self.tasks]}>"
