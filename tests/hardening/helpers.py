"""Shared pieces of the hardening tests: one app, two requests, and a log capture.

The server, the raw client and the request builder are ``tests.support``'s;
every wait on the network there has a deadline.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest

from microready import MicroReady, PlainTextResponse, Request, StreamingResponse
from tests.support.http import request
from tests.support.live import connect

PING = request("GET", "/ping")

# A request that must never be answered when it follows a rejected one on the
# same connection: after a head we refuse to trust, nothing that follows is a request.
SMUGGLED = request("GET", "/smuggled")


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


async def get_ping(port: int) -> None:
    """One GET /ping on a fresh connection; it must answer 200 "pong"."""
    async with connect(port) as client:
        await client.send(PING)
        response = await client.read_response()
    assert (response.status, response.body) == (200, b'"pong"')


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
