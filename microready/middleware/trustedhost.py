"""``TrustedHostMiddleware``: answer only requests whose ``Host`` is one of yours.

``app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])``

A request for any other host (a DNS-rebinding page, a forged ``Host`` used to
poison links or caches) gets 400 ``Invalid host header``, as does one whose
``Host`` is missing or malformed. With ``www_redirect`` (the default), a request
for ``example.com`` when only ``www.example.com`` is allowed is sent there with a
307 instead. Starlette 1.10's answers; the host is read by the same rules
(RFC 3986's host, an optional port, bracketed IPv6 checked for real).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from .._exchange import Reply
from ..responses import PlainTextResponse, RedirectResponse

if TYPE_CHECKING:
    from .._exchange import RequestHandler
    from ..requests import Request

__all__ = ["HostHeader", "TrustedHostMiddleware", "parse_host_header", "request_url"]

# RFC 3986 section 3.2.2: a reg-name or IPv4 address, or an IP literal in brackets
# (IPv6, or "v" IPvFuture), then an optional port.
_HOST_HEADER = re.compile(
    r"(?P<host>[a-z0-9\-._~%!$&'()*+,;=]+"
    r"|\[(?:(?P<ipv6>[0-9a-f]*:[0-9a-f.:]+)|v[0-9a-f]+\.[a-z0-9\-._~!$&'()*+,;=:]+)\])"
    r"(?::(?P<port>[0-9]+))?",
    re.IGNORECASE,
)


class HostHeader(NamedTuple):
    """A ``Host`` header taken apart: ``host`` as written (brackets kept), ``port`` or None."""

    host: str
    port: str | None

    @property
    def authority(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def port_number(self) -> int | None:
        """The port as a number; None without one, or when it is above 65535."""
        if self.port is None:
            return None
        digits = self.port.lstrip("0")  # length first: int() of 5000 digits raises
        number = int(digits or "0") if len(digits) <= 5 else None
        return number if number is not None and number <= 65535 else None

    @property
    def port_is_valid(self) -> bool:
        return self.port is None or self.port_number is not None


def parse_host_header(value: str | None) -> HostHeader | None:
    """``value`` as a host and port, or None when it is missing or not a valid host."""
    if value is None:
        return None
    match = _HOST_HEADER.fullmatch(value)
    if match is None:
        return None
    ipv6 = match["ipv6"]
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6)
        except ValueError:
            return None
    return HostHeader(match["host"], match["port"])


def request_url(request: Request, scheme: str, netloc: str) -> str:
    """``request``'s URL with ``scheme`` and ``netloc``, its path and query as the
    client wrote them (as ``MicroReady``'s own slash redirect writes them)."""
    target = request.raw_target.decode("latin-1")
    if not target.startswith("/"):
        # The absolute form (a proxy's "http://host/path"), or "*": only the path counts.
        _, separator, after_scheme = target.partition("://")
        slash = after_scheme.find("/") if separator else -1
        target = after_scheme[slash:] if slash >= 0 else "/"
    return f"{scheme}://{netloc}{target}"


def _check_pattern(pattern: object) -> str:
    if not isinstance(pattern, str):
        raise TypeError(
            f"TrustedHostMiddleware's allowed_hosts holds host names, not "
            f"{type(pattern).__name__} ({pattern!r}):\n"
            f"    right: app.add_middleware(TrustedHostMiddleware, allowed_hosts=[\"example.com\"])"
        )
    # "*" alone, or "*." then a domain: Starlette's rule, and the only one a suffix
    # match can honour ("*example.com" would also allow "evil-example.com").
    if pattern != "*" and ("*" in pattern[1:] or (pattern.startswith("*")
                                                 and not pattern.startswith("*."))):
        raise ValueError(
            f"Domain wildcard patterns must be like '*.example.com': a leading \"*.\" and "
            f"no other \"*\":\n"
            f"    right: app.add_middleware(TrustedHostMiddleware, "
            f"allowed_hosts=[\"*.example.com\"])\n"
            f"    wrong: app.add_middleware(TrustedHostMiddleware, allowed_hosts=[{pattern!r}])"
        )
    return pattern.lower()


class TrustedHostMiddleware:
    """Refuse requests for hosts not in ``allowed_hosts``.

    ``TrustedHostMiddleware(app, *, allowed_hosts=None, www_redirect=True)``:
    ``allowed_hosts`` are host names (no port), ``"*.example.com"`` for every
    subdomain of example.com (not example.com itself), or ``"*"`` for any host,
    which is the default (None). The comparison ignores case and the port.
    """

    def __init__(
        self,
        app: RequestHandler,
        *,
        allowed_hosts: Sequence[str] | None = None,
        www_redirect: bool = True,
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]
        if isinstance(allowed_hosts, str):
            raise TypeError(
                f"TrustedHostMiddleware's allowed_hosts is a list of host names, not one "
                f"string:\n"
                f"    right: app.add_middleware(TrustedHostMiddleware, "
                f"allowed_hosts=[{allowed_hosts!r}])\n"
                f"    wrong: app.add_middleware(TrustedHostMiddleware, "
                f"allowed_hosts={allowed_hosts!r})"
            )
        self.app = app
        self.allowed_hosts = [_check_pattern(pattern) for pattern in allowed_hosts]
        self.allow_any = "*" in self.allowed_hosts
        self.www_redirect = www_redirect

    async def handle(self, request: Request) -> Reply:
        if self.allow_any:
            return await self.app.handle(request)
        parsed = parse_host_header(request.headers.get("host"))
        if parsed is None:
            return Reply(PlainTextResponse("Invalid host header", status_code=400))
        host = parsed.host.lower()
        www_allowed = False
        for pattern in self.allowed_hosts:
            if host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:])):
                return await self.app.handle(request)
            if pattern == "www." + host:
                www_allowed = True
        if www_allowed and self.www_redirect:
            scheme: str = request.scope.get("scheme", "http")
            location = request_url(request, scheme, "www." + parsed.authority)
            return Reply(RedirectResponse(location))
        return Reply(PlainTextResponse("Invalid host header", status_code=400))
