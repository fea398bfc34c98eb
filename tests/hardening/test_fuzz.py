"""Never crash, never wedge: random and mutated requests, to the core and to a live server.

The suite runs a short version. ``MICROREADY_FUZZ_ITERATIONS=100000`` runs a
long one (the live fuzz scales with it too); ``MICROREADY_FUZZ_SEED`` picks
another sequence. A failure names the seed and iteration that reproduce it.
"""

from __future__ import annotations

import logging
import os
import random

import anyio
import pytest

from microready.server.protocol import (
    NEED_DATA,
    PAUSED,
    BodyReceived,
    ConnectionCore,
    ConnectionEnded,
    Limits,
    Rejected,
    RequestComplete,
    RequestReceived,
)
from tests.support.live import IO_TIMEOUT, connect, serving
from tests.support.protocol import rejection_statuses

from .helpers import captured_logs, get_ping, make_app

ITERATIONS = int(os.environ.get("MICROREADY_FUZZ_ITERATIONS", "3000"))
SEED = os.environ.get("MICROREADY_FUZZ_SEED", "microready")

# Every status the core may reject a request with (501 and 505 too, not only
# 4xx), read from the core's source so that it cannot drift from it.
REJECTION_STATUSES = rejection_statuses()

CORPUS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /ping?x=1&y=%20 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
    b"HEAD /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /ping HTTP/1.0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
    b"POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"PUT /items/1 HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n",
    b"GET /ping HTTP/1.1\nHost: a\n\n",  # bare LF line ends (RFC 9112 2.2)
    b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n",
]
INTERESTING_BYTES = b"\r\n\0 \t:,;0-+9aF\x7f\x80\xff"
INTERESTING_LINES = [
    b"Content-Length: 5\r\n",
    b"Content-Length: 99999999999999999999999\r\n",
    b"Content-Length: -1\r\n",
    b"Content-Length: 1, 2\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"Host: b\r\n",
    b" folded\r\n",
    b"Expect: 100-continue\r\n",
    b"Connection: close\r\n",
    b"X: " + b"y" * 3000 + b"\r\n",
]
METHODS = [b"GET", b"POST", b"HEAD", b"PUT", b"OPTIONS", b"CONNECT", b"PRI", b"G T", b""]
VERSIONS = [
    b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.2", b"HTTP/0.9", b"HTTP/11", b"http/1.1"
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 4)):
        position = rng.randint(0, len(data))
        kind = rng.randrange(8)
        if kind == 0 and data:  # replace a byte
            position = min(position, len(data) - 1)
            data = data[:position] + bytes([rng.randrange(256)]) + data[position + 1 :]
        elif kind == 1:  # insert a byte that matters to a parser
            byte = INTERESTING_BYTES[rng.randrange(len(INTERESTING_BYTES))]
            data = data[:position] + bytes([byte]) + data[position:]
        elif kind == 2:  # delete a run
            data = data[:position] + data[position + rng.randint(1, 8) :]
        elif kind == 3:  # repeat a run
            end = min(len(data), position + rng.randint(1, 40))
            data = data[:end] + data[position:end] * rng.randint(1, 3) + data[end:]
        elif kind == 4:  # insert a header line after the request line
            line_end = data.find(b"\n") + 1
            data = data[:line_end] + rng.choice(INTERESTING_LINES) + data[line_end:]
        elif kind == 5:  # swap the method
            data = rng.choice(METHODS) + data[data.find(b" ") :]
        elif kind == 6:  # swap the version
            data = data.replace(b"HTTP/1.1", rng.choice(VERSIONS), 1)
        else:  # cut it short
            data = data[:position]
    return data


def fuzz_input(rng: random.Random) -> bytes:
    if rng.random() < 0.15:
        return rng.randbytes(rng.randint(0, 300))
    data = b"".join(rng.choice(CORPUS) for _ in range(rng.randint(1, 3)))
    return mutate(data, rng)


