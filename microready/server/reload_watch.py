"""What ``--reload`` watches, and the two ways it watches it.

Which files count follows uvicorn's rules (``uvicorn/supervisors/watchfilesreload.py``):

* included: ``*.py``, and every ``--reload-include`` glob;
* excluded: ``.*``, ``.py[cod]``, ``.sw.*`` and ``~*``, and every
  ``--reload-exclude`` glob; a ``--reload-exclude`` naming a directory
  excludes everything under it;
* a default on one list is dropped when it is given for the other
  (``--reload-include .env`` watches ``.env``, ``--reload-exclude '*.py'``
  stops watching Python files), and an include that is a file's whole name
  wins over the excludes;
* globs match from the right, as ``Path.match`` does (``*.py`` is any Python
  file at any depth).

One rule is added: an exclude glob that matches a directory's name, below the
watched directory, excludes what is inside it, so the default ``.*`` keeps
``.git/`` and ``.venv/`` out (uvicorn watches a ``.venv`` in the current
directory, and the poller would walk it every time).

``--reload-dir`` directories (default: the current one) must exist; one
inside another is watched once.

The watcher is watchfiles' (the ``microready[reload]`` extra: the kernel says
what changed) when it can be imported, else a poller that compares every
watched file's modification time and size each ``--reload-delay`` seconds. Both
apply the same filter, so ``--reload-include`` and ``--reload-exclude`` mean the
same with either (uvicorn's poller ignores them).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from .config import Config

__all__ = ["FileFilter", "ReloadSetupError", "Watcher", "choose_watcher", "watched_directories"]

DEFAULT_INCLUDES = ("*.py",)
DEFAULT_EXCLUDES = (".*", ".py[cod]", ".sw.*", "~*")
SIGNAL_CHECK = 1.0  # seconds: how long a wait for changes may last before it returns empty


class ReloadSetupError(Exception):
    """The ``--reload-*`` options name something that is not there."""


def watched_directories(config: Config, cwd: Path | None = None) -> list[Path]:
    """``--reload-dir`` resolved (default: the current directory), nested ones once."""
    base = cwd or Path.cwd()
    directories: list[Path] = []
    for name in config.reload_dirs or (str(base),):
        directory = (base / name).resolve()
        if not directory.is_dir():
            raise ReloadSetupError(
                f"--reload-dir {name}: no such directory (relative paths start at {base})"
            )
        directories.append(directory)
    return sorted(
        {d for d in directories if not any(o in d.parents for o in directories)}
    )


class FileFilter:
    """Whether a changed file is one the reloader restarts for (uvicorn's rules)."""

    def __init__(self, includes: Sequence[str], excludes: Sequence[str],
                 roots: Sequence[Path], cwd: Path | None = None) -> None:
        base = cwd or Path.cwd()
        self.roots = list(roots)
        self.includes = sorted(
            {p for p in DEFAULT_INCLUDES if p not in excludes} | set(includes)
            - set(excludes)
        )
        self.excludes: list[str] = sorted(p for p in DEFAULT_EXCLUDES if p not in includes)
        self.exclude_dirs: list[Path] = []
        for pattern in excludes:
            directory = (base / pattern).resolve()
            if pattern not in (".", "..") and directory.is_dir():
                self.exclude_dirs.append(directory)
            else:
                self.excludes.append(pattern)

    @classmethod
    def from_config(cls, config: Config, roots: Sequence[Path]) -> FileFilter:
        return cls(config.reload_includes, config.reload_excludes, roots)

    def __call__(self, path: Path) -> bool:
        for include in self.includes:
            if not path.match(include):
                continue
            if str(path).endswith(include):
                return True  # the file's whole name: it beats the excludes
            return not self.excluded(path)
        return False

    def excluded(self, path: Path) -> bool:
        if any(directory in path.parents for directory in self.exclude_dirs):
            return True
        if any(path.match(pattern) for pattern in self.excludes):
            return True
        return any(self.excluded_directory(part) for part in self.inner_directories(path))

    def excluded_directory(self, name: str) -> bool:
        return any(Path(name).match(pattern) for pattern in self.excludes)

    def inner_directories(self, path: Path) -> list[str]:
        """The names of the directories between a watched root and ``path``."""
        for root in self.roots:
            if root in path.parents:
                return list(path.relative_to(root).parts[:-1])
        return []


class Watcher(Protocol):
    name: str  # as uvicorn names its reloaders in the log

    def changes(self) -> list[Path]:
        """Wait for changed files; return them (filtered), or [] after a while
        without any, or as soon as ``wake`` is set."""
        ...


class StatWatcher:
    """Polls: each file's modification time and size, every ``delay`` seconds."""

    name = "StatReload"

    def __init__(self, roots: Sequence[Path], file_filter: FileFilter, delay: float,
                 wake: threading.Event) -> None:
        self.roots = list(roots)
        self.filter = file_filter
        self.delay = delay
        self.wake = wake
        self.seen = self.snapshot()

    def files(self) -> Iterator[Path]:
        for root in self.roots:
            for directory, subdirectories, names in os.walk(root):
                here = Path(directory)
                # Pruned in place: os.walk then skips them.
                subdirectories[:] = [
                    s for s in subdirectories
                    if not self.filter.excluded_directory(s)
                    and here / s not in self.filter.exclude_dirs
                ]
                for name in names:
                    path = here / name
                    if self.filter(path):
                        yield path

    def snapshot(self) -> dict[Path, tuple[int, int]]:
        found: dict[Path, tuple[int, int]] = {}
        for path in self.files():
            try:
                stat = path.stat()
            except OSError:  # deleted since it was listed
                continue
            found[path] = (stat.st_mtime_ns, stat.st_size)
        return found

    def changes(self) -> list[Path]:
        if self.wake.wait(self.delay):
            return []
        now = self.snapshot()
        changed = {p for p in now.keys() | self.seen.keys() if now.get(p) != self.seen.get(p)}
        self.seen = now
        return sorted(changed)


class WatchFilesWatcher:
    """The kernel's change events, through watchfiles (what uvicorn uses)."""

    name = "WatchFiles"

    def __init__(self, watchfiles: Any, roots: Sequence[Path], file_filter: FileFilter,
                 delay: float, wake: threading.Event) -> None:
        self.watchfiles = watchfiles
        self.roots = list(roots)
        self.filter = file_filter
        self.delay = delay
        self.wake = wake
        self.events = self.watch()

    def watch(self) -> Iterator[set[tuple[Any, str]]]:
        events: Iterator[set[tuple[Any, str]]] = self.watchfiles.watch(
            *self.roots, watch_filter=None, stop_event=self.wake, yield_on_timeout=True,
            rust_timeout=int(SIGNAL_CHECK * 1000), ignore_permission_denied=True,
        )
        return events

    def changes(self) -> list[Path]:
        # As uvicorn does: a pause first, so a burst of saves is one restart.
        if self.wake.wait(self.delay):
            return []
        try:
            found = next(self.events)
        except StopIteration:  # woken: it ends; the next call watches anew
            self.events = self.watch()
            return []
        return sorted({Path(path) for _, path in found if self.filter(Path(path))})


def choose_watcher(config: Config, roots: Sequence[Path], wake: threading.Event) -> Watcher:
    """watchfiles' watcher if it can be imported, else the poller."""
    file_filter = FileFilter.from_config(config, roots)
    try:
        # By name: watchfiles is an optional extra.
        watchfiles = importlib.import_module("watchfiles")
    except ImportError:
        return StatWatcher(roots, file_filter, config.reload_delay, wake)
    return WatchFilesWatcher(watchfiles, roots, file_filter, config.reload_delay, wake)
