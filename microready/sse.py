"""Server-Sent Events: ``EventSourceResponse`` and ``ServerSentEvent``, as in ``fastapi.sse``.

A path operation that ``yield``\\s, declared with
``response_class=EventSourceResponse``, streams each item as one event
(``text/event-stream``, the format browsers read with ``EventSource``)::

    @app.get("/items/stream", response_class=EventSourceResponse)
    async def stream_items():
        yield {"name": "Plumbus"}                                # data: {"name":"Plumbus"}
        yield ServerSentEvent(data=item, event="update", id="1")  # every field of an event

Plain items are sent as JSON in the ``data:`` field; a ``ServerSentEvent``
sets the other fields too (``raw_data`` sends a string as it is). FastAPI's
best practices come with it: a ``: ping`` comment after 15 seconds without an
event (so proxies keep the connection open, as the HTML standard's authoring
notes suggest), ``Cache-Control: no-cache`` and ``X-Accel-Buffering: no``.

This module knows the wire format and the keep-alive; turning an endpoint's
items into events is ``microready._streaming``'s job.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import anyio

from .responses import Background, ContentStream, StreamingResponse, iterate_content

__all__ = [
    "KEEPALIVE_COMMENT",
    "EventSourceResponse",
    "ServerSentEvent",
    "format_sse_event",
    "keep_alive",
]

# What a keep-alive ping looks like: a comment, which EventSource ignores.
KEEPALIVE_COMMENT = b": ping\n\n"

# The event stream's line ends: CRLF, LF or CR, and nothing else (HTML
# standard 9.2.5). str.splitlines() would also split at U+2028 and friends,
# which are legal inside a JSON string and must stay there.
_LINE_END = re.compile(r"\r\n|\r|\n")


def _single_line(value: str | None, field: str) -> str | None:
    if value is not None and ("\r" in value or "\n" in value):
        # A line break would end the field and let the rest forge another one.
        raise ValueError(f"SSE '{field}' must be a single line")
    return value


def _checked_id(value: str | None) -> str | None:
    if value is not None and "\0" in value:
        raise ValueError("SSE 'id' must not contain null characters")
    return _single_line(value, "id")


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """One event in the wire format, from data already serialized; ends with a blank line.

    ``event`` and ``id`` must be single lines (``id`` without NUL); a
    multi-line ``data_str`` or ``comment`` becomes one ``data:`` or ``:`` line
    per line.
    """
    _single_line(event, "event")
    _checked_id(id)
    lines: list[str] = []
    if comment is not None:
        lines.extend(f": {line}" for line in _LINE_END.split(comment))
    if event is not None:
        lines.append(f"event: {event}")
    if data_str is not None:
        lines.extend(f"data: {line}" for line in _LINE_END.split(data_str))
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


class ServerSentEvent:
    """One event, to ``yield`` from an ``EventSourceResponse`` path operation.

    ``ServerSentEvent(data=None, raw_data=None, event=None, id=None, retry=None,
    comment=None)``. ``data`` is always sent as JSON (a string too:
    ``data="hello"`` is ``data: "hello"``); ``raw_data`` is a string sent as
    it is. ``retry`` is the reconnection delay in milliseconds.
    """

    __slots__ = ("data", "raw_data", "event", "id", "retry", "comment")

    def __init__(
        self,
        *,
        data: Any = None,
        raw_data: str | None = None,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if data is not None and raw_data is not None:
            raise ValueError(
                "Cannot set both 'data' and 'raw_data' on the same ServerSentEvent. "
                "Use 'data' for JSON-serialized payloads or 'raw_data' for pre-formatted "
                "strings:\n"
                "    right: ServerSentEvent(data={'n': 1}) or ServerSentEvent(raw_data='[DONE]')"
            )
        if raw_data is not None and not isinstance(raw_data, str):
            raise TypeError(
                f"raw_data must be a str, not {type(raw_data).__name__}; "
                "pass other values as data= (sent as JSON)"
            )
        if retry is not None and (
            isinstance(retry, bool) or not isinstance(retry, int) or retry < 0
        ):
            raise ValueError(
                f"SSE 'retry' is a whole number of milliseconds, 0 or more, not {retry!r}"
            )
        self.data = data
        self.raw_data = raw_data
        self.event = _single_line(event, "event")
        self.id = _checked_id(id)
        self.retry = retry
        self.comment = comment

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like FastAPI's model

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__ if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response; as a route's ``response_class``, its items are events.

    Returned directly (``EventSourceResponse(chunks)``) it streams ``chunks``
    as they are, like ``StreamingResponse``, with the SSE headers. A subclass
    may change ``ping_interval`` (seconds without an event before a ping).
    """

    media_type = "text/event-stream"
    ping_interval: float = 15.0  # FastAPI's interval

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)
        mine = self.headers
        mine.setdefault("cache-control", "no-cache")  # a stream is never cached
        mine.setdefault("x-accel-buffering", "no")  # nor buffered by nginx


async def keep_alive(events: ContentStream, interval: float) -> AsyncGenerator[bytes, None]:
    """``events``, with ``KEEPALIVE_COMMENT`` after every ``interval`` seconds of silence.

    ``events`` must yield whole events (a ping between two halves of one would
    corrupt it). A producer task reads them, so the wait for the next one can
    time out without cancelling the app's generator, which would end it
    (FastAPI does the same). The producer never raises: an error is handed
    over and raised here, after the task group is closed, so it reaches the
    server as itself and cancels nothing the consumer is doing. Consumed in
    one task and closed with ``aclose()``, as the transport does.
    """
    if not math.isfinite(interval) or interval <= 0:
        raise ValueError(f"the ping interval must be a positive number of seconds, not {interval}")
    sender, receiver = anyio.create_memory_object_stream[tuple[bytes, BaseException | None]](1)

    async def produce() -> None:
        with sender:
            try:
                # iterate_content closes the app's generator, shielded.
                async with contextlib.aclosing(iterate_content(events)) as chunks:
                    async for chunk in chunks:
                        await sender.send((chunk, None))
            except Exception as exc:
                await sender.send((b"", exc))

    failure: BaseException | None = None
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(produce)
        try:
            while True:
                with anyio.move_on_after(interval) as waited:
                    try:
                        chunk, failure = await receiver.receive()
                    except anyio.EndOfStream:
                        break
                if waited.cancelled_caught:
                    yield KEEPALIVE_COMMENT
                    continue
                if failure is not None:
                    break
                yield chunk
        except GeneratorExit:
            pass  # the consumer stopped early: stop the producer below, then end
        finally:
            receiver.close()
            task_group.cancel_scope.cancel()
    if failure is not None:
        raise failure

