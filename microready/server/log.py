"""Logging for the server: standard ``logging`` under ``microready.*`` names.

``microready.server`` (start, stop), ``microready.error`` (app and protocol
errors), ``microready.access`` (one line per request) and
``microready.background`` (task failures). An application that configures
logging itself keeps full control: we add a handler only where none exists.

The access line and the request line that background-task messages cite are
written here too, with the request target escaped for the log.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..datastructures import Address
    from .protocol import RequestReceived

__all__ = ["access_logger", "configure_logging", "log_access", "printable", "request_line"]

access_logger = logging.getLogger("microready.access")

TRACE = 5
logging.addLevelName(TRACE, "TRACE")


class _LevelColonFormatter(logging.Formatter):
    """``INFO:     message``, the shape uvicorn users know."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"{record.levelname}:".ljust(10)
        text = super().format(record)
        return prefix + text


def configure_logging(level: int, *, access_log: bool) -> None:
    root = logging.getLogger("microready")
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_LevelColonFormatter("%(message)s"))
        root.addHandler(handler)
        root.propagate = False
    access_logger.disabled = not access_log


def printable(target: bytes) -> str:
    # The target is attacker-controlled; escape it so a log line stays one line
    # and cannot forge entries (control characters, quotes, non-ASCII).
    # A backslash is escaped too, so an escape in the log always means one.
    text = target.decode("latin-1")
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}"
        for c in text
    )


def request_line(event: RequestReceived) -> str:
    """``"GET /path HTTP/1.1"``: how log lines about a request name it."""
    return f'"{event.method} {printable(event.target)} HTTP/{event.http_version}"'


def log_access(client: Address | None, event: RequestReceived, status: int) -> None:
    """Write the access line of one request (the caller checks the level)."""
    where = f"{client.host}:{client.port}" if client else "-"
    access_logger.info(
        '%s - "%s %s HTTP/%s" %d',
        where,
        event.method,
        printable(event.target),
        event.http_version,
        status,
    )
