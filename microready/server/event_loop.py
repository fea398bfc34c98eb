"""The running event loop's clock and sleep, looked up once per connection.

``anyio.current_time()`` and ``anyio.lowlevel.checkpoint()`` find the running
backend on every call (sniffio, then the backend class, then the loop), and the
checkpoint is three coroutine frames deep. A connection reads the clock several
times per request and yields once per ``receive``, so it keeps the backend's
own functions instead: on asyncio the loop's ``time`` and ``asyncio.sleep``,
on trio ``trio.current_time`` and ``trio.sleep``. They are what anyio itself
calls: the same clock anyio's deadlines use (trio's honours ``MockClock``), and
``sleep(0)`` is the same checkpoint, a cancellation point that lets the other
tasks run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["event_loop_clock", "event_loop_sleep"]


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not asyncio, so trio (the only other backend anyio runs)
        return False
    return True


def event_loop_clock() -> Callable[[], float]:
    """The clock of the event loop this is called on (asyncio or trio)."""
    if _on_asyncio():
        return asyncio.get_running_loop().time
    import trio

    return trio.current_time


def event_loop_sleep() -> Callable[[float], Awaitable[None]]:
    """``sleep`` of the event loop this is called on: ``await sleep(0)`` is a checkpoint.

    Called outside any event loop (a stream made before ``anyio.run``), it is
    ``anyio.sleep``, which finds the backend on each call.
    """
    if _on_asyncio():
        return asyncio.sleep
    import trio

    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        import anyio

        return anyio.sleep
    return trio.sleep
