"""A ``Request`` as an ASGI HTTP scope, and an ASGI HTTP scope as a ``Request``.

The two directions of microready's ASGI bridge meet here: an ASGI server
calling a microready app hands it a scope (``request_from_scope``), and a
microready app calling an ASGI app (a mounted Starlette app, an ASGI
middleware, a whole app served by microready's server) hands it one
(``http_scope``). The paths follow the ASGI spec as uvicorn and Starlette read
it: ``path`` and ``raw_path`` are the full path, ``root_path`` included; the
app's routes match ``path`` without ``root_path``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from .._utils import is_ip_address
from ..datastructures import Address
from ..requests import ClientDisconnect, Request, path_under_root

__all__ = [
    "ASGIApp", "Message", "Receive", "Scope", "Send", "http_scope", "is_asgi_app",
    "request_from_scope", "route_path",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# spec_version 2.4: send() raises OSError once the client is gone, so an app
# need not listen for http.disconnect while it streams (Starlette reads it so).
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


def http_scope(request: Request) -> dict[str, Any]:
    """The ASGI scope of ``request``, for an ASGI app that answers it."""
    raw_path, _, query = request.raw_target.partition(b"?")
    scope_of_request = request.scope
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": request.http_version,
        "method": request.method,
        "scheme": scope_of_request.get("scheme", "http"),
        "path": request.url.path,
        "raw_path": raw_path,
        "query_string": query,
        "root_path": request.root_path,
        "headers": request.raw_headers,
        "client": request.client,
        "server": request.server,
    }
    server = request.server
    if server is not None and server.port == 0:
        # A Unix socket (port 0 is how microready's server says so): the spec's
        # form is no client, and the socket's path with no port. A client a
        # trusted proxy named (an address, perhaps with no port) is kept.
        client = request.client
        if client is None or (client.port == 0 and not is_ip_address(client.host)):
            scope["client"] = None
        scope["server"] = (server.host, None)
    state = scope_of_request.get("state")
    if state is not None:
        # A shallow copy, as the spec asks: a request may add to its own state only.
        scope["state"] = dict(state)
    return scope


class _BodyFromMessages:
    """A ``Request`` body read from ASGI ``http.request`` messages."""

    __slots__ = ("receive", "done")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.done = False

    async def __call__(self) -> bytes:
        while not self.done:
            message = await self.receive()
            kind = message["type"]
            if kind == "http.request":
                self.done = not message.get("more_body", False)
                body: bytes = message.get("body", b"")
                if body:
                    return body
            elif kind == "http.disconnect":
                self.done = True
                raise ClientDisconnect("the client disconnected before the body ended")
        return b""


def route_path(scope: Scope) -> str:
    """The path an app's routes match: ``path`` without ``root_path`` (Starlette's rule)."""
    return path_under_root(scope["path"], scope.get("root_path", ""))


def request_from_scope(scope: Scope, receive: Receive, app: Any = None) -> Request:
    """The ``Request`` for an ASGI ``http`` scope; its body comes from ``receive``."""
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path is None:  # optional in the spec: rebuild it from the decoded path
        raw_path = quote(scope["path"], safe="/:@!$&'()*+,;=").encode("ascii")
    query: bytes = scope.get("query_string", b"")
    client = scope.get("client")
    server = scope.get("server")
    request = Request(
        method=scope["method"],
        target=raw_path + b"?" + query if query else raw_path,
        http_version=scope.get("http_version", "1.1"),
        raw_headers=[(bytes(name).lower(), bytes(value)) for name, value in scope["headers"]],
        client=Address(str(client[0]), int(client[1])) if client else None,
        server=Address(str(server[0]), int(server[1] or 0)) if server else None,
        receive=_BodyFromMessages(receive),
        app=app,
    )
    own = request.scope
    root_path = scope.get("root_path")
    if root_path:
        own["root_path"] = root_path
    scheme = scope.get("scheme")
    if scheme and scheme != "http":
        own["scheme"] = scheme
    state = scope.get("state")
    if state is not None:
        own["state"] = state
    own["asgi.scope"] = scope  # for code that wants what the server sent
    return request


def is_asgi_app(obj: Any) -> bool:
    """Whether ``obj`` looks like an ASGI 3 app: an ``async`` callable (function or instance)."""
    if isinstance(obj, type):
        return False
    if inspect.iscoroutinefunction(obj):
        return True
    call = getattr(obj, "__call__", None)  # noqa: B004 - the method itself is what we inspect
    return inspect.iscoroutinefunction(call)

