"""TestClient: call your app from synchronous tests, the way FastAPI's TestClient does.

It does not fake the server. Each request is written as real HTTP/1.1 bytes
into an in-memory stream whose other end is served by the very
``HTTPConnection`` the network server uses, so parsing, 100-continue, HEAD,
streaming and the background-task hand-off all behave as they do in
production. An event loop runs in a helper thread (an anyio blocking portal),
on asyncio or trio.

Each call returns only after the request's background tasks have finished, so
a test can check their effects straight away.

FastAPI's TestClient is httpx, so tests written for it expect httpx's ways, and
get them here:

* requests are built by httpx's rules (``microready._client_request``): the
  body from ``json=``, ``content=``, ``data=`` or ``files=``; httpx's default
  headers with Starlette's ``user-agent: testclient`` (in ``client.headers``);
  a header the test gives (``Host`` and ``User-Agent`` too) sent as given;
  ``auth=(user, password)`` as Basic auth, per request or as ``client.auth``;
* URLs by httpx's rules (``microready._client_url``): a ``base_url`` path is a
  prefix, and ``params=`` replaces the query string;
* ``client.cookies`` is a cookie jar (``microready._cookie_jar``) that keeps what
  ``Set-Cookie`` says, by the standard library's rules, as httpx's does;
* redirects are followed as httpx follows them, each response in ``history``;
* an exception comes out as itself, never inside the exception groups of the
  task groups it crossed: one the app raised (``raise_server_exceptions=True``),
  one of the lifespan's startup or shutdown, and one the test raises inside
  ``with TestClient(app):``, which (as in Starlette) is not thrown into the
  lifespan: the shutdown runs as after any block.
"""

from __future__ import annotations

import builtins
import importlib
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager, contextmanager
from typing import Any, Literal

import anyio
import anyio.abc
import anyio.from_thread
import h11

from ._client_headers import ClientHeaders, HeaderTypes
from ._client_pipe import pipe as _pipe
from ._client_request import (
    AuthTypes,
    FormFiles,
    basic_auth,
    build_request,
    encode_body,
    redirect_request,
    refuse_two_bodies,
)
from ._client_response import ClientRequest, TestResponse, read_response
from ._client_url import ParamTypes, base, merge_url, with_params
from ._client_websocket import WebSocketTestSession
from ._cookie_jar import Cookies, CookieTypes
from ._exchange import ServedApp
from .datastructures import Address
from .server.protocol import Limits
from .server.transport import ConnectionSettings, HTTPConnection

__all__ = ["TestClient", "TestResponse"]

_MAX_REDIRECTS = 20  # httpx's default
# What FastAPI's TestClient (httpx, with Starlette's user agent) sends unless told
# otherwise. They live in ``client.headers``, so ``client.headers.clear()`` removes them.
_DEFAULT_HEADERS = {
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "user-agent": "testclient",
}

# Python 3.11's built-in, or on 3.10 the backport that anyio depends on there.
_GROUP: type[BaseException] = getattr(builtins, "BaseExceptionGroup", None) or (
    importlib.import_module("exceptiongroup").BaseExceptionGroup
)


# What scope["server"] says under TestClient, as in Starlette's.
_TEST_SERVER = Address("testserver", 80)


class _ClientDefault:
    """``auth=``'s default: the client's ``auth`` (``auth=None`` sends none)."""

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT = _ClientDefault()


@contextmanager
def _unwrapped() -> Iterator[None]:
    """Raise an exception of the exchange itself, not inside the groups of the task
    groups it crossed, each of which holds only that one."""
    try:
        yield
    except _GROUP as group:
        leaf: BaseException = group
        while isinstance(leaf, _GROUP) and len(getattr(leaf, "exceptions")) == 1:  # noqa: B009
            leaf = getattr(leaf, "exceptions")[0]  # noqa: B009
        if leaf is group:
            raise
        context = leaf.__context__
        try:
            raise leaf  # the group is no cause of it, only a wrapper
        finally:
            leaf.__context__ = context


