"""Finding routes: the route for a request (``RouteTable``), and the path of a named one.

``RouteTable`` is built once from an app's routes and mounts (``routing``'s
module docstring states the rules it follows). ``url_path_for`` goes the
other way, from a route's name and parameters to a path, for
``request.url_for`` and ``url_for`` in templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union
from urllib.parse import quote

from ._mount import Mount
from ._path_template import _PARAM

if TYPE_CHECKING:
    from ._route import Route
    from ._websocket_route import WebSocketRoute

__all__ = ["NoMatchFound", "RouteTable", "allowed_methods", "fill_path", "url_path_for"]

Entry = Union["Route", Mount, "WebSocketRoute"]
_NO_PARAMS: dict[str, Any] = {}


EntryT = TypeVar("EntryT", bound=Entry)


class RouteTable(Generic[EntryT]):
    """Finds the route (or mount) for (method, path).

    An app keeps two: one for HTTP requests (routes and mounts), one for
    WebSocket connections (``WebSocketRoute``, method ``"WEBSOCKET"``).
    """

    __slots__ = ("static", "dynamic")

    def __init__(self, routes: Sequence[EntryT]) -> None:
        dynamic = [r for r in routes if not r.template.is_static]
        static: dict[str, list[tuple[EntryT, dict[str, Any]]]] = {}
        for route in routes:
            if route.template.is_static and route.path not in static:
                # Every entry that matches this exact path, in registration order.
                candidates: list[tuple[EntryT, dict[str, Any]]] = []
                for other in routes:
                    if other.template.is_static:
                        if other.path == route.path:
                            candidates.append((other, _NO_PARAMS))
                        continue
                    params = other.template.match(route.path)
                    if params is not None:
                        candidates.append((other, params))
                static[route.path] = candidates
        self.static = {path: tuple(c) for path, c in static.items()}
        self.dynamic = tuple(dynamic)

    def find(
        self, method: str, path: str
    ) -> tuple[EntryT | None, dict[str, Any], tuple[Route, ...]]:
        """``(route, params, ())`` on a match; ``(None, {}, routes)`` otherwise.

        ``routes`` are the routes whose path matched with another method (405),
        empty when nothing matched the path (404). A mount takes every method,
        so it is never among them.
        """
        candidates = self.static.get(path)
        if candidates is not None:
            for route, params in candidates:
                if method in route.method_set:
                    return route, (dict(params) if params else _NO_PARAMS), ()
            return None, _NO_PARAMS, _routes_only(route for route, _ in candidates)
        partial: list[EntryT] = []
        for route in self.dynamic:
            found = route.template.match(path)
            if found is not None:
                if method in route.method_set:
                    return route, found, ()
                partial.append(route)
        return None, _NO_PARAMS, _routes_only(partial)

    def matches_any(self, path: str) -> bool:
        """Whether any route's path matches (for the trailing-slash redirect)."""
        return path in self.static or any(r.template.match(path) is not None for r in self.dynamic)


def _routes_only(entries: Any) -> tuple[Route, ...]:
    return tuple(entry for entry in entries if not isinstance(entry, Mount))


def allowed_methods(routes: Sequence[Route]) -> str:
    """The ``Allow`` header for a 405: every method the path supports, in order."""
    return ", ".join(dict.fromkeys(m for route in routes for m in route.methods))


# -- from a name to a path -------------------------------------------------------------


class NoMatchFound(Exception):
    """No route or mount has this name and these path parameters (Starlette's error)."""

    def __init__(self, name: str, path_params: Mapping[str, Any]) -> None:
        params = ", ".join(path_params)
        super().__init__(
            f'No route exists for name "{name}" and params "{params}". A route\'s name is '
            f"its function's name unless name= says otherwise, and every parameter in its "
            f"path must be given:\n"
            f"    right: request.url_for(\"read_item\", item_id=3)  for @app.get(\"/items/"
            f"{{item_id}}\") def read_item(...)"
        )


def fill_path(template: str, params: Mapping[str, Any]) -> str:
    """``/items/{item_id}`` with ``item_id`` put in, percent-encoded.

    A ``{name:path}`` value may hold ``/``; any other is one path segment, so
    a ``/`` in it is refused (the request it names could never match).
    """

    def value_for(match: Any) -> str:
        name, _, convertor = match.group(1).partition(":")
        name, convertor = name.strip(), convertor.strip()
        text = str(params[name])
        if convertor == "path":
            return quote(text, safe="/")
        if "/" in text:
            raise ValueError(
                f"path parameter {name!r} is one path segment and cannot contain '/' "
                f"(got {text!r}); declare it {{{name}:path}} to allow one"
            )
        return quote(text, safe="")

    return _PARAM.sub(value_for, template)


def url_path_for(routes: Sequence[Entry], name: str, params: dict[str, Any]) -> str:
    """The path of the first route or mount called ``name`` that takes exactly ``params``."""
    for route in routes:
        path = route.url_path(name, params)
        if path is not None:
            return path
    raise NoMatchFound(name, params)
