"""The runner's offloading half: publishing on threads of its own, merged.

An engine's publish call blocks (Celery has no asyncio client), so it never
runs on the event loop, and never on the threads that run sync handlers or
sync tasks either: a slow broker must not take threads from requests or from
in-process tasks.

A request's consecutive offloaded tasks are one *publication*. A publisher
thread takes the next one and, with it, every other publication already
waiting (up to ``MERGE_LIMIT`` tasks), and hands them to the engine in one
``publish`` call: under load, many requests share one broker round trip (one
Redis pipeline for Celery) and one wake-up of the loop, rather than each paying
for its own. Their requests share the outcome too: when the call fails, each
of them is told so. The loop is told of the end without a thread waiting on it
(``call_soon_threadsafe`` on asyncio, ``run_sync_soon`` on trio).

* ``publish_now`` is ``before_response``: the request waits for the broker,
  and a failure raises ``OffloadFailed`` (the app answers 503);
* ``publish_later`` is ``after_response``: handed off once the response is
  out; a failure is logged and counted.

Publications in flight keep ``join()`` (so the graceful shutdown) waiting; at
the shutdown deadline they are given up on, and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from .offload import Offloader, OffloadFailed, OutgoingTask

__all__ = ["MERGE_LIMIT", "OffloadHost", "Publication"]

logger = logging.getLogger("microready.background")

CallSoon = Callable[[Callable[[], Any]], Any]

#: The most tasks one ``publish`` call carries: bounds how long one broker
#: round trip takes, and how many requests share its outcome.
MERGE_LIMIT = 128


def _call_soon_on_this_loop() -> CallSoon:
    """A thread-safe ``call_soon`` for the running event loop (asyncio or trio)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio, so trio (the only other backend anyio runs)
        import trio

        return trio.lowlevel.current_trio_token().run_sync_soon
    return loop.call_soon_threadsafe


class Publication:
    """One request's consecutive offloaded tasks, on their way to the broker.

    ``on_done(error)`` runs on the request's event loop once the broker has
    them (``error`` is None) or has failed to take them.
    """

    __slots__ = ("tasks", "origin", "consequence", "call_soon", "on_done")

    def __init__(self, tasks: Sequence[OutgoingTask], origin: str, consequence: str,
                 call_soon: CallSoon, on_done: Callable[[Exception | None], None]) -> None:
        self.tasks = tasks
        self.origin = origin
        self.consequence = consequence  # for the log line: "the client gets 503"
        self.call_soon = call_soon
        self.on_done = on_done


_STOP = None


class _PublisherThreads:
    """``threads`` daemon threads that take waiting publications in merged groups."""

    def __init__(self, threads: int, name: str,
                 publish: Callable[[list[Publication]], None]) -> None:
        self._queue: queue.SimpleQueue[Publication | None] = queue.SimpleQueue()
        self._publish = publish
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True)
            for number in range(1, threads + 1)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, publication: Publication) -> None:
        self._queue.put(publication)

    def stop(self) -> None:
        """Let each thread finish the group it has, then exit. Does not wait."""
        for _ in self._threads:
            self._queue.put(_STOP)

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group, size, stopping = [first], len(first.tasks), False
            while size < MERGE_LIMIT:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:  # this thread's stop: publish what it holds first
                    stopping = True
                    break
                group.append(more)
                size += len(more.tasks)
            try:
                self._publish(group)
            except BaseException:  # _publish reports its own errors; a last resort
                logger.exception("unexpected error in a publisher thread")
            if stopping:
                return


