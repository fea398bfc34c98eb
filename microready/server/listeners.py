"""Listening sockets: bind them, and name them for the log line.

A server listens in one of two ways, and both bind here:

* on its own (``workers == 1``): ``open_listeners()`` hands TCP to anyio, which
  binds every address the host name resolves to (IPv6 ones v6-only) and, for
  port 0, the same free port on all of them;
* as one of ``--workers N``: the supervisor binds a single socket with
  ``bind_socket()`` before any worker starts, and each worker wraps that same
  socket, so the kernel spreads the connections between them.

A Unix socket is bound by the same code either way, and given the mode
``--uds-permissions`` names (not the umask's: a proxy running as another user
must be able to connect). So is the error message
when binding fails, and ``describe()`` gives the ``http://host:port``
(``https://`` with TLS) or ``unix:path`` that the "listening on" log lines show.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any, cast

import anyio
import anyio.abc

from .config import Config

__all__ = ["bind_socket", "cannot_listen", "describe", "open_listeners", "when_listening"]

MAX_BACKLOG = 65536

_listening_callbacks: list[Callable[[], None]] = []


def when_listening(callback: Callable[[], None]) -> None:
    """Call ``callback`` once this process listens on sockets handed to it.

    A ``--workers`` process sets one, so its supervisor learns that the worker
    got through startup (app import, lifespan startup): a worker that exits
    before that failed to start, and restarting it would only fail again.
    """
    _listening_callbacks.append(callback)


def bind_socket(config: Config) -> socket.socket:
    """Bind the one socket that worker processes share; raises OSError.

    TCP takes the first address the host resolves to. The socket is
    inheritable, so it can be handed to the worker processes.
    """
    if config.uds is not None:
        sock = _bind_unix(config.uds, config.backlog, config.uds_mode)
    else:
        family, kind, proto, _, address = socket.getaddrinfo(
            config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _bind_and_listen(sock, address, config.backlog)
    sock.set_inheritable(True)
    return sock


async def open_listeners(
    config: Config, sockets: Sequence[socket.socket] = ()
) -> list[anyio.abc.SocketListener]:
    """Listen where ``config`` says, or on ``sockets`` bound already; raises OSError."""
    if sockets:
        listeners = [await anyio.abc.SocketListener.from_socket(sock) for sock in sockets]
        while _listening_callbacks:
            _listening_callbacks.pop(0)()
        return listeners
    if config.uds is not None:
        sock = _bind_unix(config.uds, config.backlog, config.uds_mode)
        return [await anyio.abc.SocketListener.from_socket(sock)]
    multi = await anyio.create_tcp_listener(
        local_host=config.host, local_port=config.port, backlog=config.backlog
    )
    return [cast(anyio.abc.SocketListener, listener) for listener in multi.listeners]


def cannot_listen(config: Config, exc: OSError) -> str:
    """The one-line reason that the server could not bind."""
    where = config.uds if config.uds is not None else f"{config.host}:{config.port}"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def describe(address: Any, scheme: str = "http") -> str:
    """A bound address (from ``getsockname()``) as the log line shows it:
    ``http://host:port`` (``https://`` with TLS) or ``unix:path``."""
    if isinstance(address, str):
        return f"unix:{address}"
    host, port = address[0], address[1]
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address, bracketed as in a URL
    return f"{scheme}://{host}:{port}"


def _bind_unix(path: str, backlog: int, mode: int) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # a stale socket file from an earlier run
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    _bind_and_listen(sock, path, backlog, mode)
    return sock


def _bind_and_listen(
    sock: socket.socket, address: Any, backlog: int, mode: int | None = None
) -> None:
    try:
        sock.bind(address)
        if mode is not None:
            # bind() made the file with the umask's mode. Set ours before
            # listen(), so no client ever connects while the mode is the wrong one.
            os.chmod(address, mode)
        # The ceiling anyio puts on the listeners it binds, so that --backlog
        # means the same whichever way the socket was bound.
        sock.listen(min(backlog, MAX_BACKLOG))
    except OSError:
        sock.close()
        raise
