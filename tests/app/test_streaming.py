"""A path operation that yields: its items stream as JSON Lines, or as its response_class says.

FastAPI 0.134+'s rules: no response_class -> ``application/jsonl``, one compact
JSON value per line; a ``StreamingResponse`` subclass -> the chunks as they
are. Parameters and dependencies are solved as for any endpoint, the
generator is iterated while the response is sent, a sync one in a worker
thread.
"""

import contextlib
import json
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import pytest

from microready import (
    BackgroundTasks,
    Depends,
    HTMLResponse,
    JSONResponse,
    MicroReady,
    PlainTextResponse,
    Response,
    Router,
    StreamingResponse,
)
from microready._inject import Mode
from microready._streaming import stream_json
from microready.responses import FileResponse

from .helpers import call, client_for


@dataclass
class Item:
    name: str
    price: float


def lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines()]


# -- JSON Lines ------------------------------------------------------------------------


def test_async_and_sync_generators_stream_json_lines(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/async")
    async def stream_async(count: int = 2) -> AsyncIterable[Item]:
        for n in range(count):
            yield Item(f"item {n}", n + 0.5)

    @app.get("/sync")
    def stream_sync() -> Iterable[dict[str, Any]]:
        yield {"a": 1}
        yield {"b": [1, 2]}

    client = client_for(app, anyio_backend)
    response = client.get("/async?count=3")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert response.headers["x-accel-buffering"] == "no"
    assert "content-length" not in response.headers  # streamed: chunked encoding
    assert response.text == (
        '{"name":"item 0","price":0.5}\n{"name":"item 1","price":1.5}\n'
        '{"name":"item 2","price":2.5}\n'
    )
    assert lines(client.get("/sync").text) == [{"a": 1}, {"b": [1, 2]}]
    assert client.get("/async?count=0").text == ""


def test_items_use_the_encoders_rules_and_non_finite_floats_become_null(
    anyio_backend: str,
) -> None:
    app = MicroReady()

    @app.get("/")
    async def stream() -> AsyncIterator[Any]:
        yield "text with a\nnewline"  # escaped inside the JSON string: still one line
        yield {"inf": float("inf"), "nested": [float("nan"), 1.5]}
        yield None
        yield {3}  # a set is a list, as in jsonable_encoder

    response = client_for(app, anyio_backend).get("/")
    assert response.text.split("\n") == [
        '"text with a\\nnewline"', '{"inf":null,"nested":[null,1.5]}', "null", "[3]", "",
    ]


def test_stream_json_refuses_what_no_rule_encodes() -> None:
    with pytest.raises(TypeError, match="cannot encode object"):
        stream_json(object())
    assert stream_json({"x": float("-inf")}) == b'{"x":null}'


def test_parameters_dependencies_and_the_response_parameter_apply(anyio_backend: str) -> None:
    app = MicroReady()

    async def add_stream_headers(response: Response) -> None:
        response.headers["X-Stream-Source"] = "inventory"

    def prefix(p: str = "n") -> str:
        return p

    @app.get("/items/{count}", dependencies=[Depends(add_stream_headers)], status_code=201)
    async def stream(count: int, label: Annotated[str, Depends(prefix)]) -> AsyncIterator[str]:
        for n in range(count):
            yield f"{label}{n}"

    client = client_for(app, anyio_backend)
    response = client.get("/items/2?p=x")
    assert response.status_code == 201
    assert response.headers["x-stream-source"] == "inventory"
    assert lines(response.text) == ["x0", "x1"]
    invalid = client.get("/items/two")  # solved before the generator is made: a plain 422
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/json"


def test_a_sync_generator_runs_in_worker_threads(anyio_backend: str) -> None:
    app = MicroReady()

    async def loop_thread() -> int:
        return threading.get_ident()

    @app.get("/")
    def stream(loop: Annotated[int, Depends(loop_thread)]) -> Iterator[dict[str, bool]]:
        for _ in range(3):
            yield {"in_loop_thread": threading.get_ident() == loop}

    assert lines(client_for(app, anyio_backend).get("/").text) == [{"in_loop_thread": False}] * 3


def test_background_tasks_and_yield_dependencies_outlive_the_stream(anyio_backend: str) -> None:
    events: list[str] = []
    app = MicroReady()

    def session() -> Iterator[str]:
        events.append("session open")
        yield "db"
        events.append("session closed")

    @app.get("/")
    async def stream(tasks: BackgroundTasks,
                     db: Annotated[str, Depends(session)]) -> AsyncIterator[str]:
        tasks.add_task(events.append, "task")
        for n in range(2):
            events.append(f"item {n} from {db}")
            yield str(n)
        events.append("generator done")

    response = client_for(app, anyio_backend).get("/")
    assert lines(response.text) == ["0", "1"]
    assert events == [
        "session open", "item 0 from db", "item 1 from db", "generator done", "task",
        "session closed",
    ]


def test_no_parameters_and_router_prefixes(anyio_backend: str) -> None:
    app = MicroReady()
    router = Router(prefix="/items")

    @router.get("/stream")
    def stream() -> Iterator[int]:
        yield from (1, 2)

    app.include_router(router, prefix="/v1")
    route = app.routes[0]
    assert route.path == "/v1/items/stream"
    assert route.plan.mode is Mode.NO_PARAMS and route.plan.streams
    assert client_for(app, anyio_backend).get("/v1/items/stream").text == "1\n2\n"


# -- raw streaming with a StreamingResponse class --------------------------------------------


class CSVStreamingResponse(StreamingResponse):
    media_type = "text/csv"


def test_a_streaming_response_class_sends_the_chunks_as_they_are(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/text", response_class=StreamingResponse)
    async def text() -> AsyncIterator[str]:
        yield "one,"
        yield "two"

    @app.get("/csv", response_class=CSVStreamingResponse, status_code=202)
    def csv() -> Iterator[bytes]:
        yield b"a,b\n"
        yield b"1,2\n"

    client = client_for(app, anyio_backend)
    response = client.get("/text")
    assert (response.status_code, response.text) == (200, "one,two")
    assert "content-type" not in response.headers  # StreamingResponse has no media type
    response = client.get("/csv")
    assert (response.status_code, response.content) == (202, b"a,b\n1,2\n")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


def test_default_response_class_of_the_app_applies_to_generators(anyio_backend: str) -> None:
    app = MicroReady(default_response_class=PlainTextResponse)
    with pytest.raises(TypeError, match="response_class=PlainTextResponse cannot stream"):
        @app.get("/")
        def stream() -> Iterator[str]:
            yield "x"

    streaming = MicroReady(default_response_class=StreamingResponse)

    @streaming.get("/")
    def raw() -> Iterator[str]:
        yield "x"

    assert client_for(streaming, anyio_backend).get("/").text == "x"


@pytest.mark.parametrize("response_class", [HTMLResponse, PlainTextResponse, FileResponse])
def test_a_class_that_cannot_stream_is_refused_at_registration(
    response_class: type[Response],
) -> None:
    app = MicroReady()

    def chunks() -> Iterator[bytes]:
        yield b"x"

    with pytest.raises(TypeError) as info:
        app.get("/items", response_class=response_class)(chunks)
    message = str(info.value)
    assert message.startswith(f"GET /items: chunks is a generator, so its items are streamed, "
                              f"but response_class={response_class.__name__} cannot")
    assert "right: response_class=EventSourceResponse" in message
    assert "right: response_class=StreamingResponse" in message


def test_an_explicit_json_response_class_streams_json_lines(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/", response_class=JSONResponse)
    async def stream() -> AsyncIterator[int]:
        yield 1

    response = client_for(app, anyio_backend).get("/")
    assert (response.headers["content-type"], response.text) == ("application/jsonl", "1\n")


# -- the generator's life ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_stopping_early_closes_the_apps_async_generator() -> None:
    closed = anyio.Event()
    app = MicroReady()

    @app.get("/")
    async def endless() -> AsyncIterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    reply = await call(app, "GET", "/")
    async with contextlib.aclosing(reply.response.iterate()) as chunks:  # type: ignore[attr-defined]
        assert await chunks.__anext__() == b"0\n"
        assert await chunks.__anext__() == b"1\n"
    assert closed.is_set()  # closed when the consumer stopped, not when collected


@pytest.mark.anyio
async def test_stopping_early_closes_the_apps_sync_generator() -> None:
    closed = threading.Event()
    app = MicroReady()

    @app.get("/")
    def endless() -> Iterator[int]:
        try:
            yield from range(10**9)
        finally:
            closed.set()

    reply = await call(app, "GET", "/")
    async with contextlib.aclosing(reply.response.iterate()) as chunks:  # type: ignore[attr-defined]
        assert await chunks.__anext__() == b"0\n"
    assert closed.is_set()


@pytest.mark.anyio
async def test_an_error_in_the_generator_surfaces_from_the_stream() -> None:
    app = MicroReady()

    @app.get("/")
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise LookupError("gone")

    reply = await call(app, "GET", "/")
    assert reply.response.status_code == 200  # the head is decided before any item exists
    received: list[bytes] = []
    with pytest.raises(LookupError, match="gone"):
        async for chunk in reply.response.iterate():  # type: ignore[attr-defined]
            received.append(chunk)
    assert received == [b"1\n"]
