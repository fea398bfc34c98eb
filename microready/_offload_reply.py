"""Where offloaded tasks leave a request's ``Reply``: ``MicroReady(offload=...)``.

``MicroReady.handle`` hands its request here when the app has an offloader.
The offloader is made current while the request is handled, so ``add_task``
recognises (and checks) the functions it offloads (``background/offload.py``).
Then, with the ``Reply`` built and nothing sent yet:

* the ``before_response`` tasks are published, all in one batch, and awaited:
  the status line goes out only once the broker has them. If it does not take
  them, the request answers 503 through the exception handlers (an
  ``HTTPException(503)``); the failure is logged and nothing of the request
  runs later, not even its in-process tasks (its ``yield`` teardown still does);
* the ``after_response`` tasks leave the list and are handed to the publisher
  threads from ``on_sent``: once the response is written, or could not be,
  the moment in-process tasks start;
* the rest stay in ``reply.tasks`` for the runner, as before.

This is the app layer, not the server's transport, so it works the same under
uvicorn or any ASGI server. Task ids are ``<request uuid>-<position in the
task list>``. A ``StreamingResponse``'s generator may add tasks while it
streams, after ``handle`` returned: those are claimed and published in
``on_sent`` too (so after the response, whatever their ``when``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._exchange import Reply
from .background.offload import (
    Offloader,
    OffloadFailed,
    OutgoingTask,
    current_offloader,
    new_request_id,
)
from .background.tasks import BackgroundTask
from .exceptions import HTTPException
from .requests import Request
from .responses import StreamingResponse

if TYPE_CHECKING:
    from .app import MicroReady

__all__ = ["offloading_reply"]

background_logger = logging.getLogger("microready.background")


async def offloading_reply(app: MicroReady, offloader: Offloader, request: Request) -> Reply:
    """``app.handle(request)`` with ``offloader`` current, then its tasks sorted out."""
    var = current_offloader()
    token = var.set(offloader)
    try:
        reply = await app.handle(request)
    finally:
        var.reset(token)
    tasks = reply.tasks
    streaming = isinstance(reply.response, StreamingResponse)
    if not streaming and not any(task.offload is not None for task in tasks):
        return reply
    request_id = new_request_id()
    before: list[OutgoingTask] = []
    after: list[OutgoingTask] = []
    kept: list[BackgroundTask[Any]] = []
    for position, task in enumerate(tasks):
        offloaded = task.offload
        if offloaded is None:
            kept.append(task)
            continue
        outgoing = OutgoingTask(task.func, task.name, task.args, task.kwargs,
                                f"{request_id}-{position}")
        (before if offloaded.when == "before_response" else after).append(outgoing)
    origin = f"{request.method} {request.url.path}"
    if before:
        try:
            await app.background.publish_now(before, origin)
        except OffloadFailed:
            # Logged by the publisher; the handlers answer as for any HTTPException.
            response, error = await app._answer(request, HTTPException(503))
            return Reply(response, [], reply.cleanup, error, reply.on_sent)
    queued = len(tasks)
    tasks[:] = kept  # in place: a streaming generator still appends to this list
    if after or streaming:
        reply.on_sent = _publish_when_sent(app, offloader, reply, after, origin, request_id,
                                           queued, len(kept))
    return reply


def _publish_when_sent(app: MicroReady, offloader: Offloader, reply: Reply,
                       after: list[OutgoingTask], origin: str, request_id: str,
                       queued: int, kept: int) -> Any:
    """The ``on_sent`` that hands the ``after_response`` batch to the publisher threads."""
    previous = reply.on_sent
    tasks = reply.tasks

    def on_sent() -> None:
        if previous is not None:
            previous()
        batch = after
        late = tasks[kept:]  # added by a streaming generator after handle() returned
        if late:
            batch = [*after]
            del tasks[kept:]
            for position, task in enumerate(late, start=queued):
                if not offloader.is_offloaded(task.func):
                    tasks.append(task)  # in-process, as always
                    continue
                try:
                    offloader.check_args(task.func, task.args, task.kwargs, "add_task")
                except TypeError:  # too late to raise it in the generator
                    background_logger.exception(
                        "dropped background task %s (queued by %s while streaming)",
                        task.name, origin)
                    continue
                batch.append(OutgoingTask(task.func, offloader.task_name(task.func), task.args,
                                          task.kwargs, f"{request_id}-{position}"))
        if batch:
            app.background.publish_later(batch, origin)

    return on_sent
