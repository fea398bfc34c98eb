"""The application layer through the real server, over a real socket.

Each test starts ``Server`` on an ephemeral port in the test's event loop
(``tests.support.live``) and speaks raw HTTP/1.1 to it.
"""

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import pytest

from microready import BackgroundTasks, Depends, MicroReady, Request, StreamingResponse
from microready.server import ServerStartupError
from tests.support.http import request
from tests.support.live import connect, serving

pytestmark = pytest.mark.anyio


@dataclass
class Item:
    name: str
    price: float


def build_app(events: list[str]) -> MicroReady:
    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"prefix": "item-"}
        events.append("shutdown")

    app = MicroReady(lifespan=lifespan)

    def session() -> Iterator[str]:
        events.append("session open")
        yield "db"
        events.append("session close")

    @app.get("/items/{item_id}")
    async def read(item_id: int, request: Request, q: str | None = None) -> dict[str, Any]:
        return {"name": request.state.prefix + str(item_id), "q": q}

    @app.post("/items/", status_code=201)
    def create(item: Item, db: Annotated[str, Depends(session)],
               tasks: BackgroundTasks) -> dict[str, Any]:
        tasks.add_task(events.append, f"task for {item.name}")
        events.append("handler")
        return {"name": item.name, "db": db}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"one,", b"two"]), media_type="text/plain")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    return app


async def test_typed_routes_errors_and_head_over_a_socket() -> None:
    events: list[str] = []
    async with serving(build_app(events)) as running, connect(running.port) as client:
        assert events == ["startup"]
        await client.send(request("GET", "/items/7?q=x"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, {"name": "item-7", "q": "x"})
        assert response.header(b"content-type") == b"application/json"

        await client.send(request("GET", "/items/seven"))
        response = await client.read_response()
        assert response.status == 422
        assert response.json()["detail"][0]["type"] == "int_parsing"

        await client.send(request("DELETE", "/items/7"))
        response = await client.read_response()
        assert (response.status, response.header(b"allow"), response.json()) == (
            405, b"GET, HEAD", {"detail": "Method Not Allowed"}
        )

        await client.send(request("GET", "/missing"))
        response = await client.read_response()
        assert (response.status, response.json()) == (404, {"detail": "Not Found"})

        await client.send(request("HEAD", "/items/7"))
        response = await client.read_response("HEAD")  # a Content-Length, and no body
        length = str(len(b'{"name":"item-7","q":null}')).encode()
        assert (response.status, response.header(b"content-length")) == (200, length)

        await client.send(request("GET", "/stream"))
        response = await client.read_response()
        assert (response.status, response.header(b"transfer-encoding"), response.body) == (
            200, b"chunked", b"one,two"
        )
    assert events == ["startup", "shutdown"]




class Recorder(list[str]):
    """A list of events, appended from any thread, that a test can wait on."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._seen: dict[str, threading.Event] = {}

    def _event(self, name: str) -> threading.Event:
        with self._lock:
            return self._seen.setdefault(name, threading.Event())

    def append(self, event: str) -> None:
        super().append(event)
        self._event(event).set()

    async def wait_for(self, event: str) -> None:
        assert await anyio.to_thread.run_sync(self._event(event).wait, 10), event


async def test_body_yield_dependency_and_task_order_over_a_socket() -> None:
    events = Recorder()
    app = build_app(events)
    async with serving(app) as running, connect(running.port) as client:
        body = b'{"name": "Foo", "price": "2.5"}'
        await client.send(request("POST", "/items/", "Content-Type: application/json",
                                  f"Content-Length: {len(body)}", body=body))
        response = await client.read_response("POST")
        assert (response.status, response.json()) == (201, {"name": "Foo", "db": "db"})
        await events.wait_for("session close")
        assert events == ["startup", "session open", "handler", "task for Foo",
                          "session close"]


async def test_unhandled_error_is_a_plain_500_over_a_socket(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="microready.error"):
        async with serving(build_app([])) as running, connect(running.port) as client:
            await client.send(request("GET", "/boom"))
            response = await client.read_response()
    assert (response.status, response.body) == (500, b"Internal Server Error")
    assert response.header(b"content-type") == b"text/plain; charset=utf-8"
    assert any("kaboom" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_lifespan_startup_failure_stops_the_server() -> None:
    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        raise OSError("cannot reach the database")
        yield

    def leaves(exc: BaseException) -> list[BaseException]:
        inner = getattr(exc, "exceptions", None)  # the task group's exception group
        return [leaf for e in inner for leaf in leaves(e)] if inner else [exc]

    caught: list[BaseException] = []
    try:
        async with serving(MicroReady(lifespan=lifespan)):
            pass
    except Exception as exc:
        caught = leaves(exc)
    assert [type(e) for e in caught] == [ServerStartupError]
    assert "cannot reach the database" in str(caught[0])
