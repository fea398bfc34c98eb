"""Startup and shutdown handlers: FastAPI's ``on_event``, kept for the code that uses it.

``@app.on_event("startup")``, ``app.add_event_handler("shutdown", fn)`` and
``MicroReady(on_startup=[...], on_shutdown=[...])`` (the same on a ``Router``,
whose handlers ``include_router`` hands to the including one). The app runs
them around serving, in its ``lifespan_context()``: the startup handlers in
order before the first request, the shutdown ones in order after the last.
As in FastAPI:

* a handler is called with no arguments; an ``async def`` is awaited, a plain
  ``def`` is called in the event loop (not in a worker thread);
* a failing startup handler stops the startup (the app does not serve, and no
  shutdown handler runs); a failing shutdown handler stops the shutdown;
* ``on_event`` is deprecated: every call warns with a ``DeprecationWarning``
  pointing at the caller (``add_event_handler`` does not warn);
* with ``lifespan=``, these handlers are **not run** at all ("it's all
  lifespan or all events, not both"); microready logs a warning saying so.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._utils import is_async_callable

__all__ = ["EventHandler", "EventHandlers", "run_event_handlers"]

EventHandler = Callable[[], Any]
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])

EVENTS = ("startup", "shutdown")
DEPRECATED = (
    "on_event is deprecated, use lifespan event handlers instead: "
    "MicroReady(lifespan=...) with an @asynccontextmanager that yields once "
    "(README.md, 'Lifespan, state and the request'; FastAPI deprecates it too)"
)


def _checked_event(event_type: Any, call: str) -> str:
    if event_type in EVENTS:
        checked: str = event_type
        return checked
    if callable(event_type):
        raise TypeError(
            f"{call} needs the event's name:\n"
            f"    wrong: @app.on_event\n"
            f"    right: @app.on_event(\"startup\")"
        )
    close = difflib.get_close_matches(str(event_type), EVENTS, n=1)
    right = close[0] if close else "startup"
    raise ValueError(
        f"{call} takes \"startup\" or \"shutdown\", not {event_type!r}:\n"
        f"    right: @app.on_event({right!r})"
    )


def _checked_handler(func: Any, event_type: str) -> EventHandler:
    if not callable(func):
        raise TypeError(
            f"a {event_type} handler must be a function that takes no arguments, "
            f"not {type(func).__name__}"
        )
    checked: EventHandler = func
    return checked


class EventHandlers:
    """The ``on_startup``/``on_shutdown`` lists and their decorators (Router has them)."""

    on_startup: list[EventHandler]
    on_shutdown: list[EventHandler]

    def _init_event_handlers(self, on_startup: Sequence[EventHandler] | None,
                             on_shutdown: Sequence[EventHandler] | None) -> None:
        self.on_startup = [_checked_handler(f, "startup") for f in on_startup or ()]
        self.on_shutdown = [_checked_handler(f, "shutdown") for f in on_shutdown or ()]

    def add_event_handler(self, event_type: str, func: EventHandler) -> None:
        """Run ``func()`` at ``"startup"`` or ``"shutdown"`` (after the ones added before)."""
        event_type = _checked_event(event_type, "add_event_handler()")
        handlers = self.on_startup if event_type == "startup" else self.on_shutdown
        handlers.append(_checked_handler(func, event_type))

    def on_event(self, event_type: str) -> Callable[[HandlerT], HandlerT]:
        """``@app.on_event("startup")``: deprecated, as in FastAPI; prefer ``lifespan=``."""
        event_type = _checked_event(event_type, "on_event()")  # a typo fails first
        warnings.warn(DEPRECATED, DeprecationWarning, stacklevel=2)

        def register(func: HandlerT) -> HandlerT:
            self.add_event_handler(event_type, func)
            return func

        return register


async def run_event_handlers(handlers: Sequence[EventHandler]) -> None:
    """Call each handler in order, awaiting the async ones (FastAPI's ``_startup``)."""
    for handler in handlers:
        if is_async_callable(handler):
            await handler()
        else:
            handler()
