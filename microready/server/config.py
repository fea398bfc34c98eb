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
from .proxy_headers import TrustedProxies, trusted_proxies

__all__ = ["Config", "ConfigError"]

Backend = Literal["asyncio", "trio"]
Loop = Literal["auto", "asyncio", "uvloop"]
LifespanMode = Literal["auto", "on", "off"]
AccessLogFormat = Literal["plain", "json"]
RELOAD_DELAY = 0.25  # seconds; uvicorn's default
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


_TOKEN_CHARACTERS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def response_headers(headers: tuple[str | tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    """``NAME:VALUE`` strings (or ``(name, value)`` pairs, as uvicorn's ``run()``
    takes them) as lower-cased raw header pairs. Raises ConfigError on a bad one."""
    pairs: list[tuple[bytes, bytes]] = []
    for header in headers:
        if isinstance(header, str):
            name, colon, value = header.partition(":")
        elif isinstance(header, (tuple, list)) and len(header) == 2:
            name, value = str(header[0]), str(header[1])
            colon = ":"
        else:
            colon = ""
            name = value = ""
        name, value = name.strip(), value.strip()
        if (
            not colon or not name or not set(name) <= _TOKEN_CHARACTERS
            or any(c in value for c in "\r\n\0") or not (name + value).isascii()
        ):
            raise ConfigError(
                f"a response header is NAME:VALUE, with a token for a name and no line break, "
                f"not {header!r}:\n    right: --header 'X-Frame-Options: DENY', or "
                f"headers=[('x-frame-options', 'DENY')] from Python"
            )
        pairs.append((name.lower().encode("ascii"), value.encode("ascii")))
    return pairs


def _check_reload_options(config: Config) -> None:
    """``reload_*`` only with ``reload``, and ``reload`` only in one process."""
    if config.reload and config.workers > 1:
        # uvicorn warns and reloads one process; an option that does nothing is refused.
        raise ConfigError(
            f"reload restarts one server process, so it cannot go with workers={config.workers}:\n"
            "    right: --reload (in development), or --workers "
            f"{config.workers} (in production)"
        )
    if not config.reload:
        given = [name for name in ("reload_dirs", "reload_includes", "reload_excludes")
                 if getattr(config, name)]
        if config.reload_delay != RELOAD_DELAY:
            given.append("reload_delay")
        if given:
            verb = "apply" if len(given) > 1 else "applies"
            raise ConfigError(
                f"{', '.join(given)} {verb} only with reload on:\n"
                "    right: --reload --reload-dir src, or reload=True, reload_dirs=['src']"
            )


def _check_tls_options(config: Config) -> None:
    """The ``ssl_*`` fields fit together (the files are read by ``server.tls``)."""
    right = "    right: --ssl-certfile cert.pem --ssl-keyfile key.pem"
    if config.ssl_certfile is None:
        given = [name for name in ("ssl_keyfile", "ssl_keyfile_password", "ssl_ca_certs",
                                   "ssl_ciphers") if getattr(config, name) is not None]
        given += ["ssl_cert_reqs"] if config.ssl_cert_reqs else []
        if given:
            verb = "needs" if len(given) == 1 else "need"
            raise ConfigError(f"{', '.join(given)} {verb} TLS, which needs a certificate:\n{right}")
    elif config.ssl_cert_reqs and config.ssl_ca_certs is None:
        raise ConfigError(
            f"ssl_cert_reqs={config.ssl_cert_reqs} checks client certificates against CAs; "
            f"name them:\n    right: --ssl-cert-reqs {config.ssl_cert_reqs} --ssl-ca-certs ca.pem"
        )
    elif not config.ssl_cert_reqs and config.ssl_ca_certs is not None:
        raise ConfigError(
            "ssl_ca_certs verifies client certificates, which ssl_cert_reqs=0 does not ask for:\n"
            "    right: --ssl-ca-certs ca.pem --ssl-cert-reqs 2 (or 1: optional)"
        )


def _help(text: str, flag: str | None = None, metavar: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"help": text}
    if flag is not None:
        metadata["flag"] = flag
    if metavar is not None:
        metadata["metavar"] = metavar
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
    timeout_send: float | None = field(
        default=30.0,
        metadata=_help("abort a connection whose response write makes no progress for this many "
                       "seconds (a client that stopped reading); none: wait forever"),
    )
    ssl_keyfile: str | None = field(
        default=None, metadata=_help("TLS private key file (PEM); none: in the certificate file"))
    ssl_certfile: str | None = field(
        default=None, metadata=_help("TLS certificate file (PEM), with its chain: serve https"))
    ssl_keyfile_password: str | None = field(
        default=None, metadata=_help("password of an encrypted TLS key file")
    )
    ssl_ca_certs: str | None = field(default=None, metadata=_help(
        "CA certificates (PEM) that verify client certificates (with ssl-cert-reqs 1 or 2)"))
    ssl_cert_reqs: int = field(
        default=0,
        metadata=_help("client certificates: 0 not asked (ssl.CERT_NONE), 1 optional, 2 required"),
    )
    ssl_ciphers: str | None = field(
        default=None,
        metadata=_help("TLS 1.2 ciphers, in OpenSSL's syntax; none: OpenSSL's secure defaults"),
    )
    reload: bool = field(
        default=False, metadata=_help("restart the server when a source file changes (development)")
    )
    reload_dirs: tuple[str, ...] = field(
        default=(),
        metadata=_help("directory the reloader watches (repeatable; default: the current one)",
                       flag="--reload-dir", metavar="DIR"),
    )
    reload_includes: tuple[str, ...] = field(
        default=(),
        metadata=_help("glob of files the reloader watches (repeatable; default: *.py)",
                       flag="--reload-include", metavar="GLOB"),
    )
    reload_excludes: tuple[str, ...] = field(
        default=(),
        metadata=_help("glob of files (or a directory) the reloader ignores "
                       "(repeatable; default: .* .py[cod] .sw.* ~*)",
                       flag="--reload-exclude", metavar="GLOB"),
    )
    reload_delay: float = field(
        default=RELOAD_DELAY,
        metadata=_help("seconds the reloader waits between checks for changed files "
                       "(it polls that often without watchfiles)"),
    )
    proxy_headers: bool = field(
        default=True,
        metadata=_help("take the client's address and scheme from X-Forwarded-For and "
                       "X-Forwarded-Proto, when the peer is a trusted proxy (forwarded-allow-ips)"),
    )
    forwarded_allow_ips: str | None = field(
        default=None,
        metadata=_help("comma-separated addresses or networks trusted to send proxy headers, "
                       "unix for Unix-socket peers, or *; none: $FORWARDED_ALLOW_IPS or "
                       "127.0.0.1,::1"),
    )
    env_file: str | None = field(
        default=None, metadata=_help("load environment variables from this .env file first")
    )
    log_config: str | None = field(
        default=None,
        metadata=_help("logging configuration file: a dictConfig in .json or .yaml/.yml "
                       "(YAML: pip install 'microready[yaml]'), else an INI file for "
                       "fileConfig; it replaces the server's handlers"),
    )
    headers: tuple[str | tuple[str, str], ...] = field(
        default=(),
        metadata=_help("a header every response carries, NAME:VALUE (repeatable)",
                       flag="--header", metavar="NAME:VALUE"),
    )
    server_header: bool = field(
        default=True, metadata=_help("send 'server: microready' (an app's own Server header wins)")
    )
    date_header: bool = field(
        default=True, metadata=_help("send a Date header (an app's own Date header wins)")
    )
    use_colors: bool | None = field(
        default=None, metadata=_help("colour the log levels; default: when stderr is a terminal")
    )
    timeout_worker_healthcheck: float = field(
        default=5.0,
        metadata=_help("with several workers: kill and replace a worker that does not answer the "
                       "supervisor's health check (from its event loop) within this many seconds"),
    )
    access_log_format: AccessLogFormat = field(
        default="plain",
        metadata=_help("plain: uvicorn's line plus duration and bytes; json: one JSON object "
                       "per request, for log shippers"),
    )
    metrics_path: str | None = field(
        default=None,
        metadata=_help("serve Prometheus metrics at this path, from the server itself, "
                       "before the app (e.g. /metrics); with several workers, each answers "
                       "with its own counts; none: off"),
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
        if self.access_log_format not in ("plain", "json"):
            raise ConfigError(
                f"access_log_format must be 'plain' or 'json', not {self.access_log_format!r}"
            )
        if self.metrics_path is not None and (
            not self.metrics_path.startswith("/") or self.metrics_path == "/"
        ):
            raise ConfigError(
                f"metrics_path is a path such as '/metrics', not {self.metrics_path!r}:\n"
                f"    right: --metrics-path /{self.metrics_path.strip('/') or 'metrics'}"
            )
        if self.ssl_cert_reqs not in (0, 1, 2):
            raise ConfigError(
                f"ssl_cert_reqs is 0 (ssl.CERT_NONE), 1 (CERT_OPTIONAL) or 2 (CERT_REQUIRED), "
                f"not {self.ssl_cert_reqs!r}"
            )
        _check_tls_options(self)
        if self.forwarded_allow_ips is not None:
            self.trusted_proxies()  # raises ConfigError on a bad entry
        for name in ("reload_dirs", "reload_includes", "reload_excludes", "headers"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, (tuple, list)):
                raise ConfigError(
                    f"{name} is a list, not {value!r}:\n    right: {name}=[{value!r}]"
                )
            object.__setattr__(self, name, tuple(value))
        response_headers(self.headers)  # raises ConfigError
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
                     "timeout_graceful_shutdown", "ws_ping_interval", "ws_ping_timeout",
                     "timeout_send", "reload_delay", "timeout_worker_healthcheck"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, not {value}")
        _check_reload_options(self)

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
    def response_headers(self) -> list[tuple[bytes, bytes]]:
        """``headers`` (--header NAME:VALUE) as the raw pairs every response carries."""
        return response_headers(self.headers)

    @property
    def ssl_enabled(self) -> bool:
        return self.ssl_certfile is not None

    def trusted_proxies(self) -> TrustedProxies | None:
        """The peers whose X-Forwarded-* headers are read (None: --no-proxy-headers):
        ``forwarded_allow_ips``, else $FORWARDED_ALLOW_IPS, else the loopback addresses."""
        if not self.proxy_headers:
            return None
        try:
            return trusted_proxies(self.forwarded_allow_ips)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def uds_mode(self) -> int:
        """``uds_permissions`` as the number ``os.chmod`` takes."""
        return file_mode(self.uds_permissions)

    @property
    def log_level_number(self) -> int:
        level = self.log_level.lower()
        number: int = logging.getLevelName(level.upper())
        return 5 if level == "trace" else number
