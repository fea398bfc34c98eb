"""An ASGI app as one layer of a microready app: ``AsgiHandler(asgi_app).handle(request)``.

It is how microready calls any ASGI app: a mounted Starlette or FastAPI app, an
ASGI middleware (Sentry's, OpenTelemetry's) in ``add_middleware``, or a whole
ASGI app that microready's server serves. One request:

1. the app's call starts in the serving runner's task group
   (``BackgroundRunner.start_call``), because it outlives ``handle()``: the
   connection streams the body the app sends, and the app may go on after its
   last message (Starlette runs its background tasks there);
2. ``handle()`` waits for ``http.response.start`` and the first body message.
   A body sent in one message becomes a plain ``Response`` (one write); more
   messages become a streamed one, pulled from the app as the client takes it;
3. the app's last ``send()`` returns only once the connection has written the
   last byte (``Reply.on_sent``), so whatever it runs next, its background
   tasks included, starts after the client has the response: the guarantee
   microready gives its own tasks, given to Starlette's too;
4. ``receive()`` gives the body, then ``http.disconnect`` once the response is
   written or the client has gone: while a streamed response is under way, the
   connection watches the socket for the client closing (``Reply.on_client_gone``),
   so an app that waits on ``receive()`` (a long poll, an idle event stream)
   hears of it at once.

A microready app (or layer) called by the ASGI app hands its ``Reply``'s tasks
back through ``scope[REPLY_KEY]`` (see ``entry.py``), so they still run after
the last byte of the response the client gets.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._exchange import Reply
from ..background.runner import serving_runner
from ..requests import ClientDisconnect, Request
from ..responses import PlainTextResponse, Response, StreamingResponse
from .scope import ASGIApp, Message, http_scope

__all__ = ["REPLY_KEY", "AsgiHandler", "HandedBack"]

error_logger = logging.getLogger("microready.error")

REPLY_KEY = "microready.handed_back"


class HandedBack:
    """What a microready layer inside an ASGI app leaves for the outer ``Reply``."""

    __slots__ = ("tasks", "cleanup", "error")

    def __init__(self) -> None:
        self.tasks: list[Any] = []
        self.cleanup: Any = None
        self.error: BaseException | None = None


class _AppResponse(Response):
    """A complete response exactly as the ASGI app sent it (its own headers)."""

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]],
                 body: bytes) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.body = body
        self.background = None


class _AppStreamingResponse(StreamingResponse):
    """A response whose body the ASGI app is still sending."""

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]],
                 call: _Call) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.body = b""
        self.background = None
        self.content = ()  # never read: iterate() is the app's own
        self._call = call

    def iterate(self) -> Any:
        return self._call.body_chunks()


class _Call:
    """One request's call of the ASGI app, and what it has sent so far."""

    def __init__(self, request: Request, app: ASGIApp) -> None:
        self.request = request
        self.app = app
        self.body_done = False  # the request body, as the app received it
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.first_body: bytes | None = None
        self.more_body = True
        self.error: BaseException | None = None
        self._body: AsyncIterator[bytes] | None = None
        self.head_ready = anyio.Event()  # start and first body, or the call ended
        self.sent = anyio.Event()  # the connection wrote the last byte, or gave up
        self.over = anyio.Event()  # sent, or the client has gone
        self.told_disconnect = False  # receive() has said http.disconnect
        # The body after the first message goes through a channel, made only
        # for a response that has more than one (most have one).
        self._chunks: tuple[MemoryObjectSendStream[bytes], MemoryObjectReceiveStream[bytes]] | (
            None) = None
        self.app_done = False
        self.cancel_scope = anyio.CancelScope()

    def _channel(self) -> tuple[MemoryObjectSendStream[bytes], MemoryObjectReceiveStream[bytes]]:
        if self._chunks is None:
            self._chunks = anyio.create_memory_object_stream[bytes](0)
            if self.app_done or self.over.is_set():
                self._chunks[0].close()
        return self._chunks

    async def run(self, scope: dict[str, Any]) -> None:
        with self.cancel_scope:
            try:
                await self.app(scope, self.receive, self.send)
            except Exception as exc:
                self.error = exc
                if self.told_disconnect:
                    # It was told the client had gone (or its body broke a limit,
                    # which the server answered): its error says no more than that.
                    error_logger.debug("the ASGI app ended with %r after the client had gone "
                                       "(%s)", exc, self.request)
                elif self.head_ready.is_set():
                    where = "while sending" if self.more_body else "after"
                    error_logger.error("the ASGI app failed %s its response to %s", where,
                                       self.request, exc_info=exc)
            finally:
                self.app_done = True
                self.head_ready.set()
                if self._chunks is not None:
                    self._chunks[0].close()

    async def receive(self) -> Message:
        if not self.body_done:
            if self._body is None:
                self._body = aiter(self.request.stream())
            try:
                chunk = await anext(self._body, b"")
            except ClientDisconnect:
                self.body_done = self.told_disconnect = True
                return {"type": "http.disconnect"}
            # The end is one more message with no body: the connection only
            # knows the body is over when it is asked for more.
            self.body_done = not chunk
            return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}
        # The body is all read: the next event is the end of the exchange, or
        # the client leaving before it (the connection watches for that).
        await self.over.wait()
        self.told_disconnect = True
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status:
                raise RuntimeError("the ASGI app sent http.response.start twice")
            self.status = int(message["status"])
            self.headers = [(bytes(name).lower(), bytes(value))
                            for name, value in message.get("headers", ())]
            return
        if kind != "http.response.body":
            if kind == "http.response.pathsend" or kind == "http.response.trailers":
                raise RuntimeError(f"{kind} is not offered by microready (no such extension)")
            raise RuntimeError(f"unexpected ASGI message {kind!r} for an HTTP request")
        if not self.status:
            raise RuntimeError("the ASGI app sent a body before http.response.start")
        if not self.more_body or self.over.is_set():
            raise OSError("the response is already complete or the client has gone")
        body: bytes = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if self.first_body is None:
            self.first_body, self.more_body = body, more
            self.head_ready.set()
        else:
            self.more_body = more
            if body:
                try:
                    await self._channel()[0].send(body)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    raise OSError("the client has gone") from None
        if not more:
            if self._chunks is not None:
                self._chunks[0].close()
            await self.sent.wait()  # the guarantee: what follows runs after the last byte

    async def body_chunks(self) -> Any:
        if self.first_body:
            yield self.first_body
        if self.more_body:
            chunks = self._channel()[1]
            async with chunks:
                async for chunk in chunks:
                    if chunk:
                        yield chunk
        if self.more_body:  # the app stopped before its last message
            raise RuntimeError("the ASGI app ended its response early")

    def on_sent(self) -> None:
        self.sent.set()
        self.over.set()
        if self._chunks is not None:
            self._chunks[1].close()

    def on_client_gone(self) -> None:
        """The connection saw the client close while the response was under way."""
        self.over.set()


