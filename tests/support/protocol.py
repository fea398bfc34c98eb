"""The statuses the connection core can reject a request with, taken from the code.

A list written here would drift from the core (a hand-written "4xx" once missed
501 and 505). So the set is the core's own table of head rules
(``HEAD_RULES``), plus every ``error_status_hint`` h11 can raise (the core passes
h11's hint on as the status); h11 has no public list of those, so its source is
scanned for them.
"""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import h11

from microready.server.protocol.framing import HEAD_RULES

__all__ = ["rejection_statuses"]


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
    """The statuses a ``Rejected`` event can carry."""
    statuses = frozenset({rule.status for rule in HEAD_RULES} | _h11_hints())
    # A scan that finds (nearly) nothing means h11's code moved out of its reach:
    # fail here, not as a puzzling "status not allowed" in a fuzz run.
    assert {400, 413, 431, 501, 505} <= statuses, f"found only {sorted(statuses)}"
    return statuses
