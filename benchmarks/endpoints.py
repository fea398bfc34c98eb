"""The endpoints under load, and the functional check each must pass first.

A check returns the list of problems it found (empty: the endpoint is right).
Task endpoints are also checked to really run their task: ``GET /count``'s
``done`` must go up by one shortly after the response. ``notify-none`` is
``notify`` without the task: the same answer, ``/count``'s ``untasked`` up by one,
and ``submitted`` and ``done`` unchanged. ``upload`` sends a body
(built once, here): one 1 MiB file in ``multipart/form-data``, whose task must
have read exactly 1 MiB of it. ``users`` sends a JSON body and an
``Authorization: Bearer`` header; its answer must echo the body without the
password, and the same request without the header must be refused with 401.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import client

__all__ = ["ENDPOINTS", "Endpoint", "Counts", "by_key", "counts", "wait_drained"]

EMAIL = "user@example.com"
NOTIFIED = {"message": "Notification sent in the background"}
UPLOADED = {"message": "Upload accepted"}

# ``users``: the token the apps accept (``apps/_tasks.TOKEN``), the user posted,
# and what comes back (the response model drops the password).
TOKEN = "benchmark-token-5d1c"
USERS_HEADERS = (("Authorization", f"Bearer {TOKEN}"),)
USER_IN = {
    "username": "alice",
    "password": "wonderland",
    "email": "alice@example.com",
    "full_name": "Alice Liddell",
}
USER_OUT = {k: v for k, v in USER_IN.items() if k != "password"}
USERS_BODY = json.dumps(USER_IN).encode()
JSON_TYPE = "application/json"

UPLOAD_SIZE = 1024 * 1024
UPLOAD_BOUNDARY = "microready-benchmark-7f3a9c2e"
UPLOAD_CONTENT_TYPE = f"multipart/form-data; boundary={UPLOAD_BOUNDARY}"


def _multipart_file(field: str, filename: str, content_type: str, data: bytes) -> bytes:
    """A ``multipart/form-data`` body with one file part, as a browser or httpx sends it."""
    delimiter = f"--{UPLOAD_BOUNDARY}".encode()
    assert delimiter not in data
    head = (
        f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return delimiter + b"\r\n" + head + data + b"\r\n" + delimiter + b"--\r\n"


# Deterministic content: the 256 byte values over and over (no run of two dashes in it).
UPLOAD_BODY = _multipart_file(
    "file", "data.bin", "application/octet-stream", bytes(range(256)) * (UPLOAD_SIZE // 256)
)


@dataclass(frozen=True)
class Counts:
    submitted: int
    done: int
    raw: dict[str, Any]

    @property
    def backlog(self) -> int:
        return self.submitted - self.done


def counts(port: int) -> Counts:
    reply = client.request(port, "GET", "/count", timeout=30.0)
    body = reply.json()
    return Counts(int(body["submitted"]), int(body["done"]), body)


def wait_drained(port: int, within: float) -> tuple[Counts, float | None]:
    """Poll ``/count`` until no task is left; returns the counts and the seconds it
    took, or None for the seconds if tasks were still queued after ``within``."""
    started = time.monotonic()
    while True:
        now = counts(port)
        waited = time.monotonic() - started
        if now.backlog <= 0:
            return now, waited
        if waited >= within:
            return now, None
        time.sleep(0.02)


def _framing(reply: client.Reply) -> list[str]:
    """Headers that strict clients (wrk's parser among them) reject when repeated."""
    problems = []
    for name in ("content-length", "content-type", "date", "server", "transfer-encoding"):
        values = reply.header_values(name)
        if len(values) > 1:
            problems.append(f"{len(values)} {name} headers: {values}")
    if not reply.header_values("content-length") and not reply.header_values("transfer-encoding"):
        problems.append("no content-length or transfer-encoding")
    return problems


def _expect_body(reply: client.Reply, expected: bytes, content_type: str) -> list[str]:
    problems = _framing(reply)
    if reply.status != 200:
        problems.append(f"status {reply.status}")
    if reply.body != expected:
        problems.append(f"body {reply.body[:80]!r}, expected {expected!r}")
    if not reply.content_type.startswith(content_type):
        problems.append(f"content-type {reply.content_type!r}, expected {content_type}")
    return problems


def _expect_json(reply: client.Reply, expected: Any) -> list[str]:
    return _framing(reply) + _json_body(reply, expected)


def _json_body(reply: client.Reply, expected: Any) -> list[str]:
    if reply.status != 200:
        return [f"status {reply.status}: {reply.body[:120]!r}"]
    try:
        body = reply.json()
    except ValueError:
        return [f"not JSON: {reply.body[:80]!r}"]
    if body != expected:
        return [f"body {json.dumps(body)}, expected {json.dumps(expected)}"]
    if not reply.content_type.startswith("application/json"):
        return [f"content-type {reply.content_type!r}, expected application/json"]
    return []


def _check_plaintext(port: int) -> list[str]:
    return _expect_body(client.request(port, "GET", "/plaintext"), b"Hello, World!", "text/plain")


def _check_json(port: int) -> list[str]:
    return _expect_json(client.request(port, "GET", "/json"), {"message": "Hello, World!"})


def _check_items(port: int) -> list[str]:
    problems = _expect_json(
        client.request(port, "GET", "/items/42?q=foo&limit=5"),
        {"item_id": 42, "q": "foo", "limit": 5},
    )
    problems += _expect_json(
        client.request(port, "GET", "/items/7"), {"item_id": 7, "q": None, "limit": 10}
    )
    reply = client.request(port, "GET", "/items/abc")
    if not 400 <= reply.status < 500:  # FastAPI says 422; Starlette's int route, 404
        problems.append(f"GET /items/abc answered {reply.status}, expected a 4xx")
    return problems


def _refused(
    port: int, path: str, body: bytes, headers: Sequence[tuple[str, str]], why: str
) -> list[str]:
    """The request is refused with 401 and a ``WWW-Authenticate: Bearer`` challenge."""
    reply = client.request(port, "POST", path, body=body, content_type=JSON_TYPE, headers=headers)
    problems = [f"{why}: {p}" for p in _framing(reply)]
    if reply.status != 401:
        problems.append(f"{why}: status {reply.status}, expected 401: {reply.body[:120]!r}")
    challenges = reply.header_values("www-authenticate")
    if challenges != ["Bearer"]:
        problems.append(f"{why}: www-authenticate {challenges}, expected ['Bearer']")
    return problems


def _check_users(port: int) -> list[str]:
    reply = client.request(
        port, "POST", "/users", body=USERS_BODY, content_type=JSON_TYPE, headers=USERS_HEADERS
    )
    problems = _expect_json(reply, USER_OUT)
    problems += _refused(port, "/users", USERS_BODY, (), "without Authorization")
    problems += _refused(
        port, "/users", USERS_BODY, (("Authorization", "Bearer not-the-token"),), "wrong token"
    )
    return problems


def _task_check(
    path: str,
    expected: Any = NOTIFIED,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    also: Callable[[Counts, Counts], list[str]] | None = None,
) -> Callable[[int], list[str]]:
    """POST ``path`` once; then one task queued and run. ``also`` checks more of
    ``/count``, given the counts before and after."""

    def check(port: int) -> list[str]:
        before = counts(port)
        reply = client.request(port, "POST", path, body=body, content_type=content_type)
        problems = _expect_json(reply, expected)
        after, seconds = wait_drained(port, within=3.0)
        if after.submitted != before.submitted + 1:
            problems.append(f"submitted went {before.submitted} -> {after.submitted}")
        if seconds is None or after.done != before.done + 1:
            problems.append(f"task did not run: done went {before.done} -> {after.done}")
        elif also is not None:
            problems += also(before, after)
        return problems

    return check


def _check_notify_none(port: int) -> list[str]:
    """The same answer as notify, and no task: submitted and done stay where they were."""
    path = f"/notify-none/{EMAIL}"
    before = counts(port)
    problems = _expect_json(client.request(port, "POST", path), NOTIFIED)
    time.sleep(0.1)  # time enough for a task, if one was queued, to show up in done
    after = counts(port)
    untasked = int(after.raw.get("untasked", 0)) - int(before.raw.get("untasked", 0))
    if untasked != 1:
        problems.append(f"untasked went up by {untasked}, expected 1 (is it notify-none?)")
    if (after.submitted, after.done) != (before.submitted, before.done):
        problems.append(f"a task was queued: submitted {before.submitted} -> "
                        f"{after.submitted}, done {before.done} -> {after.done}")
    return problems


def _read_whole_upload(before: Counts, after: Counts) -> list[str]:
    last = after.raw.get("upload_bytes")
    total = int(after.raw.get("upload_bytes_total") or 0) - int(
        before.raw.get("upload_bytes_total") or 0
    )
    if last != UPLOAD_SIZE or total != UPLOAD_SIZE:
        return [f"the task read {last!r} bytes ({total} more in all), expected {UPLOAD_SIZE}"]
    return []


@dataclass(frozen=True)
class Endpoint:
    key: str
    method: str
    path: str  # what wrk requests
    check: Callable[[int], list[str]]
    tasks: bool = False
    body: bytes | None = None  # sent with every request, checks, warm-up and load alike
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # more request headers, sent the same way


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("plaintext", "GET", "/plaintext", _check_plaintext),
    Endpoint("json", "GET", "/json", _check_json),
    Endpoint("items", "GET", "/items/42?q=foo&limit=5", _check_items),
    Endpoint("notify", "POST", f"/notify/{EMAIL}", _task_check(f"/notify/{EMAIL}"), tasks=True),
    # notify without its task, measured on a fresh server as notify is: like with like.
    Endpoint("notify-none", "POST", f"/notify-none/{EMAIL}", _check_notify_none),
    Endpoint(
        "notify-sync",
        "POST",
        f"/notify-sync/{EMAIL}",
        _task_check(f"/notify-sync/{EMAIL}"),
        tasks=True,
    ),
    Endpoint(
        "upload",
        "POST",
        "/upload",
        _task_check(
            "/upload", UPLOADED, body=UPLOAD_BODY, content_type=UPLOAD_CONTENT_TYPE,
            also=_read_whole_upload,
        ),
        tasks=True,
        body=UPLOAD_BODY,
        content_type=UPLOAD_CONTENT_TYPE,
    ),
    # Its task runs in a Celery worker: ``done`` in /count is the worker's Redis counter.
    Endpoint(
        "notify-celery",
        "POST",
        f"/notify-celery/{EMAIL}",
        _task_check(f"/notify-celery/{EMAIL}"),
        tasks=True,
    ),
    Endpoint(
        "users",
        "POST",
        "/users",
        _check_users,
        body=USERS_BODY,
        content_type=JSON_TYPE,
        headers=USERS_HEADERS,
    ),
)


def by_key(key: str) -> Endpoint:
    for endpoint in ENDPOINTS:
        if endpoint.key == key:
            return endpoint
    raise KeyError(key)
