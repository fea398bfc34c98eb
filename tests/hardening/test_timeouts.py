"""Timeouts: a fixed deadline for the head, a stall timer for the body, idle keep-alive.

The live tests use small timeouts and wait for the server's reaction under a
fixed deadline (``anyio.fail_after``), never a sleep that races it. The core
tests at the bottom pass explicit ``now`` values: no socket, no event loop.
"""

from __future__ import annotations

import anyio
import pytest

from microready.server.protocol import (
    NEED_DATA,
    BodyReceived,
    ConnectionCore,
    Limits,
    RequestReceived,
)
from tests.support.http import request
from tests.support.live import RawClient, connect, serving

from .helpers import PING, make_app

TIMEOUT = 0.3
REACTION = 3.0  # the server must react within this long after its deadline passed


async def trickle(client: RawClient, data: bytes, every: float = 0.05) -> None:
    """Send ``data`` a byte at a time, until it is all sent or the server hangs up."""
    for byte in data:
        try:
            await client.send(bytes([byte]))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return
        await anyio.sleep(every)


# -- through the server -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_client_that_says_nothing_gets_408_after_the_head_timeout() -> None:
    async with serving(make_app(), timeout_request_head=TIMEOUT) as running:
        started = anyio.current_time()
        async with connect(running.port) as client:
            with anyio.fail_after(TIMEOUT + REACTION):
                response = await client.read_response()
                elapsed = anyio.current_time() - started
                assert await client.read_until_eof() == b""
    assert response.status == 408
    assert response.header(b"connection") == b"close"
    assert elapsed >= TIMEOUT * 0.9, f"408 after {elapsed:.3f}s, before the deadline"


@pytest.mark.anyio
async def test_slowloris_gets_408_at_the_fixed_head_deadline() -> None:
    # A byte every 50 ms would keep any per-read timer alive forever; the head
    # deadline is fixed, so the 408 comes on time all the same.
    endless_head = b"GET /ping HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 1000
    async with serving(make_app(), timeout_request_head=TIMEOUT) as running:
        started = anyio.current_time()
        async with connect(running.port) as client, anyio.create_task_group() as task_group:
            task_group.start_soon(trickle, client, endless_head)
            with anyio.fail_after(TIMEOUT + REACTION):
                response = await client.read_response()
            elapsed = anyio.current_time() - started
            task_group.cancel_scope.cancel()
    assert response.status == 408
    assert response.header(b"connection") == b"close"
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 1.0, f"408 after {elapsed:.3f}s"


@pytest.mark.anyio
async def test_slowloris_on_a_kept_alive_connection_gets_408_from_its_first_byte() -> None:
    async with serving(
        make_app(), timeout_request_head=TIMEOUT, timeout_keep_alive=10.0
    ) as running, connect(running.port) as client:
        with anyio.fail_after(REACTION):
            await client.send(PING)
            assert (await client.read_response()).status == 200
        async with anyio.create_task_group() as task_group:
            started = anyio.current_time()
            task_group.start_soon(trickle, client, PING[:-2] * 50)
            with anyio.fail_after(TIMEOUT + REACTION):
                response = await client.read_response()
            elapsed = anyio.current_time() - started
            task_group.cancel_scope.cancel()
    assert response.status == 408
    assert response.header(b"connection") == b"close"
    # From the first byte of the second head, not the keep-alive timer (10 s).
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 1.0, f"408 after {elapsed:.3f}s"


@pytest.mark.anyio
async def test_a_stalled_body_gets_408_and_a_close() -> None:
    async with (
        serving(make_app(), timeout_body=TIMEOUT) as running,
        connect(running.port) as client,
    ):
        await client.send(request("POST", "/echo", "Content-Length: 10", body=b"123"))
        started = anyio.current_time()
        with anyio.fail_after(TIMEOUT + REACTION):
            response = await client.read_response()
            elapsed = anyio.current_time() - started
            assert await client.read_until_eof() == b""
    assert response.status == 408
    assert response.header(b"connection") == b"close"
    assert elapsed >= TIMEOUT * 0.9


