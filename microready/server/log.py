"""Logging for the server: standard ``logging`` under ``microready.*`` names.

``microready.server`` (start, stop), ``microready.error`` (app and protocol
errors), ``microready.access`` (one line per request) and
``microready.background`` (task failures). An application that configures
logging itself keeps full control: we add a handler only where none exists.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

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
    logging.getLogger("microready.access").disabled = not access_log
