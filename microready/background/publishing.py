"""The runner's offloading half: publishing batches on threads of its own.

An engine's publish call blocks (Celery has no asyncio client), so it never
runs on the event loop, and never on the threads that run sync handlers or
sync tasks either: a slow broker must not take threads from requests or from
in-process tasks. Each batch (a request's consecutive offloaded tasks) is one
entry for the publisher threads (``threads.py``); the loop is told of the end
without a thread waiting on it (``call_soon_threadsafe`` on asyncio,
``run_sync_soon`` on trio).

* ``publish_now`` is ``before_response``: the request waits for the broker,
  and a failure raises ``OffloadFailed`` (the app answers 503);
* ``publish_later`` is ``after_response``: handed off once the response is
  out; a failure is logged and counted.

Batches in flight keep ``join()`` (so the graceful shutdown) waiting; at the
shutdown deadline they are given up on, and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from .offload import Offloader, OffloadFailed, OutgoingTask
from .threads import WorkerThreads

__all__ = ["OffloadHost"]

logger = logging.getLogger("microready.background")

CallSoon = Callable[[Callable[[], Any]], Any]


def _call_soon_on_this_loop() -> CallSoon:
    """A thread-safe ``call_soon`` for the running event loop (asyncio or trio)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio, so trio (the only other backend anyio runs)
        import trio

        return trio.lowlevel.current_trio_token().run_sync_soon
    return loop.call_soon_threadsafe


def _call_back(call_soon: CallSoon, func: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):  # the loop has gone away: nobody waits
        call_soon(func)


class OffloadHost:
    """The offloading half of ``BackgroundRunner``; see the module docstring."""

    _lock: threading.Lock
    _offloaded: int
    _offload_failed: int
    _in_flight: dict[object, int]  # counters.py: a batch being published -> its size
    _offloader: Offloader | None = None
    _publishers: WorkerThreads | None = None

    def _on_progress(self) -> None:
        raise NotImplementedError  # pragma: no cover - BackgroundRunner defines it

    @property
    def offloader(self) -> Offloader | None:
        """What ``MicroReady(offload=...)`` installed, if anything."""
        return self._offloader

    def use_offloader(self, offloader: Offloader) -> None:
        if not isinstance(offloader, Offloader):
            raise TypeError(
                f"offload= takes an offloader, not {type(offloader).__name__}:\n"
                f"    wrong: MicroReady(offload=celery_app)\n"
                f"    right: MicroReady(offload=CeleryOffload(celery_app))  "
                f"# from microready.background.celery"
            )
        self._offloader = offloader

    async def publish_now(self, batch: Sequence[OutgoingTask], origin: str) -> None:
        """Publish ``batch`` on a publisher thread; return once the broker has it."""
        done = anyio.Event()
        key = object()  # what the batch is counted under while in flight
        call_soon = _call_soon_on_this_loop()
        failure: list[Exception] = []

        def publish_then_report() -> None:
            error = self._publish(key, batch, origin, "the client gets 503")
            if error is not None:
                failure.append(error)
            _call_back(call_soon, done.set)

        self._submit_publish(key, batch, publish_then_report)
        await done.wait()
        if failure:
            raise OffloadFailed(str(failure[0])) from failure[0]

    def publish_later(self, batch: Sequence[OutgoingTask], origin: str) -> None:
        """Hand ``batch`` to a publisher thread; ``join()`` waits for it."""
        call_soon = _call_soon_on_this_loop()
        key = object()

        def publish_then_report() -> None:
            self._publish(key, batch, origin, "the response was already sent")
            if not self._in_flight:
                _call_back(call_soon, self._on_progress)

        self._submit_publish(key, batch, publish_then_report)

    def _submit_publish(self, key: object, batch: Sequence[OutgoingTask],
                        work: Callable[[], None]) -> None:
        """Count ``batch`` as in flight under ``key`` and queue ``work``."""
        offloader = self._offloader
        if offloader is None:  # pragma: no cover - the app only offloads with one
            raise RuntimeError("no offloader is installed: MicroReady(offload=...)")
        publishers = self._publishers
        if publishers is None:
            publishers = self._publishers = WorkerThreads(
                offloader.threads, name=f"microready-offload-{offloader.name}")
        with self._lock:
            self._in_flight[key] = len(batch)
        publishers.submit(work)

    def _publish(self, key: object, batch: Sequence[OutgoingTask], origin: str,
                 consequence: str) -> Exception | None:
        """On a publisher thread: publish and count; the error, if it failed."""
        offloader = self._offloader
        if offloader is None:  # pragma: no cover - set before anything is submitted
            return RuntimeError("no offloader")
        error: Exception | None = None
        try:
            offloader.publish(batch)
        except Exception as exc:
            error = exc
            names = ", ".join(f"{task.name}[{task.task_id}]" for task in batch)
            logger.error(
                "could not enqueue %d task(s) to %s (%s), queued by %s; %s: %s: %s",
                len(batch), offloader.name, names, origin or "a request", consequence,
                type(exc).__name__, exc, exc_info=exc if logger.isEnabledFor(logging.DEBUG)
                else None,
            )
        with self._lock:
            if self._in_flight.pop(key, None) is not None:  # else: given up on
                if error is None:
                    self._offloaded += len(batch)
                else:
                    self._offload_failed += len(batch)
        return error

    def _give_up_publishing(self) -> None:
        """At the shutdown deadline: stop waiting for the batches in flight."""
        with self._lock:
            abandoned, self._in_flight = sum(self._in_flight.values()), {}
        if abandoned:
            logger.warning(
                "shutdown deadline: %d offloaded task(s) were still being published; "
                "whether the broker got them is unknown", abandoned)

    def _stop_publishers(self) -> None:
        publishers, self._publishers = self._publishers, None
        if publishers is not None:
            publishers.stop()  # each thread finishes the batch it has, then exits
