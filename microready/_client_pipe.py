"""The in-memory connection between TestClient and the real server core.

``pipe()`` gives the two ends of a byte stream: the test client writes request
bytes into one, and ``HTTPConnection`` (the server's own connection code)
reads them from the other, as it would from a socket.
"""

from __future__ import annotations

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["MemoryByteStream", "pipe"]


class MemoryByteStream(anyio.abc.ByteStream):
    """One end of an in-memory byte pipe."""

    def __init__(self, send: MemoryObjectSendStream[bytes],
                 receive: MemoryObjectReceiveStream[bytes]) -> None:
        self._send = send
        self._receive = receive
        self._buffer = b""

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self._buffer:
            try:
                self._buffer = await self._receive.receive()
            except anyio.EndOfStream:
                raise
            except anyio.ClosedResourceError:
                raise anyio.EndOfStream from None
        data, self._buffer = self._buffer[:max_bytes], self._buffer[max_bytes:]
        return data

    async def send(self, item: bytes) -> None:
        try:
            await self._send.send(bytes(item))
        except anyio.BrokenResourceError:
            raise anyio.BrokenResourceError from None

    async def send_eof(self) -> None:
        await self._send.aclose()

    async def aclose(self) -> None:
        await self._send.aclose()
        await self._receive.aclose()


def pipe() -> tuple[MemoryByteStream, MemoryByteStream]:
    to_server_send, to_server_receive = anyio.create_memory_object_stream[bytes](64)
    to_client_send, to_client_receive = anyio.create_memory_object_stream[bytes](64)
    client = MemoryByteStream(to_server_send, to_client_receive)
    server = MemoryByteStream(to_client_send, to_server_receive)
    return client, server
