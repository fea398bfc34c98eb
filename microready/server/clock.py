"""The running event loop's clock, looked up once per connection.

``anyio.current_time()`` finds the running backend on every call (sniffio,
then the backend class, then the loop); a connection reads the clock several
times per request, so it keeps the clock itself: the loop's ``time`` method on
asyncio, ``trio.current_time`` on trio (which honours trio's ``MockClock``).
Both are the clock anyio's deadlines use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["event_loop_clock"]


def event_loop_clock() -> Callable[[], float]:
    """The clock of the event loop this is called on (asyncio or trio)."""
    try:
        return asyncio.get_running_loop().time
    except RuntimeError:  # not asyncio, so trio (the only other backend anyio runs)
        import trio

        return trio.current_time
