"""The background work every app queues, shared so that it is identical everywhere.

``submitted`` counts tasks that handlers queued; ``done`` counts tasks that
finished. ``submitted - done`` is the backlog. Sync tasks run in worker threads,
so their counter is guarded by a lock (as a real task touching shared state
would be); the async ones run on the event loop and need none.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio

PLAINTEXT = "Hello, World!"
MESSAGE = {"message": "Hello, World!"}
NOTIFIED = {"message": "Notification sent in the background"}

_lock = threading.Lock()
_submitted = 0
_async_done = 0
_sync_done = 0


def note_submitted() -> None:
    """Called by a handler when it queues one task (on the event loop or a handler thread)."""
    global _submitted
    with _lock:
        _submitted += 1


async def count_async(email: str) -> None:
    global _async_done
    _async_done += 1


def count_sync(email: str) -> None:
    global _sync_done
    with _lock:
        _sync_done += 1


async def slow_async(email: str) -> None:
    await anyio.sleep(1)
    await count_async(email)


def slow_sync(email: str) -> None:
    time.sleep(1)
    count_sync(email)


def counts(**extra: Any) -> dict[str, Any]:
    """The body of ``GET /count``."""
    with _lock:
        done = _async_done + _sync_done
        body: dict[str, Any] = {"submitted": _submitted, "done": done}
    body.update(extra)
    return body
