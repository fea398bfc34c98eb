"""What is benchmarked: each target is one app on one server, started as a command.

The reference for every ratio is FastAPI on uvicorn with its pure-Python h11
protocol on the plain asyncio loop (``BASELINE``), the most common deployment.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

__all__ = [
    "BASELINE", "FRAMEWORK_ENDPOINTS", "SHARED_SERVER_ENDPOINTS", "TARGETS", "Target",
    "available", "by_key",
]

FRAMEWORK_ENDPOINTS = (
    "plaintext", "json", "items", "notify", "notify-none", "notify-sync", "upload", "users",
)
# The endpoints without a background task: one server process serves them all; every
# other endpoint gets a fresh server of its own. notify-none has no task either, but
# gets a fresh server like notify, so the two are measured alike.
SHARED_SERVER_ENDPOINTS = ("plaintext", "json", "items", "users")
CEILING_ENDPOINTS = ("plaintext",)
# One task per request, enqueued to a Celery worker over Redis (benchmarks/broker.py
# starts both for each server): microready's offload against FastAPI's .delay().
CELERY_ENDPOINTS = ("notify-celery",)

FASTAPI = "benchmarks.apps.fastapi_app:app"
STARLETTE = "benchmarks.apps.starlette_app:app"
MICROREADY = "benchmarks.apps.microready_app:app"
# The same app with CORS and GZip in front: what the two middlewares cost.
MICROREADY_MIDDLEWARE = "benchmarks.apps.microready_middleware_app:app"
MICROREADY_CELERY = "benchmarks.apps.microready_celery_app:app"
FASTAPI_CELERY = "benchmarks.apps.fastapi_celery_app:app"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    args: tuple[str, ...]  # after ``python -m``; "{port}" is replaced by the port
    ceiling: bool = False
    requires: str = ""  # a module that must be importable, else the target is skipped
    quick: bool = True  # part of --quick
    broker: bool = False  # serves CELERY_ENDPOINTS only, with Redis and a worker beside it

    @property
    def endpoints(self) -> tuple[str, ...]:
        if self.broker:
            return CELERY_ENDPOINTS
        return CEILING_ENDPOINTS if self.ceiling else FRAMEWORK_ENDPOINTS

    def command(self, python: str, port: int) -> list[str]:
        return [python, "-m", *(a.replace("{port}", str(port)) for a in self.args)]


def _uvicorn(app: str, http: str, loop: str) -> tuple[str, ...]:
    return (
        "uvicorn", app, "--host", "127.0.0.1", "--port", "{port}", "--http", http,
        "--loop", loop, "--no-access-log", "--log-level", "warning",
    )


def _microready(*flags: str, app: str = MICROREADY) -> tuple[str, ...]:
    return (
        "microready", app, "--host", "127.0.0.1", "--port", "{port}",
        "--no-access-log", "--log-level", "warning", *flags,
    )


TARGETS: tuple[Target, ...] = (
    Target("fastapi-uvicorn-h11", "FastAPI + uvicorn h11", _uvicorn(FASTAPI, "h11", "asyncio")),
    # The same FastAPI app as an ASGI app on microready's server (asyncio).
    Target("fastapi-microready", "FastAPI + microready's server", _microready(app=FASTAPI)),
    Target(
        "fastapi-uvicorn-httptools",
        "FastAPI + uvicorn httptools + uvloop",
        _uvicorn(FASTAPI, "httptools", "uvloop"),
    ),
    Target(
        "starlette-uvicorn-h11",
        "Starlette + uvicorn h11",
        _uvicorn(STARLETTE, "h11", "asyncio"),
        quick=False,
    ),
    Target(
        "starlette-uvicorn-httptools",
        "Starlette + uvicorn httptools + uvloop",
        _uvicorn(STARLETTE, "httptools", "uvloop"),
    ),
    Target(
        "fastapi-hypercorn",
        "FastAPI + hypercorn",
        ("hypercorn", FASTAPI, "--bind", "127.0.0.1:{port}", "--workers", "1",
         "--log-level", "warning"),
    ),
    # The same, on hypercorn's trio worker: microready --backend trio's peer.
    Target(
        "fastapi-hypercorn-trio",
        "FastAPI + hypercorn (trio worker)",
        ("hypercorn", FASTAPI, "--bind", "127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "trio", "--log-level", "warning"),
        requires="trio",
        quick=False,
    ),
    Target(
        "fastapi-granian",
        "FastAPI + granian",
        ("granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}",
         "--workers", "1", "--no-access-log", "--log-level", "warning", FASTAPI),
        requires="granian",
        quick=False,
    ),
    Target("microready-asyncio", "microready (asyncio)", _microready("--loop", "asyncio")),
    Target("microready-uvloop", "microready (uvloop)", _microready("--loop", "uvloop")),
    Target("microready-trio", "microready (trio)", _microready("--backend", "trio")),
    Target(
        "microready-middleware",
        "microready (asyncio) + CORS + GZip",
        _microready("--loop", "asyncio", app=MICROREADY_MIDDLEWARE),
        quick=False,
    ),
    Target(
        "fastapi-celery-uvicorn",
        "FastAPI + uvicorn h11, Celery .delay()",
        _uvicorn(FASTAPI_CELERY, "h11", "asyncio"),
        requires="celery",
        broker=True,
    ),
    Target(
        "microready-celery",
        "microready (asyncio), Celery offload",
        _microready("--loop", "asyncio", app=MICROREADY_CELERY),
        requires="celery",
        broker=True,
    ),
    Target(
        "ceiling-h11",
        "bare h11 + anyio, h11 builds the response (ceiling)",
        ("benchmarks.apps.bare_h11", "--port", "{port}", "--mode", "h11"),
        ceiling=True,
    ),
    Target(
        "ceiling-h11-prebuilt",
        "bare h11 + anyio, pre-built response bytes (ceiling)",
        ("benchmarks.apps.bare_h11", "--port", "{port}", "--mode", "prebuilt"),
        ceiling=True,
    ),
    Target(
        "ceiling-h11-prebuilt-uvloop",
        "bare h11 + anyio on uvloop, pre-built response bytes (ceiling)",
        ("benchmarks.apps.bare_h11", "--port", "{port}", "--mode", "prebuilt",
         "--loop", "uvloop"),
        ceiling=True,
        requires="uvloop",
    ),
    Target(
        "ceiling-asyncio",
        "bare asyncio, no parsing (ceiling)",
        ("benchmarks.apps.bare_asyncio", "--port", "{port}"),
        ceiling=True,
    ),
)

BASELINE = "fastapi-uvicorn-h11"


def by_key(key: str) -> Target:
    for target in TARGETS:
        if target.key == key:
            return target
    raise KeyError(f"no target {key!r}; the targets are: {', '.join(t.key for t in TARGETS)}")


def available(target: Target) -> bool:
    return not target.requires or importlib.util.find_spec(target.requires) is not None
