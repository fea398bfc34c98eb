"""``microready.run()``: serve an app in this process until a signal stops it.

This is the glue between a ``Config`` and a running ``Server``: it sets up
logging, loads the ``--env-file``, hands over to the reloader (``--reload``)
or the supervisor (``--workers N``) when asked, picks the event loop, installs
the signal handling (first SIGINT or SIGTERM: graceful shutdown; a second
SIGINT: exit now) and turns startup failures into one log line and a non-zero
exit code.

SIGHUP asks for a graceful restart. The supervisor of ``--workers N`` does one
(a rolling restart), and the reloader restarts its server process; a server
alone in its process cannot replace itself without closing its socket, so it
logs that a restart needs ``--workers 2`` or more, and goes on serving: a
SIGHUP sent to reload must not turn into an outage.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import importlib
import logging
import os
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .._asgi.scope import ASGIApp
from .._asgi.served import as_served
from .._exchange import ServedApp
from .config import Config, ConfigError
from .env_file import EnvFile, EnvFileError
from .loader import AppLoadError, load_app
from .log import configure_logging
from .server import Server, ServerStartupError
from .worker_health import answer_health_checks

if TYPE_CHECKING:  # multiprocessing is imported only where workers are started
    from multiprocessing.connection import Connection

__all__ = ["run", "serve"]

logger = logging.getLogger("microready.server")

EXIT_OK = 0
EXIT_STARTUP_FAILED = 1
EXIT_FORCED = 130  # the shell's code for "stopped by SIGINT"


def run(
    app: ServedApp | ASGIApp | str, *, factory: bool = False, app_dir: str = ".",
    **options: Any,
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM; options are ``Config`` fields.

    ``app`` is the app object (a microready app, or any ASGI 3 app), or a
    ``"module:attr"`` string (needed for ``workers > 1`` and ``reload``). A startup failure
    logs one line and exits non-zero, like the command line does.
    """
    config = Config.from_options(**options)
    code = serve(app, config, factory=factory, app_dir=app_dir)
    if code != EXIT_OK:
        raise SystemExit(code)


def serve(
    app: ServedApp | ASGIApp | str, config: Config, *, factory: bool = False,
    app_dir: str = ".",
) -> int:
    """Serve until stopped and return the process exit code."""
    if not _configure_logging(config):
        return EXIT_STARTUP_FAILED
    env_file = None
    if config.env_file is not None:
        # Before the app is imported, so its module-level code sees the variables;
        # worker and reloaded processes are spawned with this environment.
        env_file = EnvFile(config.env_file)
        try:
            env_file.load()
        except EnvFileError as exc:
            logger.error("%s", exc)
            return EXIT_STARTUP_FAILED
    if config.ssl_enabled and (config.reload or config.workers > 1):
        # Checked once here, so a bad certificate is one line, not one per worker.
        from .tls import server_context

        try:
            server_context(config)
        except ConfigError as exc:
            logger.error("%s", exc)
            return EXIT_STARTUP_FAILED
    if config.reload:
        if not isinstance(app, str):
            logger.error(
                "reload needs the app as an import string, so that each restart imports "
                'it afresh: run("main:app", reload=True), not run(app, reload=True)'
            )
            return EXIT_STARTUP_FAILED
        # Imported here, as the supervisor is below: only --reload needs it.
        from .reload import reload

        server_process = functools.partial(_serve_worker, app, config, factory, app_dir)
        return reload(config, server_process, env_file=env_file)
    if config.workers > 1:
        if not isinstance(app, str):
            logger.error(
                'workers > 1 needs the app as an import string: run("module:app", workers=%d)',
                config.workers,
            )
            return EXIT_STARTUP_FAILED
        # Imported here: multiprocessing is only needed for workers > 1, so
        # ``import microready`` does not pay for it.
        from .supervisor import supervise

        worker = functools.partial(
            _serve_worker, app, dataclasses.replace(config, workers=1), factory, app_dir
        )
        return supervise(config, worker, env_file=env_file)
    if isinstance(app, str):
        try:
            app = load_app(app, factory=factory, app_dir=app_dir, lifespan=config.lifespan)
        except AppLoadError as exc:
            logger.error("%s", exc)
            return EXIT_STARTUP_FAILED
    else:
        try:
            app = as_served(app, lifespan=config.lifespan)
        except TypeError as exc:
            logger.error("%s", exc)
            return EXIT_STARTUP_FAILED
    return serve_in_process(app, config)


def _serve_worker(
    spec: str, config: Config, factory: bool, app_dir: str, sock: socket.socket,
    channel: Connection | None,
) -> int:
    """Serve in one ``--workers`` (or ``--reload``) process, on the socket the
    supervisor (or the reloader) bound.

    The supervisor runs this (as a ``WorkerTarget``) in a fresh interpreter
    (spawn), so logging is set up and the app is loaded here, in the worker.
    ``channel`` is its pipe to the supervisor, for the health checks.
    """
    if not _configure_logging(config):
        return EXIT_STARTUP_FAILED
    try:
        app = load_app(spec, factory=factory, app_dir=app_dir, lifespan=config.lifespan)
    except AppLoadError as exc:
        logger.error("%s", exc)
        return EXIT_STARTUP_FAILED
    return serve_in_process(app, config, sockets=[sock], channel=channel, supervised=True)


