"""The HTTP rules a file response follows, as plain functions of headers and sizes.

* ``parse_range``: a ``Range`` header against a file's size (RFC 9110 section
  14.2), with Starlette's answers: a header we cannot read is a 400, a range
  that starts past the end is a 416, overlapping ranges are merged;
* ``range_applies``: whether an ``If-Range`` validator still matches the file
  (RFC 9110 section 13.1.5: a weak entity tag never does);
* ``etag_for`` and ``content_disposition``: the validator and the
  download-name header, built the way Starlette builds them.

Nothing here does I/O, so every rule is tested without a file.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import quote

__all__ = [
    "MAX_RANGES",
    "MalformedRange",
    "RangeNotSatisfiable",
    "content_disposition",
    "etag_for",
    "parse_range",
    "range_applies",
]

# A request for more ranges than this is ignored (the whole file is sent):
# it costs the server more than it can save the client (RFC 9110 section 14.2).
MAX_RANGES = 100


class MalformedRange(ValueError):
    """The ``Range`` header cannot be read; the client gets 400 and this message."""

    def __init__(self, message: str = "Malformed range header.") -> None:
        super().__init__(message)
        self.message = message


class RangeNotSatisfiable(ValueError):
    """No requested range starts inside the file; the client gets 416."""

    def __init__(self, size: int) -> None:
        super().__init__(f"no requested range starts inside the {size} bytes of the file")
        self.size = size


def _one_range(spec: str, size: int) -> tuple[int, int] | None:
    """``first-last``, ``first-`` or ``-suffix`` as a [start, end) pair; None to skip it."""
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first or last):
        return None
    try:
        if not first:  # the last N bytes (RFC 9110 section 14.1.2)
            return max(size - int(last), 0), size
        start = int(first)
        end = int(last) + 1 if last and int(last) < size else size
    except ValueError:  # not a number: Starlette skips such a part
        return None
    return start, end


def parse_range(header: str, size: int) -> list[tuple[int, int]]:
    """The byte ranges ``header`` asks for, as sorted, merged [start, end) pairs.

    ``[]`` means: ignore the header and send the whole file. Raises
    ``MalformedRange`` (400) or ``RangeNotSatisfiable`` (416).
    """
    unit, equals, specs = header.partition("=")
    if not equals:
        raise MalformedRange()
    if unit.strip().lower() != "bytes":
        raise MalformedRange("Only support bytes range")
    if specs.count(",") + 1 > MAX_RANGES:
        return []
    ranges = [r for r in (_one_range(spec, size) for spec in specs.split(",")) if r is not None]
    if not ranges:
        raise MalformedRange("Range header: range must be requested")
    if any(not 0 <= start < size for start, _ in ranges):
        raise RangeNotSatisfiable(size)
    if any(start >= end for start, end in ranges):
        raise MalformedRange("Range header: start must be less than end")
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def range_applies(if_range: str, etag: str | None, last_modified: str | None) -> bool:
    """Whether a ``Range`` guarded by ``If-Range: if_range`` may be honoured."""
    if if_range.startswith("W/"):  # RFC 9110 13.1.5: If-Range needs a strong validator
        return False
    return if_range in (etag, last_modified)


def etag_for(stat_result: os.stat_result) -> str:
    """A strong validator from the file's size and modification time (Starlette's)."""
    base = f"{stat_result.st_mtime}-{stat_result.st_size}".encode()
    return '"' + hashlib.md5(base, usedforsecurity=False).hexdigest() + '"'


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="report.pdf"``, or the RFC 5987 form for any other name.

    A name that percent-encoding would change (non-ASCII, spaces, quotes, a
    line break) is sent as ``filename*=utf-8''...`` (RFC 6266 section 4.3), so
    the header stays ASCII and nothing in the name can end it early.
    """
    quoted = quote(filename)
    if quoted != filename:
        return f"{disposition}; filename*=utf-8''{quoted}"
    return f'{disposition}; filename="{filename}"'