@pytest.mark.anyio
async def test_a_body_that_keeps_arriving_is_not_timed_out() -> None:
    # The body timer is a stall timer: each chunk restarts it. 12 chunks 50 ms
    # apart take longer than one timeout (0.5 s) in all, but never stall for
    # one: a pause would have to last ten times as long as asked to race it.
    chunk = b"1\r\nx\r\n"
    async with (
        serving(make_app(), timeout_body=0.5) as running,
        connect(running.port) as client,
    ):
        await client.send(request("POST", "/echo", "Transfer-Encoding: chunked"))
        started = anyio.current_time()
        with anyio.fail_after(REACTION * 2):
            for _ in range(12):
                await anyio.sleep(0.05)
                await client.send(chunk)
            await client.send(b"0\r\n\r\n")
            response = await client.read_response()
        elapsed = anyio.current_time() - started
    assert elapsed > 0.5, "the body came faster than one timeout: nothing was tested"
    assert (response.status, response.body) == (200, b"x" * 12)


@pytest.mark.anyio
async def test_an_unread_stalled_body_ends_the_connection_after_the_body_timeout() -> None:
    # The app answered without reading; the server waits for the rest of the
    # body (to reuse the connection) no longer than the body timeout.
    async with (
        serving(make_app(), timeout_body=TIMEOUT, timeout_keep_alive=10.0) as running,
        connect(running.port) as client,
    ):
        await client.send(request("POST", "/upload", "Content-Length: 10", body=b"123"))
        with anyio.fail_after(TIMEOUT + REACTION):
            response = await client.read_response()
            assert await client.read_until_eof() == b""
    assert response.status == 200


@pytest.mark.anyio
async def test_an_idle_keep_alive_connection_closes_quietly_after_its_timeout() -> None:
    # The rule is checked on the core, with exact times, in test_connection_core.py;
    # this is the one check that the server lives by it.
    async with serving(
        make_app(), timeout_keep_alive=TIMEOUT, timeout_request_head=10.0
    ) as running, connect(running.port) as client:
        await client.send(PING)
        with anyio.fail_after(REACTION):
            assert (await client.read_response()).status == 200
        started = anyio.current_time()
        with anyio.fail_after(TIMEOUT + REACTION):
            rest = await client.read_until_eof()
        elapsed = anyio.current_time() - started
    assert rest == b"", f"an idle connection was sent {rest!r} (no 408 for idleness)"
    assert elapsed >= TIMEOUT * 0.9


# -- the core alone, with explicit times ---------------------------------------------------------


LIMITS = Limits(timeout_request_head=10.0, timeout_body=30.0, timeout_keep_alive=5.0)


def drain(core: ConnectionCore, now: float) -> list[object]:
    events: list[object] = []
    while (event := core.next_event(now)) is not NEED_DATA:
        events.append(event)
    return events


def test_core_head_deadline_is_fixed_from_accept_however_the_bytes_trickle() -> None:
    core = ConnectionCore(LIMITS, now=100.0)
    assert core.read_deadline == 110.0  # connect-and-say-nothing
    for i, byte in enumerate(b"GET / HTTP/1.1\r\nHost: a\r\nX: aaaa"):
        core.receive_data(bytes([byte]), now=100.0 + i * 0.25)
        assert drain(core, 100.0 + i * 0.25) == []
        assert core.read_deadline == 110.0, "a byte moved the head deadline"
    answer = core.on_read_timeout()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"\r\nconnection: close\r\n" in answer


def test_core_body_deadline_restarts_with_each_chunk_and_gives_408() -> None:
    core = ConnectionCore(LIMITS, now=0.0)
    core.receive_data(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", now=1.0)
    assert isinstance(core.next_event(1.0), RequestReceived)
    assert core.read_deadline == 31.0
    core.receive_data(b"12", now=25.0)
    assert drain(core, 25.0) == [BodyReceived(b"12")]
    assert core.read_deadline == 55.0
    answer = core.on_read_timeout()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"\r\nconnection: close\r\n" in answer


def test_core_next_head_deadline_starts_at_its_first_byte_and_stays() -> None:
    core = ConnectionCore(LIMITS, now=0.0)
    core.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", now=0.0)
    drain(core, 0.0)
    core.send_response(200, [(b"content-length", b"0")])
    assert core.start_next_cycle(now=1.0)
    core.receive_data(b"GE", now=3.0)
    assert drain(core, 3.0) == []
    assert core.read_deadline == 13.0
    core.receive_data(b"T / HTTP/1.1\r\n", now=12.0)
    assert drain(core, 12.0) == []
    assert core.read_deadline == 13.0
    assert core.on_read_timeout().startswith(b"HTTP/1.1 408 ")
