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

__all__ = [
    "access_logger", "configure_logging", "log_access", "printable", "request_line", "where",
]

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


def where(client: Address | None) -> str:
    """How log lines name a peer: ``127.0.0.1:44574``, ``unix`` or ``-`` (unknown)."""
    if client is None:
        return "-"
    if client.port == 0:  # accept() gives a Unix socket's peer no port (and rarely a path)
        return "unix"
    return f"{client.host}:{client.port}"


def log_access(
    client: Address | None,
    event: RequestReceived | None,
    status: int,
    duration: float,
    sent: int,
    reason: str = "",
) -> None:
    """Write the access line of one request (the caller checks the level).

    uvicorn's line (``127.0.0.1:50312 - "GET /items/3 HTTP/1.1" 200``), so its
    parsers still match, then the milliseconds from the head's arrival to the
    last byte written and the bytes written. A response cut short has status
    ``-`` and says why at the end; a head too broken to parse is ``"-"``.
    """
    line = request_line(event) if event is not None else '"-"'
    code = str(status) if status else "-"
    access_logger.info(
        "%s - %s %s %.1fms %dB%s",
        where(client),
        line,
        code,
        duration * 1000,
        sent,
        f" ({reason})" if reason else "",
    )
