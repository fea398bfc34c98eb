"""``--reload``: restart the server process whenever a source file changes.

For development. The reloader process binds the listening socket once, then
runs the server in a child process (spawned: a fresh interpreter, so the app
is imported afresh), and watches the files (``reload_watch``). When one
changes, it logs which, sends the child SIGTERM (it drains gracefully) and
starts another on the same socket, so clients see a pause while the new one
imports the app, never a refused connection. A child that fails (a syntax
error just saved) logs its error and exits; the reloader waits for the next
change and tries again.

SIGINT or SIGTERM stops the child gracefully, and the reloader exits 0 once it
has (a second SIGINT is passed on: the child exits at once). SIGHUP restarts
the child now, as a change would; ``--env-file`` is read again before each
restart. The log lines are uvicorn's ("Will watch for changes in these
directories: [...]", "WatchFiles detected changes in 'app.py'. Reloading...").

The reloader is handed the function that serves in the child (a
``supervisor.WorkerTarget``), so, like the supervisor, it never imports the server.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

from .config import Config
from .env_file import EnvFile, EnvFileError
from .listeners import bind_socket, cannot_listen, describe
from .reload_watch import ReloadSetupError, Watcher, choose_watcher, watched_directories
from .supervisor import WorkerTarget, handling_signals

__all__ = ["reload"]

logger = logging.getLogger("microready.server")

def _server_process(target: WorkerTarget, sock: socket.socket) -> None:
    # The child's entry point (module-level, for spawn). SIGHUP is the
    # reloader's to act on; a terminal's hangup reaches the child too.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    raise SystemExit(target(sock, None))


class _Reloader:
    def __init__(self, target: WorkerTarget, env_file: EnvFile | None) -> None:
        self.target = target
        self.env_file = env_file
        self.context = multiprocessing.get_context("spawn")
        self.process: BaseProcess | None = None
        self.exit_reported = False
        self.wake = threading.Event()  # any signal: the watcher returns early
        self.stopping: signal.Signals | None = None  # the signal that asked for it
        self.restart_asked = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only recorded (the main loop logs and acts), but for a second SIGINT.
        if signum == signal.SIGHUP:
            self.restart_asked = True
        elif not self.stopping:
            self.stopping = signal.Signals(signum)
        elif signum == signal.SIGINT and self.process is not None and self.process.pid:
            # Stopping already (likely waiting for the child): a second Ctrl+C
            # makes it exit now.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGINT)
        self.wake.set()

    def start(self, sock: socket.socket) -> None:
        self.process = self.context.Process(
            target=_server_process, args=(self.target, sock), name="microready-server"
        )
        self.process.start()
        logger.info("started server process %d", self.process.pid)
        self.exit_reported = False

    def stop_process(self) -> None:
        """SIGTERM the child, so it drains gracefully, and wait for it."""
        if self.process is None:
            return
        if self.process.is_alive() and self.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
        self.process.join()
        self.process = None

    def restart(self, sock: socket.socket) -> None:
        self.stop_process()
        if self.stopping:
            return
        if self.env_file is not None:
            try:
                self.env_file.load()
            except EnvFileError as exc:
                logger.error("%s; the environment stays as it was", exc)
        self.start(sock)

    def run(self, sock: socket.socket, watcher: Watcher) -> int:
        logger.info("Started reloader process [%d] using %s", os.getpid(), watcher.name)
        if not self.stopping:
            self.start(sock)
        while not self.stopping:
            changed = watcher.changes()
            self.wake.clear()
            if self.stopping:
                break
            if self.restart_asked:
                self.restart_asked = False
                logger.warning("received SIGHUP. Reloading...")
                self.restart(sock)
            elif changed:
                logger.warning(
                    "%s detected changes in %s. Reloading...",
                    watcher.name, ", ".join(_display(path) for path in changed),
                )
                self.restart(sock)
            else:
                self.note_exit()
        if self.stopping:
            logger.info("received %s: stopping the server process gracefully",
                        self.stopping.name)
        self.stop_process()
        logger.info("Stopping reloader process [%d]", os.getpid())
        return 0

    def note_exit(self) -> None:
        if self.exit_reported or self.process is None or self.process.is_alive():
            return
        self.exit_reported = True
        logger.warning(
            "the server process exited with code %s; waiting for a change to start it again",
            self.process.exitcode,
        )


def _display(path: Path) -> str:
    try:
        return f"'{path.relative_to(Path.cwd())}'"
    except ValueError:
        return f"'{path}'"


def reload(config: Config, target: WorkerTarget, *, env_file: EnvFile | None = None) -> int:
    """Bind the socket ``config`` names and serve ``target`` on it in a child
    process, restarted on each change, until SIGINT or SIGTERM; the exit code.

    ``env_file``, loaded already, is loaded again before each restart."""
    reloader = _Reloader(target, env_file)
    try:
        directories = watched_directories(config)
    except ReloadSetupError as exc:
        logger.error("%s", exc)
        return 1
    with handling_signals(reloader.on_signal):
        try:
            sock = bind_socket(config)
        except OSError as exc:
            logger.error("%s", cannot_listen(config, exc))
            return 1
        try:
            logger.info("Will watch for changes in these directories: %s",
                        [str(d) for d in directories])
            watcher = choose_watcher(config, directories, reloader.wake)
            scheme = "https" if config.ssl_enabled else "http"
            logger.info("reloader process %d listening on %s", os.getpid(),
                        describe(sock.getsockname(), scheme))
            return reloader.run(sock, watcher)
        finally:
            sock.close()
