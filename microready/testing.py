"""TestClient: call your app from synchronous tests, the way FastAPI's TestClient does.

It does not fake the server. Each request is written as real HTTP/1.1 bytes
into an in-memory stream whose other end is served by the very
``HTTPConnection`` the network server uses, so parsing, 100-continue, HEAD,
streaming and the background-task hand-off all behave as they do in
production. An event loop runs in a helper thread (an anyio blocking portal),
on asyncio or trio.

Each call returns only after the request's background tasks have finished, so
a test can check their effects straight away.

Requests are built as FastAPI's TestClient (httpx) builds them, so tests written
for it pass unchanged: ``data=`` and ``files=`` are encoded by
``microready._client_request`` with httpx's rules, ``headers=`` may be a list of
pairs (a name may repeat), and the client sends httpx's default headers with
Starlette's ``user-agent: testclient`` (they are in ``client.headers``).
"""

from __future__ import annotations

import json as jsonlib
import types
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

import anyio
import anyio.abc
import anyio.from_thread
import h11
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._client_request import FormFiles, HeaderTypes, encode_body, merge_headers, refuse_two_bodies
from ._exchange import ServedApp
from .datastructures import Address, Headers
from .server.protocol import Limits
from .server.transport import ConnectionSettings, HTTPConnection

__all__ = ["TestClient", "TestResponse"]

QueryParams = Mapping[str, Any] | Sequence[tuple[str, Any]] | str | None
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What FastAPI's TestClient (httpx, with Starlette's user agent) sends unless told
# otherwise. They live in ``client.headers``, so ``client.headers.clear()`` removes them.
_DEFAULT_HEADERS = {
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "user-agent": "testclient",
}


class TestResponse:
    """What the app answered: ``status_code``, ``headers``, ``content``, ``text``, ``json()``."""

    __test__ = False  # not a pytest test class

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], content: bytes,
                 http_version: str, url: str) -> None:
        self.status_code = status_code
        self.headers = Headers(headers)
        self.content = content
        self.http_version = http_version
        self.url = url

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def __repr__(self) -> str:
        return f"<TestResponse [{self.status_code}]>"


class _MemoryByteStream(anyio.abc.ByteStream):
    """One end of an in-memory byte pipe."""

    def __init__(self, send: MemoryObjectSendStream[bytes],
                 receive: MemoryObjectReceiveStream[bytes]) -> None:
        self._send = send
        self._receive = receive
        self._buffer = b""

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self._buffer:
            try:
                self._buffer = await self._receive.receive()
            except anyio.EndOfStream:
                raise
            except anyio.ClosedResourceError:
                raise anyio.EndOfStream from None
        data, self._buffer = self._buffer[:max_bytes], self._buffer[max_bytes:]
        return data

    async def send(self, item: bytes) -> None:
        try:
            await self._send.send(bytes(item))
        except anyio.BrokenResourceError:
            raise anyio.BrokenResourceError from None

    async def send_eof(self) -> None:
        await self._send.aclose()

    async def aclose(self) -> None:
        await self._send.aclose()
        await self._receive.aclose()


