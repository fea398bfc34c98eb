"""Server-Sent Events: ``microready.sse``, FastAPI's ``fastapi.sse``.

The wire format (``format_sse_event``, ``ServerSentEvent``), the route
behaviour (each item of a generator endpoint is one event, with FastAPI's
headers) and the keep-alive ping. The ping is tested with time the test
controls: a tiny interval, and a generator that waits on an event the test
sets only once it has seen a ping, so nothing races a sleep.
"""

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import pytest

from microready import Header, MicroReady, Router
from microready.sse import (
    KEEPALIVE_COMMENT,
    EventSourceResponse,
    ServerSentEvent,
    format_sse_event,
    keep_alive,
)

from .helpers import call, client_for


@dataclass
class Item:
    name: str
    price: float


# -- the wire format -----------------------------------------------------------------------


def test_format_orders_fields_as_fastapi_and_ends_with_a_blank_line() -> None:
    assert format_sse_event(data_str='{"a":1}') == b'data: {"a":1}\n\n'
    assert format_sse_event(
        data_str="x", event="update", id="7", retry=5000, comment="note"
    ) == b": note\nevent: update\ndata: x\nid: 7\nretry: 5000\n\n"
    assert format_sse_event() == b"\n\n"


def test_multi_line_data_and_comments_become_one_line_each() -> None:
    assert format_sse_event(data_str="one\ntwo\r\nthree\rfour") == (
        b"data: one\ndata: two\ndata: three\ndata: four\n\n"
    )
    assert format_sse_event(comment="a\nb") == b": a\n: b\n\n"
    # Only CR and LF end a line in an event stream; U+2028 stays inside the data.
    assert format_sse_event(data_str="x\u2028y") == "data: x\u2028y\n\n".encode()
    # An empty string is still a data field: the client gets an event with "".
    assert format_sse_event(data_str="") == b"data: \n\n"


@pytest.mark.parametrize("field", ["event", "id"])
@pytest.mark.parametrize("value", ["first\nsecond", "first\rsecond", "first\r\nsecond"])
def test_event_and_id_must_be_single_lines(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"SSE '{field}' must be a single line"):
        ServerSentEvent(data="x", **{field: value})
    with pytest.raises(ValueError, match=f"SSE '{field}' must be a single line"):
        format_sse_event(data_str="safe", **{field: value})


def test_id_refuses_nul_and_retry_must_be_a_non_negative_int() -> None:
    with pytest.raises(ValueError, match="null"):
        ServerSentEvent(data="x", id="has\0null")
    with pytest.raises(ValueError, match="null"):
        format_sse_event(id="has\0null")
    for retry in (-1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="'retry' is a whole number of milliseconds"):
            ServerSentEvent(data="x", retry=retry)  # type: ignore[arg-type]
    assert ServerSentEvent(retry=0).retry == 0


def test_data_and_raw_data_are_exclusive() -> None:
    with pytest.raises(ValueError, match="Cannot set both 'data' and 'raw_data'") as info:
        ServerSentEvent(data="json", raw_data="raw")
    assert "right: ServerSentEvent(data={'n': 1}) or ServerSentEvent(raw_data='[DONE]')" in str(
        info.value
    )
    with pytest.raises(TypeError, match="raw_data must be a str, not int"):
        ServerSentEvent(raw_data=3)  # type: ignore[arg-type]


def test_server_sent_event_equality_and_repr() -> None:
    event = ServerSentEvent(data={"a": 1}, event="e")
    assert event == ServerSentEvent(data={"a": 1}, event="e")
    assert event != ServerSentEvent(data={"a": 1})
    assert event != "e"
    assert repr(event) == "ServerSentEvent(data={'a': 1}, event='e')"


# -- a generator endpoint as an event stream -------------------------------------------------

app = MicroReady()
items = [Item("Plumbus", 32.99), Item("Portal Gun", 999.99)]


@app.get("/items", response_class=EventSourceResponse)
async def sse_items() -> AsyncIterator[Item]:
    for item in items:
        yield item


@app.get("/sync", response_class=EventSourceResponse)
def sse_sync() -> Iterator[dict[str, int]]:
    yield {"n": 1}
    yield {"n": 2}


@app.get("/events", response_class=EventSourceResponse)
async def sse_events() -> AsyncIterator[Any]:
    yield ServerSentEvent(data="hello", event="greeting", id="1")
    yield ServerSentEvent(data={"key": "value"}, event="json-data", id="2")
    yield ServerSentEvent(comment="just a comment")
    yield ServerSentEvent(data="retry-test", retry=5000)
    yield ServerSentEvent(raw_data="<div>html fragment</div>\nsecond line", event="html")
    yield ServerSentEvent(data={"x": float("nan")})
    yield "plain string"


@app.post("/resume", response_class=EventSourceResponse, status_code=201)
async def sse_resume(
    last_event_id: Annotated[int | None, Header()] = None,
) -> AsyncIterator[ServerSentEvent]:
    start = last_event_id + 1 if last_event_id is not None else 0
    for i in range(start, 3):
        yield ServerSentEvent(data=i, id=str(i))


router = Router()


@router.get("/events", response_class=EventSourceResponse)
async def router_events() -> AsyncIterator[dict[str, str]]:
    yield {"msg": "hello"}


