"""Helpers for the server tests: run a real server, and speak raw HTTP/1.1 to it.

* ``serving(app, **options)`` runs ``Server(app, Config(port=0, **options))`` in a
  task group and stops it gracefully on exit.
* ``ResponseParser`` reads responses off a byte buffer with h11 playing the
  client, with no I/O, so the connection-core tests can use it too.
* ``ResponseReader`` does the same off a live stream, one response at a time,
  so keep-alive and pipelining can be checked byte for byte.

Every network wait has a deadline (``IO_TIMEOUT``): a server that hangs makes a
test fail, never stall.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import h11

from microready.config import Config
from microready.server import Server

__all__ = [
    "IO_TIMEOUT",
    "HTTPResponse",
    "ResponseParser",
    "ResponseReader",
    "Serving",
    "connect",
    "parse_response",
    "raw_exchange",
    "raw_header_names",
    "read_until_eof",
    "serving",
]

IO_TIMEOUT = 5.0  # the longest any single wait on the network may take in a test
SHUTDOWN_TIMEOUT = 10.0


# -- running a server ----------------------------------------------------------------


@dataclass
class Serving:
    """A running server: where it listens, and the ``Server`` itself."""

    server: Server
    address: str  # as the server reported it: "http://127.0.0.1:PORT" or "unix:PATH"
    host: str | None
    port: int | None
    uds: str | None

    async def connect(self) -> anyio.abc.SocketStream:
        with anyio.fail_after(IO_TIMEOUT):
            if self.uds is not None:
                return await anyio.connect_unix(self.uds)
            assert self.host is not None and self.port is not None
            return await anyio.connect_tcp(self.host, self.port)


@contextlib.asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[Serving]:
    """Serve ``app`` on 127.0.0.1, on a free port, for the length of the block."""
    server = Server(app, Config(**{"port": 0, **options}))
    stopped = anyio.Event()

    async def serve(*, task_status: anyio.abc.TaskStatus[list[str]]) -> None:
        try:
            await server.serve(task_status=task_status)
        finally:
            stopped.set()

    async with anyio.create_task_group() as task_group:
        with anyio.fail_after(IO_TIMEOUT):
            addresses: list[str] = await task_group.start(serve)
        assert len(addresses) == 1, addresses
        address = addresses[0]
        if address.startswith("unix:"):
            handle = Serving(server, address, None, None, address.removeprefix("unix:"))
        else:
            host, _, port = address.removeprefix("http://").rpartition(":")
            handle = Serving(server, address, host, int(port), None)
        try:
            yield handle
        finally:
            server.request_shutdown()
            with anyio.fail_after(SHUTDOWN_TIMEOUT):
                await stopped.wait()


# -- raw sockets ---------------------------------------------------------------------


async def connect(port: int, host: str = "127.0.0.1") -> anyio.abc.SocketStream:
    with anyio.fail_after(IO_TIMEOUT):
        return await anyio.connect_tcp(host, port)


async def read_until_eof(stream: anyio.abc.ByteReceiveStream) -> bytes:
    """Everything the peer sends until it closes (a reset counts as a close)."""
    chunks: list[bytes] = []
    with anyio.fail_after(IO_TIMEOUT):
        while True:
            try:
                chunks.append(await stream.receive())
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
                return b"".join(chunks)


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Connect, send ``data``, and return every byte the server sends until it closes."""
    async with await connect(port) as stream:
        await stream.send(data)
        return await read_until_eof(stream)


# -- parsing responses -----------------------------------------------------------------


@dataclass
class HTTPResponse:
    status: int
    reason: bytes
    http_version: bytes
    headers: list[tuple[bytes, bytes]]  # lower-case names, in the order sent
    body: bytes
    informational: list[int] = field(default_factory=list)  # e.g. [100]

    def header(self, name: bytes) -> bytes | None:
        """The value of the one header ``name``; fails if it was sent twice."""
        values = self.header_values(name)
        assert len(values) <= 1, f"{name!r} sent {len(values)} times: {values}"
        return values[0] if values else None

    def header_values(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


class ResponseParser:
    """Parses a server's responses out of a byte buffer, one at a time, with h11.

    h11 needs to know the method a response answers (a response to HEAD has no
    body), so each call names it. A fresh client-side ``h11.Connection`` parses
    each response; the bytes after it stay buffered for the next one.
    """

    def __init__(self) -> None:
        self.buffer = b""
        self.closed = False  # the server closed its side

    def feed(self, data: bytes) -> None:
        if data:
            self.buffer += data
        else:
            self.closed = True

    def next_response(self, method: str = "GET") -> HTTPResponse | None:
        """The next complete response, or None if more bytes are needed."""
        client = h11.Connection(h11.CLIENT)
        client.send(h11.Request(method=method, target="/", headers=[("Host", "test")]))
        client.send(h11.EndOfMessage())
        if self.buffer:  # h11 takes b"" to mean the peer closed
            client.receive_data(self.buffer)
        if self.closed:
            client.receive_data(b"")
        informational: list[int] = []
        head: h11.Response | None = None
        body: list[bytes] = []
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                if self.closed:
                    raise AssertionError(
                        f"the server closed the connection mid-response; got {self.buffer!r}"
                    )
                return None
            if isinstance(event, h11.InformationalResponse):
                informational.append(event.status_code)
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                self.buffer = client.trailing_data[0]
                return HTTPResponse(
                    status=head.status_code,
                    reason=bytes(head.reason),
                    http_version=bytes(head.http_version),
                    headers=[(bytes(k), bytes(v)) for k, v in head.headers],
                    body=b"".join(body),
                    informational=informational,
                )
            else:
                raise AssertionError(f"unexpected event {event!r} in {self.buffer!r}")


def raw_header_names(data: bytes) -> list[bytes]:
    """The lower-cased field names of the first response head in ``data``, as sent.

    h11 folds a repeated Content-Length into one, so duplicates are checked here.
    """
    head = data.split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:]]


def parse_response(data: bytes, method: str = "GET") -> HTTPResponse:
    """The one complete response in ``data`` (nothing may follow it)."""
    parser = ResponseParser()
    parser.feed(data)
    response = parser.next_response(method)
    assert response is not None, f"incomplete response: {data!r}"
    assert parser.buffer == b"", f"bytes after the response: {parser.buffer!r}"
    return response


class ResponseReader:
    """Reads responses off a live client stream, one at a time."""

    def __init__(self, stream: anyio.abc.ByteReceiveStream) -> None:
        self.stream = stream
        self.parser = ResponseParser()

    async def _receive(self) -> None:
        try:
            data = await self.stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
            data = b""
        if not data and self.parser.closed:
            raise AssertionError("the server closed the connection; expected more bytes")
        self.parser.feed(data)

    async def read_response(self, method: str = "GET") -> HTTPResponse:
        with anyio.fail_after(IO_TIMEOUT):
            while True:
                response = self.parser.next_response(method)
                if response is not None:
                    return response
                await self._receive()

    async def read_until(self, marker: bytes) -> bytes:
        """Raw bytes up to and including ``marker`` (e.g. the end of a 100 Continue)."""
        with anyio.fail_after(IO_TIMEOUT):
            while marker not in self.parser.buffer:
                await self._receive()
        head, _, rest = self.parser.buffer.partition(marker)
        self.parser.buffer = rest
        return head + marker

    async def expect_close(self) -> bytes:
        """Wait (with a deadline) until the server closes; returns any bytes that came first."""
        with anyio.fail_after(IO_TIMEOUT):
            while not self.parser.closed:
                await self._receive()
        extra, self.parser.buffer = self.parser.buffer, b""
        return extra