def _pipe() -> tuple[_MemoryByteStream, _MemoryByteStream]:
    to_server_send, to_server_receive = anyio.create_memory_object_stream[bytes](64)
    to_client_send, to_client_receive = anyio.create_memory_object_stream[bytes](64)
    client = _MemoryByteStream(to_server_send, to_client_receive)
    server = _MemoryByteStream(to_client_send, to_server_receive)
    return client, server


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
        cookies: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        limits: Limits | None = None,
    ) -> None:
        if not isinstance(app, ServedApp):
            raise TypeError(
                f"TestClient needs a microready app (MicroReady()), got {type(app).__name__}"
            )
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.raise_server_exceptions = raise_server_exceptions
        self.backend = backend
        self.cookies: dict[str, str] = dict(cookies or {})
        self.headers: dict[str, str] = {
            **_DEFAULT_HEADERS, **{k.lower(): v for k, v in (headers or {}).items()}
        }
        self.follow_redirects = follow_redirects
        self.client_address = Address(*client)
        self.limits = limits or Limits()
        self._exit_stack: ExitStack | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None

    # -- lifespan --------------------------------------------------------------------

    def __enter__(self) -> TestClient:
        with ExitStack() as stack:
            portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
                anyio.from_thread.start_blocking_portal(self.backend)
            )
            self._portal = stack.enter_context(portal_cm)
            stack.enter_context(self._portal.wrap_async_context_manager(self._serving(True)))
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: types.TracebackType | None) -> None:
        stack, self._exit_stack, self._portal = self._exit_stack, None, None
        if stack is not None:
            stack.__exit__(exc_type, exc, tb)

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
        params: QueryParams = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        files: FormFiles | None = None,
        headers: HeaderTypes | None = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
    ) -> TestResponse:
        """Send one request. The body is ``json=``, ``content=``, or a form: ``data=``
        (urlencoded), with ``files=`` multipart, encoded as httpx encodes them."""
        _refuse_inside_event_loop()
        refuse_two_bodies(method, json, content, data, files)
        all_headers = merge_headers(self.headers, headers)
        given_type = next((v for k, v in all_headers if k == "content-type"), None)
        body, content_type = encode_body(json, content, data, files, given_type)
        if content_type is not None and given_type is None:
            all_headers.append(("content-type", content_type))
        jar = {**self.cookies, **(cookies or {})}
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        target_url = self._absolute(url, params)
        for _ in range(20):
            response = self._send(method.upper(), target_url, all_headers, body, jar)
            location = response.headers.get("location")
            if not (follow and response.status_code in _REDIRECTS and location):
                return response
            target_url = urljoin(target_url, location)
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method.upper() == "POST"
            ):
                method, body = "GET", b""
                all_headers = [(k, v) for k, v in all_headers if k != "content-type"]
        raise RuntimeError(f"more than 20 redirects, the last to {target_url}")

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

    def _absolute(self, url: str, params: QueryParams) -> str:
        if not urlsplit(url).scheme:
            url = self.base_url + ("" if url.startswith("/") else "/") + url
        if params:
            query = params if isinstance(params, str) else urlencode(
                list(params.items()) if isinstance(params, Mapping) else list(params), doseq=True
            )
            url += ("&" if "?" in url else "?") + query
        return url

    def _send(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes,
              jar: dict[str, str]) -> TestResponse:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        wire_headers = [("host", parts.netloc or "testserver")]
        wire_headers += [(k, v) for k, v in headers if k != "host"]
        if jar:
            wire_headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in jar.items())))
        if body or method in ("POST", "PUT", "PATCH"):
            wire_headers.append(("content-length", str(len(body))))
        errors: list[BaseException] = []

        async def exchange() -> TestResponse:
            return await self._exchange(method, target, wire_headers, body, url, errors)

        if self._portal is not None:
            response = self._portal.call(exchange)
        else:
            with anyio.from_thread.start_blocking_portal(self.backend) as portal:
                response = portal.call(self._exchange_serving, exchange)
        if errors and self.raise_server_exceptions:
            raise errors[0]
        for value in response.headers.getlist("set-cookie"):
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            if "max-age=0" in value.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = cookie_value
        return response

    async def _exchange_serving(self, exchange: Any) -> TestResponse:
        async with self._serving(False):
            result: TestResponse = await exchange()
            return result

    async def _exchange(self, method: str, target: str, headers: list[tuple[str, str]],
                        body: bytes, url: str, errors: list[BaseException]) -> TestResponse:
        settings = ConnectionSettings(
            self.app, self.limits, access_log=False, on_app_error=errors.append
        )
        client_end, server_end = _pipe()
        peer = h11.Connection(h11.CLIENT)
        request_bytes = peer.send(h11.Request(method=method, target=target, headers=headers))
        if body:
            request_bytes += peer.send(h11.Data(data=body))
        request_bytes += peer.send(h11.EndOfMessage())
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(HTTPConnection(server_end, settings, self.client_address).run)
            await client_end.send(request_bytes)
            response = await _read_response(peer, client_end, url)
            # Closing our end lets the connection finish its cycle, which is when
            # it hands the tasks to the runner; the task group waits for that.
            await client_end.aclose()
        await self.app.background.join()
        return response


async def _read_response(peer: h11.Connection, stream: _MemoryByteStream, url: str) -> TestResponse:
    head: h11.Response | None = None
    chunks: list[bytes] = []
    while True:
        event = peer.next_event()
        if event is h11.NEED_DATA:
            try:
                peer.receive_data(await stream.receive())
            except anyio.EndOfStream:
                peer.receive_data(b"")
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if head is None:
        raise RuntimeError("the server closed the connection without a response")
    headers = list(head.headers)
    content = _decode_content(b"".join(chunks), Headers(headers).getlist("content-encoding"))
    return TestResponse(head.status_code, headers, content, head.http_version.decode(), url)


def _decode_content(content: bytes, encodings: list[str]) -> bytes:
    """The body with its gzip and deflate codings undone, as httpx gives it: the
    client sends ``Accept-Encoding: gzip, deflate``. Codings are listed in the order
    they were applied (RFC 9110 section 8.4), so they are undone last first."""
    codings = [c.strip().lower() for value in encodings for c in value.split(",")]
    for coding in reversed(codings):
        if not content:
            break
        if coding == "gzip":
            content = zlib.decompress(content, zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
            try:
                content = zlib.decompress(content)
            except zlib.error:
                content = zlib.decompress(content, -zlib.MAX_WBITS)
    return content


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


