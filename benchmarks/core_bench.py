"""Micro-benchmark of the connection core: parse a request, serialise a response.

Compares ``microready.server.protocol.connection.ConnectionCore`` with raw h11 doing the same
work: feed a typical wrk request, read its events, write a 13-byte plain-text
response with a cached ``Date``, start the next keep-alive cycle. Reported in
µs per request (best of several repeats), split into parse and serialise.
The split is timed with ``perf_counter_ns`` around each half, less the cost of
the timer calls themselves, so it is approximate; the cycle is timed bare.

Run alone: ``python -m benchmarks.core_bench`` (prints JSON). The suite runs it
in a subprocess pinned to the server CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate
from typing import Any

import h11

REQUEST = (
    b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    b"User-Agent: wrk/4.1.0\r\nAccept: */*\r\n\r\n"
)
BODY = b"Hello, World!"
HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"13")]
NOW = 1000.0

Step = Callable[[], Any]


def h11_steps() -> tuple[Step, Step]:
    conn = h11.Connection(h11.SERVER)
    headers = [*HEADERS, (b"date", formatdate(usegmt=True).encode()), (b"server", b"h11")]

    def parse() -> Any:
        conn.receive_data(REQUEST)
        request = conn.next_event()
        end = conn.next_event()
        return request, end

    def serialise() -> bytes:
        out = conn.send(h11.Response(status_code=200, headers=headers))
        out += conn.send(h11.Data(data=BODY))
        out += conn.send(h11.EndOfMessage())
        conn.start_next_cycle()
        return out

    return parse, serialise


def microready_steps() -> tuple[Step, Step]:
    from microready.server.protocol import ConnectionCore, Limits

    core = ConnectionCore(Limits(), NOW)

    def parse() -> Any:
        core.receive_data(REQUEST, NOW)
        request = core.next_event(NOW)
        end = core.next_event(NOW)
        return request, end

    def serialise() -> bytes:
        (out,) = core.send_response(200, HEADERS, BODY)  # a small body: one buffer
        core.start_next_cycle(NOW)
        return out

    return parse, serialise


def _verify(name: str, make: Callable[[], tuple[Step, Step]]) -> None:
    parse, serialise = make()
    for _ in range(3):  # three keep-alive cycles on one connection
        request, end = parse()
        if "Request" not in type(request).__name__ or type(end).__name__ not in (
            "EndOfMessage", "RequestComplete"
        ):
            raise RuntimeError(f"{name}: parsed {request!r}, {end!r}")
        out = serialise()
        if not out.startswith(b"HTTP/1.1 200 ") or not out.endswith(b"\r\n\r\n" + BODY):
            raise RuntimeError(f"{name}: wrote {out!r}")


def _cycle_us(make: Callable[[], tuple[Step, Step]], iterations: int) -> float:
    parse, serialise = make()
    started = time.perf_counter()
    for _ in range(iterations):
        parse()
        serialise()
    return (time.perf_counter() - started) / iterations * 1e6


def _split_us(make: Callable[[], tuple[Step, Step]], iterations: int) -> tuple[float, float]:
    parse, serialise = make()
    clock = time.perf_counter_ns
    parsing = writing = 0
    for _ in range(iterations):
        t0 = clock()
        parse()
        t1 = clock()
        serialise()
        t2 = clock()
        parsing += t1 - t0
        writing += t2 - t1
    overhead = _timer_overhead_ns()
    return (
        max(parsing / iterations - overhead, 0) / 1000,
        max(writing / iterations - overhead, 0) / 1000,
    )


def _timer_overhead_ns(samples: int = 100_000) -> float:
    clock = time.perf_counter_ns
    total = 0
    for _ in range(samples):
        t0 = clock()
        total += clock() - t0
    return total / samples


def bench(
    name: str, make: Callable[[], tuple[Step, Step]], iterations: int, repeats: int
) -> dict[str, Any]:
    try:
        _verify(name, make)
        cycles = [_cycle_us(make, iterations) for _ in range(repeats)]
        splits = [_split_us(make, iterations) for _ in range(repeats)]
    except Exception as exc:  # the core is under active development; report, don't crash
        return {"name": name, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "name": name,
        "cycle_us": min(cycles),
        "parse_us": min(s[0] for s in splits),
        "serialise_us": min(s[1] for s in splits),
        "requests_per_s": 1e6 / min(cycles),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.core_bench")
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    results = [
        bench("microready ConnectionCore", microready_steps, args.iterations, args.repeats),
        bench("raw h11", h11_steps, args.iterations, args.repeats),
    ]
    json.dump(results, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
