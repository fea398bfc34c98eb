"""The sans-IO HTTP/1.1 core: bytes and the current time in, events and bytes out.

Nothing here touches a socket, a clock or an event loop; it imports only h11,
the standard library and ``microready._utils`` (itself stdlib only), so every
rule can be tested without I/O. One idea per module, as in h11:

* ``events``: what the core tells its caller (``RequestReceived``, ...);
* ``limits``: the sizes and timeouts a connection enforces;
* ``framing``: the rules a request head must meet, as a table;
* ``writer``: responses into bytes, and h11's state kept in step;
* ``connection``: ``ConnectionCore``, which ties them together across
  keep-alive cycles, with the read deadlines.
"""

from .connection import ConnectionCore
from .events import (
    NEED_DATA,
    PAUSED,
    BodyReceived,
    ConnectionEnded,
    Event,
    RawHeaders,
    Rejected,
    RequestComplete,
    RequestReceived,
)
from .limits import Limits
from .writer import InvalidResponse

__all__ = [
    "BodyReceived",
    "ConnectionCore",
    "ConnectionEnded",
    "Event",
    "InvalidResponse",
    "Limits",
    "NEED_DATA",
    "PAUSED",
    "RawHeaders",
    "Rejected",
    "RequestComplete",
    "RequestReceived",
]
