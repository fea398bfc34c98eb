"""Mounts: a path prefix whose requests another object answers (``app.mount``).

``app.mount("/static", StaticFiles(directory="static"), name="static")``
hands every request for ``/static`` and the paths under it, whatever its
method, to the mounted object. That object needs one method::

    async def serve(self, request: Request, path: str) -> Response

where ``path`` is what follows the prefix (``"css/site.css"`` for
``/static/css/site.css``). ``StaticFiles`` has it. Mounting a whole app (a
``MicroReady``, or an ASGI app) is not supported yet, and is refused with a
``TypeError`` that says so rather than half working.

In the route table a mount is one more entry, tried in registration order
like the routes: it matches its prefix's paths with every method, so a route
registered before it still wins for its own method, and one registered after
it never sees a path under it (Starlette's order).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import quote

from ._path_template import PathTemplate

if TYPE_CHECKING:
    from .requests import Request
    from .responses import Response

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


def _checked(app: Any, path: str) -> Mountable:
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
    if callable(app):
        raise TypeError(
            f"mount({path!r}) cannot mount {shown}: mounting an ASGI app (or any callable) "
            "is not supported yet (issue 14). A mount takes StaticFiles, or an object "
            "with `async def serve(self, request, path) -> Response`"
        )
    raise TypeError(
        f"mount({path!r}) takes StaticFiles, or an object with "
        f"`async def serve(self, request, path) -> Response`; {shown} has no such method:\n"
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

    def copy_with(self, *, prefix: str, **_: Any) -> Mount:
        """This mount under ``prefix`` (``include_router``); a mount runs no dependencies."""
        return Mount(prefix + self.path, self.app, self.name)

    def url_path(self, name: str, params: dict[str, Any]) -> str | None:
        """``/static/css/site.css`` for ``url_path("static", {"path": "css/site.css"})``."""
        if self.name is None or name != self.name or set(params) != {"path"}:
            return None
        return f"{self.path}/{quote(str(params['path']).lstrip('/'), safe='/')}"

    def __repr__(self) -> str:
        return f"<Mount {self.path or '/'} -> {type(self.app).__name__}>"
