"""Small containers shared by requests and responses.

Header names are stored lower-cased as bytes, the way h11 hands them to us, so
lookups never re-encode; values are decoded as latin-1, which maps every byte
to one code point and so round-trips anything a client can send (RFC 9110
section 5.5 allows obs-text in field values).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from http.cookies import SimpleCookie
from typing import IO, Any, Generic, NamedTuple, TypeVar
from urllib.parse import parse_qsl

import anyio.to_thread

__all__ = [
    "Address", "FormData", "Headers", "ImmutableMultiDict", "MutableHeaders", "QueryParams",
    "State", "URL", "UploadFile", "parse_cookies",
]

V = TypeVar("V")

RawHeaders = list[tuple[bytes, bytes]]


class Address(NamedTuple):
    """The peer of a connection: ``host`` and ``port`` (port 0 for a Unix socket)."""

    host: str
    port: int


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive, multi-valued request headers.

    ``headers["accept"]`` gives the first value; ``headers.getlist("accept")``
    gives every value in the order received.
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: Sequence[tuple[bytes, bytes]] = ()) -> None:
        self._raw: Sequence[tuple[bytes, bytes]] = raw

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return list(self._raw)

    def __getitem__(self, key: str) -> str:
        wanted = key.lower().encode("latin-1")
        for name, value in self._raw:
            if name == wanted:
                return value.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        wanted = key.lower().encode("latin-1")
        return any(name == wanted for name, _ in self._raw)

    def __iter__(self) -> Iterator[str]:
        seen: set[bytes] = set()
        for name, _ in self._raw:
            if name not in seen:
                seen.add(name)
                yield name.decode("latin-1")

    def __len__(self) -> int:
        return len({name for name, _ in self._raw})

    def getlist(self, key: str) -> list[str]:
        wanted = key.lower().encode("latin-1")
        return [value.decode("latin-1") for name, value in self._raw if name == wanted]

    def multi_items(self) -> list[tuple[str, str]]:
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self._raw]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


def _checked_header(name: str, value: str) -> tuple[bytes, bytes]:
    # A CR or LF in a field would let a value smuggle extra headers or a second
    # response into the stream (response splitting); NUL is forbidden too
    # (RFC 9110 section 5.5). Refuse them where the app sets them, so the
    # error points at the line that did it.
    for text, what in ((name, "name"), (value, "value")):
        if "\r" in text or "\n" in text or "\0" in text:
            raise ValueError(
                f"header {what} {text!r} contains CR, LF or NUL; "
                "remove the line break (a header cannot span lines)"
            )
    if not name or any(c in name for c in ' \t:()<>@,;"/[]?={}'):
        raise ValueError(f"{name!r} is not a valid header name")
    return name.lower().encode("latin-1"), value.encode("latin-1")


class MutableHeaders(Headers):
    """Response headers: case-insensitive, and validated as they are set."""

    __slots__ = ()

    _raw: RawHeaders

    def __init__(self, raw: RawHeaders | None = None) -> None:
        super().__init__(raw if raw is not None else [])

    def __setitem__(self, key: str, value: str) -> None:
        name, encoded = _checked_header(key, value)
        kept = [(n, v) for n, v in self._raw if n != name]
        kept.append((name, encoded))
        self._raw[:] = kept

    def __delitem__(self, key: str) -> None:
        wanted = key.lower().encode("latin-1")
        self._raw[:] = [(n, v) for n, v in self._raw if n != wanted]

    def append(self, key: str, value: str) -> None:
        """Add a value without replacing the existing ones (e.g. ``set-cookie``)."""
        self._raw.append(_checked_header(key, value))

    def setdefault(self, key: str, value: str) -> str:
        if key in self:
            return self[key]
        self[key] = value
        return value

    def update(self, other: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        items = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            self[key] = value


class ImmutableMultiDict(Mapping[str, V], Generic[V]):
    """Pairs in the order they came, where a key may repeat: ``d["k"]`` is the
    last value (as in FastAPI), ``d.getlist("k")`` every value."""

    __slots__ = ("_items", "_last")

    def __init__(self, items: Iterable[tuple[str, V]] = ()) -> None:
        self._items: list[tuple[str, V]] = list(items)
        self._last: dict[str, V] = dict(self._items)

    def __getitem__(self, key: str) -> V:
        return self._last[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._last)

    def __len__(self) -> int:
        return len(self._last)

    def getlist(self, key: str) -> list[V]:
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, V]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class QueryParams(ImmutableMultiDict[str]):
    """The query string as a multi-valued mapping."""

    __slots__ = ()

    def __init__(self, query: str | bytes | Iterable[tuple[str, str]] = "") -> None:
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        super().__init__(
            parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else query
        )


class UploadFile:
    """A file sent in a ``multipart/form-data`` body, as FastAPI's (Starlette's) ``UploadFile``.

    ``file`` is a ``SpooledTemporaryFile``: in memory up to 1 MiB, then an
    anonymous temporary file, which the operating system removes when it is
    closed or the process ends. The ``async`` methods run in a worker thread
    once the file is on disk, so reading a large upload never blocks the event
    loop. microready closes the file after the request's background tasks have
    finished, so a task may still read it.
    """

    def __init__(self, file: IO[bytes], *, size: int | None = None,
                 filename: str | None = None, headers: Headers | None = None) -> None:
        self.file = file
        self.size = size
        self.filename = filename
        self.headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def _in_memory(self) -> bool:
        # SpooledTemporaryFile sets _rolled once it moves to disk; other files are on disk.
        return not getattr(self.file, "_rolled", True)

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        if self._in_memory:
            self.file.write(data)
        else:
            await anyio.to_thread.run_sync(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self.file.read(size)
        return await anyio.to_thread.run_sync(self.file.read, size)

    async def seek(self, offset: int) -> None:
        if self._in_memory:
            self.file.seek(offset)
        else:
            await anyio.to_thread.run_sync(self.file.seek, offset)

    async def close(self) -> None:
        if self._in_memory:
            self.file.close()
        else:
            await anyio.to_thread.run_sync(self.file.close)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size!r}, "
            f"headers={self.headers!r})"
        )


class FormData(ImmutableMultiDict["str | UploadFile"]):
    """A parsed form: field values as ``str``, files as ``UploadFile``."""

    __slots__ = ()

    async def close(self) -> None:
        """Close every uploaded file (removing its temporary file)."""
        for _, value in self._items:
            if isinstance(value, UploadFile):
                await value.close()


class URL(NamedTuple):
    """The request target split into ``path`` (percent-decoded) and ``query`` (raw)."""

    path: str
    query: str

    def __str__(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


class State:
    """An attribute bag: ``app.state.db = ...``; ``request.state.user = ...``."""

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        super().__setattr__("_values", dict(initial or {}))

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"state has no attribute {name!r}; set it first, e.g. in the lifespan: "
                f"app.state.{name} = ..."
            ) from None

    def __delattr__(self, name: str) -> None:
        del self._values[name]

    def __contains__(self, name: str) -> bool:
        return name in self._values


def parse_cookies(headers: list[str]) -> dict[str, str]:
    """The cookies of ``Cookie`` header values; a malformed one is ignored, as browsers do."""
    cookies: dict[str, str] = {}
    for header in headers:
        parsed: SimpleCookie = SimpleCookie()
        try:
            parsed.load(header)
        except Exception:
            continue
        cookies.update({key: morsel.value for key, morsel in parsed.items()})
    return cookies
