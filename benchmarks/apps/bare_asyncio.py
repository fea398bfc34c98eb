"""Ceiling: a bare asyncio server that answers every request with fixed bytes.

No parsing at all: each ``\\r\\n\\r\\n`` that arrives (the end of a request head;
wrk sends no bodies to ``/plaintext``) gets the same pre-built response. Nothing
written in Python on plain asyncio can serve HTTP faster than this.

Serve: ``python -m benchmarks.apps.bare_asyncio --port 8000``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Sequence
from email.utils import formatdate

from ._cli import parse_port

RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 13\r\n"
    b"date: " + formatdate(usegmt=True).encode("ascii") + b"\r\n"
    b"server: bare-asyncio\r\n"
    b"\r\n"
    b"Hello, World!"
)


class FixedResponse(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffered = self.tail + data
        heads = buffered.count(b"\r\n\r\n")
        self.tail = buffered[buffered.rfind(b"\r\n\r\n") + 4 :] if heads else buffered
        if heads and self.transport is not None:
            self.transport.write(RESPONSE * heads)


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FixedResponse, host, port, backlog=2048)
    print(f"bare asyncio listening on http://{host}:{port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_port("bare_asyncio", argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