def split(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.randint(0, len(data)) for _ in range(rng.randint(0, 5)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def random_limits(rng: random.Random) -> Limits:
    return Limits(
        max_header_size=rng.choice([64, 256, 1024, 16 * 1024]),
        max_header_count=rng.choice([2, 5, 100]),
        max_request_line=rng.choice([16, 100, 8 * 1024]),
        max_body_size=rng.choice([None, 0, 3, 1024]),
        timeout_keep_alive=rng.choice([0.5, 5.0]),
        timeout_request_head=rng.choice([0.5, 10.0]),
        timeout_body=rng.choice([0.5, 30.0]),
    )


def serve_like_the_transport(core: ConnectionCore, chunks: list[bytes], rng: random.Random) -> None:
    """Drive the core the way the connection loop does, with an app that answers at
    random moments (before, during or after the body) in random ways. Any exception
    is a bug; so is a rejection that cannot be answered."""
    now = 0.0
    responded = False
    request_done = False
    for chunk in [*chunks, b""]:
        now += rng.choice([0.0, 0.0, 0.0, 0.0, 0.01, 0.1, 1.0, 40.0])  # sometimes too late
        deadline = core.read_deadline
        if deadline is not None and now >= deadline:
            answer = core.on_read_timeout()
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer
            return
        core.receive_data(chunk, now)
        while True:
            event = core.next_event(now)
            if event is NEED_DATA:
                break
            if isinstance(event, Rejected):
                assert event.status_code in REJECTION_STATUSES, event
                answer = core.send_error(event.status_code, event.reason)
                if not responded:
                    status_line = b"HTTP/1.1 %d " % event.status_code
                    assert answer.startswith(status_line), (event, answer)
                    assert b"\r\nconnection: close\r\n" in answer, answer
                return
            if isinstance(event, ConnectionEnded):
                return
            if isinstance(event, RequestReceived):
                responded = request_done = False
                if core.they_are_waiting_for_100_continue and rng.random() < 0.5:
                    assert core.send_continue().startswith(b"HTTP/1.1 100 ")
                if rng.random() < 0.3:  # answer without reading the body
                    respond(core, rng)
                    responded = True
            elif isinstance(event, BodyReceived):
                assert event.data
            elif isinstance(event, RequestComplete) or (event is PAUSED and not responded):
                request_done = True
            elif event is PAUSED:
                break
            if request_done and not responded:
                respond(core, rng)
                responded = True
            if request_done and responded:
                if not core.start_next_cycle(now):
                    return
                responded = request_done = False


def respond(core: ConnectionCore, rng: random.Random) -> None:
    kind = rng.randrange(3)
    if kind == 0:
        out = b"".join(core.send_response(200, [(b"content-type", b"text/plain")], b"ok"))
    elif kind == 1:
        out = b"".join([*core.send_response(200, [], b"", complete=False),
                        *core.send_body(b"chunk"), core.end_response()])
    else:
        out = core.send_error(500, "the app failed")
    assert out.startswith(b"HTTP/1.1 ")


def test_random_and_mutated_requests_never_crash_the_core() -> None:
    for iteration in range(ITERATIONS):
        rng = random.Random(f"{SEED}-{iteration}")
        data = fuzz_input(rng)
        core = ConnectionCore(random_limits(rng), now=0.0)
        try:
            serve_like_the_transport(core, split(data, rng), rng)
        except Exception as exc:
            raise AssertionError(
                f"iteration {iteration} (MICROREADY_FUZZ_SEED={SEED}) with input {data!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc


# -- a live server -------------------------------------------------------------------------------

LIVE_CONNECTIONS = max(60, ITERATIONS // 25)


@pytest.mark.anyio
async def test_a_live_server_survives_fuzzing_and_keeps_answering(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pings = 0
    fuzzed = 0

    async def fuzz_one(iteration: int, limiter: anyio.CapacityLimiter) -> None:
        nonlocal fuzzed
        rng = random.Random(f"{SEED}-live-{iteration}")
        data = fuzz_input(rng)
        async with limiter, connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                try:
                    for part in split(data, rng):
                        await client.send(part)
                    await client.stream.send_eof()  # so the server never waits on us
                except (anyio.BrokenResourceError, OSError):
                    pass  # the server may hang up early; it is its right
                await client.read_until_eof()
        fuzzed += 1

    async def keep_pinging() -> None:
        nonlocal pings
        while True:
            await get_ping(running.port)
            pings += 1
            await anyio.sleep(0.005)

    with captured_logs(caplog, "microready") as records:
        async with serving(
            make_app(), timeout_request_head=2.0, timeout_body=2.0, max_header_size=4096
        ) as running:
            limiter = anyio.CapacityLimiter(20)
            with anyio.fail_after(60):
                async with anyio.create_task_group() as pinger:
                    pinger.start_soon(keep_pinging)
                    async with anyio.create_task_group() as fuzzers:
                        for iteration in range(LIVE_CONNECTIONS):
                            fuzzers.start_soon(fuzz_one, iteration, limiter)
                    pinger.cancel_scope.cancel()
            await get_ping(running.port)
    assert fuzzed == LIVE_CONNECTIONS
    assert pings > 0
    escaped = [r for r in records if "unexpected error on connection" in r.getMessage()]
    assert not escaped, escaped[0].getMessage() + "\n" + str(escaped[0].exc_info)
    errors = [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.ERROR]
    assert not errors, errors
