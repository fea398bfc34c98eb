"""``CORSMiddleware``: Cross-Origin Resource Sharing, answered as Starlette answers it.

``app.add_middleware(CORSMiddleware, allow_origins=["https://example.org"])``

Two kinds of request get CORS headers:

* a *preflight*, an ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``,
  is answered here without reaching the app: 200 ``OK`` when the origin, the method,
  every requested header (and, if asked, private-network access) are allowed,
  otherwise 400 ``Disallowed CORS origin, method, headers`` naming what failed;
* any other request goes through the app, and its response gets the headers that
  let a browser's script read it (``Access-Control-Allow-Origin`` and friends).

The headers and their values are Starlette 1.10's, byte for byte, including its
``Vary`` choices; tests/app/test_middleware_cors.py compares the two on a table of
requests. Unlike Starlette, an answer the app made for an unhandled exception (the
500) also gets them, since microready's app answers errors inside the stack.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING

from .._exchange import Reply
from ..datastructures import Headers, _checked_header
from ..responses import PlainTextResponse
from ._edit import with_headers

if TYPE_CHECKING:
    from .._exchange import RequestHandler
    from ..requests import Request

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]

# What allow_methods=["*"] stands for (Starlette's list, QUERY included).
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
# The request headers a browser may always send; a preflight never has to ask for them.
SAFELISTED_HEADERS = frozenset({"Accept", "Accept-Language", "Content-Language", "Content-Type"})

# The four request headers a preflight's answer depends on, always named in its Vary.
_PREFLIGHT_VARY = ("Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
                   "Access-Control-Request-Private-Network")
# An origin as a browser sends it: scheme "://" host [":" port], never a path.
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]+")

RawHeaders = list[tuple[bytes, bytes]]


def _names(keyword: str, value: Collection[str], example: str) -> tuple[str, ...]:
    """``value`` as a tuple, refusing a lone string (Starlette would test substrings of it).

    A bare ``"*"`` is taken as ``["*"]``, which is what it means in Starlette too.
    """
    if isinstance(value, str):
        if value == "*":
            return ("*",)
        raise TypeError(
            f"CORSMiddleware's {keyword} is a collection of strings, not one string "
            f"(a string would be searched letter by letter):\n"
            f"    right: app.add_middleware(CORSMiddleware, {keyword}=[{example!r}])\n"
            f"    wrong: app.add_middleware(CORSMiddleware, {keyword}={value!r})"
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"CORSMiddleware's {keyword} holds strings, not {type(name).__name__} "
                f"({name!r}):\n"
                f"    right: app.add_middleware(CORSMiddleware, {keyword}=[{example!r}])"
            )
    return names


def _check_origin(origin: str) -> None:
    # An entry a browser's Origin can never equal would silently allow nothing.
    if origin in ("*", "null"):
        return
    if "*" in origin:
        raise ValueError(
            f"allow_origins entries are whole origins, so {origin!r} matches no origin; "
            f"a pattern goes in allow_origin_regex:\n"
            f"    right: app.add_middleware(CORSMiddleware, "
            f"allow_origin_regex=r\"https://.*\\.example\\.org\")\n"
            f"    wrong: app.add_middleware(CORSMiddleware, allow_origins=[{origin!r}])"
        )
    if _ORIGIN.fullmatch(origin) is None:
        fixed = origin.rstrip("/") if _ORIGIN.fullmatch(origin.rstrip("/")) else (
            "https://example.org")
        raise ValueError(
            f"{origin!r} is not an origin as a browser sends it (scheme://host[:port], "
            f"no path, no trailing slash), so it would never match:\n"
            f"    right: app.add_middleware(CORSMiddleware, allow_origins=[{fixed!r}])\n"
            f"    wrong: app.add_middleware(CORSMiddleware, allow_origins=[{origin!r}])"
        )


def _add_vary(raw: RawHeaders, value: bytes) -> None:
    # As Starlette: every Vary line the response had, joined into one, then ours.
    values = [existing for name, existing in raw if name == b"vary"]
    raw[:] = [(name, existing) for name, existing in raw if name != b"vary"]
    raw.append((b"vary", b", ".join([*values, value])))


def _set(raw: RawHeaders, name: bytes, value: bytes) -> None:
    raw[:] = [pair for pair in raw if pair[0] != name]
    raw.append((name, value))


class CORSMiddleware:
    """Answer CORS preflights, and add CORS headers to the app's responses.

    ``CORSMiddleware(app, *, allow_origins=(), allow_methods=("GET",), allow_headers=(),
    allow_credentials=False, allow_origin_regex=None, allow_private_network=False,
    expose_headers=(), max_age=600)``, Starlette's keywords and defaults:

    * ``allow_origins``: origins allowed, or ``["*"]`` for any; ``allow_origin_regex``
      allows every origin the pattern matches whole (``re.fullmatch``) as well;
    * ``allow_methods``, ``allow_headers``: what a preflight may ask for (``"*"``:
      anything); the CORS-safelisted headers are always allowed;
    * ``allow_credentials``: cookies and ``Authorization`` may be sent, so the
      response names the origin itself instead of ``*`` (and says ``Vary: Origin``);
    * ``expose_headers``: response headers a script may read;
    * ``max_age``: how many seconds a browser may cache a preflight's answer;
    * ``allow_private_network``: answer Private Network Access preflights.
    """

    def __init__(
        self,
        app: RequestHandler,
        *,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        self.app = app
        origins = _names("allow_origins", allow_origins, "https://example.org")
        for origin in origins:
            _check_origin(origin)
        methods = _names("allow_methods", allow_methods, "POST")
        requestable = _names("allow_headers", allow_headers, "X-Token")
        exposed = _names("expose_headers", expose_headers, "X-Total-Count")
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise TypeError(
                f"CORSMiddleware's max_age is a number of seconds:\n"
                f"    right: app.add_middleware(CORSMiddleware, max_age=600)\n"
                f"    wrong: app.add_middleware(CORSMiddleware, max_age={max_age!r})"
            )
        self.origin_regex: re.Pattern[str] | None = None
        if allow_origin_regex is not None:
            try:
                self.origin_regex = re.compile(allow_origin_regex)
            except re.error as exc:
                raise ValueError(
                    f"allow_origin_regex={allow_origin_regex!r} is not a regular expression "
                    f"({exc}); it must match a whole origin, for example:\n"
                    f"    right: app.add_middleware(CORSMiddleware, "
                    f"allow_origin_regex=r\"https://.*\\.example\\.org\")"
                ) from None

        self.allow_origins = frozenset(origins)
        self.allow_all_origins = "*" in self.allow_origins
        self.allow_methods = ALL_METHODS if "*" in methods else methods
        self.allow_all_headers = "*" in requestable
        self.allow_credentials = allow_credentials
        self.allow_private_network = allow_private_network
        # A preflight names the origin itself unless any origin is fine and no
        # credentials go along (then "*" says it, and is fixed).
        self.preflight_names_origin = not self.allow_all_origins or allow_credentials
        listed_headers = sorted(SAFELISTED_HEADERS | set(requestable))
        self.allowed_request_headers = frozenset(name.lower() for name in listed_headers)

        # The headers every answer of each kind carries, validated and encoded once.
        simple: dict[str, str] = {}
        if self.allow_all_origins:
            simple["access-control-allow-origin"] = "*"
        if allow_credentials:
            simple["access-control-allow-credentials"] = "true"
        if exposed:
            simple["access-control-expose-headers"] = ", ".join(exposed)
        self.simple_headers: RawHeaders = [_checked_header(k, v) for k, v in simple.items()]

        preflight = {"vary": _PREFLIGHT_VARY}
        if not self.preflight_names_origin:
            preflight["access-control-allow-origin"] = "*"
        preflight["access-control-allow-methods"] = ", ".join(self.allow_methods)
        preflight["access-control-max-age"] = str(max_age)
        if not self.allow_all_headers:
            preflight["access-control-allow-headers"] = ", ".join(listed_headers)
        if allow_credentials:
            preflight["access-control-allow-credentials"] = "true"
        self.preflight_headers = preflight

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins:
            return True
        if self.origin_regex is not None and self.origin_regex.fullmatch(origin):
            return True
        return origin in self.allow_origins

    async def handle(self, request: Request) -> Reply:
        origin: str | None = None
        for name, value in request.raw_headers:  # no Headers object for the common case
            if name == b"origin":
                origin = value.decode("latin-1")
                break
        if origin is not None and request.method == "OPTIONS":
            headers = request.headers
            if "access-control-request-method" in headers:
                return Reply(self.preflight_response(headers["origin"], headers))
        reply = await self.app.handle(request)
        # An edited copy, never the app's own object: a Response returned to several
        # requests (a module-level constant) must not keep one request's origin.
        raw = list(reply.response.raw_headers)
        self.add_simple_headers(raw, origin)
        reply.response = with_headers(reply.response, raw)
        return reply

    def preflight_response(self, origin: str, request_headers: Headers) -> PlainTextResponse:
        """The answer to a preflight: 200 ``OK``, or 400 naming what is not allowed."""
        headers = dict(self.preflight_headers)
        failures: list[str] = []
        if not self.is_allowed_origin(origin):
            failures.append("origin")
        elif self.preflight_names_origin:
            headers["access-control-allow-origin"] = origin
        if request_headers["access-control-request-method"] not in self.allow_methods:
            failures.append("method")
        requested_headers = request_headers.get("access-control-request-headers")
        if requested_headers is not None:
            if self.allow_all_headers:
                # Any header is fine: say so by naming exactly the ones asked for.
                headers["access-control-allow-headers"] = requested_headers
            elif any(name.strip().lower() not in self.allowed_request_headers
                     for name in requested_headers.split(",")):
                failures.append("headers")
        if request_headers.get("access-control-request-private-network") is not None:
            if self.allow_private_network:
                headers["access-control-allow-private-network"] = "true"
            else:
                failures.append("private-network")
        # A browser enforces the policy either way; a 400 that says why is kinder to
        # whoever reads the network log.
        if failures:
            return PlainTextResponse("Disallowed CORS " + ", ".join(failures), 400, headers)
        return PlainTextResponse("OK", 200, headers)

    def add_simple_headers(self, raw: RawHeaders, origin: str | None) -> None:
        """Edit a response's headers for a request that came with ``origin`` (or none).

        ``Vary: Origin`` goes on every response, as Starlette 1.10 does: whether the
        request had an Origin, and which, changes the CORS headers a cache would keep.
        """
        if origin is not None:
            for name, value in self.simple_headers:
                _set(raw, name, value)
            # With credentials "*" is not allowed, so the origin is named; with a list
            # (or a pattern) of origins, it is named when it is on it.
            if (self.allow_credentials if self.allow_all_origins
                    else self.is_allowed_origin(origin)):
                _set(raw, b"access-control-allow-origin", origin.encode("latin-1"))
        _add_vary(raw, b"Origin")
