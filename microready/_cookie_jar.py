"""``client.cookies``: httpx's ``Cookies`` API over the standard library's cookie jar.

FastAPI's TestClient is httpx, and httpx keeps its cookies in an
:class:`http.cookiejar.CookieJar`. So does this module, so that which cookie is
stored, sent back or dropped is decided by the very same code. What follows from
that, and what tests written for FastAPI's client see:

* A host name without a dot is known to the jar as that name plus ``.local``
  (RFC 2965 section 1, "effective host name"): a ``Set-Cookie`` from
  ``testserver`` without ``Domain`` is stored for ``testserver.local``, and one
  with ``Domain=testserver`` is stored for ``.testserver`` but never sent back,
  since ``testserver.local`` is not inside it. ``Domain=testserver.local`` works.
  A ``Domain`` the host is not inside (``example.com`` from ``testserver``) is
  refused.
* ``cookies[name] = value`` and ``cookies.set(name, value)`` store a cookie
  with no domain, which the jar sends to every host; a ``Path`` limits it as usual.
* ``Max-Age=0``, or an ``Expires`` in the past, deletes the stored cookie; an
  expired cookie is never sent.
* When two cookies share a name (different domains or paths), ``cookies[name]``
  and ``cookies.get(name)`` raise :class:`CookieConflict`; pass ``domain=`` or
  ``path=`` to pick one.
"""

from __future__ import annotations

import email.message
import urllib.request
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from http.cookiejar import Cookie, CookieJar
from typing import TypeAlias

__all__ = ["CookieConflict", "CookieTypes", "Cookies"]

CookieTypes: TypeAlias = "Cookies | CookieJar | Mapping[str, str] | Sequence[tuple[str, str]]"


class CookieConflict(Exception):
    """Several cookies have the name asked for; say which with ``domain=`` or ``path=``."""


class _JarRequest(urllib.request.Request):
    """What ``CookieJar`` reads a request from; it gives the Cookie header back here."""

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        super().__init__(url, headers=dict(headers))
        self.cookie_header: str | None = None

    def add_unredirected_header(self, key: str, val: str) -> None:
        super().add_unredirected_header(key, val)
        self.cookie_header = val


class _JarResponse:
    """What ``CookieJar`` reads a response's ``Set-Cookie`` headers from."""

    def __init__(self, headers: Sequence[tuple[str, str]]) -> None:
        self._headers = headers

    def info(self) -> email.message.Message:
        message = email.message.Message()
        for name, value in self._headers:
            message[name] = value
        return message


class Cookies(MutableMapping[str, str]):
    """Cookies by name, as httpx's ``Cookies``; ``jar`` is the ``CookieJar`` behind them."""

    def __init__(self, cookies: CookieTypes | None = None) -> None:
        if isinstance(cookies, CookieJar):
            self.jar = cookies
            return
        self.jar = CookieJar()
        if isinstance(cookies, Cookies):
            for cookie in cookies.jar:
                self.jar.set_cookie(cookie)
            return
        pairs = cookies.items() if isinstance(cookies, Mapping) else (cookies or ())
        for name, value in pairs:
            self.set(name, value)

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        """Store a cookie as httpx does: no domain (sent to every host) unless given."""
        self.jar.set_cookie(Cookie(
            version=0, name=name, value=value, port=None, port_specified=False,
            domain=domain, domain_specified=bool(domain),
            domain_initial_dot=domain.startswith("."), path=path, path_specified=bool(path),
            secure=False, expires=None, discard=True, comment=None, comment_url=None,
            rest={"HttpOnly": None},  # type: ignore[dict-item]  # httpx's, a flag with no value
            rfc2109=False,
        ))

    def get(  # type: ignore[override]
        self, name: str, default: str | None = None, domain: str | None = None,
        path: str | None = None,
    ) -> str | None:
        found = [cookie.value for cookie in self._matching(name, domain, path)]
        if len(found) > 1:
            raise CookieConflict(
                f"Multiple cookies exist with name={name}; pick one with "
                f"cookies.get({name!r}, domain=..., path=...)"
            )
        return found[0] if found else default

    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> None:
        for cookie in list(self._matching(name, domain, path)):
            self.jar.clear(cookie.domain, cookie.path, cookie.name)

    def clear(self, domain: str | None = None, path: str | None = None) -> None:
        if domain is None:
            self.jar.clear()
        elif path is None:
            self.jar.clear(domain)
        else:
            self.jar.clear(domain, path)

    def update(self, cookies: CookieTypes | None = None) -> None:  # type: ignore[override]
        for cookie in Cookies(cookies).jar:
            self.jar.set_cookie(cookie)

    def _matching(self, name: str, domain: str | None, path: str | None) -> Iterator[Cookie]:
        for cookie in self.jar:
            if cookie.name == name and domain in (None, cookie.domain) and path in (
                None, cookie.path
            ):
                yield cookie

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(self._matching(name, None, None))

    def __delitem__(self, name: str) -> None:
        if not any(self._matching(name, None, None)):
            raise KeyError(name)
        self.delete(name)

    def __iter__(self) -> Iterator[str]:
        return (cookie.name for cookie in self.jar)

    def __len__(self) -> int:
        return len(self.jar)

    def __bool__(self) -> bool:
        return any(True for _ in self.jar)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"<Cookie {c.name}={c.value} for {c.domain} />" for c in self.jar
        )
        return f"<Cookies[{shown}]>"

    # -- what the client does with the jar --------------------------------------------

    def header_for(self, url: str, headers: Mapping[str, str]) -> str | None:
        """The Cookie header for a request to ``url``; None when no stored cookie
        applies, or when ``headers`` already has a Cookie header (it is kept as set)."""
        request = _JarRequest(url, headers)
        self.jar.add_cookie_header(request)
        return request.cookie_header

    def extract(self, url: str, request_headers: Mapping[str, str],
                response_headers: Sequence[tuple[str, str]]) -> None:
        """Store (or delete) what the response's ``Set-Cookie`` headers say."""
        self.jar.extract_cookies(
            _JarResponse(response_headers),  # type: ignore[arg-type]
            _JarRequest(url, request_headers),
        )