app.include_router(router, prefix="/api")


def test_items_are_data_events_with_fastapis_headers(anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/items")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.text == (
        'data: {"name":"Plumbus","price":32.99}\n\n'
        'data: {"name":"Portal Gun","price":999.99}\n\n'
    )
    assert client_for(app, anyio_backend).get("/sync").text == 'data: {"n":1}\n\ndata: {"n":2}\n\n'
    assert client_for(app, anyio_backend).get("/api/events").text == 'data: {"msg":"hello"}\n\n'


def test_server_sent_events_set_every_field(anyio_backend: str) -> None:
    text = client_for(app, anyio_backend).get("/events").text
    assert text.split("\n\n") == [
        'event: greeting\ndata: "hello"\nid: 1',  # data is JSON, strings too
        'event: json-data\ndata: {"key":"value"}\nid: 2',
        ": just a comment",
        'data: "retry-test"\nretry: 5000',
        "event: html\ndata: <div>html fragment</div>\ndata: second line",  # raw, not quoted
        "data: {\"x\":null}",
        'data: "plain string"',
        "",
    ]


def test_parameters_and_status_apply_to_event_streams(anyio_backend: str) -> None:
    client = client_for(app, anyio_backend)
    response = client.post("/resume", headers={"Last-Event-ID": "0"})
    assert response.status_code == 201
    assert response.text == "data: 1\nid: 1\n\ndata: 2\nid: 2\n\n"
    assert client.post("/resume", headers={"Last-Event-ID": "x"}).status_code == 422


def test_an_event_source_response_returned_directly_streams_as_is(anyio_backend: str) -> None:
    direct = MicroReady()

    @direct.get("/")
    async def handler() -> EventSourceResponse:
        async def chunks() -> AsyncIterator[str]:
            yield "data: a"  # the app frames the events itself
            yield "\n\n"

        return EventSourceResponse(chunks(), headers={"Cache-Control": "no-store"})

    response = client_for(direct, anyio_backend).get("/")
    assert response.text == "data: a\n\n"
    assert response.headers["cache-control"] == "no-store"  # the app's header wins
    assert response.headers["x-accel-buffering"] == "no"


# -- keep-alive ------------------------------------------------------------------------------


class FastPings(EventSourceResponse):
    ping_interval = 0.001


def test_the_default_interval_is_fastapis() -> None:
    assert EventSourceResponse.ping_interval == 15.0
    assert KEEPALIVE_COMMENT == b": ping\n\n"


def waiting_app(release: Any, sync: bool = False) -> MicroReady:
    """An event stream that yields one event, waits for ``release``, then yields another."""
    waiting = MicroReady()

    if sync:
        @waiting.get("/", response_class=FastPings)
        def stream_sync() -> Iterator[dict[str, int]]:
            yield {"n": 1}
            assert release.wait(timeout=5)
            yield {"n": 2}
    else:
        @waiting.get("/", response_class=FastPings)
        async def stream() -> AsyncIterator[dict[str, int]]:
            yield {"n": 1}
            await release.wait()
            yield {"n": 2}

    return waiting


@pytest.mark.anyio
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_a_ping_is_sent_while_the_generator_is_idle(sync: bool) -> None:
    release: Any = threading.Event() if sync else anyio.Event()
    reply = await call(waiting_app(release, sync), "GET", "/")
    first, second = b'data: {"n":1}\n\n', b'data: {"n":2}\n\n'
    received: list[bytes] = []
    with anyio.fail_after(5):
        async with contextlib.aclosing(reply.response.iterate()) as chunks:  # type: ignore[attr-defined]
            async for chunk in chunks:
                received.append(chunk)
                if chunk == KEEPALIVE_COMMENT and first in received:
                    release.set()  # only after a ping that followed the first event
    assert [chunk for chunk in received if chunk != KEEPALIVE_COMMENT] == [first, second]
    between = received[received.index(first) + 1:received.index(second)]
    assert between and set(between) == {KEEPALIVE_COMMENT}


def test_no_ping_when_events_come_faster_than_the_interval(anyio_backend: str) -> None:
    assert b": ping" not in client_for(app, anyio_backend).get("/items").content


@pytest.mark.anyio
async def test_keep_alive_hands_over_the_generators_error() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"data: 1\n\n"
        raise LookupError("gone")

    received: list[bytes] = []
    with pytest.raises(LookupError, match="gone"):  # itself, not in an exception group
        async for chunk in keep_alive(failing(), 60):
            received.append(chunk)
    assert received == [b"data: 1\n\n"]


@pytest.mark.anyio
async def test_keep_alive_closes_the_generator_when_the_consumer_stops() -> None:
    closed = anyio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"data: x\n\n"
        finally:
            closed.set()

    with anyio.fail_after(5):
        async with contextlib.aclosing(keep_alive(endless(), 60)) as chunks:
            assert await chunks.__anext__() == b"data: x\n\n"
        await closed.wait()


@pytest.mark.parametrize("interval", [0, -1, float("inf"), float("nan")])
def test_the_interval_must_be_positive_and_finite(interval: float) -> None:
    async def run() -> None:
        async for _ in keep_alive([b""], interval):
            pass  # pragma: no cover - refused before the first item

    with pytest.raises(ValueError, match="ping interval must be a positive number"):
        anyio.run(run)
