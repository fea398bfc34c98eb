"""RawSocketStream, the server's byte stream, over real sockets (asyncio and trio)."""

from __future__ import annotations

import select
import socket
import struct
from collections.abc import Iterator

import anyio
import anyio.lowlevel
import pytest
from anyio.abc import SocketAttribute

from microready.server.socket_stream import RawSocketStream
from tests.support.live import IO_TIMEOUT

pytestmark = pytest.mark.anyio


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(server side, client side) of one TCP connection on 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    try:
        yield server, client
    finally:
        server.close()
        client.close()


async def test_receive_returns_what_the_peer_sent_then_end_of_stream(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = tcp_pair
    stream = RawSocketStream(server)
    with anyio.fail_after(IO_TIMEOUT):
        async with anyio.create_task_group() as task_group:
            received = []

            async def read_all() -> None:
                while True:
                    try:
                        received.append(await stream.receive())
                    except anyio.EndOfStream:
                        return

            task_group.start_soon(read_all)
            await anyio.lowlevel.checkpoint()  # the reader is now waiting for bytes
            client.sendall(b"hello, ")
            client.sendall(b"world")
            client.shutdown(socket.SHUT_WR)
    assert b"".join(received) == b"hello, world"
    await stream.aclose()


async def test_a_send_larger_than_the_socket_buffer_arrives_whole(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    # 8 MiB cannot fit in the kernel's buffers: the send must wait for room
    # (wait_writable) and go on from where the partial write stopped.
    server, client = tcp_pair
    payload = bytes(range(256)) * (8 * 1024 * 4)
    stream = RawSocketStream(server)
    peer = RawSocketStream(client.dup())
    received = bytearray()

    async def read_exactly() -> None:
        while len(received) < len(payload):
            received.extend(await peer.receive())

    with anyio.fail_after(IO_TIMEOUT):
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(read_exactly)
            await stream.send(payload)
    assert received == payload
    await peer.aclose()
    await stream.aclose()


async def test_a_reset_connection_is_a_broken_resource(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = tcp_pair
    # SO_LINGER with a zero timeout makes close() send a RST, not a FIN.
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
    stream = RawSocketStream(server)
    with anyio.fail_after(IO_TIMEOUT), pytest.raises(anyio.BrokenResourceError):
        await stream.receive()
    await stream.aclose()


async def test_a_closed_stream_refuses_to_send_or_receive(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    stream = RawSocketStream(tcp_pair[0])
    await stream.aclose()
    await stream.aclose()  # a second close is harmless
    with pytest.raises(anyio.ClosedResourceError):
        await stream.send(b"x")
    with pytest.raises(anyio.ClosedResourceError):
        await stream.receive()


async def test_closing_wakes_a_task_waiting_to_receive(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    stream = RawSocketStream(tcp_pair[0])
    outcome: list[type[BaseException]] = []

    async def wait_for_bytes() -> None:
        try:
            await stream.receive()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            outcome.append(type(exc))

    with anyio.fail_after(IO_TIMEOUT):
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(wait_for_bytes)
            await anyio.lowlevel.checkpoint()  # it is now waiting: no bytes will come
            await stream.aclose()
    assert outcome == [anyio.ClosedResourceError]


async def test_a_receive_that_finds_bytes_waiting_still_lets_others_run(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    # A client that sends its next request before we are back must not keep
    # the event loop to itself: each receive that did not wait yields once.
    server, client = tcp_pair
    client.sendall(b"abc")
    stream = RawSocketStream(server)
    others_ran = 0

    async def other_connection() -> None:
        nonlocal others_ran
        others_ran += 1

    # Block (no await: nothing else runs) until the bytes are in the socket.
    assert select.select([server], [], [], IO_TIMEOUT)[0] == [server]
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(other_connection)
        assert await stream.receive(1) == b"a"
        assert await stream.receive(1) == b"b"
        assert others_ran == 1
    await stream.aclose()


async def test_many_sends_that_never_wait_still_let_others_run(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    stream = RawSocketStream(tcp_pair[0])
    others_ran = 0

    async def other_connection() -> None:
        nonlocal others_ran
        others_ran += 1

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(other_connection)
        for _ in range(40):  # a few bytes each: the kernel takes them at once
            await stream.send(b"x")
        assert others_ran == 1
    await stream.aclose()


async def test_socket_attributes(tcp_pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = tcp_pair
    stream = RawSocketStream(server)
    assert stream.extra(SocketAttribute.raw_socket) is server
    assert stream.extra(SocketAttribute.family) == socket.AF_INET
    assert stream.extra(SocketAttribute.remote_address) == client.getsockname()
    assert stream.extra(SocketAttribute.remote_port) == client.getsockname()[1]
    assert stream.extra(SocketAttribute.local_address) == client.getpeername()
    assert stream.extra(SocketAttribute.local_port) == client.getpeername()[1]
    await stream.aclose()


def test_a_large_write_is_handed_to_the_kernel_in_slices_of_whole_views() -> None:
    from microready.server.socket_stream import _first_bytes

    head, body = memoryview(b"h" * 10), memoryview(b"b" * 100)
    assert [bytes(v) for v in _first_bytes([head, body], 50)] == [b"h" * 10, b"b" * 40]
    assert [bytes(v) for v in _first_bytes([head, body], 10)] == [b"h" * 10]
    assert [bytes(v) for v in _first_bytes([head, body], 500)] == [b"h" * 10, b"b" * 100]
    sliced = _first_bytes([body], 30)[0]
    assert sliced.obj is body.obj  # a view of the app's body, not a copy
