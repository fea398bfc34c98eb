"""The app the access-log, JSON access-log and metrics tests serve, and a raw exchange.

``/endless`` streams until a write fails, so a test can cut a response short:
``streamed`` is set once the first chunk is out, ``stream_closed`` when the
generator's ``finally`` has run (the server closed the stream).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from anyio.abc import SocketAttribute

from microready import MicroReady, Response, StreamingResponse
from tests.support.live import connect


def make_app(streamed: anyio.Event, stream_closed: anyio.Event) -> MicroReady:
    app = MicroReady()

    @app.get("/items/{item_id}")
    async def read_item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    @app.post("/upload")
    async def upload() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/bad-length")
    def bad_length() -> Response:
        return Response(b"short", headers={"content-length": "100"})

    @app.get("/endless")
    async def endless() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                yield b"first"
                streamed.set()
                while True:  # until a write fails: the client has gone
                    yield b"x" * 65536
            finally:
                stream_closed.set()

        return StreamingResponse(chunks(), media_type="text/plain")

    return app


async def exchange_bytes(port: int, data: bytes) -> tuple[bytes, int]:
    """Send ``data``, read to EOF; the bytes received and the client's port."""
    async with connect(port) as client:
        client_port = client.stream.extra(SocketAttribute.local_port)
        await client.send(data)
        received = await client.read_until_eof()  # the line is logged before the close
    return received, client_port