def _configure_logging(config: Config) -> bool:
    """Set up logging; False (and the reason logged) if --log-config cannot be used."""
    try:
        configure_logging(config)
    except ConfigError as exc:
        logger.error("%s", exc)
        return False
    return True


def serve_in_process(
    app: ServedApp, config: Config, sockets: list[Any] | None = None, *,
    channel: Connection | None = None, supervised: bool = False,
) -> int:
    """Serve ``app`` in this process until a signal stops it; the exit code.

    ``supervised``: a supervisor or a reloader runs this process, and SIGHUP
    is theirs to act on. ``channel``: the supervisor's health checks come on it.
    """
    backend_options: dict[str, Any] = {}
    if config.backend == "asyncio" and config.loop in ("uvloop", "auto"):
        try:
            # Imported by name: uvloop is an optional extra, and type-checking
            # must not depend on whether it happens to be installed.
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            if config.loop == "uvloop":
                logger.error(
                    "--loop uvloop: uvloop is not installed; "
                    "install it with: pip install 'microready[uvloop]' (or use --loop asyncio)"
                )
                return EXIT_STARTUP_FAILED
        else:
            backend_options["loop_factory"] = uvloop.new_event_loop
    try:
        server = Server(app, config, sockets=sockets or ())
    except (TypeError, ConfigError) as exc:
        logger.error("%s", exc)
        return EXIT_STARTUP_FAILED
    forced = threading.Event()
    try:
        code: int = anyio.run(
            _serve_until_signal, server, forced, channel, supervised, backend=config.backend,
            backend_options=backend_options,
        )
    except KeyboardInterrupt:  # a SIGINT that arrived before the handler was installed
        return EXIT_FORCED
    if forced.is_set() or app.background.abandoned_threads:
        # A worker thread still running a sync task would keep the interpreter
        # alive after the shutdown deadline (threads cannot be cancelled); the
        # deadline, or a second Ctrl+C, means stop now, so we do.
        logging.shutdown()
        sys.stderr.flush()
        os._exit(EXIT_FORCED if forced.is_set() else code)
    return code


async def _serve_until_signal(
    server: Server, forced: threading.Event, channel: Connection | None, supervised: bool
) -> int:
    code = EXIT_OK
    async with anyio.create_task_group() as task_group:
        if threading.current_thread() is threading.main_thread():
            # start(), not start_soon(): the handlers must be in place before the
            # server says it is listening, or an early SIGTERM kills it outright.
            await task_group.start(
                _watch_signals, server, task_group.cancel_scope, forced, supervised
            )
        if channel is not None:
            task_group.start_soon(answer_health_checks, channel,
                                  functools.partial(_supervisor_gone, server))
        try:
            await server.serve(task_status=_FreezeGarbageWhenStarted())
            logger.info("stopped")
        except ServerStartupError as exc:
            logger.error("%s", exc)
            code = EXIT_STARTUP_FAILED
        finally:
            task_group.cancel_scope.cancel()
    return code


class _FreezeGarbageWhenStarted(anyio.abc.TaskStatus[Any]):
    """Once the server listens, move everything built so far (the app, its
    routes and plans, imported modules) out of the garbage collector's sight.

    Those objects live as long as the process; without this, every full
    collection walks them again, and under load that shows up as latency
    spikes (issue 6 measured p99 falling from 161 ms to 6 ms with GC off).
    """

    def started(self, value: Any = None) -> None:
        gc.collect()
        gc.freeze()


def _supervisor_gone(server: Server) -> None:
    if not server.shutting_down:
        logger.warning("the supervisor process has gone: shutting down gracefully")
        server.request_shutdown()


async def _watch_signals(
    server: Server,
    scope: anyio.CancelScope,
    forced: threading.Event,
    supervised: bool,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    # Under a supervisor SIGHUP stays ignored (set so by the process's entry).
    handled = (signal.SIGINT, signal.SIGTERM) if supervised else (
        signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    with anyio.open_signal_receiver(*handled) as signals:
        task_status.started()
        async for signum in signals:
            name = signal.Signals(signum).name
            if signum == signal.SIGHUP:
                logger.warning(
                    "received SIGHUP: a graceful restart needs a supervisor; serve with "
                    "--workers 2 or more, where SIGHUP replaces the workers one at a time. "
                    "Still serving"
                )
            elif not server.shutting_down:
                logger.info(
                    "received %s: shutting down gracefully (send SIGINT again to force)", name
                )
                server.request_shutdown()
            elif signum == signal.SIGINT:
                logger.warning("received SIGINT again: exiting now")
                forced.set()
                scope.cancel()
                return
