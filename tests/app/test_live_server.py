"""The application layer through the real server, over a real socket.

Each test starts ``Server`` on an ephemeral port in the test's event loop
(``tests.live_server``) and speaks raw HTTP/1.1 to it.
"""

import json
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
from tests.live_server import RawClient, connect, serving

pytestmark = pytest.mark.anyio


@dataclass
class Item:
    name: str
    price: float


async def _read_head(client: RawClient) -> tuple[int, dict[str, str], bytes]:
    """A HEAD answer has a Content-Length but no body: read the head only."""
    head = await client._read_until(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
    return int(status_line.split()[1]), headers, b""


def raw(method: str, target: str, body: bytes = b"", *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", *headers]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


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
        await client.send(raw("GET", "/items/7?q=x"))
        status, headers, body = await client.read_response()
        assert (status, json.loads(body)) == (200, {"name": "item-7", "q": "x"})
        assert headers["content-type"] == "application/json"

        await client.send(raw("GET", "/items/seven"))
        status, _, body = await client.read_response()
        assert status == 422
        assert json.loads(body)["detail"][0]["type"] == "int_parsing"

        await client.send(raw("DELETE", "/items/7"))
        status, headers, body = await client.read_response()
        assert (status, headers["allow"], json.loads(body)) == (
            405, "GET, HEAD", {"detail": "Method Not Allowed"}
        )

        await client.send(raw("GET", "/missing"))
        status, _, body = await client.read_response()
        assert (status, json.loads(body)) == (404, {"detail": "Not Found"})

        await client.send(raw("HEAD", "/items/7"))
        status, headers, body = await _read_head(client)
        assert (status, headers["content-length"]) == (200, str(len(b'{"name":"item-7","q":null}')))

        await client.send(raw("GET", "/stream"))
        status, headers, body = await client.read_response()
        assert (status, headers["transfer-encoding"], body) == (200, "chunked", b"one,two")
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
        await client.send(raw("POST", "/items/", b'{"name": "Foo", "price": "2.5"}',
                              "Content-Type: application/json"))
        status, _, body = await client.read_response()
        assert (status, json.loads(body)) == (201, {"name": "Foo", "db": "db"})
        await events.wait_for("session close")
        assert events == ["startup", "session open", "handler", "task for Foo",
                          "session close"]


async def test_unhandled_error_is_a_plain_500_over_a_socket(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="microready.error"):
        async with serving(build_app([])) as running, connect(running.port) as client:
            await client.send(raw("GET", "/boom"))
            status, headers, body = await client.read_response()
    assert (status, body) == (500, b"Internal Server Error")
    assert headers["content-type"] == "text/plain; charset=utf-8"
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
