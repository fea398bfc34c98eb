"""``--access-log-format json``: one JSON object per request, for log shippers.

The same request as the plain line, as fields::

    {"time": "2026-12-02T06:06:09.123Z", "client": "127.0.0.1:50312",
     "request_id": "3f9c2a1b-17", "method": "GET", "path": "/items/3",
     "query": "q=1", "http_version": "1.1", "status": 200,
     "duration_ms": 1.234, "bytes": 187, "error": null}

``time`` is when the line is written (UTC); ``status`` is null for a response
cut short, and ``error`` then says why; ``method``, ``path`` and
``http_version`` are null for a head too broken to parse; ``query`` is null
when the target has no ``?``.

``request_id`` is the request's ``X-Request-ID`` header when it has a usable
one (a proxy such as nginx can set it: ``proxy_set_header X-Request-ID
$request_id``), so the proxy's log and ours name a request alike; otherwise one
this process makes: a random prefix per process and a counter. The server does
not add it to the response or to the request the app sees: the response is the
app's, and an app that wants to echo or log the id reads the header itself.
Nothing here runs unless the access log is on and in this format.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from typing import TYPE_CHECKING, Any

from .log import access_logger, where

if TYPE_CHECKING:
    from ..datastructures import Address
    from .protocol import RequestReceived

__all__ = ["log_json_access", "request_id"]

# A longer or odd header is not a request id we want to carry into every line.
MAX_REQUEST_ID = 200


class _RequestIds:
    """``<8 hex digits>-<n>``: unique per process, and cheap (no clock, no syscall)."""

    def __init__(self) -> None:
        self.reset()
        # A forked worker must not repeat its parent's ids.
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix = secrets.token_hex(4)
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}-{next(self.counter)}"


_ids = _RequestIds()


def request_id(event: RequestReceived | None) -> str:
    """The client's (or proxy's) ``X-Request-ID``, or one made here."""
    if event is not None:
        for name, value in event.headers:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                if 0 < len(text) <= MAX_REQUEST_ID and text.isascii() and text.isprintable():
                    return text
                break
    return _ids.next()


def _utc(timestamp: float) -> str:
    whole = int(timestamp)
    millis = int((timestamp - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def log_json_access(
    client: Address | None,
    event: RequestReceived | None,
    status: int,
    duration: float,
    sent: int,
    reason: str = "",
) -> None:
    """Write the JSON line of one request (the caller checks the level)."""
    method: str | None = None
    path: str | None = None
    query: str | None = None
    version: str | None = None
    if event is not None:
        # latin-1 keeps every byte as it came; json.dumps escapes what needs it,
        # so a hostile target stays one line and one string.
        path, question, rest = event.target.decode("latin-1").partition("?")
        query = rest if question else None
        method, version = event.method, event.http_version
    fields: dict[str, Any] = {
        "time": _utc(time.time()),
        "client": where(client),
        "request_id": request_id(event),
        "method": method,
        "path": path,
        "query": query,
        "http_version": version,
        "status": status or None,
        "duration_ms": round(duration * 1000, 3),
        "bytes": sent,
        "error": reason if not status and reason else None,
    }
    # The fields ride along on the record too, for a formatter of the user's own
    # (--log-config) that would rather build its JSON from them.
    access_logger.info(json.dumps(fields), extra={"access": fields})
