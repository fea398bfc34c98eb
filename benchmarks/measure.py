"""One cell of the table: one endpoint of one running server, checked, warmed, loaded.

For task endpoints the counters are read before the load (after the warm-up's
tasks have finished) and right after wrk stops, so we know how many tasks ran
per response during the load and how many were still queued when it ended;
then we wait (bounded) for the rest to finish, to see how long they lag.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from . import client
from .endpoints import Endpoint, counts, wait_drained
from .loadgen import LoadError, WrkResult, run_wrk
from .servers import Server
from .settings import LOAD_CPU, Settings

__all__ = ["Sample", "measure"]


@dataclass
class Sample:
    target: str
    endpoint: str
    round: int
    problems: list[str] = field(default_factory=list)  # the functional check's findings
    load: dict[str, Any] | None = None  # WrkResult.as_dict()
    rss_mib: float | None = None  # the server's peak RSS after this endpoint's load
    tasks_per_response: float | None = None
    backlog_at_stop: int | None = None
    drain_seconds: float | None = None  # None: not drained within the bound
    error: str | None = None  # the measurement itself failed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _warm_up(server: Server, endpoint: Endpoint, settings: Settings) -> None:
    if settings.warmup >= 1:
        run_wrk(
            server.port, endpoint.method, endpoint.path, seconds=settings.warmup,
            connections=settings.connections, cpu=LOAD_CPU,
            body=endpoint.body, content_type=endpoint.content_type, headers=endpoint.headers,
        )
        return
    deadline = time.monotonic() + 10.0
    with client.KeepAlive(server.port) as conn:
        for _ in range(settings.burst):
            conn.request(
                endpoint.method, endpoint.path, body=endpoint.body,
                content_type=endpoint.content_type, headers=endpoint.headers,
            )
            if time.monotonic() > deadline:
                break


def measure(server: Server, endpoint: Endpoint, settings: Settings, round_: int) -> Sample:
    sample = Sample(server.target.key, endpoint.key, round_)
    try:
        sample.problems = endpoint.check(server.port)
        _warm_up(server, endpoint, settings)
        before = wait_drained(server.port, settings.settle)[0] if endpoint.tasks else None
        result: WrkResult = run_wrk(
            server.port, endpoint.method, endpoint.path, seconds=settings.duration,
            connections=settings.connections, cpu=LOAD_CPU,
            body=endpoint.body, content_type=endpoint.content_type, headers=endpoint.headers,
        )
        sample.load = result.as_dict()
        if before is not None:
            after = counts(server.port)  # right away: what is still queued as load stops
            if result.requests:
                sample.tasks_per_response = (after.done - before.done) / result.requests
            sample.backlog_at_stop = after.backlog
            sample.drain_seconds = wait_drained(server.port, settings.drain)[1]
        sample.rss_mib = server.peak_rss_mib()
    except (OSError, LoadError, ValueError, KeyError) as exc:
        sample.error = f"{type(exc).__name__}: {exc}"
        if server.exited():
            sample.error += f"\nserver exited {server.proc.returncode}:\n{server.log_tail()}"
    return sample
