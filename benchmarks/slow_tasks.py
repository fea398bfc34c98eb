"""The slow-task scenario: each request queues a task that takes a whole second.

Three measurements per target and task kind (``async``: ``await sleep(1)``;
``sync``: ``time.sleep(1)``), on a fresh server:

1. single: requests one after another on one kept-alive connection, each
   timed. A server that runs a request's tasks before reading the next request
   on the connection makes each one wait for the previous one's second.
2. load: wrk at 16 connections; requests/s, p99 and errors.
3. probe: right after the load, one ``GET /plaintext`` on a new connection,
   timed, while the backlog of one-second tasks drains; then the backlog.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from . import client
from .endpoints import EMAIL, counts
from .loadgen import LoadError, run_wrk
from .servers import Server, ServerFailed, running
from .settings import LOAD_CPU, SERVER_CPU, Settings
from .targets import Target

__all__ = ["SlowSample", "run_slow_scenario"]

PATHS = {"async": f"/notify-slow/{EMAIL}", "sync": f"/notify-sync-slow/{EMAIL}"}


@dataclass
class SlowSample:
    target: str
    kind: str  # "async" or "sync"
    single_ms: list[float] = field(default_factory=list)
    single_errors: int = 0
    first_error: str | None = None  # the first non-200 answer in the single phase
    load: dict[str, Any] | None = None
    probe_ms: float | None = None
    backlog_at_probe: int | None = None
    error: str | None = None

    @property
    def single_median_ms(self) -> float | None:
        return statistics.median(self.single_ms) if self.single_ms else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "single_median_ms": self.single_median_ms}


def _single(server: Server, path: str, settings: Settings, sample: SlowSample) -> None:
    deadline = time.monotonic() + settings.slow_single_seconds
    with client.KeepAlive(server.port, timeout=10.0) as conn:
        for _ in range(settings.slow_single_requests):
            reply = conn.request("POST", path)
            if reply.status != 200:
                sample.single_errors += 1
                if sample.first_error is None:
                    sample.first_error = f"{reply.status} {reply.body[:100]!r}"
            sample.single_ms.append(reply.seconds * 1000)
            if time.monotonic() > deadline:
                break


def _measure(server: Server, kind: str, settings: Settings) -> SlowSample:
    sample = SlowSample(server.target.key, kind)
    path = PATHS[kind]
    try:
        _single(server, path, settings, sample)
        sample.load = run_wrk(
            server.port, "POST", path, seconds=settings.slow_duration,
            connections=settings.slow_connections, cpu=LOAD_CPU,
        ).as_dict()
        sample.probe_ms = client.request(server.port, "GET", "/plaintext").seconds * 1000
        sample.backlog_at_probe = counts(server.port).backlog
    except (OSError, LoadError, ValueError, KeyError) as exc:
        sample.error = f"{type(exc).__name__}: {exc}"
    return sample


def run_slow_scenario(targets: list[Target], settings: Settings) -> list[SlowSample]:
    samples = []
    for target in targets:
        for kind in PATHS:
            print(f"  slow tasks ({kind}): {target.key}", flush=True)
            try:
                # A backlog of one-second tasks can keep a graceful shutdown busy
                # for minutes; a short grace, then SIGKILL, is what we want here.
                with running(target, cpu=SERVER_CPU, grace=1.0) as server:
                    samples.append(_measure(server, kind, settings))
            except ServerFailed as exc:
                samples.append(SlowSample(target.key, kind, error=str(exc)))
    return samples
