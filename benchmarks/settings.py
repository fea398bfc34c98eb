"""The two modes, quick and full, as data."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["FULL", "QUICK", "Settings"]

SERVER_CPU = 0
LOAD_CPU = 1


@dataclass(frozen=True)
class Settings:
    name: str
    rounds: int
    duration: int  # seconds of measured load per endpoint (wrk takes whole seconds)
    warmup: int  # seconds of wrk warm-up; 0 means a short burst from the Python client
    connections: int = 64
    burst: int = 200  # requests in a Python-client warm-up
    settle: float = 5.0  # longest wait for warm-up tasks to finish before measuring
    drain: float = 5.0  # longest wait after the load for the backlog to finish
    targets_quick_only: bool = False
    # the slow-task scenario
    slow_targets: tuple[str, ...] = ()
    slow_single_requests: int = 20
    slow_single_seconds: float = 3.0
    slow_duration: int = 2
    slow_connections: int = 16
    # the connection-core micro-benchmark
    core_iterations: int = 20_000
    core_repeats: int = 5

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


QUICK = Settings(
    name="quick",
    rounds=1,
    duration=2,
    warmup=0,
    settle=3.0,
    drain=2.0,
    targets_quick_only=True,
    slow_targets=("fastapi-uvicorn-h11", "microready-asyncio"),
    slow_single_requests=10,
    slow_single_seconds=2.0,
    slow_duration=2,
    core_iterations=10_000,
    core_repeats=3,
)

FULL = Settings(
    name="full",
    rounds=3,
    duration=6,
    warmup=1,
    settle=3.0,
    drain=3.0,
    slow_targets=(
        "fastapi-uvicorn-h11",
        "fastapi-uvicorn-httptools",
        "starlette-uvicorn-httptools",
        "fastapi-hypercorn",
        "microready-asyncio",
        "microready-uvloop",
        "microready-trio",
    ),
    slow_single_requests=50,
    slow_single_seconds=4.0,
    slow_duration=4,
    core_iterations=50_000,
    core_repeats=7,
)
