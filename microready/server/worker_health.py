"""The supervisor's health check of each ``--workers`` process, both ends of it.

Each worker has one pipe to the supervisor. The worker first sends ``ready``
once it listens (it got through startup); from then on the supervisor sends
``ping`` every so often and the worker answers ``pong``.

The answer comes from the worker's **event loop** (``answer_health_checks``
runs as a task next to the server), not from a thread as uvicorn's does. A
thread answers as long as the process lives, so it tells a dead or frozen
process from a live one; an answer from the loop also shows that the loop
still turns. A worker whose loop is stuck (an ``async def`` handler calling
``time.sleep(60)``, a deadlock) accepts connections into its kernel queue and
serves none of them, so it is as useless as a dead one and is replaced the
same way: killed once it has not answered for ``--timeout-worker-healthcheck``
seconds. An app that blocks its loop on purpose for longer needs a larger
timeout (or, better, ``def`` handlers, which run in threads).

If the pipe reaches end-of-file in a worker, its supervisor is gone (killed
with SIGKILL, say); the worker then shuts down gracefully instead of serving
on as an orphan that nothing would ever stop or replace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:  # so that ``import microready`` does not import multiprocessing
    from multiprocessing.connection import Connection

__all__ = ["PING", "PONG", "READY", "HealthCheck", "answer_health_checks"]

READY = b"ready"
PING = b"ping"
PONG = b"pong"

LONGEST_PING_INTERVAL = 1.0  # seconds; pings are a few bytes, so they can be frequent


class HealthCheck:
    """The supervisor's side, for one worker: when to ping, and whether it is late.

    Pings go out one at a time: the next one once the last was answered and
    the interval has passed, so an answer always belongs to the last ping.
    """

    def __init__(self, timeout: float, now: float) -> None:
        self.timeout = timeout
        self.interval = min(LONGEST_PING_INTERVAL, timeout / 2)
        self.sent: float | None = None  # when the unanswered ping went out
        self.due = now + self.interval

    def ping_if_due(self, channel: Connection, now: float) -> None:
        if self.sent is None and now >= self.due:
            with contextlib.suppress(OSError):  # gone: its exit is noticed apart
                channel.send_bytes(PING)
            self.sent = now

    def answered(self, now: float) -> None:
        self.sent = None
        self.due = now + self.interval

    def overdue(self, now: float) -> bool:
        return self.sent is not None and now - self.sent > self.timeout

    def next_event(self) -> float:
        """When this check next needs the supervisor: a ping due, or a deadline."""
        return self.due if self.sent is None else self.sent + self.timeout


async def answer_health_checks(channel: Connection, supervisor_gone: Callable[[], None]) -> None:
    """In a worker: answer every ping, from the event loop, until the pipe closes."""
    fd = channel.fileno()
    while True:
        await anyio.wait_readable(fd)
        try:
            message = channel.recv_bytes()
        except (EOFError, OSError):
            supervisor_gone()
            return
        if message == PING:
            try:
                channel.send_bytes(PONG)
            except OSError:
                supervisor_gone()
                return
