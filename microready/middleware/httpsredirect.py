"""``HTTPSRedirectMiddleware``: send every plain-text request to its ``https`` URL.

``app.add_middleware(HTTPSRedirectMiddleware)``

A request that came over ``http`` (or a WebSocket over ``ws``) is answered 307,
so the client repeats the same method and body, with ``Location`` the same URL
over ``https`` (``wss``); an explicit port 80 or 443 is dropped, any other is
kept. A request that came over ``https`` goes on to the app. Starlette's answers.

The scheme is the request's ``scope["scheme"]``, as the server reports it:
``https`` for a request that came over TLS (``--ssl-certfile``), or through a
trusted proxy whose ``X-Forwarded-Proto`` says so (``--proxy-headers`` and
``--forwarded-allow-ips``, on microready's server as on uvicorn). Behind a TLS
terminator that is not trusted, every request looks like ``http`` and is
redirected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._exchange import Reply
from ..responses import PlainTextResponse, RedirectResponse
from .trustedhost import parse_host_header, request_url

if TYPE_CHECKING:
    from .._exchange import RequestHandler
    from ..requests import Request

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE_SCHEME = {"http": "https", "ws": "wss"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _server_address(server: Any, scheme: str) -> tuple[str, int | None] | None:
    # The address the request reached, when it had no usable Host (HTTP/1.0 may
    # send none): ASGI's scope["server"], (host, port); its scheme's port is left out.
    if not isinstance(server, tuple | list) or len(server) != 2 or server[1] is None:
        return None
    host, port = str(server[0]), int(server[1])
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return host, None if port == _DEFAULT_PORTS[scheme] else port


class HTTPSRedirectMiddleware:
    """Redirect ``http`` and ``ws`` requests to ``https`` and ``wss`` (307).

    ``HTTPSRedirectMiddleware(app)``: it has no options, as in Starlette.
    """

    def __init__(self, app: RequestHandler) -> None:
        self.app = app

    async def handle(self, request: Request) -> Reply:
        scheme: str = request.scope.get("scheme", "http")
        secure = _SECURE_SCHEME.get(scheme)
        if secure is None:
            return await self.app.handle(request)
        parsed = parse_host_header(request.headers.get("host"))
        address: tuple[str, int | None] | None
        if parsed is not None and parsed.port_is_valid:
            address = parsed.host, parsed.port_number
        else:
            address = _server_address(request.scope.get("server"), scheme)
        if address is None:
            return Reply(PlainTextResponse("Invalid host header", status_code=400))
        host, port = address
        # Either default port is dropped, as Starlette drops it ("http://x:443/" becomes
        # "https://x/"), and the host is written in lower case then; any other is kept.
        if port is None:
            netloc = host
        elif port in (80, 443):
            netloc = host.lower()
        else:
            netloc = f"{host}:{port}"
        return Reply(RedirectResponse(request_url(request, secure, netloc), status_code=307))
