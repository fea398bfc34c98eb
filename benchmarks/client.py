"""A small blocking HTTP/1.1 client for checks, counters and probes (not for load).

Load comes from wrk; this is for the few requests whose exact answer or exact
latency we want. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = ["KeepAlive", "Reply", "request"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    seconds: float  # from sending the request to reading the whole body
    headers: tuple[tuple[str, str], ...] = ()  # as received, names lower-cased

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def json(self) -> Any:
        return json.loads(self.body)


def _exchange(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> Reply:
    """One request; a ``body`` is sent with its Content-Length (and ``content_type``),
    with ``headers`` (name, value) besides."""
    sent = {"Content-Type": content_type} if content_type else {}
    sent.update(headers)
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=sent)
    response = conn.getresponse()
    received = response.read()
    elapsed = time.perf_counter() - started
    headers = tuple((name.lower(), value) for name, value in response.getheaders())
    reply_type = response.getheader("content-type") or ""
    return Reply(response.status, reply_type, received, elapsed, headers)


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    timeout: float = 10.0,
) -> Reply:
    """One request on a new connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        return _exchange(conn, method, path, body, content_type, headers)
    finally:
        conn.close()


class KeepAlive:
    """Several requests on one kept-alive connection."""

    def __init__(self, port: int, *, timeout: float = 10.0) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Reply:
        return _exchange(self.conn, method, path, body, content_type, headers)

    def __enter__(self) -> KeepAlive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.conn.close()
