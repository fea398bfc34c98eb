"""What the connection core tells its caller: one event per thing the client said.

``ConnectionCore.next_event`` returns one of these, or ``NEED_DATA`` (feed it
more bytes) or ``PAUSED`` (the request is complete; nothing more is read until
the response is finished and the next keep-alive cycle starts). Those two are
h11's own sentinels, so ``event is NEED_DATA`` holds whichever module a caller
imported them from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import h11

__all__ = [
    "BodyReceived",
    "ConnectionEnded",
    "Event",
    "NEED_DATA",
    "PAUSED",
    "RawHeaders",
    "Rejected",
    "RequestComplete",
    "RequestReceived",
]

RawHeaders = Sequence[tuple[bytes, bytes]]

NEED_DATA: Final = h11.NEED_DATA
PAUSED: Final = h11.PAUSED


# RequestReceived and BodyReceived are built once per request and once per body
# chunk, so they are not frozen: a frozen dataclass sets each field through
# object.__setattr__, which made construction about four times slower (measured
# on CPython 3.11: 173 ns -> 753 ns for RequestReceived, 88 ns -> 233 ns for
# BodyReceived). The events that are rare, or carry no fields, are immutable.


@dataclass(slots=True)
class RequestReceived:
    """A request head. Its body follows as ``BodyReceived`` events."""

    method: str
    target: bytes
    http_version: str
    headers: RawHeaders  # lower-case names, in the order received
    # It has an Upgrade header: the transport looks closer (a WebSocket?) only then.
    upgrade: bool = False
    # It has an X-Forwarded-For or -Proto header: only then are they read,
    # for a trusted proxy (proxy_headers.py).
    forwarded: bool = False


@dataclass(slots=True)
class BodyReceived:
    """A piece of the request body, already de-chunked."""

    data: bytes


class RequestComplete:
    """The request body has ended."""

    __slots__ = ()


class ConnectionEnded:
    """The client closed its side of the connection."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """The client broke the protocol or a limit. Answer ``status_code`` and close."""

    status_code: int
    reason: str
    # The request head, when it was parsed before a rule refused it, so the
    # access line can name the request. Not part of what the rejection means.
    head: RequestReceived | None = field(default=None, compare=False)


# The field-less events carry no news beyond their type: one instance each.
REQUEST_COMPLETE: Final = RequestComplete()
CONNECTION_ENDED: Final = ConnectionEnded()

Event = (
    RequestReceived
    | BodyReceived
    | RequestComplete
    | ConnectionEnded
    | Rejected
    | type[h11.NEED_DATA]
    | type[h11.PAUSED]
)
