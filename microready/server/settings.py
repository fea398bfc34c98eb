"""What every connection of one server shares: the app, the limits, the switches."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from .protocol import Limits
from .protocol.websocket import WebSocketSettings

if TYPE_CHECKING:
    from .._exchange import ServedApp

__all__ = ["ConnectionSettings"]


class ConnectionSettings:
    """What every connection of one server shares."""

    __slots__ = (
        "app", "limits", "access_log", "on_request_done", "is_shutting_down", "on_app_error",
        "root_path", "_root_path_bytes", "websocket", "scheme",
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
    ) -> None:
        self.app = app
        # What request.scope["scheme"] says: the server speaks plain HTTP; the
        # test client says what its URL says.
        self.scheme = scheme
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
