"""The protocol limits and timeouts one connection enforces."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """The protocol limits and timeouts a connection enforces (seconds and bytes).

    The size limits earn the statuses listed in ``framing.HEAD_RULES``; a head
    or body that breaks one is refused before the app sees it.
    """

    max_header_size: int = 16 * 1024  # the whole head: request line and header fields
    max_header_count: int = 100
    max_request_line: int = 8 * 1024
    max_body_size: int | None = 10 * 1024 * 1024  # None: no limit
    timeout_keep_alive: float = 5.0  # silence allowed between requests
    timeout_request_head: float = 10.0  # from a head's first byte to its blank line
    timeout_body: float = 30.0  # the longest stall between two pieces of a body
