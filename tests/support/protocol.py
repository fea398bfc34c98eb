"""What the connection core can answer on its own, read from its source.

The core has no list of the statuses it rejects a request with, and a list
written here would drift from it (a hand-written "4xx" once missed 501 and 505).
So the set is read from the code: every 4xx and 5xx literal in the sans-IO
package (``microready/server/protocol/``), and every ``error_status_hint`` h11 can raise (the core
passes h11's hint on as the status).
"""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import h11

import microready.server.protocol

__all__ = ["rejection_statuses"]


def _error_statuses(package: Path) -> set[int]:
    """Every int literal from 400 to 599 in the package's modules."""
    found: set[int] = set()
    for module in package.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and type(node.value) is int
                and 400 <= node.value < 600
            ):
                found.add(node.value)
    return found


def _h11_hints() -> set[int]:
    """Every status hint h11's protocol errors can carry, its default included."""
    default = inspect.signature(h11.RemoteProtocolError).parameters["error_status_hint"].default
    hints = {int(default)}
    for module in Path(h11.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "error_status_hint"
                and isinstance(node.value, ast.Constant)
                and type(node.value.value) is int
            ):
                hints.add(node.value.value)
    return hints


@functools.cache
def rejection_statuses() -> frozenset[int]:
    """The statuses a ``Rejected`` event (or the core's own 408) can carry."""
    core = _error_statuses(Path(microready.server.protocol.__file__).parent)
    statuses = frozenset(core | _h11_hints())
    # A scan that finds (nearly) nothing means the code moved out of its reach:
    # fail here, not as a puzzling "status not allowed" in a fuzz run.
    assert {400, 408, 413, 431} <= statuses, f"the scan of the core found only {sorted(statuses)}"
    return statuses
