"""The slow-read scenario of issue 16, defect 4: many clients that never read.

    python benchmarks/slow_read.py                  # microready, 500 connections, 5 MiB
    python benchmarks/slow_read.py --peer uvicorn   # the same against uvicorn (h11)

It starts the server as a real process (``python -m microready``, or ``python
-m uvicorn --http h11``) serving one 5 MiB response, made once, at ``/large``
and a small one at ``/small``. Then it opens ``--connections`` connections
that each send ``GET /large`` and never read a byte (with a 4 KiB receive
window, as slowhttptest's slow-read mode advertises), and for ``--hold``
seconds it:

* probes the server from one more client, ``GET /small`` on a new connection
  every ``--probe-every`` seconds, each with a 10 s deadline: is the server
  still answering others, and how fast;
* samples the server's RSS (``VmRSS`` in ``/proc/PID/status``) every 50 ms.

Last, it counts how many of the non-reading connections the server has
closed (``--timeout-send`` should close them all, 30 s by default, so the
default hold of 40 s sees that happen). It prints one report; the process is
stopped by its PID whatever happens. Linux only (``/proc``, ``TCP_INFO``).
The server runs on CPU 0 and this script on CPU 1 when there are two.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

APP = '''
from microready import MicroReady, Response

LARGE = b"x" * {size}
app = MicroReady()


@app.get("/large")
async def large() -> Response:
    return Response(LARGE, media_type="application/octet-stream")


@app.get("/small")
async def small() -> Response:
    return Response(b"small", media_type="text/plain")


async def asgi_app(scope, receive, send):  # the same two answers, for uvicorn
    if scope["type"] != "http":
        return
    body = LARGE if scope["path"] == "/large" else b"small"
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]}})
    await send({{"type": "http.response.body", "body": body}})
'''
LISTENING = re.compile(rb"(?:listening on|running on) http://127\.0\.0\.1:(\d+)")
TCP_STATES = {1: "established", 7: "closed", 8: "close-wait"}  # <netinet/tcp.h>
PROBE_DEADLINE = 10.0


def rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


@contextlib.contextmanager
def server(peer: str, app_dir: Path, timeout_send: float | None) -> Iterator[tuple[int, int]]:
    """The server process, until the block ends; yields (pid, port)."""
    if peer == "microready":
        args = ["-m", "microready", "slow_read_app:app", "--port", "0", "--no-access-log"]
        if timeout_send is not None:
            args += ["--timeout-send", str(timeout_send)]
    else:
        with socket.socket() as probe:  # uvicorn logs port 0 as 0: pick a free one
            probe.bind(("127.0.0.1", 0))
            free_port = probe.getsockname()[1]
        args = ["-m", "uvicorn", "slow_read_app:asgi_app", "--port", str(free_port),
                "--http", "h11", "--loop", "asyncio", "--no-access-log", "--log-level", "info"]
    process = subprocess.Popen([sys.executable, *args, "--app-dir", str(app_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if (os.cpu_count() or 1) >= 2:
            os.sched_setaffinity(process.pid, {0})
            os.sched_setaffinity(0, {1})
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        while (match := LISTENING.search(line := process.stderr.readline())) is None:
            if not line or time.monotonic() > deadline:
                raise SystemExit(f"{peer} did not start: {line!r}")
        # Keep reading its log, so a full pipe never blocks it.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield process.pid, int(match.group(1))
    finally:
        process.terminate()  # by its own PID
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def non_reading_client(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    sock.settimeout(PROBE_DEADLINE)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /large HTTP/1.1\r\nHost: a\r\n\r\n")
    return sock


def probe(port: int) -> float | None:
    """Seconds for one GET /small on a new connection; None if it failed."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_DEADLINE) as sock:
            sock.sendall(b"GET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            received = b""
            while not received.endswith(b"small"):
                data = sock.recv(65536)
                if not data:
                    return None
                received += data
    except OSError:
        return None
    return time.perf_counter() - started


def tcp_state(sock: socket.socket) -> str:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return TCP_STATES.get(struct.unpack("B", info[:1])[0], "other")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as app_dir:
        Path(app_dir, "slow_read_app.py").write_text(APP.format(size=args.size))
        with server(args.peer, Path(app_dir), args.timeout_send) as (pid, port):
            baseline = rss_mib(pid) or 0.0
            peak = [baseline]
            sampling = True

            def sample() -> None:
                while sampling:
                    value = rss_mib(pid)
                    if value is not None:
                        peak[0] = max(peak[0], value)
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            clients: list[socket.socket] = []
            latencies: list[float] = []
            slowest: list[tuple[float, float]] = []  # (latency, seconds into the hold)
            failures = 0
            try:
                started = time.monotonic()
                for _ in range(args.connections):
                    clients.append(non_reading_client(port))
                opened = time.monotonic() - started
                rss_opened = rss_mib(pid)
                hold_started = time.monotonic()
                end = hold_started + args.hold
                while time.monotonic() < end:
                    sent_at = time.monotonic() - hold_started
                    latency = probe(port)
                    if latency is None:
                        failures += 1
                    else:
                        latencies.append(latency)
                        slowest = sorted([*slowest, (latency, sent_at)], reverse=True)[:3]
                    time.sleep(args.probe_every)
                states: dict[str, int] = {}
                for sock in clients:
                    state = tcp_state(sock)
                    states[state] = states.get(state, 0) + 1
                rss_end = rss_mib(pid)
            finally:
                sampling = False
                for sock in clients:
                    sock.close()
            sampler.join()

    mib = args.size / (1024 * 1024)
    print(f"slow read: {args.peer}, {args.connections} connections that never read, "
          f"a {mib:g} MiB response; timeout_send "
          f"{args.timeout_send if args.peer == 'microready' else 'n/a'}; hold {args.hold:g} s")
    print(f"  connections opened in {opened:.2f} s")
    print(f"  RSS: {baseline:.1f} MiB at start, {rss_opened or 0:.1f} MiB once all were open, "
          f"peak {peak[0]:.1f} MiB, {rss_end or 0:.1f} MiB at the end")
    if latencies:
        print(f"  probes: {len(latencies)} answered, {failures} failed; latency ms "
              f"p50 {statistics.median(latencies) * 1000:.1f}, "
              f"p90 {percentile(latencies, 0.9) * 1000:.1f}, max {max(latencies) * 1000:.1f}")
        print("  slowest probes: " + ", ".join(
            f"{latency * 1000:.0f} ms at {at:.1f} s" for latency, at in slowest))
    else:
        print(f"  probes: none answered, {failures} failed")
    print("  non-reading connections at the end: "
          + ", ".join(f"{count} {state}" for state, count in sorted(states.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", choices=["microready", "uvicorn"], default="microready")
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--size", type=int, default=5 * 1024 * 1024, help="response bytes")
    parser.add_argument("--hold", type=float, default=40.0, help="seconds to probe and sample")
    parser.add_argument("--probe-every", type=float, default=0.25)
    parser.add_argument("--timeout-send", type=float, default=30.0,
                        help="microready's --timeout-send (its default)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