class TestClient:
    """``client = TestClient(app)``; ``client.get("/items/1").json()``.

    ``with TestClient(app) as client:`` also runs the app's lifespan around the
    block. Exceptions the app does not handle are raised in the test, unless
    ``raise_server_exceptions=False`` (then the test sees the 500).
    """

    __test__ = False

    def __init__(
        self,
        app: ServedApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        backend: Literal["asyncio", "trio"] = "asyncio",
        cookies: CookieTypes | None = None,
        headers: HeaderTypes | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        limits: Limits | None = None,
        auth: AuthTypes | None = None,
    ) -> None:
        if not isinstance(app, ServedApp):
            raise TypeError(
                f"TestClient needs a microready app (MicroReady()), got {type(app).__name__}"
            )
        self.app = app
        self.base_url = base(base_url)
        self.raise_server_exceptions = raise_server_exceptions
        self.backend = backend
        self.cookies = cookies  # the setters make a jar and headers of them
        self.headers = headers
        self.auth = auth
        self.follow_redirects = follow_redirects
        self.client_address = Address(*client)
        self.limits = limits or Limits()
        self._exit_stack: ExitStack | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        # The loop open WebSocket sessions share outside `with TestClient(app)`.
        self._sessions_portal: anyio.from_thread.BlockingPortal | None = None
        self._sessions_stack: ExitStack | None = None
        self._open_sessions = 0

    @property
    def cookies(self) -> Cookies:
        """The client's cookie jar: what the app's ``Set-Cookie`` headers left, and
        what the test set (``client.cookies["a"] = "b"``), sent with every request."""
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: CookieTypes | None) -> None:
        self._cookies = Cookies(cookies)

    @property
    def headers(self) -> ClientHeaders:
        """What every request sends, unless it gives a header of that name itself."""
        return self._headers

    @headers.setter
    def headers(self, headers: HeaderTypes | None) -> None:
        # As httpx: the defaults, then the given ones (Starlette's user agent at the end).
        given = ClientHeaders(headers)
        given.setdefault("user-agent", "testclient")
        self._headers = ClientHeaders(_DEFAULT_HEADERS)
        self._headers.update(given)

    # -- lifespan --------------------------------------------------------------------

    def __enter__(self) -> TestClient:
        # A startup's exception comes out as itself (the portal passes it on), and so
        # does an exception group the lifespan's own task group made, as in Starlette.
        with ExitStack() as stack:
            portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
                anyio.from_thread.start_blocking_portal(self.backend)
            )
            self._portal = stack.enter_context(portal_cm)
            stack.callback(setattr, self, "_portal", None)
            stack.enter_context(self._portal.wrap_async_context_manager(self._serving(True)))
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: types.TracebackType | None) -> None:
        # As in Starlette, the block's own exception is not thrown into the lifespan:
        # the shutdown runs as after any block, and the exception goes on as itself.
        stack, self._exit_stack = self._exit_stack, None
        if stack is not None:
            stack.close()

    @asynccontextmanager
    async def _serving(self, with_lifespan: bool) -> AsyncIterator[None]:
        if with_lifespan:
            async with self.app.lifespan_context(), self.app.background.serving():
                yield
        else:
            async with self.app.background.serving():
                yield

    # -- requests --------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        files: FormFiles | None = None,
        json: Any = None,
        params: ParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | _ClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | None = None,
    ) -> TestResponse:
        """Send one request (and follow its redirects), as httpx's ``Client.request``.

        The body is ``json=``, ``content=``, or a form: ``data=`` (urlencoded), with
        ``files=`` multipart. ``cookies=`` are sent with this request only, besides the
        client's; the app's ``Set-Cookie`` headers go to ``client.cookies``.
        """
        _refuse_inside_event_loop()
        method = method.upper()
        refuse_two_bodies(method, json, content, data, files)
        merged = self.headers.copy()
        merged.update(headers)
        body, content_type = encode_body(json, content, data, files, merged.get("content-type"))
        target = merge_url(self.base_url, str(url))
        if params is not None:
            target = with_params(target, params)

        def jar() -> Cookies:  # the client's, with this request's cookies=
            if cookies is None:
                return self.cookies
            with_these = Cookies(self.cookies)
            with_these.update(cookies)
            return with_these

        request = build_request(method, target, merged, jar(), body, content_type)
        credentials = self.auth if isinstance(auth, _ClientDefault) else auth
        if credentials is not None:
            request.headers["authorization"] = basic_auth(credentials)
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        history: list[TestResponse] = []
        while True:
            response = self._send(request)
            response.history = list(history)
            if not (follow and response.has_redirect_location):
                return response
            if len(history) == _MAX_REDIRECTS:
                raise RuntimeError(f"more than {_MAX_REDIRECTS} redirects, the last to "
                                   f"{response.headers['location']}")
            history.append(response)
            request = redirect_request(request, response, jar())

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", url, **kwargs)

    def websocket_connect(self, url: str, subprotocols: Sequence[str] | None = None, *,
                          headers: dict[str, str] | None = None, params: ParamTypes | None = None,
                          cookies: dict[str, str] | None = None) -> WebSocketTestSession:
        """``with client.websocket_connect("/ws") as websocket:``; see ``_client_websocket``."""
        return WebSocketTestSession(self, url, subprotocols, headers, params, cookies)

    def _send(self, request: ClientRequest) -> TestResponse:
        errors: list[BaseException] = []

        async def exchange() -> TestResponse:
            # Inside `with TestClient(app)` this task was not started by the
            # serving block; say which runner serves it (ASGI calls need it).
            with self.app.background.as_current():
                return await self._exchange(request, errors)

        with _unwrapped():
            if self._portal is not None:
                response = self._portal.call(exchange)
            elif self._sessions_portal is not None:  # a WebSocket session holds the runner
                response = self._sessions_portal.call(exchange)
            else:
                with anyio.from_thread.start_blocking_portal(self.backend) as portal:
                    response = portal.call(self._exchange_serving, exchange)
        if errors and self.raise_server_exceptions:
            raise errors[0]
        self.cookies.extract(request.url, request.headers, response.headers.multi_items())
        return response

    async def _exchange_serving(self, exchange: Callable[[], Awaitable[TestResponse]]
                                ) -> TestResponse:
        async with self._serving(False):
            return await exchange()

    async def _exchange(self, request: ClientRequest,
                        errors: list[BaseException]) -> TestResponse:
        settings = ConnectionSettings(
            self.app, self.limits, access_log=False, on_app_error=errors.append,
            scheme=request.url.scheme or "http",  # base_url="https://..." says https
        )
        client_end, server_end = _pipe()
        peer = h11.Connection(h11.CLIENT)
        request_bytes = peer.send(h11.Request(
            method=request.method, target=request.url.raw_path, headers=request.headers.raw
        ))
        if request.content:
            request_bytes += peer.send(h11.Data(data=request.content))
        request_bytes += peer.send(h11.EndOfMessage())
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(HTTPConnection(
                server_end, settings, self.client_address, server=_TEST_SERVER).run)
            await client_end.send(request_bytes)
            response = await read_response(peer, client_end, request)
            # Closing our end lets the connection finish its cycle, which is when
            # it hands the tasks to the runner; the task group waits for that.
            await client_end.aclose()
        await self.app.background.join()
        return response


def _refuse_inside_event_loop() -> None:
    # TestClient blocks its thread while its own loop (in a helper thread)
    # serves the request; inside an async test that would block the test's loop,
    # and on trio it deadlocks. Say so instead of hanging.
    try:
        anyio.get_current_task()
    except Exception:  # no async library running in this thread: the normal case
        return
    raise RuntimeError(
        "TestClient is synchronous and cannot be used inside an async test or event loop.\n"
        "    wrong: async def test_x(): TestClient(app).get('/')\n"
        "    right: def test_x(): TestClient(app).get('/')\n"
        "or, in an async test, call await app.handle(...) or serve the app for real."
    )
