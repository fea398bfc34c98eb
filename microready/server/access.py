"""The access line's bookkeeping for one connection.

Every request that reached the server gets exactly one line: answered by the
app, refused by the server (400, 408, 413, ...), answered with a 500 because the
app's response was invalid, or cut short. The transport calls ``begin`` when a
request head (or what is left of one) is in hand, adds what it writes to
``sent``, and calls ``finish`` when the last byte is out; a second ``finish`` for
the same request is a no-op, which is what keeps it to one line.

One ``AccessLog`` lives as long as its connection, so a request costs no
allocation here beyond the log record; with the access log off, ``begin`` sees
that once per request and nothing else is counted or timed. With
``--metrics-path``, the same timing and the status feed ``ServerMetrics``, so
metrics cost the requests no second clock read (and work with the log off).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .access_json import log_json_access
from .log import access_logger, log_access

if TYPE_CHECKING:
    from ..datastructures import Address
    from .protocol import RequestReceived
    from .settings import ConnectionSettings

__all__ = ["AccessLog"]


class AccessLog:
    """What the access line of the connection's current request will say."""

    __slots__ = ("client", "clock", "enabled", "pending", "logging", "head", "started", "sent",
                 "metrics", "write_line")

    def __init__(self, client: Address | None, settings: ConnectionSettings,
                 clock: Callable[[], float]) -> None:
        self.client = client
        self.clock = clock  # the connection's (event_loop.py), which ``arrived`` is read on
        self.enabled = settings.access_log  # --no-access-log turns it off for good
        self.metrics = settings.metrics
        self.write_line = log_json_access if settings.access_log_format == "json" else log_access
        # True from ``begin`` to ``finish`` while the request is followed (for
        # the log line, the metrics or both): the transport counts written
        # bytes only then.
        self.pending = False
        self.logging = False  # this request's line will be written
        self.head: RequestReceived | None = None
        self.started = 0.0
        self.sent = 0

    def begin(self, head: RequestReceived | None, arrived: float) -> None:
        """A request starts; ``arrived`` is when its head's bytes came in."""
        # Checked per request, not per connection: the level may change at run time.
        self.logging = self.enabled and access_logger.isEnabledFor(logging.INFO)
        self.pending = self.logging or self.metrics is not None
        if self.pending:
            self.head = head
            self.started = arrived
            self.sent = 0

    def finish(self, status: int, reason: str = "") -> None:
        """The last byte is out (``status``), or the response was cut short (0, why)."""
        if not self.pending:
            return
        self.pending = False
        duration = self.clock() - self.started
        if self.metrics is not None:
            self.metrics.observe(status, duration)
        if self.logging:
            # The reason explains a cut-off only; a status says all a response needs.
            self.write_line(self.client, self.head, status, duration, self.sent,
                            "" if status else reason)
        self.head = None  # do not keep the request alive until the next one
