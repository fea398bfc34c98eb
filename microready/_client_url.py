"""The URLs ``TestClient`` sends to, built by httpx's rules (``httpx/_urls.py``,
``httpx/_urlparse.py``), since tests written for FastAPI's client expect them:

* A relative URL is appended to ``base_url``, whose path always ends in ``/``:
  ``base_url="http://testserver/api"`` and ``"/items"`` give ``/api/items``.
  An absolute URL (with a scheme and a host) is used as it is.
* ``params=`` replaces the URL's whole query string, even when empty
  (``get("/x?a=1", params={"b": 2})`` asks for ``/x?b=2``, and ``params={}``
  for ``/x``); ``params=None`` keeps it. Values are grouped by key, lists
  repeat the key, ``True``/``False``/``None`` are ``true``/``false``/empty, and
  the pairs are form-encoded (a space is ``+``).
* What may not appear in a URL is percent-encoded as the WHATWG URL standard
  says (a space in the path is ``%20``); an existing ``%XX`` is kept.
* A default port (80 for http, 443 for https) is dropped.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias
from urllib.parse import parse_qs, unquote, urlencode, urljoin, urlsplit, urlunsplit

from .datastructures import QueryParams

__all__ = ["URL", "ParamTypes", "base", "host_header", "is_https_upgrade", "join", "merge_url",
           "same_origin", "with_params"]

ParamTypes: TypeAlias = "Mapping[str, Any] | Sequence[tuple[str, Any]] | str"

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_UNRESERVED = string.ascii_letters + string.digits + "-._~"
# The WHATWG percent-encode sets: the printable ASCII characters left alone.
_QUERY_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in ' "#<>')
_PATH_SAFE = "".join(c for c in _QUERY_SAFE if c not in "?`{}")
_FRAGMENT_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in ' "<>`')
_ESCAPED = re.compile("%[A-Fa-f0-9]{2}")


def _quote(text: str, safe: str) -> str:
    """``text`` with every character outside ``safe`` percent-encoded as UTF-8,
    except the ``%XX`` escapes already in it."""
    keep = _UNRESERVED + safe
    pieces = _ESCAPED.split(text)
    escapes = _ESCAPED.findall(text)
    out = []
    for index, piece in enumerate(pieces):
        out.append("".join(
            char if char in keep else "".join(f"%{byte:02X}" for byte in char.encode())
            for char in piece
        ))
        if index < len(escapes):
            out.append(escapes[index])
    return "".join(out)


class URL(str):
    """A URL the client sent to: a ``str`` (so ``response.url == "http://testserver/x"``)
    with httpx's parts: ``scheme``, ``host``, ``port``, ``path``, ``query``, ``params``..."""

    __slots__ = ()

    @property
    def scheme(self) -> str:
        return urlsplit(self).scheme

    @property
    def host(self) -> str:
        return urlsplit(self).hostname or ""

    @property
    def port(self) -> int | None:
        """The port, None when it is the scheme's default (as httpx gives it)."""
        return urlsplit(self).port

    @property
    def netloc(self) -> bytes:
        return urlsplit(self).netloc.encode("ascii")

    @property
    def path(self) -> str:
        """The path, percent-decoded: ``/a b`` for ``http://testserver/a%20b``."""
        return unquote(urlsplit(self).path or "/")

    @property
    def raw_path(self) -> bytes:
        """The request target: the encoded path and the query, ``b"/a%20b?q=1"``."""
        parts = urlsplit(self)
        return ((parts.path or "/") + (f"?{parts.query}" if parts.query else "")).encode("ascii")

    @property
    def query(self) -> bytes:
        return urlsplit(self).query.encode("ascii")

    @property
    def params(self) -> QueryParams:
        return QueryParams(urlsplit(self).query)

    @property
    def fragment(self) -> str:
        return unquote(urlsplit(self).fragment)


def _normalised(url: str) -> URL:
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    if parts.port is not None and parts.port == _DEFAULT_PORTS.get(parts.scheme):
        netloc = netloc.rpartition(":")[0]
    return URL(urlunsplit((
        parts.scheme, netloc, _quote(parts.path, _PATH_SAFE), _quote(parts.query, _QUERY_SAFE),
        _quote(parts.fragment, _FRAGMENT_SAFE),
    )))


def join(url: URL, location: str) -> URL:
    """``location`` (a redirect's, maybe relative) resolved against ``url``."""
    return _normalised(urljoin(url, location))


def base(url: str) -> URL:
    """``base_url`` as httpx keeps it: with a path, the path ends in ``/``."""
    parts = urlsplit(url)
    if parts.path and not parts.path.endswith("/"):
        url = urlunsplit(parts._replace(path=parts.path + "/"))
    return _normalised(url)


def merge_url(base_url: str, url: str) -> URL:
    """``url`` itself if it is absolute, else ``url`` appended to ``base_url``'s path."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        return _normalised(url)
    root = urlsplit(base(base_url))
    path = (root.path or "/") + parts.path.lstrip("/")
    # As httpx's merge, which joins the paths and queries: the fragment is lost.
    return _normalised(urlunsplit((root.scheme, root.netloc, path, parts.query, "")))


def with_params(url: URL, params: ParamTypes) -> URL:
    """``url`` with its query string replaced by ``params`` (httpx 0.28's rule)."""
    grouped: dict[str, list[str]] = {}
    if isinstance(params, str):
        grouped = parse_qs(params, keep_blank_values=True)
    elif isinstance(params, Mapping):  # a list or tuple value repeats the key
        for key, value in params.items():
            values = value if isinstance(value, list | tuple) else [value]
            grouped.setdefault(str(key), []).extend(_text(item) for item in values)
    else:  # pairs, grouped by key as httpx's QueryParams groups them
        for key, value in params:
            grouped.setdefault(str(key), []).append(_text(value))
    query = urlencode([(key, value) for key, values in grouped.items() for value in values])
    return _normalised(urlunsplit(urlsplit(url)._replace(query=query)))


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def host_header(url: URL) -> str:
    """The Host header for ``url``: its host, and its port unless the default."""
    return urlsplit(url).netloc.rpartition("@")[2]


def same_origin(one: URL, other: URL) -> bool:
    return (one.scheme, one.host, one.port) == (other.scheme, other.host, other.port)


def is_https_upgrade(old: URL, new: URL) -> bool:
    """A redirect from ``http://host`` to ``https://host``: httpx keeps Authorization."""
    return old.host == new.host and (old.scheme, old.port or 80) == ("http", 80) and (
        new.scheme, new.port or 443) == ("https", 443)
