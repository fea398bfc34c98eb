"""FastAPI tutorial, "Server-Sent Events" (docs_src/server_sent_events/tutorial001-005).

Only the import lines differ from FastAPI's code (``fastapi.sse`` is
``microready.sse``; ``app = MicroReady()``). The answers checked are the ones
FastAPI's own docs tests check.
"""

from collections.abc import AsyncIterable, Iterable
from typing import Annotated

import pytest
from pydantic import BaseModel

from microready import Header, MicroReady
from microready.sse import EventSourceResponse, ServerSentEvent

from .helpers import client_for


def data_lines(text: str) -> list[str]:
    return [line for line in text.strip().split("\n") if line.startswith("data: ")]


def lines_starting(text: str, prefix: str) -> list[str]:
    return [line for line in text.strip().split("\n") if line.startswith(prefix)]


# -- tutorial001: each yielded item is one event ---------------------------------------------
app001 = MicroReady()


class Item(BaseModel):
    name: str
    description: str | None


items = [
    Item(name="Plumbus", description="A multi-purpose household device."),
    Item(name="Portal Gun", description="A portal opening device."),
    Item(name="Meeseeks Box", description="A box that summons a Meeseeks."),
]


@app001.get("/items/stream", response_class=EventSourceResponse)
async def sse_items() -> AsyncIterable[Item]:
    for item in items:
        yield item


@app001.get("/items/stream-no-async", response_class=EventSourceResponse)
def sse_items_no_async() -> Iterable[Item]:
    for item in items:  # noqa: UP028
        yield item


@app001.get("/items/stream-no-annotation", response_class=EventSourceResponse)
async def sse_items_no_annotation():  # type: ignore[no-untyped-def]
    for item in items:
        yield item


@app001.get("/items/stream-no-async-no-annotation", response_class=EventSourceResponse)
def sse_items_no_async_no_annotation():  # type: ignore[no-untyped-def]
    for item in items:  # noqa: UP028
        yield item


@pytest.mark.parametrize("path", [
    "/items/stream",
    "/items/stream-no-async",
    "/items/stream-no-annotation",
    "/items/stream-no-async-no-annotation",
])
def test001_stream_items(anyio_backend: str, path: str) -> None:
    response = client_for(app001, anyio_backend).get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert len(data_lines(response.text)) == 3
    assert data_lines(response.text)[0] == (
        'data: {"name":"Plumbus","description":"A multi-purpose household device."}'
    )


# -- tutorial002: ServerSentEvent sets event, id, retry and comments -------------------------
app002 = MicroReady()


class PricedItem(BaseModel):
    name: str
    price: float


priced_items = [
    PricedItem(name="Plumbus", price=32.99),
    PricedItem(name="Portal Gun", price=999.99),
    PricedItem(name="Meeseeks Box", price=49.99),
]


@app002.get("/items/stream", response_class=EventSourceResponse)
async def stream_items002() -> AsyncIterable[ServerSentEvent]:
    yield ServerSentEvent(comment="stream of item updates")
    for i, item in enumerate(priced_items):
        yield ServerSentEvent(data=item, event="item_update", id=str(i + 1), retry=5000)


def test002_stream_items(anyio_backend: str) -> None:
    response = client_for(app002, anyio_backend).get("/items/stream")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    text = response.text
    lines = text.strip().split("\n")
    assert lines[0] == ": stream of item updates"
    assert lines_starting(text, "event: ") == ["event: item_update"] * 3
    assert len(data_lines(text)) == 3
    assert lines_starting(text, "id: ") == ["id: 1", "id: 2", "id: 3"]
    assert lines_starting(text, "retry: ") == ["retry: 5000"] * 3


# -- tutorial003: raw_data is sent as it is ----------------------------------------------------
app003 = MicroReady()


@app003.get("/logs/stream", response_class=EventSourceResponse)
async def stream_logs() -> AsyncIterable[ServerSentEvent]:
    logs = [
        "2025-01-01 INFO  Application started",
        "2025-01-01 DEBUG Connected to database",
        "2025-01-01 WARN  High memory usage detected",
    ]
    for log_line in logs:
        yield ServerSentEvent(raw_data=log_line)


def test003_stream_logs(anyio_backend: str) -> None:
    response = client_for(app003, anyio_backend).get("/logs/stream")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert data_lines(response.text) == [
        "data: 2025-01-01 INFO  Application started",
        "data: 2025-01-01 DEBUG Connected to database",
        "data: 2025-01-01 WARN  High memory usage detected",
    ]


# -- tutorial004: resuming with Last-Event-ID --------------------------------------------------
app004 = MicroReady()


@app004.get("/items/stream", response_class=EventSourceResponse)
async def stream_items004(
    last_event_id: Annotated[int | None, Header()] = None,
) -> AsyncIterable[ServerSentEvent]:
    start = last_event_id + 1 if last_event_id is not None else 0
    for i, item in enumerate(priced_items):
        if i < start:
            continue
        yield ServerSentEvent(data=item, id=str(i))


@pytest.mark.parametrize(("last_event_id", "ids"), [
    (None, ["id: 0", "id: 1", "id: 2"]),
    ("0", ["id: 1", "id: 2"]),
    ("1", ["id: 2"]),
])
def test004_resume(anyio_backend: str, last_event_id: str | None, ids: list[str]) -> None:
    headers = {} if last_event_id is None else {"last-event-id": last_event_id}
    response = client_for(app004, anyio_backend).get("/items/stream", headers=headers)
    assert response.status_code == 200, response.text
    assert len(data_lines(response.text)) == len(ids)
    assert lines_starting(response.text, "id: ") == ids


# -- tutorial005: SSE over POST ------------------------------------------------------------------
app005 = MicroReady()


class Prompt(BaseModel):
    text: str


@app005.post("/chat/stream", response_class=EventSourceResponse)
async def stream_chat(prompt: Prompt) -> AsyncIterable[ServerSentEvent]:
    words = prompt.text.split()
    for word in words:
        yield ServerSentEvent(data=word, event="token")
    yield ServerSentEvent(raw_data="[DONE]", event="done")


def test005_stream_chat(anyio_backend: str) -> None:
    response = client_for(app005, anyio_backend).post("/chat/stream", json={"text": "hello world"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert lines_starting(response.text, "event: ") == ["event: token", "event: token",
                                                        "event: done"]
    assert data_lines(response.text) == ['data: "hello"', 'data: "world"', "data: [DONE]"]


def test_best_practices_headers(anyio_backend: str) -> None:
    response = client_for(app001, anyio_backend).get("/items/stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
