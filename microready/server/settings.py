"""What every connection of one server shares: the app, the limits, the switches."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from .protocol import Limits
from .protocol.websocket import WebSocketSettings
from .protocol.writer import DEFAULT_SERVER_HEADERS, ServerHeaders

if TYPE_CHECKING:
    from .._exchange import ServedApp
    from .metrics import ServerMetrics
    from .proxy_headers import TrustedProxies

__all__ = ["ConnectionSettings"]


class ConnectionSettings:
    """What every connection of one server shares."""

    __slots__ = (
        "app", "limits", "access_log", "on_request_done", "is_shutting_down", "on_app_error",
        "root_path", "_root_path_bytes", "websocket", "scheme",
        "access_log_format", "metrics",
        "server_headers",
        "trusted_proxies",
    )

    def __init__(
        self,
        app: ServedApp,
        limits: Limits,
        *,
        access_log: bool = True,
        on_request_done: Callable[[], None] | None = None,
        is_shutting_down: Callable[[], bool] = lambda: False,
        on_app_error: Callable[[BaseException], None] | None = None,
        root_path: str = "",
        websocket: WebSocketSettings | None = None,
        scheme: str = "http",
        access_log_format: str = "plain",
        metrics: ServerMetrics | None = None,
        server_headers: ServerHeaders = DEFAULT_SERVER_HEADERS,
    ) -> None:
        self.app = app
        # Date, Server and the --header lines, on every response the server writes.
        self.server_headers = server_headers
        self.access_log_format = access_log_format  # "plain" or "json" (--access-log-format)
        # --metrics-path: the server's counters and where it serves them; None: off.
        self.metrics = metrics
        # What request.scope["scheme"] says: "https" with --ssl-certfile, else
        # "http"; the test client says what its URL says.
        self.scheme = scheme
        # Set (by trusting_proxies) only on the copy the server hands to the
        # connections of trusted proxies: their requests read X-Forwarded-*.
        # None: nothing is read, at no cost per request.
        self.trusted_proxies: TrustedProxies | None = None
        self.websocket = websocket if websocket is not None else WebSocketSettings()
        # --root-path: as uvicorn does, the app sees it in front of every path
        # (the proxy took it off) and in scope["root_path"].
        self.root_path = root_path.rstrip("/")
        self._root_path_bytes = quote(self.root_path).encode("ascii")
        self.limits = limits
        self.access_log = access_log
        self.on_request_done = on_request_done
        self.is_shutting_down = is_shutting_down
        # The test client re-raises the app's unhandled errors; the server has
        # nothing to add, since the app already logged them.
        self.on_app_error = on_app_error

    def trusting_proxies(self, proxies: TrustedProxies) -> ConnectionSettings:
        """A copy for the connections whose peer is a trusted proxy (--proxy-headers)."""
        trusting = copy.copy(self)
        trusting.trusted_proxies = proxies
        return trusting
