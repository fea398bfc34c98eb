"""Mounts: a path prefix whose requests another object answers (``app.mount``).

``app.mount("/static", StaticFiles(directory="static"), name="static")``
hands every request for ``/static`` and the paths under it, whatever its
method, to the mounted object. That object needs one method::

    async def serve(self, request: Request, path: str) -> Response

where ``path`` is what follows the prefix (``"css/site.css"`` for
``/static/css/site.css``). ``StaticFiles`` has it. Two more kinds can be mounted:

* a ``MicroReady`` sub-app (FastAPI's "Sub Applications"): it answers with its
  own routes, docs and middleware, under ``root_path`` + the prefix, and the
  parent's server runs its background tasks (its own lifespan is not run,
  as in FastAPI);
* any ASGI app (Starlette, FastAPI, Django, a WSGI app through ``a2wsgi``),
  called through ``AsgiHandler`` with the prefix added to ``root_path``.

In the route table a mount is one more entry, tried in registration order
like the routes: it matches its prefix's paths with every method, so a route
registered before it still wins for its own method, and one registered after
it never sees a path under it (Starlette's order).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import quote

from ._asgi.handler import AsgiHandler
from ._asgi.scope import is_asgi_app
from ._exchange import Reply, RequestHandler
from ._path_template import PathTemplate
from ._route_handler import task_list
from .requests import Request
from .responses import FileResponse

if TYPE_CHECKING:
    from .responses import Response

Failed = Callable[[Request, Exception, Any], Awaitable[Reply]]

__all__ = ["EVERY_METHOD", "Mount", "Mountable"]


@runtime_checkable
class Mountable(Protocol):
    """What ``app.mount(path, obj)`` takes: an object that answers a request under a prefix."""

    async def serve(self, request: Request, path: str) -> Response: ...


class _EveryMethod:
    """The method set of a mount: it takes every method (its object may answer 405)."""

    __slots__ = ()

    def __contains__(self, method: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERY_METHOD"


EVERY_METHOD = _EveryMethod()


def _checked(app: Any, path: str) -> Mountable | RequestHandler:
    """What answers under the mount: a ``serve()`` object, a sub-app, or an ASGI app."""
    shown = type(app).__name__
    if isinstance(app, type):
        raise TypeError(
            f"mount({path!r}) needs an instance, not the class {app.__name__}:\n"
            f"    wrong: app.mount({path!r}, {app.__name__})\n"
            f"    right: app.mount({path!r}, {app.__name__}(directory=\"static\"))"
        )
    if inspect.iscoroutinefunction(getattr(app, "serve", None)):
        mountable: Mountable = app
        return mountable
    if inspect.iscoroutinefunction(getattr(app, "handle", None)):
        sub_app: RequestHandler = app  # a MicroReady: its handle() is the whole app
        return sub_app
    if is_asgi_app(app):
        return AsgiHandler(app)
    raise TypeError(
        f"mount({path!r}) takes a sub-app (MicroReady or any ASGI app), StaticFiles, or an "
        f"object with `async def serve(self, request, path) -> Response`; {shown} is none:\n"
        f"    right: app.mount({path!r}, StaticFiles(directory=\"static\"), name=\"static\")"
    )


class Mount:
    """A prefix answered by a mounted object; see the module docstring."""

    def __init__(self, path: str, app: Any, name: str | None = None) -> None:
        if not isinstance(path, str) or (path and not path.startswith("/")):
            raise ValueError(
                f"a mount path starts with '/':\n"
                f"    wrong: app.mount({path!r}, ...)\n"
                f"    right: app.mount({'/' + str(path).lstrip('/')!r}, ...)"
            )
        self.path = path.rstrip("/")
        self.app = _checked(app, path)
        self.name = name
        # What follows the prefix is the "path" parameter, as in Starlette.
        self.template = PathTemplate(self.path + "/{path:path}")
        self.method_set = EVERY_METHOD

    async def answer(self, request: Request, path: str, failed: Failed) -> Reply:
        """The reply of what is mounted, for ``request`` under this mount's prefix."""
        target = self.app
        if isinstance(target, Mountable):  # e.g. StaticFiles: it answers, the handlers catch
            try:
                response = await target.serve(request, path)
                if isinstance(response, FileResponse):
                    response = await response.for_request(request)
            except Exception as exc:
                return await failed(request, exc, None)
            background = response.background
            return Reply(response, task_list(background) if background is not None else [])
        # A sub-app sees the request as its own: its root_path ends with this prefix.
        child = Request.from_request(request)
        child.scope = dict(request.scope)
        child.scope["root_path"] = request.root_path + self.path
        child.path_params = {}
        if not isinstance(target, AsgiHandler):
            child.app = target
        return await target.handle(child)

    async def serve_websocket(self, scope: Any, receive: Any, send: Any) -> None:
        """A WebSocket connection under this prefix, for the mounted app."""
        target = self.app
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + self.path
        if isinstance(target, AsgiHandler):
            await target.app(child, receive, send)
        elif hasattr(target, "serve_websocket"):  # a MicroReady sub-app
            child["app"] = target
            await target.serve_websocket(child, receive, send)
        else:  # StaticFiles and the like answer HTTP only: refused (403)
            message = await receive()  # websocket.connect
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1000})

    def copy_with(self, *, prefix: str, **_: Any) -> Mount:
        """This mount under ``prefix`` (``include_router``); a mount runs no dependencies."""
        return Mount(prefix + self.path, self.app, self.name)

    def url_path(self, name: str, params: dict[str, Any]) -> str | None:
        """``/static/css/site.css`` for ``url_path("static", {"path": "css/site.css"})``."""
        if self.name is None or name != self.name or set(params) != {"path"}:
            return None
        return f"{self.path}/{quote(str(params['path']).lstrip('/'), safe='/')}"

    def __repr__(self) -> str:
        shown = self.app.app if isinstance(self.app, AsgiHandler) else self.app
        return f"<Mount {self.path or '/'} -> {type(shown).__name__}>"
