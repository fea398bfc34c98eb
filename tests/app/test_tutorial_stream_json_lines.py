"""FastAPI tutorial, "Stream JSON Lines" (docs_src/stream_json_lines/tutorial001-002).

Only the import lines differ from FastAPI's code (microready has no ``FastAPI``
name: ``app = MicroReady()``). The answers checked are the ones FastAPI's own
docs tests check.
"""

import json
from collections.abc import AsyncIterable, Iterable

import pytest
from pydantic import BaseModel

from microready import Depends, MicroReady, Response

from .helpers import client_for

# tutorial001
app = MicroReady()


class Item(BaseModel):
    name: str
    description: str | None


items = [
    Item(name="Plumbus", description="A multi-purpose household device."),
    Item(name="Portal Gun", description="A portal opening device."),
    Item(name="Meeseeks Box", description="A box that summons a Meeseeks."),
]


@app.get("/items/stream")
async def stream_items() -> AsyncIterable[Item]:
    for item in items:
        yield item


@app.get("/items/stream-no-async")
def stream_items_no_async() -> Iterable[Item]:
    for item in items:  # noqa: UP028
        yield item


@app.get("/items/stream-no-annotation")
async def stream_items_no_annotation():  # type: ignore[no-untyped-def]
    for item in items:
        yield item


@app.get("/items/stream-no-async-no-annotation")
def stream_items_no_async_no_annotation():  # type: ignore[no-untyped-def]
    for item in items:  # noqa: UP028
        yield item


# tutorial002: a dependency sets a header on the streamed response
app002 = MicroReady()


async def add_stream_headers(response: Response) -> None:
    response.headers["X-Stream-Source"] = "inventory"


@app002.get("/items/stream", dependencies=[Depends(add_stream_headers)])
async def stream_items002() -> AsyncIterable[Item]:
    for item in items:
        yield item


expected_items = [
    {"name": "Plumbus", "description": "A multi-purpose household device."},
    {"name": "Portal Gun", "description": "A portal opening device."},
    {"name": "Meeseeks Box", "description": "A box that summons a Meeseeks."},
]

PATHS = [
    "/items/stream",
    "/items/stream-no-async",
    "/items/stream-no-annotation",
    "/items/stream-no-async-no-annotation",
]


@pytest.mark.parametrize("path", PATHS)
def test_stream_items(anyio_backend: str, path: str) -> None:
    response = client_for(app, anyio_backend).get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jsonl"
    lines = [json.loads(line) for line in response.text.strip().splitlines()]
    assert lines == expected_items


@pytest.mark.parametrize("path", PATHS)
def test_stream_disables_proxy_buffering(anyio_backend: str, path: str) -> None:
    response = client_for(app, anyio_backend).get(path)
    assert response.status_code == 200, response.text
    assert response.headers["x-accel-buffering"] == "no"


def test_stream_items_with_custom_header(anyio_backend: str) -> None:
    response = client_for(app002, anyio_backend).get("/items/stream")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jsonl"
    assert response.headers["x-stream-source"] == "inventory"
    lines = [json.loads(line) for line in response.text.strip().splitlines()]
    assert lines == expected_items
