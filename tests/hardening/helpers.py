"""Shared pieces of the hardening tests: one app, and raw exchanges with deadlines.

Every wait on the network runs under ``anyio.fail_after``: a server that
wedges makes a test fail, never hang.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import anyio
import pytest

from microready import MicroReady, PlainTextResponse, Request, StreamingResponse
from tests.live_server import RawClient, connect
from tests.live_server import serving as serving  # re-exported for the tests here

IO_TIMEOUT = 5.0

# A request that must never be answered when it follows a rejected one on the
# same connection: after a head we refuse to trust, nothing that follows is a request.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n"


def make_app() -> MicroReady:
    app = MicroReady()

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    @app.get("/smuggled")
    async def smuggled() -> str:
        return "this must never be served"

    @app.post("/upload")
    async def upload() -> dict[str, bool]:  # never reads the request body
        return {"ok": True}

    @app.post("/echo")
    async def echo(request: Request) -> PlainTextResponse:  # reads the whole body
        return PlainTextResponse(await request.body())

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            yield b"one,"
            yield b"two"

        return StreamingResponse(parts(), media_type="text/plain")

    return app


def post(path: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_answer(client: RawClient) -> tuple[int, dict[str, str], bytes]:
    """The next response, or a failure that shows what the server sent instead."""
    try:
        return await client.read_response()
    except (anyio.EndOfStream, anyio.BrokenResourceError):
        raise AssertionError(
            f"the server closed without a (whole) response; received {client.buffer!r}"
        ) from None


async def read_head(client: RawClient) -> bytes:
    """The next response head alone (say, an interim ``100 Continue``)."""
    return await client._read_until(b"\r\n\r\n")


async def read_some(client: RawClient) -> None:
    """Whatever bytes arrive next, into ``client.buffer``."""
    await client._fill()


async def answer_then_eof(port: int, data: bytes) -> tuple[int, dict[str, str], bytes, bytes]:
    """Send ``data``, read one response, then read to EOF.

    Returns (status, headers, body, whatever came after the response).
    """
    with anyio.fail_after(IO_TIMEOUT):
        async with connect(port) as client:
            await client.send(data)
            status, headers, body = await read_answer(client)
            rest = await client.read_until_eof()
    return status, headers, body, rest


async def get_ping(port: int) -> None:
    """One GET /ping on a fresh connection; it must answer 200 "pong"."""
    with anyio.fail_after(IO_TIMEOUT):
        async with connect(port) as client:
            await client.send(b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
            status, _, body = await read_answer(client)
    assert (status, body) == (200, b'"pong"')


@contextmanager
def captured_logs(
    caplog: pytest.LogCaptureFixture, name: str, level: int = logging.DEBUG
) -> Iterator[list[logging.LogRecord]]:
    """Every record logged on ``name`` (and below it) during the block.

    The handler goes on that logger itself, so the capture holds even when
    ``configure_logging`` has stopped ``microready`` from propagating to root.
    """
    logger = logging.getLogger(name)
    saved = (logger.level, logger.disabled, logger.propagate)
    logger.setLevel(level)
    logger.disabled = False
    logger.propagate = False  # caplog's root handler would count each record twice
    caplog.clear()
    logger.addHandler(caplog.handler)
    try:
        yield caplog.records
    finally:
        logger.removeHandler(caplog.handler)
        logger.level, logger.disabled, logger.propagate = saved
