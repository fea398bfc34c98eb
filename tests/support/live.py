"""A real server in the test's event loop, and a raw-bytes client for it.

* ``serving(app, **options)`` runs ``Server(app, Config(port=0, **options))`` in a
  task group, waits for ``task_status.started()``, and on leaving the block
  requests a graceful shutdown that must end within ``SHUTDOWN_TIMEOUT``.
* ``connect(port)`` (or ``Serving.connect()``, which also speaks Unix sockets)
  gives a ``RawClient``: it sends bytes as written and reads responses with
  ``ResponseParser``, one at a time, so keep-alive and pipelining can be
  checked byte for byte.

Every wait on the network has a deadline (``IO_TIMEOUT``): a server that hangs
makes a test fail, never stall.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc

from microready.config import Config
from microready.server import Server

from .http import HTTPResponse, ResponseParser

__all__ = [
    "IO_TIMEOUT",
    "SHUTDOWN_TIMEOUT",
    "RawClient",
    "Serving",
    "connect",
    "exchange",
    "port_of",
    "queued_clients",
    "raw_exchange",
    "serving",
    "wait_until",
]

IO_TIMEOUT = 5.0  # the longest any single wait on the network may take in a test
SHUTDOWN_TIMEOUT = 10.0


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds; fail after ``IO_TIMEOUT`` (where no event exists)."""
    with anyio.fail_after(IO_TIMEOUT):
        while not condition():
            await anyio.sleep(0.005)


# What a peer's hang-up looks like from a receive: a clean EOF, or a reset.
_CLOSED = (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError)


# -- the client ---------------------------------------------------------------------------------


class RawClient:
    """One client connection: raw bytes out, parsed responses (or raw bytes) in."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.parser = ResponseParser()

    @property
    def buffer(self) -> bytes:
        """What has arrived and not been read yet."""
        return self.parser.buffer

    async def send(self, data: bytes) -> None:
        await self.stream.send(data)

    async def read_some(self) -> None:
        """Wait (with a deadline) for the next bytes; they join ``buffer``."""
        if self.parser.closed:
            raise AssertionError(f"the server closed the connection; received {self.buffer!r}")
        with anyio.fail_after(IO_TIMEOUT):
            try:
                data = await self.stream.receive()
            except _CLOSED:
                data = b""
        self.parser.feed(data)

    async def read_response(self, method: str = "GET") -> HTTPResponse:
        """The next whole response (to a request made with ``method``)."""
        with anyio.fail_after(IO_TIMEOUT):
            while (response := self.parser.next_response(method)) is None:
                await self.read_some()
        return response

    async def read_until(self, marker: bytes) -> bytes:
        """Raw bytes up to and including ``marker`` (say, the end of a ``100 Continue``)."""
        with anyio.fail_after(IO_TIMEOUT):
            while (data := self.parser.take_until(marker)) is None:
                await self.read_some()
        return data

    async def read_until_eof(self) -> bytes:
        """Everything not yet read, up to the server's close (a reset counts as one)."""
        with anyio.fail_after(IO_TIMEOUT):
            while not self.parser.closed:
                await self.read_some()
        return self.parser.take_all()


@contextlib.asynccontextmanager
async def connect(port: int, host: str = "127.0.0.1") -> AsyncIterator[RawClient]:
    with anyio.fail_after(IO_TIMEOUT):
        stream = await anyio.connect_tcp(host, port)
    async with stream:
        yield RawClient(stream)


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Connect, send ``data``, and return every byte the server sends until it closes."""
    async with connect(port) as client:
        await client.send(data)
        return await client.read_until_eof()


async def exchange(port: int, data: bytes, method: str = "GET") -> tuple[HTTPResponse, bytes]:
    """Connect, send ``data``, read one response, then read to EOF.

    Returns the response and whatever came after it (for a request the server
    must not answer, ``b""``).
    """
    async with connect(port) as client:
        await client.send(data)
        response = await client.read_response(method)
        return response, await client.read_until_eof()


@contextlib.asynccontextmanager
async def queued_clients(port: int, requests: Sequence[bytes]) -> AsyncIterator[list[RawClient]]:
    """One connection per request, all queued before the server accepts any.

    Blocking connects and sends never yield to the event loop the server runs
    in, so every connection waits in the kernel's accept queue, its request
    already sent, when the server next looks: a burst, made deterministic.
    """
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in requests]
    streams: list[anyio.abc.SocketStream] = []
    try:
        for sock, data in zip(socks, requests, strict=True):
            sock.sendall(data)
        for sock in socks:
            streams.append(await anyio.abc.SocketStream.from_socket(sock))
        yield [RawClient(stream) for stream in streams]
    finally:
        for stream in streams:
            await stream.aclose()
        for sock in socks[len(streams):]:
            sock.close()


# -- the server ---------------------------------------------------------------------------------


def port_of(address: str) -> int:
    """The port in an address as ``Server.serve`` reports it: ``http://127.0.0.1:PORT``."""
    return int(address.rsplit(":", 1)[1])


@dataclass
class Serving:
    """A running server: where it listens, and the ``Server`` itself."""

    server: Server
    address: str  # as the server reported it: "http://127.0.0.1:PORT" or "unix:PATH"

    @property
    def port(self) -> int:
        assert not self.address.startswith("unix:"), f"no port: {self.address}"
        return port_of(self.address)

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[RawClient]:
        """A client on this server's TCP port or Unix socket."""
        if not self.address.startswith("unix:"):
            async with connect(self.port) as client:
                yield client
            return
        with anyio.fail_after(IO_TIMEOUT):
            stream = await anyio.connect_unix(self.address.removeprefix("unix:"))
        async with stream:
            yield RawClient(stream)


@contextlib.asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[Serving]:
    """Serve ``app`` on 127.0.0.1, on a free port (unless ``options`` say where)."""
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
        try:
            yield Serving(server, addresses[0])
        finally:
            server.request_shutdown()
            try:
                with anyio.fail_after(SHUTDOWN_TIMEOUT):
                    await stopped.wait()
            except TimeoutError:
                raise AssertionError(
                    f"the server did not shut down within {SHUTDOWN_TIMEOUT}s"
                ) from None
