"""``--env-file``: put a ``.env`` file's variables into the environment.

The file is read with python-dotenv (the ``microready[dotenv]`` extra), as
uvicorn's is, before the app is imported, so the app's module-level code sees
the variables. A variable already set in the real environment wins over the
file's, as with ``load_dotenv()``: the shell or the service manager has the
last word.

Worker processes (``--workers``) and the server processes of ``--reload`` are
spawned with the environment of the process that loaded the file, so they see
it too. That process reads the file again before each reload and before a
rolling restart (SIGHUP), so an edited ``.env`` reaches the processes started
after it; ``load()`` first takes back the variables the previous reading set.

Unlike uvicorn, which skips a missing file without a word, a file that cannot
be read is an error: a server started without the settings it was told to
load would fail later, and further from the cause.
"""

from __future__ import annotations

import importlib
import logging
import os

__all__ = ["EnvFile", "EnvFileError"]

logger = logging.getLogger("microready.server")


class EnvFileError(Exception):
    """The ``--env-file`` cannot be loaded; the message says why, in one line."""


class EnvFile:
    """The variables of one ``.env`` file, loadable again after it changed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._set: dict[str, str] = {}  # what the last load() put into os.environ

    def load(self) -> None:
        """Read the file and put its variables into ``os.environ``; raises EnvFileError."""
        try:
            # By name: python-dotenv is an optional extra.
            dotenv = importlib.import_module("dotenv")
        except ImportError:
            raise EnvFileError(
                f"--env-file {self.path}: python-dotenv is not installed; "
                "install it with: pip install 'microready[dotenv]'"
            ) from None
        if not os.path.isfile(self.path):
            where = "" if os.path.isabs(self.path) else f" in {os.getcwd()}"
            raise EnvFileError(f"--env-file {self.path}: no such file{where}")
        try:
            values: dict[str, str | None] = dotenv.dotenv_values(self.path)
        except (OSError, UnicodeDecodeError) as exc:
            raise EnvFileError(f"--env-file {self.path}: cannot read it: {exc}") from None
        for name, previous in self._set.items():
            if os.environ.get(name) == previous:
                del os.environ[name]
        self._set = {}
        for name, value in values.items():
            # A bare ``NAME`` line has no value (None); the real environment wins.
            if value is not None and name not in os.environ:
                os.environ[name] = value
                self._set[name] = value
        logger.info("Loading environment from '%s'", self.path)
