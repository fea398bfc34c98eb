"""The Request a handler receives.

It is built by the transport for every request, so it does as little as it can
up front: headers, query parameters and cookies are parsed the first time they
are asked for, and the body is read from the connection only when the app asks
(which is also when ``Expect: 100-continue`` is answered).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from .datastructures import URL, Address, FormData, Headers, QueryParams, State, parse_cookies
from .formparsers import parse_form

__all__ = ["ClientDisconnect", "Request", "path_under_root"]

ReceiveBody = Callable[[], Awaitable[bytes]]
RequestT = TypeVar("RequestT", bound="Request")

_STREAMED = ("the request body was already streamed (by this request, or by one made from "
             "it with from_request); call await request.body() before streaming if you "
             "need to read it twice")


def path_under_root(path: str, root: str) -> str:
    """``path`` without ``root`` in front, as an app's routes match it (Starlette's
    ``get_route_path``): a path that does not start with the root is kept whole."""
    if not root or not path.startswith(root):
        return path
    if len(path) == len(root):
        return ""
    return path[len(root):] if path[len(root)] == "/" else path


class ClientDisconnect(Exception):
    """The client closed the connection before sending the whole body."""


class Request:
    __slots__ = (
        "method",
        "raw_target",
        "http_version",
        "raw_headers",
        "client",
        "server",
        "app",
        "path_params",
        "_receive",
        "_body",
        "_stream_consumed",
        "_headers",
        "_query_params",
        "_cookies",
        "_url",
        "_state",
        "_form",
        "scope",
    )
    _body: bytes  # set when the body is read (see __init__)

    def __init__(
        self,
        *,
        method: str,
        target: bytes,
        http_version: str = "1.1",
        raw_headers: list[tuple[bytes, bytes]] | None = None,
        client: Address | None = None,
        receive: ReceiveBody | None = None,
        app: Any = None,
        server: Address | None = None,
    ) -> None:
        self.method = method
        self.raw_target = target
        self.http_version = http_version
        self.raw_headers: list[tuple[bytes, bytes]] = raw_headers or []
        self.client = client
        self.server = server  # the address the client connected to, when known
        self.app = app
        self.path_params: dict[str, Any] = {}
        self._receive = receive
        # ``_body`` is set once the body is read, as in Starlette: a subclass may
        # test ``hasattr(self, "_body")`` (FastAPI's GzipRequest does).
        self._stream_consumed = False
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._state: State | None = None
        self._form: FormData | None = None
        # Per-request scratch space for the framework (e.g. the dependency cache).
        self.scope: dict[str, Any] = {}

    @classmethod
    def from_request(cls: type[RequestT], request: Request) -> RequestT:
        """``request`` as an instance of ``cls``, a ``Request`` subclass.

        microready's spelling of FastAPI's ``GzipRequest(request.scope,
        request.receive)``, for a route handler that swaps the request
        (``get_route_handler``). The new request shares the original's
        ``scope``, ``state`` and path parameters, and what it already read (the
        headers, the body, the form). A body not read yet is the new request's
        to read: the original can no longer (``RuntimeError``), rather than
        find it empty.
        """
        new = cls(method=request.method, target=request.raw_target,
                  http_version=request.http_version, raw_headers=request.raw_headers,
                  client=request.client, receive=request._receive, app=request.app,
                  server=request.server)
        new.path_params = request.path_params
        new.scope = request.scope
        new._stream_consumed = request._stream_consumed
        if hasattr(request, "_body"):
            new._body = request._body
        request._stream_consumed = True  # the body, if not read yet, is the new one's
        new._headers, new._url, new._state = request._headers, request._url, request.state
        new._form = request._form
        return new

    @property
    def url(self) -> URL:
        if self._url is None:
            path, _, query = self.raw_target.partition(b"?")
            text = path.decode("latin-1")
            if "%" in text:
                text = unquote(text)
            self._url = URL(text, query.decode("latin-1"))
        return self._url

    @property
    def root_path(self) -> str:
        """Where the app is mounted, for URLs: ``--root-path``, a parent app's mount,
        or ``MicroReady(root_path=...)``; ``""`` at the top. Kept in
        ``scope["root_path"]``, where FastAPI code reads it."""
        root: str = self.scope.get("root_path", "")
        return root

    @property
    def route_path(self) -> str:
        """The path the app's routes match: ``url.path`` without ``root_path``
        (Starlette's ``get_route_path``). A path that does not start with the
        root path is matched whole."""
        return path_under_root(self.url.path, self.scope.get("root_path", ""))

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.raw_headers)
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query_params is None:
            self._query_params = QueryParams(self.url.query)
        return self._query_params

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = parse_cookies(self.headers.getlist("cookie"))
        return self._cookies

    @property
    def state(self) -> State:
        """Per-request attributes; starts with a copy of what the lifespan yielded."""
        if self._state is None:
            initial = self.scope.get("state")
            self._state = State(dict(initial) if initial else None)
        return self._state

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """Yield the body as it arrives, without keeping it in memory."""
        if self._stream_consumed:
            # Read before: what body() kept (or a subclass put there), if anything.
            if not hasattr(self, "_body"):
                raise RuntimeError(_STREAMED)
            if self._body:
                yield self._body
            return
        self._stream_consumed = True
        if self._receive is None:
            return
        while True:
            chunk = await self._receive()
            if not chunk:
                return
            yield chunk

    async def body(self) -> bytes:
        """The whole body, read once and cached."""
        if not self._stream_consumed:
            self._body = b"".join([chunk async for chunk in self.stream()])
        elif not hasattr(self, "_body"):
            raise RuntimeError(_STREAMED)
        return self._body

    async def json(self) -> Any:
        return json.loads(await self.body())

    async def form(self, *, max_files: int | float = 1000, max_fields: int | float = 1000,
                   max_part_size: int = 1024 * 1024) -> FormData:
        """The form body (urlencoded or multipart), parsed once by python-multipart.

        Files above 1 MiB are spooled to disk. Too many files or fields, or a
        field over ``max_part_size`` bytes, answer 400. microready closes the
        files after the request's background tasks; ``await request.close()``
        closes them sooner.
        """
        if self._form is None:
            self._form = await parse_form(
                self, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
            )
        return self._form

    async def close(self) -> None:
        """Close the form's uploaded files, if a form was read."""
        if self._form is not None:
            await self._form.close()

    def url_for(self, name: str, /, **path_params: Any) -> str:
        """The absolute URL of the route or mount called ``name``, as Starlette builds it.

        ``request.url_for("read_item", id="foo")`` -> ``"http://testserver/items/foo"``;
        ``request.url_for("static", path="/styles.css")`` for a mount. The host is
        the request's ``Host``, and the path starts with the ``root_path``; the
        scheme is the request's (``https`` over TLS, or from a trusted proxy's
        ``X-Forwarded-Proto``).
        """
        url_path_for = getattr(self.app, "url_path_for", None)
        if url_path_for is None:
            raise RuntimeError(
                "request.url_for needs the app the request came to; it is set when the "
                "app handles the request (request.app)"
            )
        path: str = url_path_for(name, **path_params)
        host = self.headers.get("host") or "localhost"
        scheme = self.scope.get("scheme", "http")
        return f"{scheme}://{host}{self.root_path}{path}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.raw_target.decode('latin-1')}>"
