"""The few facts every wing needs, each defined once.

This module imports only the standard library, so the sans-IO protocol core,
the app layer and the background wing may all use it without importing each
other (``tests/test_architecture.py`` holds it to that).
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
from typing import Any, Final

__all__ = [
    "is_ip_address",
    "NO_CONTENT_STATUSES",
    "call_target",
    "callable_name",
    "is_async_callable",
    "sends_content_length",
]

# RFC 9110 sections 15.2, 15.3.5, 15.3.6 and 15.4.5: a response with one of these
# statuses carries no content, whatever the handler returned.
NO_CONTENT_STATUSES: Final = frozenset({*range(100, 200), 204, 205, 304})


def sends_content_length(status_code: int) -> bool:
    """Whether a response with this status frames its (empty or not) body with Content-Length.

    1xx and 204 must not send one (RFC 9110 8.6), and a 304's would describe
    the body a GET would get, not this one. A 205 has no content either, but
    it must say so with ``Content-Length: 0`` (RFC 9110 15.3.6): a client has
    no other way to know where its empty body ends on a kept-alive connection.
    """
    return status_code not in NO_CONTENT_STATUSES or status_code == 205


def call_target(func: Any) -> Any:
    """The function that runs when ``func`` is called: ``func`` itself for a function
    or a class (calling a class constructs it), the ``__call__`` of a callable
    object, and what a ``functools.partial`` wraps."""
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.isroutine(func) or inspect.isclass(func) or not callable(func):
        return func
    # Looked up on the type, as a call does: an instance attribute named
    # __call__ does not make an object callable.
    return type(func).__call__


def is_async_callable(func: Any) -> bool:
    """Whether calling ``func`` returns a coroutine (``async def``, directly or as
    an object's ``__call__``, through any number of ``functools.partial``)."""
    return inspect.iscoroutinefunction(call_target(func))


def callable_name(func: Any) -> str:
    """The name to show for ``func`` in a message or a log line (through partials)."""
    while isinstance(func, functools.partial):
        func = func.func
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return str(name) if name else type(func).__qualname__


def is_ip_address(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address (not a name, a path or ``unix``)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
