"""The runner as a host for ASGI calls, and which runner serves the current task.

An ASGI app that microready calls (a mounted Starlette app, an ASGI
middleware, a whole app on microready's server) runs in the serving runner's
task group: its call outlives the ``handle()`` that started it, since the
connection streams the body it sends and the app may go on after its last
message (Starlette runs its background tasks there). ``join()`` and
``drain()`` wait for these calls as for jobs, and the shutdown deadline
cancels them; they are not counted as tasks.

``serving_runner()`` says which runner that is: a mounted sub-app hands its
work to the runner that is open, not to its own, which no server opened.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import anyio.abc

from .workers import AsyncWorkers

if TYPE_CHECKING:
    from .runner import BackgroundRunner

__all__ = ["CallHost", "serving_runner"]

logger = logging.getLogger("microready.background")

_SERVING: contextvars.ContextVar[BackgroundRunner | None] = contextvars.ContextVar(
    "microready_serving_runner", default=None)


def serving_runner() -> BackgroundRunner | None:
    """The runner whose ``serving()`` block the current task runs in, if any."""
    return _SERVING.get()


class CallHost:
    """The ASGI-call half of ``BackgroundRunner``; see the module docstring.

    Calls run on long-lived worker tasks (``workers.py``), as async jobs do:
    a worker that finished a call waits for the next one, which is cheaper
    than starting a task per request.
    """

    _task_group: anyio.abc.TaskGroup | None
    _calls: int
    _call_workers: AsyncWorkers[tuple[Callable[[], Awaitable[None]], str]]

    def _on_progress(self) -> None:
        raise NotImplementedError  # pragma: no cover - BackgroundRunner defines it

    @contextlib.contextmanager
    def as_current(self) -> Iterator[None]:
        """Make this runner ``serving_runner()`` inside the block, for a task that
        did not start inside ``serving()`` (an ASGI server's request task)."""
        token = _SERVING.set(self)  # type: ignore[arg-type]  # always a BackgroundRunner
        try:
            yield
        finally:
            _SERVING.reset(token)

    def start_call(self, call: Callable[[], Awaitable[None]], origin: str = "") -> None:
        """Run ``call`` in the runner's task group now, outside the task counts."""
        if self._task_group is None:
            raise RuntimeError(
                "an ASGI app can only be called while the app is served; "
                "use microready.run(app), the CLI or TestClient"
            )
        self._calls += 1
        self._call_workers.start((call, origin))

    async def _run_call(self, job: tuple[Callable[[], Awaitable[None]], str]) -> None:
        call, origin = job
        try:
            await call()
        except Exception:  # the call's owner reports its errors; this is the last net
            logger.exception("ASGI call for %s failed", origin or "a request")
        finally:
            self._calls -= 1
            self._on_progress()
