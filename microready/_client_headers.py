"""Headers as httpx's ``Headers``: ``client.headers``, ``response.headers``,
``response.request.headers``.

A name may repeat, in order. Lookups ignore case. ``headers[name]`` is every
value of that name joined with ``", "`` (how RFC 9110 section 5.3 combines
repeated fields, and what httpx gives); ``get_list(name)`` keeps them apart.
Setting a name replaces all of its values, in the place of the first one;
``update()`` replaces each name it is given and puts the new values last.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import TypeAlias

__all__ = ["ClientHeaders", "HeaderTypes"]

HeaderTypes: TypeAlias = (
    "Mapping[str, str] | Sequence[tuple[str, str]] | Sequence[tuple[bytes, bytes]]"
)


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class ClientHeaders(MutableMapping[str, str]):
    """Case-insensitive, multi-valued headers; names are kept lower-cased."""

    __slots__ = ("_items",)

    def __init__(self, headers: HeaderTypes | None = None) -> None:
        pairs = headers.multi_items() if isinstance(headers, ClientHeaders) else (
            headers.items() if isinstance(headers, Mapping) else (headers or ())
        )
        self._items: list[tuple[str, str]] = [(_text(k).lower(), _text(v)) for k, v in pairs]

    def __getitem__(self, key: str) -> str:
        values = self.get_list(key)
        if not values:
            raise KeyError(key)
        return ", ".join(values)

    def __setitem__(self, key: str, value: str) -> None:
        name = key.lower()
        at = next((i for i, (k, _) in enumerate(self._items) if k == name), len(self._items))
        kept = [(k, v) for k, v in self._items if k != name]
        kept.insert(at, (name, _text(value)))
        self._items = kept

    def __delitem__(self, key: str) -> None:
        name = key.lower()
        if name not in self:
            raise KeyError(key)
        self._items = [(k, v) for k, v in self._items if k != name]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and any(k == key.lower() for k, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._items))

    def __len__(self) -> int:
        return len(dict.fromkeys(k for k, _ in self._items))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping | list | tuple):
            return NotImplemented
        return sorted(self._items) == sorted(ClientHeaders(other)._items)

    __hash__ = None  # type: ignore[assignment]

    def get_list(self, key: str) -> list[str]:
        name = key.lower()
        return [v for k, v in self._items if k == name]

    getlist = get_list  # the spelling of microready's request headers

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._items]

    def append(self, key: str, value: str) -> None:
        self._items.append((key.lower(), _text(value)))

    def update(self, headers: HeaderTypes | None = None, /) -> None:  # type: ignore[override]
        given = ClientHeaders(headers)
        self._items = [(k, v) for k, v in self._items if k not in given] + given._items

    def copy(self) -> ClientHeaders:
        return ClientHeaders(self)

    def __repr__(self) -> str:
        shown = dict(self._items) if len(self) == len(self._items) else self._items
        return f"Headers({shown!r})"
