"""The background work every app queues, shared so that it is identical everywhere.

``submitted`` counts tasks that handlers queued; ``done`` counts tasks that
finished. ``submitted - done`` is the backlog. Sync tasks run in worker threads,
so their counter is guarded by a lock (as a real task touching shared state
would be); the async ones run on the event loop and need none. ``untasked``
counts the requests to ``notify-none``, which queues no task: its handler does
the same bookkeeping as ``notify``'s (``note_untasked`` takes the same lock), so
the two endpoints differ by the task alone. ``read_upload``
also records how many bytes it read (``upload_bytes`` in ``GET /count``), so the
check can see that the task got the whole file. ``TOKEN`` is the one bearer
token ``POST /users`` accepts; it stands for the user ``ADMIN``.
"""

from __future__ import annotations

import threading
import time
from typing import IO, Any, Protocol

import anyio

PLAINTEXT = "Hello, World!"
MESSAGE = {"message": "Hello, World!"}
NOTIFIED = {"message": "Notification sent in the background"}
UPLOADED = {"message": "Upload accepted"}
UPLOAD_CHUNK = 64 * 1024
TOKEN = "benchmark-token-5d1c"  # what endpoints.py sends as ``Authorization: Bearer``
ADMIN = "admin"

_lock = threading.Lock()
_submitted = 0
_untasked = 0  # notify-none requests: answered like notify, no task queued
_async_done = 0
_sync_done = 0
_upload_bytes: int | None = None  # what the last upload task read
_upload_bytes_total = 0


class Upload(Protocol):
    """FastAPI's, Starlette's or microready's ``UploadFile``: all the task needs."""

    @property
    def file(self) -> IO[bytes]: ...


def note_submitted() -> None:
    """Called by a handler when it queues one task (on the event loop or a handler thread)."""
    global _submitted
    with _lock:
        _submitted += 1


def note_untasked() -> None:
    """``notify-none``'s stand-in for ``note_submitted``: the same lock, its own counter."""
    global _untasked
    with _lock:
        _untasked += 1


async def count_async(email: str) -> None:
    global _async_done
    _async_done += 1


def count_sync(email: str) -> None:
    global _sync_done
    with _lock:
        _sync_done += 1


def read_upload(upload: Upload) -> None:
    """Read the whole uploaded file, 64 KiB at a time (a ``def`` task: a worker thread)."""
    size = 0
    while chunk := upload.file.read(UPLOAD_CHUNK):
        size += len(chunk)
    _note_upload_read(size)


def _note_upload_read(size: int) -> None:
    global _sync_done, _upload_bytes, _upload_bytes_total
    with _lock:
        _sync_done += 1
        _upload_bytes = size
        _upload_bytes_total += size


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
        body: dict[str, Any] = {
            "submitted": _submitted,
            "untasked": _untasked,
            "done": done,
            "upload_bytes": _upload_bytes,
            "upload_bytes_total": _upload_bytes_total,
        }
    body.update(extra)
    return body
