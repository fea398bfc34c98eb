"""The server: listen, accept, one task per connection, and a graceful stop.

``Server(app, config).serve()`` runs until ``request_shutdown()`` is called (the
signal handler in ``run()`` calls it on SIGINT/SIGTERM). The nesting of the
contexts *is* the shutdown order:

    lifespan startup
      background runner open
        listeners open  ->  accept, serve connections
        shutdown: stop accepting, close idle connections, finish in-flight ones
      background runner drains its tasks
    lifespan shutdown

``--timeout-graceful-shutdown`` bounds everything after the shutdown request.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

from .._exchange import ServedApp
from ..datastructures import Address
from .config import Config
from .listeners import cannot_listen, describe, open_listeners
from .metrics import ServerMetrics
from .protocol.websocket import WSPROTO_AVAILABLE
from .protocol.writer import ServerHeaders
from .socket_stream import RawSocketStream
from .tls import handshake, server_context
from .transport import ConnectionSettings, HTTPConnection

__all__ = ["Server", "ServerStartupError"]

logger = logging.getLogger("microready.server")

HEAD_DEADLINE_TICK = 0.1  # seconds; how late a request-head timeout may fire
# At most this many connections are taken per accept pass, so a flood of new
# clients cannot keep the acceptor from yielding to the connections it has.
ACCEPT_BATCH = 128


class ServerStartupError(Exception):
    """The server could not start (bad address, port in use, lifespan failure)."""


class _HeldLifespan:
    """A lifespan context, entered and left by one task (``run``) that waits for ``stop``."""

    def __init__(self, lifespan: contextlib.AbstractAsyncContextManager[Any]) -> None:
        self.lifespan = lifespan
        self.stop = anyio.Event()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        entered = False
        try:
            async with self.lifespan:
                entered = True
                task_status.started()
                await self.stop.wait()
        except Exception:
            if not entered:
                raise  # a startup failure: start() raises it to serve()
            logger.exception("the app's lifespan shutdown failed")


class Server:
    def __init__(self, app: ServedApp, config: Config, *, sockets: Sequence[socket.socket] = ()):
        if not isinstance(app, ServedApp):
            raise TypeError(
                f"expected a microready app (microready.MicroReady()), got {type(app).__name__}; "
                "an ASGI app is served through microready.run(app) or the CLI"
            )
        self.app = app
        self.config = config
        self._sockets = list(sockets)  # pre-bound by the supervisor, for --workers
        self.connections: set[HTTPConnection] = set()
        self._open_connections = 0  # accepted and not yet closed, served or not
        self.requests_served = 0
        self.bound_addresses: list[str] = []
        self._shutdown_requested: anyio.Event | None = None
        self._shutting_down = False
        app.background.configure(
            thread_limit=config.background_threads, max_concurrent=config.max_background_tasks
        )
        # --metrics-path: counted per process; open connections and the
        # background counters are read when scraped, so they cost nothing here.
        self.metrics = None if config.metrics_path is None else ServerMetrics(
            config.metrics_path, open_connections=lambda: self._open_connections,
            background=app.background,
        )
        self._settings = ConnectionSettings(
            app,
            config.limits,
            root_path=config.root_path,
            websocket=config.websocket,
            access_log=config.access_log,
            access_log_format=config.access_log_format,
            metrics=self.metrics,
            on_request_done=self._count_request,
            is_shutting_down=lambda: self._shutting_down,
            server_headers=ServerHeaders(date=config.date_header, server=config.server_header,
                                         extra=config.response_headers),
            scheme="https" if config.ssl_enabled else "http",
        )
        # TLS and --proxy-headers are settled here, at start-up: an unreadable
        # key or a bad --forwarded-allow-ips entry is a ConfigError (exit 1).
        self._ssl_context = server_context(config)
        proxies = config.trusted_proxies()
        # The connections of trusted proxies get settings that read X-Forwarded-*;
        # every other connection's requests never look (see _settings_for).
        self._proxy_settings = (
            None if proxies is None else self._settings.trusting_proxies(proxies))

    # -- control -------------------------------------------------------------------

    def request_shutdown(self) -> None:
        """Begin a graceful shutdown; safe to call from the event loop at any time."""
        self._shutting_down = True
        if self._shutdown_requested is not None:
            self._shutdown_requested.set()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def _count_request(self) -> None:
        self.requests_served += 1
        limit = self.config.limit_max_requests
        if limit is not None and self.requests_served >= limit and not self._shutting_down:
            logger.info("served %d requests (--limit-max-requests); shutting down", limit)
            self.request_shutdown()

    # -- serving -------------------------------------------------------------------

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[list[str]] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until shutdown. Reports the bound addresses through ``task_status``."""
        if not WSPROTO_AVAILABLE and getattr(self.app, "websocket_routes", None):
            # Said at start-up, not at the first connection: an app with WebSocket
            # routes cannot be served whole by this server without its extra.
            raise ServerStartupError(
                "the app has WebSocket routes, which microready's server speaks through "
                "wsproto: pip install 'microready[websockets]'"
            )
        shutdown_requested = self._shutdown_requested = anyio.Event()
        if self._shutting_down:
            shutdown_requested.set()
        lifespan: contextlib.AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext() if self.config.lifespan == "off"
            else self.app.lifespan_context()
        )
        held = _HeldLifespan(lifespan)
        startup_error: BaseException | None = None
        serve_error: BaseException | None = None
        # The lifespan is held open by a task of its own, so the task groups it
        # opens (a user's lifespan, an ASGI app's lifespan call) close in the
        # task and the scope they were opened in, whatever serving ends with.
        # Errors are raised outside this task group, unwrapped.
        async with anyio.create_task_group() as lifespan_group:
            try:
                await lifespan_group.start(held.run)
            except Exception as exc:
                startup_error = exc
            else:
                try:
                    await self._serve(shutdown_requested, task_status)
                except BaseException as exc:
                    serve_error = exc
                finally:
                    held.stop.set()
        if startup_error is not None:
            raise ServerStartupError(f"lifespan startup failed: {startup_error!r}") from (
                startup_error)
        if serve_error is not None:
            raise serve_error

    async def _serve(
        self, shutdown_requested: anyio.Event, task_status: anyio.abc.TaskStatus[list[str]]
    ) -> None:
        """Between the lifespan's startup and its shutdown: bind, serve, drain."""
        listeners = await self._open_listeners()
        async with self.app.background.serving() as runner:
            try:
                deadline = await self._serve_connections(
                    listeners, shutdown_requested, task_status
                )
            finally:
                with anyio.CancelScope(shield=True):
                    for listener in listeners:
                        await listener.aclose()
            remaining = (
                None if deadline is None else max(0.0, deadline - anyio.current_time())
            )
            unfinished = runner.pending + runner.running
            if unfinished:
                logger.info("waiting for %d background task(s) to finish", unfinished)
            await runner.drain(remaining)
        logger.info(self.app.background.summary())

    async def _serve_connections(
        self,
        listeners: list[anyio.abc.SocketListener],
        shutdown_requested: anyio.Event,
        task_status: anyio.abc.TaskStatus[list[str]],
    ) -> float | None:
        """Accept and serve until shutdown; then let in-flight requests finish.

        Returns the graceful-shutdown deadline (None: no limit), which the
        background drain that follows shares.
        """
        self.bound_addresses = [
            describe(listener.extra(SocketAttribute.local_address), self._settings.scheme)
            for listener in listeners
        ]
        for address in self.bound_addresses:
            logger.info("microready listening on %s (Press CTRL+C to quit)", address)
        deadline: float | None = None
        async with anyio.create_task_group() as connections:
            async with anyio.create_task_group() as acceptors:
                for listener in listeners:
                    acceptors.start_soon(self._accept_loop, listener, connections)
                acceptors.start_soon(self._enforce_head_deadlines)
                task_status.started(self.bound_addresses)
                await shutdown_requested.wait()
                acceptors.cancel_scope.cancel()
            logger.info("shutting down: no new connections; finishing requests in flight")
            if self.config.timeout_graceful_shutdown is not None:
                deadline = anyio.current_time() + self.config.timeout_graceful_shutdown
                connections.cancel_scope.deadline = deadline
            for listener in listeners:
                raw_listener: socket.socket = listener.extra(SocketAttribute.raw_socket)
                self._accept_waiting(raw_listener, connections, self.config.backlog)
                await listener.aclose()
            for connection in list(self.connections):
                connection.close_if_idle()
        if connections.cancel_scope.cancelled_caught:
            logger.warning("shutdown deadline: closed connections still in flight")
        return deadline

    async def _enforce_head_deadlines(self) -> None:
        """The watchdog for request heads (see HTTPConnection.head_deadline).

        One timer for the whole server instead of a cancel scope and a timer per
        read keeps the keep-alive hot path cheap; the price is that a head
        timeout fires up to one tick late.
        """
        while True:
            await anyio.sleep(HEAD_DEADLINE_TICK)
            now = anyio.current_time()
            for connection in self.connections:
                connection.enforce_head_deadline(now)

    async def _open_listeners(self) -> list[anyio.abc.SocketListener]:
        try:
            return await open_listeners(self.config, self._sockets)
        except OSError as exc:
            raise ServerStartupError(cannot_listen(self.config, exc)) from exc

    async def _accept_loop(
        self,
        listener: anyio.abc.SocketListener,
        connections: anyio.abc.TaskGroup,
    ) -> None:
        """Accept every connection that is waiting, each time the listener is ready.

        anyio's ``listener.accept()`` takes one connection per call and then
        wraps it, which costs a few event-loop passes each; with 64 clients
        connecting at once, the last one would wait for all that (on a busy
        server, most of a second: the latency tail). Here the acceptor only
        takes sockets off the kernel's queue and starts a task for each, so a
        burst of connections is taken in one pass, as asyncio's own servers do.
        """
        raw_listener: socket.socket = listener.extra(SocketAttribute.raw_socket)
        # anyio's listeners are non-blocking already; the loop below relies on
        # it (a blocking accept() on an empty queue would stall the server).
        raw_listener.setblocking(False)
        while True:
            await anyio.wait_readable(raw_listener)
            if self._accept_waiting(raw_listener, connections, ACCEPT_BATCH):
                await anyio.sleep(0.1)  # EMFILE and friends: breathe, then go on

    def _accept_waiting(self, raw_listener: socket.socket, connections: anyio.abc.TaskGroup,
                        most: int) -> bool:
        """Take up to ``most`` connections off the kernel's queue, a task each.

        Returns True when accept() failed (logged). At shutdown the queue is
        emptied this way before the listener closes: those clients have sent
        their requests, and closing the listener would reset them.
        """
        for _ in range(most):
            try:
                sock, address = raw_listener.accept()
            except BlockingIOError:  # the queue is empty (or another worker won)
                return False
            except OSError as exc:
                logger.error("accept failed: %s", exc)
                return True
            # Counted here, not when the task starts, so a burst of
            # clients cannot all slip under --limit-concurrency.
            limit = self.config.limit_concurrency
            over_capacity = limit is not None and self._open_connections >= limit
            self._open_connections += 1
            connections.start_soon(self._serve_connection, sock, address, over_capacity)
        return False

    async def _serve_connection(
        self, sock: socket.socket, address: Any, over_capacity: bool
    ) -> None:
        try:
            try:
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # the client left before we got to it
                sock.close()
                return
            try:
                local = _client(sock.getsockname())
            except OSError:
                local = None
            peer = _client(address)
            stream: anyio.abc.ByteStream = RawSocketStream(
                sock, send_timeout=self.config.timeout_send)
            if self._ssl_context is not None:
                # Bounded like a request head: it is what a client must send first.
                tls = await handshake(stream, self._ssl_context,
                                      self.config.timeout_request_head, peer)
                if tls is None:  # logged (debug); no request, so no access line
                    await stream.aclose()
                    return
                stream = tls
            connection = HTTPConnection(
                stream, self._settings_for(peer), peer,
                over_capacity=over_capacity, server=local,
            )
            self.connections.add(connection)
            try:
                await connection.run()
            finally:
                self.connections.discard(connection)
        finally:
            self._open_connections -= 1

    def _settings_for(self, peer: Address) -> ConnectionSettings:
        """The settings of a new connection: whether its requests read the proxy
        headers is decided here, once, by whether ``peer`` is a trusted proxy."""
        trusting = self._proxy_settings
        if trusting is not None and trusting.trusted_proxies is not None and (
                trusting.trusted_proxies.trusts(peer)):
            return trusting
        return self._settings


def _client(address: Any) -> Address:
    """The client's address as ``accept()`` gave it: (host, port, ...) or a Unix path."""
    if isinstance(address, tuple):
        return Address(str(address[0]), int(address[1]))
    return Address(str(address) or "unix", 0)
