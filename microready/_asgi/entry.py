"""microready as an ASGI 3 application: ``await app(scope, receive, send)``.

So ``uvicorn main:app``, ``hypercorn main:app`` and ``granian --interface asgi
main:app`` serve a microready app, and an ASGI middleware can wrap a layer of
one (``add_middleware`` with a pure ASGI class).

* ``lifespan``: startup opens the app's lifespan, then its background runner;
  shutdown waits for the runner's tasks, then closes the lifespan: the same
  order as microready's own server.
* ``http``: the scope becomes a ``Request``, the layer answers it, and its
  response goes out as ``http.response.start`` and ``http.response.body``
  messages. The request's tasks are handed to the runner after the last
  ``send()`` has returned, which is when the ASGI server has the final body
  message. Under ``--lifespan off`` no runner is open, so each request opens
  one for itself and waits for its own tasks (after its last ``send()``).
* Called by microready itself (an ASGI middleware between two microready
  layers), the tasks are not run here: they go back through
  ``scope[REPLY_KEY]`` to the outer ``Reply``, so the server runs them after
  the real last byte.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from .._exchange import Reply, RequestHandler
from ..background.runner import BackgroundRunner, serving_runner
from ..requests import Request
from ..responses import StreamingResponse
from .handler import REPLY_KEY, HandedBack
from .scope import Receive, Scope, Send, request_from_scope

if TYPE_CHECKING:
    from ..app import MicroReady

__all__ = ["serve_http", "serve_lifespan"]

error_logger = logging.getLogger("microready.error")


async def _send_reply(reply: Reply, send: Send) -> None:
    response = reply.response
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    if isinstance(response, StreamingResponse):
        async with contextlib.aclosing(response.iterate()) as chunks:
            async for chunk in chunks:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    else:
        await send({"type": "http.response.body", "body": response.body, "more_body": False})


async def serve_http(app: MicroReady, layer: RequestHandler, scope: Scope, receive: Receive,
                     send: Send) -> None:
    """Answer one ASGI ``http`` call with ``layer`` (the app, or what is under a middleware)."""
    request = request_from_scope(scope, receive, app)
    handed_back: HandedBack | None = scope.get(REPLY_KEY)
    if handed_back is not None:
        # Inside microready's own stack: the outer Reply carries the tasks.
        reply = await layer.handle(request)
        handed_back.tasks.extend(reply.tasks)
        handed_back.cleanup, handed_back.error = reply.cleanup, reply.error
        try:
            await _send_reply(reply, send)
        finally:
            if reply.on_sent is not None:
                reply.on_sent()
        return
    runner = serving_runner()
    if runner is None and app.background.is_serving:
        runner = app.background  # opened by our lifespan, in another task
    if runner is None:
        # The ASGI server runs no lifespan (uvicorn --lifespan off): this request
        # gets a runner of its own, and its call lasts until its tasks are done.
        async with BackgroundRunner().serving() as own:
            await _serve_top(own, layer, request, send)
        return
    with runner.as_current():
        await _serve_top(runner, layer, request, send)


async def _serve_top(runner: BackgroundRunner, layer: RequestHandler, request: Request,
                     send: Send) -> None:
    reply = await layer.handle(request)
    try:
        await _send_reply(reply, send)
    except OSError:  # the client has gone (ASGI 2.4); the tasks still run, as on our server
        error_logger.debug("client went away during %s", request)
    finally:
        if reply.on_sent is not None:
            reply.on_sent()
        if reply.tasks or reply.cleanup is not None:
            runner.submit(reply.tasks, reply.cleanup, f"{request.method} {request.url.path}")


async def serve_lifespan(app: MicroReady, scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol: the app's lifespan and its runner, as the server opens them."""
    message = await receive()
    if message["type"] != "lifespan.startup":  # pragma: no cover - the spec's order
        return
    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(app.lifespan_context())
            await stack.enter_async_context(app.background.serving())
        except BaseException as exc:
            await send({"type": "lifespan.startup.failed",
                        "message": "".join(traceback.format_exception_only(exc)).strip()})
            raise
        state = scope.get("state")
        lifespan_state = app._lifespan_state
        if state is not None and lifespan_state:
            state.update(lifespan_state)
        await send({"type": "lifespan.startup.complete"})
        message = await receive()  # lifespan.shutdown
        try:
            await stack.aclose()
        except BaseException as exc:
            await send({"type": "lifespan.shutdown.failed",
                        "message": "".join(traceback.format_exception_only(exc)).strip()})
            raise
    await send({"type": "lifespan.shutdown.complete"})
