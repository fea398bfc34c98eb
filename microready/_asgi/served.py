"""Any ASGI 3 app, served by microready's server: ``python -m microready main:app``.

The server talks to one interface (``ServedApp`` in ``_exchange``); this class
gives an ASGI app that interface, so a Starlette, FastAPI or Django app gets
microready's server whole: its flags, limits, hardening and graceful
shutdown. Its requests go through ``AsgiHandler``; its lifespan runs the ASGI
lifespan protocol, as uvicorn's ``--lifespan`` modes do:

* ``auto``: an app that fails before it answers ``lifespan.startup`` is taken
  not to speak the protocol (logged), and served without one;
* ``on``: that failure stops the server;
* ``off``: the protocol is not run.

``lifespan.startup.failed`` stops the server in every mode. What the app puts
in ``scope["state"]`` during startup is copied into every request's scope.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio

from .._exchange import Reply, ServedApp
from ..background.runner import BackgroundRunner
from ..requests import Request
from .handler import AsgiHandler
from .scope import ASGIApp, Message, Receive, Scope, Send, is_asgi_app

__all__ = ["AsgiServedApp", "LifespanMode", "as_served", "is_asgi_app"]

logger = logging.getLogger("microready.server")

LifespanMode = Literal["auto", "on", "off"]


# The lifespan scope's own spec version (HTTP's is 2.4; lifespan has no 2.4).
LIFESPAN_VERSION = {"version": "3.0", "spec_version": "2.0"}


def _last_line(message: Message) -> str:
    """An app's failure message, as one line: Starlette sends a whole traceback."""
    lines = [line.strip() for line in str(message.get("message", "")).splitlines()]
    return next((line for line in reversed(lines) if line), "no message")


class LifespanFailed(Exception):
    """The ASGI app answered ``lifespan.startup.failed`` (or ``shutdown.failed``)."""


class AsgiServedApp:
    """An ASGI app with the interface microready's server serves; see the module docstring."""

    def __init__(self, app: ASGIApp, *, lifespan: LifespanMode = "auto") -> None:
        self.app = app
        self.lifespan = lifespan
        self.background = BackgroundRunner()
        self._handler = AsgiHandler(app)
        self._state: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<AsgiServedApp {self.app!r}>"

    async def handle(self, request: Request) -> Reply:
        if self._state:
            request.scope["state"] = self._state
        return await self._handler.handle(request)

    async def serve_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._state:
            scope["state"] = dict(self._state)
        await self.app(scope, receive, send)

    @asynccontextmanager
    async def lifespan_context(self) -> AsyncIterator[None]:
        if self.lifespan == "off":
            yield
            return
        to_app, app_inbox = anyio.create_memory_object_stream[Message](2)
        from_app, our_inbox = anyio.create_memory_object_stream[Message](2)
        scope = {"type": "lifespan", "asgi": LIFESPAN_VERSION, "state": self._state}
        finished = anyio.Event()
        failure: list[BaseException] = []

        async def run_app() -> None:
            try:
                await self.app(scope, app_inbox.receive, from_app.send)
            except Exception as exc:
                failure.append(exc)
            finally:
                finished.set()
                from_app.close()

        refused: str | None = None  # raised outside the task group, unwrapped
        with to_app, app_inbox, from_app, our_inbox:
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(run_app)
                await to_app.send({"type": "lifespan.startup"})
                reply = await self._answer(our_inbox)
                if reply is None:  # the app ended without answering startup
                    detail = repr(failure[0]) if failure else "it returned without answering"
                    if self.lifespan == "on":
                        refused = f"the ASGI app's lifespan startup failed: {detail}"
                    else:
                        logger.info("ASGI 'lifespan' protocol appears unsupported by %r (%s); "
                                    "serving without it", self.app, detail)
                        yield
                        return
                elif reply["type"] == "lifespan.startup.failed":
                    refused = f"the ASGI app's startup failed: {_last_line(reply)}"
                if refused is None:
                    try:
                        yield
                    finally:
                        with anyio.CancelScope(shield=True):
                            await to_app.send({"type": "lifespan.shutdown"})
                            reply = await self._answer(our_inbox)
                            await finished.wait()
                        if reply is not None and reply["type"] == "lifespan.shutdown.failed":
                            logger.error("the ASGI app's shutdown failed: %s", _last_line(reply))
                        elif failure:
                            logger.error("the ASGI app's lifespan failed at shutdown",
                                         exc_info=failure[0])
        if refused is not None:
            raise LifespanFailed(refused)

    @staticmethod
    async def _answer(inbox: Any) -> Message | None:
        try:
            message: Message = await inbox.receive()
        except anyio.EndOfStream:
            return None
        return message


def as_served(obj: Any, *, lifespan: LifespanMode = "auto") -> ServedApp:
    """``obj`` as the server serves it: a microready app as it is, an ASGI app wrapped."""
    if isinstance(obj, ServedApp):
        return obj
    if is_asgi_app(obj):
        return AsgiServedApp(obj, lifespan=lifespan)
    hint = (" (it looks like a function that builds the app: add --factory, or factory=True)"
            if callable(obj) and not isinstance(obj, type) else "")
    raise TypeError(
        f"a {type(obj).__name__} is not a microready app, nor an ASGI app; point at the "
        f"MicroReady() instance, or at an ASGI 3 app (async def app(scope, receive, send)){hint}"
    )
