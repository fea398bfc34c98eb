"""Ceiling: a bare h11 + anyio server, the floor under microready's own stack.

It parses every request with h11 and answers ``Hello, World!``, with none of a
framework's routing, request objects or background machinery. Two modes:

* ``--mode h11``: h11 serialises the response (``Response``, ``Data``,
  ``EndOfMessage``), one write per response;
* ``--mode prebuilt``: the response is pre-built bytes with a cached ``Date``,
  written at once. h11 has no public way to record a response it did not
  write, so the next request gets a fresh ``h11.Connection`` fed with any
  bytes the old one had buffered.

``--loop asyncio`` (the default) or ``--loop uvloop`` (anyio's asyncio backend
on uvloop's event loop, as microready ``--loop uvloop`` runs) picks the loop.

Its I/O is microready's own (``RawSocketStream``: try the socket, wait with
``anyio.wait_readable`` only when it would block; every waiting connection
accepted per pass), so the gap to microready is the framework, not the I/O.

Serve: ``python -m benchmarks.apps.bare_h11 --port 8000 --mode prebuilt [--loop uvloop]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate
from functools import partial

import anyio
import anyio.abc
import h11

from microready.server.socket_stream import RawSocketStream

from ._cli import parse_port

BODY = b"Hello, World!"
HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"13")]


class DateCache:
    """The ``Date`` header, formatted once a second."""

    def __init__(self) -> None:
        self.second = -1
        self.value = b""

    def current(self) -> bytes:
        now = time.time()
        if int(now) != self.second:
            self.second = int(now)
            self.value = formatdate(now, usegmt=True).encode("ascii")
        return self.value


DATES = DateCache()


def h11_response(conn: h11.Connection) -> tuple[bytes, h11.Connection | None]:
    headers = [*HEADERS, (b"date", DATES.current()), (b"server", b"bare-h11")]
    out = conn.send(h11.Response(status_code=200, headers=headers))
    out += conn.send(h11.Data(data=BODY))
    out += conn.send(h11.EndOfMessage())
    if conn.our_state is not h11.DONE:  # the client asked to close (MUST_CLOSE)
        return out, None
    conn.start_next_cycle()
    return out, conn


_prebuilt: tuple[int, bytes] = (-1, b"")


def prebuilt_response(conn: h11.Connection) -> tuple[bytes, h11.Connection | None]:
    global _prebuilt
    date = DATES.current()
    if _prebuilt[0] != DATES.second:
        _prebuilt = (
            DATES.second,
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: 13\r\ndate: " + date + b"\r\nserver: bare-h11\r\n\r\n" + BODY,
        )
    fresh = h11.Connection(h11.SERVER)
    trailing, _closed = conn.trailing_data
    if trailing:
        fresh.receive_data(trailing)
    return _prebuilt[1], fresh


Responder = Callable[[h11.Connection], tuple[bytes, h11.Connection | None]]


async def handle(respond: Responder, sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = RawSocketStream(sock)
    conn = h11.Connection(h11.SERVER)
    async with stream:
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError:
                return
            if event is h11.NEED_DATA:
                try:
                    data = await stream.receive(65536)
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
                conn.receive_data(data)
            elif isinstance(event, h11.EndOfMessage):
                out, next_conn = respond(conn)
                try:
                    await stream.send(out)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return
                if next_conn is None:
                    return
                conn = next_conn
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return


async def serve(host: str, port: int, mode: str) -> None:
    respond = h11_response if mode == "h11" else prebuilt_response
    listener = socket.create_server((host, port), backlog=2048)
    listener.setblocking(False)
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]  # the loop really running
    print(f"bare h11 ({mode}, {loop}) listening on http://{host}:{port}", file=sys.stderr,
          flush=True)
    async with anyio.create_task_group() as connections:
        while True:
            await anyio.wait_readable(listener)
            with contextlib.suppress(BlockingIOError):
                while True:
                    sock, _ = listener.accept()
                    connections.start_soon(partial(handle, respond, sock))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_port("bare_h11", argv, modes=("h11", "prebuilt"), loops=("asyncio", "uvloop"))
    options = {"use_uvloop": args.loop == "uvloop"}  # anyio 4: uvloop.new_event_loop
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(serve, args.host, args.port, args.mode, backend="asyncio",
                  backend_options=options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