class OffloadHost:
    """The offloading half of ``BackgroundRunner``; see the module docstring."""

    _lock: threading.Lock
    _offloaded: int
    _offload_failed: int
    _in_flight: dict[object, int]  # counters.py: a publication being published -> its size
    _offloader: Offloader | None = None
    _publishers: _PublisherThreads | None = None

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
        failure: list[Exception] = []

        def on_done(error: Exception | None) -> None:
            if error is not None:
                failure.append(error)
            done.set()

        self._submit(Publication(batch, origin, "the client gets 503",
                                 _call_soon_on_this_loop(), on_done))
        await done.wait()
        if failure:
            raise OffloadFailed(str(failure[0])) from failure[0]

    def publish_later(self, batch: Sequence[OutgoingTask], origin: str) -> None:
        """Hand ``batch`` to a publisher thread; ``join()`` waits for it."""

        def on_done(error: Exception | None) -> None:
            if not self._in_flight:
                self._on_progress()

        self._submit(Publication(batch, origin, "the response was already sent",
                                 _call_soon_on_this_loop(), on_done))

    def _submit(self, publication: Publication) -> None:
        """Count ``publication`` as in flight and queue it for a publisher thread."""
        offloader = self._offloader
        if offloader is None:  # pragma: no cover - the app only offloads with one
            raise RuntimeError("no offloader is installed: MicroReady(offload=...)")
        publishers = self._publishers
        if publishers is None:
            publishers = self._publishers = _PublisherThreads(
                offloader.threads, f"microready-offload-{offloader.name}", self._publish)
        with self._lock:
            self._in_flight[publication] = len(publication.tasks)
        publishers.submit(publication)

    def _publish(self, group: list[Publication]) -> None:
        """On a publisher thread: publish ``group`` in one call, count, report."""
        offloader = self._offloader
        if offloader is None:  # pragma: no cover - set before anything is submitted
            return
        tasks = [task for publication in group for task in publication.tasks]
        error: Exception | None = None
        try:
            offloader.publish(tasks)
        except Exception as exc:
            error = exc
            self._log_failure(offloader, group, exc)
        with self._lock:
            for publication in group:
                if self._in_flight.pop(publication, None) is None:
                    continue  # given up on at the shutdown deadline
                if error is None:
                    self._offloaded += len(publication.tasks)
                else:
                    self._offload_failed += len(publication.tasks)
        _report(group, error)

    @staticmethod
    def _log_failure(offloader: Offloader, group: list[Publication], exc: Exception) -> None:
        others = len(group) - 1
        shared = f" (published with {others} other request(s))" if others else ""
        for publication in group:
            names = ", ".join(f"{task.name}[{task.task_id}]" for task in publication.tasks)
            logger.error(
                "could not enqueue %d task(s) to %s (%s), queued by %s%s; %s: %s: %s",
                len(publication.tasks), offloader.name, names,
                publication.origin or "a request", shared, publication.consequence,
                type(exc).__name__, exc,
                exc_info=exc if logger.isEnabledFor(logging.DEBUG) else None,
            )

    def _give_up_publishing(self) -> None:
        """At the shutdown deadline: stop waiting for the publications in flight."""
        with self._lock:
            abandoned, self._in_flight = sum(self._in_flight.values()), {}
        if abandoned:
            logger.warning(
                "shutdown deadline: %d offloaded task(s) were still being published; "
                "whether the broker got them is unknown", abandoned)

    def _stop_publishers(self) -> None:
        publishers, self._publishers = self._publishers, None
        if publishers is not None:
            publishers.stop()  # each thread finishes the group it has, then exits


def _report(group: list[Publication], error: Exception | None) -> None:
    """Run each publication's ``on_done`` on its loop: one wake-up per loop."""
    by_loop: dict[CallSoon, list[Callable[[Exception | None], None]]] = {}
    for publication in group:
        by_loop.setdefault(publication.call_soon, []).append(publication.on_done)
    for call_soon, callbacks in by_loop.items():
        def run_all(callbacks: list[Callable[[Exception | None], None]] = callbacks) -> None:
            for callback in callbacks:
                callback(error)

        with contextlib.suppress(Exception):  # the loop has gone away: nobody waits
            call_soon(run_all)
