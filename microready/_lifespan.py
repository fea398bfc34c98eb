"""The app's lifespan: ``MicroReady(lifespan=...)``, or else its ``on_event`` handlers.

``running_lifespan`` is what the app runs around serving (``lifespan_context()``):
the user's context manager, checked as FastAPI users write it, or the startup
and shutdown handlers of ``_events`` when there is none. Either way it gives
back the state the lifespan yielded, which each request's ``state`` starts from.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from ._events import EventHandler, run_event_handlers

__all__ = ["Lifespan", "checked_lifespan", "running_lifespan"]

error_logger = logging.getLogger("microready.error")

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def checked_lifespan(lifespan: Any) -> Lifespan | None:
    """``lifespan=`` as the app keeps it; refused at once if it cannot be one."""
    if lifespan is None:
        return None
    if not callable(lifespan):
        raise TypeError(
            f"lifespan must be a function that takes the app, not {type(lifespan).__name__}:\n"
            f"    right: @asynccontextmanager\n"
            f"           async def lifespan(app): ...; yield; ...\n"
            f"           app = MicroReady(lifespan=lifespan)"
        )
    if inspect.isasyncgenfunction(lifespan):  # forgot @asynccontextmanager: forgive it
        wrapped: Lifespan = asynccontextmanager(lifespan)
        return wrapped
    checked: Lifespan = lifespan
    return checked


@asynccontextmanager
async def running_lifespan(
    app: Any,
    lifespan: Lifespan | None,
    on_startup: Sequence[EventHandler],
    on_shutdown: Sequence[EventHandler],
) -> AsyncIterator[dict[str, Any] | None]:
    """Startup before the block, shutdown after it; yields the lifespan's state (a copy)."""
    if lifespan is None:
        await run_event_handlers(on_startup)
        try:
            yield None
        finally:
            await run_event_handlers(on_shutdown)
        return
    if on_startup or on_shutdown:  # FastAPI's rule, said out loud
        error_logger.warning(
            "the app has a lifespan=, so its %d startup and %d shutdown handler(s) "
            "(on_event, add_event_handler) are not run, as in FastAPI: move them "
            "into the lifespan", len(on_startup), len(on_shutdown),
        )
    manager = lifespan(app)
    if not isinstance(manager, AbstractAsyncContextManager) and not hasattr(
        manager, "__aenter__"
    ):
        raise TypeError(
            f"lifespan(app) returned {type(manager).__name__}, not an async context manager; "
            "decorate it with @contextlib.asynccontextmanager and make it an async def "
            "that yields once"
        )
    async with manager as value:
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(
                "the lifespan may yield a dict of state for request.state, or nothing; "
                f"it yielded {type(value).__name__}"
            )
        yield dict(value) if value is not None else None