class AsgiHandler:
    """Answers requests by calling an ASGI app; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __repr__(self) -> str:
        return f"<AsgiHandler {self.app!r}>"

    async def handle(self, request: Request) -> Reply:
        runner = serving_runner()
        if runner is None:
            raise RuntimeError(
                "an ASGI app can only answer while microready serves: microready.run(app), "
                "the CLI, an ASGI server or TestClient"
            )
        call = _Call(request, self.app)
        handed_back = HandedBack()
        scope = http_scope(request)
        scope[REPLY_KEY] = handed_back
        runner.start_call(lambda: call.run(scope), repr(request))
        try:
            await call.head_ready.wait()
        except BaseException:
            call.cancel_scope.cancel()
            call.on_sent()
            raise
        if not call.status or call.first_body is None:
            call.cancel_scope.cancel()
            call.on_sent()
            if call.told_disconnect:
                pass  # the client left (or the server refused its body): nobody to answer
            elif call.error is None:
                error_logger.error("the ASGI app returned without a response to %s", request)
            else:
                error_logger.error("the ASGI app failed for %s", request, exc_info=call.error)
            return Reply(PlainTextResponse("Internal Server Error", 500),
                         error=call.error or handed_back.error)
        response: Response
        if not call.more_body and request.method != "HEAD":
            # HEAD goes the streamed way, where h11 knows the app's length is
            # that of a GET and sends no body.
            response = _AppResponse(call.status, call.headers, call.first_body)
        else:
            response = _AppStreamingResponse(call.status, call.headers, call)
        reply = Reply(response, handed_back.tasks, handed_back.cleanup, handed_back.error,
                      call.on_sent)
        if call.more_body:
            reply.on_client_gone = call.on_client_gone
        return reply
