"""Undo what an in-process ``main()`` or ``run()`` does to this process.

They configure the ``microready`` loggers (handlers, level, propagation, the
access logger's switch) and put ``--app-dir`` on ``sys.path``; a test that
calls them in-process wraps the call in ``restored_process_state()`` so the
tests after it see the loggers as they were (``tests/server/test_cli.py`` does
the same with a fixture).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

__all__ = ["restored_process_state"]


@contextlib.contextmanager
def restored_process_state() -> Iterator[None]:
    root = logging.getLogger("microready")
    access = logging.getLogger("microready.access")
    saved = (list(root.handlers), root.level, root.propagate, access.disabled, access.propagate)
    path = list(sys.path)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in saved[0]:
                root.removeHandler(handler)
        root.level, root.propagate, access.disabled, access.propagate = saved[1:]
        sys.path[:] = path
