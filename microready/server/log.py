"""Logging for the server: standard ``logging`` under ``microready.*`` names.

``microready.server`` (start, stop), ``microready.error`` (app and protocol
errors), ``microready.access`` (one line per request) and
``microready.background`` (task failures). An application that configures
logging itself keeps its handlers: we add ours only where none exists. A
``--log-config`` file takes full control: the server then adds no handler at
all, and ``--log-level`` sets only a level the file left unset.

The look is uvicorn's (``INFO:     message``), with the level name coloured as
uvicorn colours it when stderr is a terminal or ``--use-colors`` says so. The
access line and the request line that background-task messages cite are
written here too, with the request target escaped for the log.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any, Literal

from .._utils import is_ip_address
from .config import Config, ConfigError
from .log_config import apply_log_config

if TYPE_CHECKING:
    from ..datastructures import Address
    from .protocol import RequestReceived

__all__ = [
    "JsonLinesFormatter", "LevelFormatter", "access_logger", "configure_logging", "log_access",
    "RequestLine", "printable", "request_line", "utc_time", "where",
]

access_logger = logging.getLogger("microready.access")

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

# uvicorn's colours (uvicorn/logging.py): the level name, and in access lines the
# status by its class, with the request line in bold.
_LEVEL_COLOURS = {TRACE: 34, logging.DEBUG: 36, logging.INFO: 32, logging.WARNING: 33,
                  logging.ERROR: 31, logging.CRITICAL: 91}
_STATUS_COLOURS = {"1": 97, "2": 32, "3": 33, "4": 31, "5": 91}
_BOLD = 1
_ACCESS_LINE = "%s - %s %s %.1fms %dB%s"  # log_access's format, which colours recognise


def _paint(text: str, code: int | None) -> str:
    return text if code is None else f"\033[{code}m{text}\033[0m"


class LevelFormatter(logging.Formatter):
    """``INFO:     message``, the shape uvicorn users know, coloured as uvicorn's.

    Usable from a ``--log-config`` file (``"()": "microready.server.log.LevelFormatter"``)
    with uvicorn's ``%(levelprefix)s``; ``use_colors`` left unset there follows
    ``--use-colors`` (or whether stderr is a terminal).
    """

    # Set by configure_logging: --use-colors / --no-use-colors, else stderr.isatty().
    default_use_colors = False

    def __init__(
        self,
        fmt: str | None = "%(levelprefix)s %(message)s",
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        use_colors: bool | None = None,
    ) -> None:
        super().__init__(fmt, datefmt, style)
        self.use_colors = use_colors

    def formatMessage(self, record: logging.LogRecord) -> str:
        colours = self.default_use_colors if self.use_colors is None else self.use_colors
        name = record.levelname
        separator = " " * (8 - len(name))
        if colours:
            name = _paint(name, _LEVEL_COLOURS.get(record.levelno))
            args = record.args
            if record.msg is _ACCESS_LINE and isinstance(args, tuple):
                # A copy: other handlers of this record must not see the colours.
                record = copy.copy(record)
                record.message = _coloured_access_line(args)
        record.levelprefix = name + ":" + separator
        return super().formatMessage(record)


def _coloured_access_line(args: tuple[Any, ...]) -> str:
    client, line, code, *rest = args
    return _ACCESS_LINE % (client, _paint(line, _BOLD),
                           _paint(code, _STATUS_COLOURS.get(str(code)[:1])), *rest)


def utc_time(timestamp: float) -> str:
    """``2026-12-02T06:06:09.123Z``: a wall-clock time as log shippers read it."""
    whole = int(timestamp)
    millis = int((timestamp - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


class JsonLinesFormatter(logging.Formatter):
    """``--access-log-format json``: a request's JSON object as it is (see
    ``access_json``); any other line on the access logger (a WebSocket's) as
    ``{"time", "level", "message"}``, so the stream stays JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        if hasattr(record, "access"):
            return record.getMessage()
        return json.dumps({"time": utc_time(record.created), "level": record.levelname,
                           "message": record.getMessage()})


class _DefaultHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler the server added itself, so a later configure_logging can replace it."""


def configure_logging(config: Config) -> None:
    """Set up the ``microready`` loggers for a server process, from
    ``--log-level``, ``--[no-]access-log``, ``--access-log-format``,
    ``--log-config`` and ``--[no-]use-colors``.

    Raises ConfigError (one line) for a ``log_config`` file that cannot be
    used, after putting the default handlers in place so it can be logged.
    """
    level, access_log = config.log_level_number, config.access_log
    use_colors, log_config = config.use_colors, config.log_config
    LevelFormatter.default_use_colors = (
        use_colors if use_colors is not None else _is_terminal(sys.stderr)
    )
    root = logging.getLogger("microready")
    for logger in (root, access_logger):
        for handler in [h for h in logger.handlers if isinstance(h, _DefaultHandler)]:
            logger.removeHandler(handler)
    json_access = config.access_log_format == "json"
    if log_config is not None:
        try:
            apply_log_config(log_config)
        except ConfigError:
            root.handlers.clear()
            _add_default_handlers(root, json_access)
            raise
        if root.level == logging.NOTSET:
            root.setLevel(level)
        if not access_log:
            access_logger.disabled = True
        if use_colors is not None and not _uses_level_formatter():
            logging.getLogger("microready.server").warning(
                "--%s has no effect: the --log-config file formats no handler with "
                "microready.server.log.LevelFormatter", "use-colors" if use_colors
                else "no-use-colors")
        return
    root.setLevel(level)
    if not root.handlers:
        _add_default_handlers(root, json_access)
    access_logger.disabled = not access_log


def _add_default_handlers(root: logging.Logger, json_access: bool) -> None:
    handler = _DefaultHandler(sys.stderr)
    handler.setFormatter(LevelFormatter())
    root.addHandler(handler)
    root.propagate = False
    if json_access and not access_logger.handlers:
        # JSON lines on stdout, as uvicorn puts its access log there: the other
        # logs stay on stderr, so stdout is nothing but JSON for a log shipper.
        handler = _DefaultHandler(sys.stdout)
        handler.setFormatter(JsonLinesFormatter())
        access_logger.addHandler(handler)
        access_logger.propagate = False
    elif not json_access and access_logger.propagate is False and not access_logger.handlers:
        access_logger.propagate = True  # a json run before this one in the same process


def _uses_level_formatter() -> bool:
    """Does a handler that ``microready.*`` lines can reach use our formatter?"""
    names = [name for name in logging.root.manager.loggerDict if name.startswith("microready")]
    loggers = [logging.getLogger(name) for name in names] + [logging.getLogger()]
    return any(isinstance(handler.formatter, LevelFormatter)
               for logger in loggers for handler in logger.handlers)


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False


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
    return _line(event.method, event.target, event.http_version)


def _line(method: str, target: bytes, http_version: str) -> str:
    return f'"{method} {printable(target)} HTTP/{http_version}"'


class RequestLine:
    """A request's ``request_line``, written out only when a log line asks for it.

    The background runner keeps one with every job, and logs it only if a task
    fails or is dropped: most jobs never need the text. It keeps the three
    parts, not the event, whose headers would otherwise live as long as the job.
    """

    __slots__ = ("_method", "_target", "_http_version")

    def __init__(self, event: RequestReceived) -> None:
        self._method, self._target, self._http_version = (
            event.method, event.target, event.http_version)

    def __str__(self) -> str:
        return _line(self._method, self._target, self._http_version)


def where(client: Address | None) -> str:
    """How log lines name a peer: ``127.0.0.1:44574``, ``unix`` or ``-`` (unknown)."""
    if client is None:
        return "-"
    if client.port == 0:
        # accept() gives a Unix socket's peer no port (and rarely a path); a
        # client named by a trusted proxy may have an address and no port.
        return client.host if is_ip_address(client.host) else "unix"
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
        _ACCESS_LINE,
        where(client),
        line,
        code,
        duration * 1000,
        sent,
        f" ({reason})" if reason else "",
    )
