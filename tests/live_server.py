"""A real server in the test's event loop, and a raw-bytes client (shared by the test packages)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc

from microready._exchange import ServedApp
from microready.config import Config
from microready.server import Server


@dataclass
class Running:
    server: Server
    port: int


SHUTDOWN_TIMEOUT = 10.0


@asynccontextmanager
async def serving(app: ServedApp, **options: Any) -> AsyncIterator[Running]:
    """Serve ``app`` on 127.0.0.1, on a free port, for the length of the block.

    Leaving the block requests a graceful shutdown, which must end within
    SHUTDOWN_TIMEOUT: a server that wedges on the way out fails the test.
    """
    server = Server(app, Config(port=0, **options))
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as task_group:
            addresses = await task_group.start(server.serve)
            port = int(addresses[0].rsplit(":", 1)[1])
            try:
                yield Running(server, port)
            finally:
                server.request_shutdown()
                scope.deadline = anyio.current_time() + SHUTDOWN_TIMEOUT
    if scope.cancelled_caught:
        raise AssertionError(f"the server did not shut down within {SHUTDOWN_TIMEOUT}s")


def request_bytes(method: str, target: str, *, close: bool = False) -> bytes:
    headers = b"Host: test\r\n" + (b"Connection: close\r\n" if close else b"")
    if method in ("POST", "PUT"):
        headers += b"Content-Length: 0\r\n"
    return f"{method} {target} HTTP/1.1\r\n".encode() + headers + b"\r\n"


class RawClient:
    """A client socket that reads responses off the wire, pipelined or not.

    Responses are parsed by hand (status line, headers, Content-Length or
    chunked body) so several can be read from one buffer.
    """

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def send(self, data: bytes) -> None:
        await self.stream.send(data)

    async def _fill(self) -> None:
        chunk = await self.stream.receive()
        self.buffer += chunk

    async def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            await self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    async def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    async def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """One whole response: (status, headers with lower-case names, body)."""
        head = await self._read_until(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            return status, headers, await self._read_exactly(int(headers["content-length"]))
        body = b""
        if headers.get("transfer-encoding") == "chunked":
            while True:
                size = int((await self._read_until(b"\r\n")).split(b";")[0], 16)
                chunk = await self._read_exactly(size + 2)
                if size == 0:
                    return status, headers, body
                body += chunk[:-2]
        return status, headers, body

    async def read_until_eof(self) -> bytes:
        data, self.buffer = self.buffer, b""
        while True:
            try:
                data += await self.stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return data


@asynccontextmanager
async def connect(port: int) -> AsyncIterator[RawClient]:
    stream = await anyio.connect_tcp("127.0.0.1", port)
    async with stream:
        yield RawClient(stream)


@asynccontextmanager
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
