"""Drive ``app.handle`` directly, without a connection, for unit-level app tests.

``call`` builds a ``Request`` the way the transport does and returns the
``Reply``; ``finish`` runs the reply's tasks and then its cleanup, as the
server does after the flush.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Sequence
from typing import Any

from microready import MicroReady
from microready._exchange import Reply
from microready.requests import Request
from microready.testing import TestClient


async def call(
    app: MicroReady,
    method: str,
    target: str,
    *,
    body: bytes = b"",
    json: Any = None,
    headers: Sequence[tuple[str, str]] = (),
) -> Reply:
    raw_headers = [(b"host", b"testserver")]
    if json is not None:
        body = jsonlib.dumps(json).encode()
        raw_headers.append((b"content-type", b"application/json"))
    raw_headers += [(k.lower().encode(), v.encode("latin-1")) for k, v in headers]
    chunks = [body] if body else []

    async def receive() -> bytes:
        return chunks.pop(0) if chunks else b""

    request = Request(method=method, target=target.encode(), raw_headers=raw_headers,
                      receive=receive)
    return await app.handle(request)


def body_json(reply: Reply) -> Any:
    return jsonlib.loads(reply.response.body)


async def finish(app: MicroReady, reply: Reply) -> None:
    """Do what the server does after the flush: run the tasks in order, then the cleanup.

    (The real ``BackgroundRunner`` is exercised through ``TestClient`` tests.)
    """
    for task in reply.tasks:
        await task()
    if reply.cleanup is not None:
        await reply.cleanup()


def client_for(app: MicroReady, backend: str, **options: Any) -> TestClient:
    """A ``TestClient`` on ``backend`` (a test takes it from the ``anyio_backend`` fixture)."""
    return TestClient(app, backend=backend, **options)  # type: ignore[arg-type]
