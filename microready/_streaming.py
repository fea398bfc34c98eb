"""A path operation that ``yield``\\s: its items become a streamed response.

The route's ``response_class`` picks how, as in FastAPI 0.134+ (chosen once,
at registration, by ``stream_maker``):

* not set (JSON): JSON Lines, ``application/jsonl``: each item as one line of
  compact JSON, by the rules of ``microready.encoders``;
* ``EventSourceResponse`` (or a subclass): Server-Sent Events, each item in
  the ``data:`` field of one event, or a ``ServerSentEvent`` as it says, with
  keep-alive pings (``microready.sse``);
* any other ``StreamingResponse`` subclass: the items as they are (``str`` or
  ``bytes``), like ``StreamingResponse(generator)``.

The endpoint's function is called with its parameters like any other; what it
returns, the generator, is iterated by the response while it is sent: an
async generator in the event loop, a sync one in a worker thread. NaN and
infinities become ``null`` in streamed items, as FastAPI streams them.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .encoders import UnencodableError, json_bytes, jsonable_encoder
from .responses import FileResponse, JSONResponse, Response, StreamingResponse
from .sse import EventSourceResponse, ServerSentEvent, format_sse_event, keep_alive

__all__ = ["StreamMaker", "stream_json", "stream_maker"]

# (the endpoint's generator, the status to send or None) -> the response
StreamMaker = Callable[[Any, int | None], Response]


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def stream_json(value: Any) -> bytes:
    """``value`` as compact JSON for a stream: one line, NaN and infinities as ``null``."""
    try:
        return json_bytes(value)
    except UnencodableError:
        raise
    except ValueError:  # a float JSON cannot write; only such an item pays for the walk
        return json_bytes(_finite(jsonable_encoder(value)))


def _sse_event(item: Any) -> bytes:
    if not isinstance(item, ServerSentEvent):
        return format_sse_event(data_str=stream_json(item).decode("utf-8"))
    if item.raw_data is not None:
        data: str | None = item.raw_data
    elif item.data is not None:
        data = stream_json(item.data).decode("utf-8")
    else:
        data = None
    return format_sse_event(data_str=data, event=item.event, id=item.id, retry=item.retry,
                            comment=item.comment)


def _jsonl_line(item: Any) -> bytes:
    return stream_json(item) + b"\n"


def _encoded(items: Any, encode: Callable[[Any], bytes]) -> AsyncIterator[bytes] | Iterator[bytes]:
    """``items`` with ``encode`` applied, of the same kind (a sync generator stays sync, so
    the response advances it, and encodes, in a worker thread)."""
    if inspect.isasyncgen(items):
        return _encoded_async(items, encode)
    return _encoded_sync(items, encode)


async def _encoded_async(items: Any, encode: Callable[[Any], bytes]) -> AsyncIterator[bytes]:
    try:
        async for item in items:
            yield encode(item)
    finally:
        await items.aclose()  # closing us closes the app's generator, finally blocks and all


def _encoded_sync(items: Any, encode: Callable[[Any], bytes]) -> Iterator[bytes]:
    try:
        for item in items:
            yield encode(item)
    finally:
        items.close()


def _json_lines(items: Any, status_code: int | None) -> Response:
    response = StreamingResponse(
        _encoded(items, _jsonl_line), status_code or 200, media_type="application/jsonl"
    )
    # As newer FastAPI does: a proxy must pass each line on as it comes.
    response.headers["x-accel-buffering"] = "no"
    return response


def _events(response_class: type[EventSourceResponse], items: Any,
            status_code: int | None) -> Response:
    # ping_interval is read per request, so a test (or an app) may change it.
    content = keep_alive(_encoded(items, _sse_event), response_class.ping_interval)
    if status_code is None:
        return response_class(content)
    return response_class(content, status_code=status_code)


def _raw(response_class: type[StreamingResponse], items: Any, status_code: int | None) -> Response:
    if status_code is None:
        return response_class(items)
    return response_class(items, status_code=status_code)


def stream_maker(response_class: type[Response], where: str, name: str) -> StreamMaker:
    """How a generator endpoint's items become a response of ``response_class``.

    Raises ``TypeError`` at registration for a class that cannot stream.
    """
    if issubclass(response_class, EventSourceResponse):
        return functools.partial(_events, response_class)
    if issubclass(response_class, FileResponse):
        pass  # a file is read from disk, not from a generator: refused below
    elif issubclass(response_class, StreamingResponse):
        return functools.partial(_raw, response_class)
    elif issubclass(response_class, JSONResponse):
        return _json_lines
    raise TypeError(
        f"{where}: {name} is a generator, so its items are streamed, but "
        f"response_class={response_class.__name__} cannot stream them. Leave response_class "
        f"out for JSON Lines, or pick a streaming class:\n"
        f"    right: response_class=EventSourceResponse  (Server-Sent Events)\n"
        f"    right: response_class=StreamingResponse    (str or bytes chunks as they are)"
    )
