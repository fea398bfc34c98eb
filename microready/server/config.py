"""Every server setting, in one frozen dataclass shared by the CLI and ``run()``.

The CLI builds its flags from this class's fields, so a setting cannot exist in
one place and not the other. Values are checked when a ``Config`` is made, and a
bad one raises ``ConfigError`` that names the setting and what it accepts.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from .protocol import Limits
from .protocol.websocket import WebSocketSettings

__all__ = ["Config", "ConfigError"]

Backend = Literal["asyncio", "trio"]
Loop = Literal["auto", "asyncio", "uvloop"]
LifespanMode = Literal["auto", "on", "off"]
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class ConfigError(ValueError):
    """A server setting has a value it cannot take."""


def file_mode(value: int | str) -> int:
    """A permission mode from ``660``, ``0660`` or ``0o660`` (octal text) or an int.

    Text is always octal, as chmod reads it; an int is taken as it is, so from
    Python it is written ``0o660``. Raises ConfigError showing the right call.
    """
    right = "    right: --uds-permissions 660, or uds_permissions=0o660 from Python"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"uds_permissions must be an octal file mode, not {value!r}:\n{right}")
    if isinstance(value, int):
        if 0 <= value <= 0o777:
            return value
        hint = f" (0o{value} if you meant octal)" if set(str(value)) <= set("01234567") else ""
        raise ConfigError(
            f"uds_permissions must be a file mode from 0 to 0o777, not {value}{hint}:\n{right}"
        )
    digits = value.strip()
    if digits[:2].lower() == "0o":
        digits = digits[2:]
    if digits and len(digits) <= 4 and set(digits) <= set("01234567"):
        mode = int(digits, 8)
        if mode <= 0o777:
            return mode
    raise ConfigError(
        f"uds_permissions is a file mode in octal, such as 666 or 660, not {value!r}:\n{right}"
    )


def _help(text: str, flag: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"help": text}
    if flag is not None:
        metadata["flag"] = flag
    return metadata


@dataclass(frozen=True, slots=True)
class Config:
    """How to serve an app. ``microready.run(app, **fields)`` and the CLI flags
    (``--field-name``) set the same fields."""

    host: str = field(default="127.0.0.1", metadata=_help("address to bind"))
    port: int = field(default=8000, metadata=_help("port to bind; 0 picks a free one"))
    uds: str | None = field(default=None, metadata=_help("bind a Unix socket at this path"))
    uds_permissions: int | str = field(
        default="666",
        metadata=_help("file mode of the Unix socket, in octal: 666 lets any local user "
                       "(a proxy's worker) connect, 660 only the owner and group"),
    )
    backend: Backend = field(default="asyncio", metadata=_help("async library to run on"))
    loop: Loop = field(
        default="asyncio",
        metadata=_help("event loop for the asyncio backend; auto uses uvloop if installed"),
    )
    workers: int = field(default=1, metadata=_help("worker processes; 1 serves in-process"))
    log_level: str = field(default="info", metadata=_help("logging level"))
    access_log: bool = field(default=True, metadata=_help("log one line per request"))
    timeout_keep_alive: float = field(
        default=5.0, metadata=_help("close an idle keep-alive connection after this many seconds")
    )
    timeout_request_head: float = field(
        default=10.0, metadata=_help("a request head must arrive within this many seconds")
    )
    timeout_body: float = field(
        default=30.0, metadata=_help("close a request whose body stalls this many seconds")
    )
    timeout_graceful_shutdown: float | None = field(
        default=None,
        metadata=_help("seconds to finish requests and background tasks at shutdown; none: wait"),
    )
    max_body_size: int = field(
        default=10 * 1024 * 1024, metadata=_help("largest request body, in bytes (413 above)")
    )
    max_header_size: int = field(
        default=16 * 1024, metadata=_help("largest request head, in bytes (431 above)")
    )
    limit_concurrency: int | None = field(
        default=None, metadata=_help("answer 503 beyond this many open connections")
    )
    limit_max_requests: int | None = field(
        default=None, metadata=_help("exit gracefully after this many requests")
    )
    backlog: int = field(default=2048, metadata=_help("listen backlog"))
    background_threads: int = field(
        default=40, metadata=_help("worker threads for sync background tasks")
    )
    max_background_tasks: int | None = field(
        default=None,
        metadata=_help("requests' task lists run at once; the rest wait in order. none: no cap"),
    )
    ws_max_size: int = field(
        default=16 * 1024 * 1024,
        metadata=_help("largest WebSocket message in bytes (closed with 1009 above)"),
    )
    ws_ping_interval: float | None = field(
        default=20.0, metadata=_help("seconds between WebSocket pings; none: no pings"),
    )
    ws_ping_timeout: float | None = field(
        default=20.0,
        metadata=_help("seconds a WebSocket ping may go unanswered (closed with 1011 after)"),
    )
    root_path: str = field(
        default="",
        metadata=_help("the path prefix a proxy strips (ASGI root_path), as uvicorn's"),
    )
    lifespan: LifespanMode = field(
        default="auto",
        metadata=_help("run the app's lifespan: on, off, or auto (an ASGI app that does not "
                       "speak the lifespan protocol is served without it)"),
    )

    def __post_init__(self) -> None:
        if self.backend not in ("asyncio", "trio"):
            raise ConfigError(f"backend must be 'asyncio' or 'trio', not {self.backend!r}")
        if self.loop not in ("auto", "asyncio", "uvloop"):
            raise ConfigError(f"loop must be 'auto', 'asyncio' or 'uvloop', not {self.loop!r}")
        if self.backend == "trio" and self.loop == "uvloop":
            raise ConfigError("loop='uvloop' needs backend='asyncio'; trio has its own loop")
        if self.lifespan not in ("auto", "on", "off"):
            raise ConfigError(f"lifespan must be 'auto', 'on' or 'off', not {self.lifespan!r}")
        if self.root_path and (not self.root_path.startswith("/") or self.root_path == "/"):
            raise ConfigError(
                f"root_path is a path prefix such as '/api/v1', not {self.root_path!r}:\n"
                f"    right: --root-path /{self.root_path.strip('/') or 'api'}"
            )
        if self.log_level.lower() not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        file_mode(self.uds_permissions)  # raises ConfigError
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535, not {self.port}")
        for name in ("workers", "max_body_size", "max_header_size", "backlog",
                     "background_threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in ("limit_concurrency", "limit_max_requests", "max_background_tasks"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, or None for no limit; not {value}")
        if self.ws_max_size < 1:
            raise ConfigError(f"ws_max_size must be at least 1 byte, not {self.ws_max_size}")
        for name in ("timeout_keep_alive", "timeout_request_head", "timeout_body",
                     "timeout_graceful_shutdown", "ws_ping_interval", "ws_ping_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, not {value}")

    @classmethod
    def from_options(cls, **options: Any) -> Config:
        """``Config(**options)``, with a message that names an unknown option."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown server option(s): {', '.join(unknown)}; "
                f"the options are: {', '.join(sorted(known))}"
            )
        return cls(**options)

    @property
    def limits(self) -> Limits:
        return Limits(
            max_header_size=self.max_header_size,
            max_body_size=self.max_body_size,
            timeout_keep_alive=self.timeout_keep_alive,
            timeout_request_head=self.timeout_request_head,
            timeout_body=self.timeout_body,
        )

    @property
    def websocket(self) -> WebSocketSettings:
        return WebSocketSettings(max_size=self.ws_max_size, ping_interval=self.ws_ping_interval,
                                 ping_timeout=self.ws_ping_timeout)

    @property
    def uds_mode(self) -> int:
        """``uds_permissions`` as the number ``os.chmod`` takes."""
        return file_mode(self.uds_permissions)

    @property
    def log_level_number(self) -> int:
        level = self.log_level.lower()
        number: int = logging.getLevelName(level.upper())
        return 5 if level == "trace" else number
