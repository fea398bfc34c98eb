"""The seam between ``add_task`` and a task queue in other processes.

An *offloader* decides which task functions leave the process and carries them
to a queue's broker. ``MicroReady(offload=...)`` installs one; while a request
of that app is handled it is the current offloader, so ``add_task`` (and
``BackgroundTask``) ask it about every function:

* ``is_offloaded(func)``: is this one of the queue's tasks? If not, the task
  runs in-process as always;
* ``check_args(func, args, kwargs, where)``: raise ``TypeError`` now, at the
  ``add_task`` call, for arguments the queue cannot carry;
* ``when_for(func)``: ``"before_response"`` or ``"after_response"``;
* ``task_name(func)``: what the queue calls it, for log lines;
* ``publish(batch)``: enqueue ``batch``, the consecutive offloaded tasks of
  one request or of several (the runner merges what is waiting), in one call,
  or raise: a raise fails the whole batch. It blocks: the runner calls it on
  threads of its own (``publishing.py``), never on the event loop.

Celery's adapter is ``celery.py``; another engine (taskiq, Procrastinate) is
another small class with these four methods and a ``name``. Nothing here
imports an engine.

Every offloaded task gets a stable id, ``<request uuid>-<position>``: a uuid4
made once per request, and the task's 0-based position in that request's task
list. The engine sends it with the message, so a redelivered task keeps it and
can be made idempotent.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, runtime_checkable

__all__ = [
    "WHENS",
    "Offloaded",
    "OffloadFailed",
    "Offloader",
    "OutgoingTask",
    "When",
    "checked_when",
    "claim",
    "current_offloader",
    "new_request_id",
    "unserializable_argument",
]

When = Literal["before_response", "after_response"]
WHENS: Final[tuple[When, ...]] = ("before_response", "after_response")


@runtime_checkable
class Offloader(Protocol):
    """What ``MicroReady(offload=...)`` takes; see the module docstring."""

    name: str  # the engine, for log lines and the shutdown summary: "celery"
    threads: int  # how many threads publish at once

    def is_offloaded(self, func: Any) -> bool: ...

    def when_for(self, func: Any) -> When: ...

    def task_name(self, func: Any) -> str: ...

    def check_args(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   where: str) -> None: ...

    def publish(self, batch: Sequence[OutgoingTask]) -> None: ...


@dataclass(frozen=True, slots=True)
class Offloaded:
    """What a ``BackgroundTask`` carries when its function leaves the process."""

    offloader: Offloader
    when: When
    name: str  # the queue's name for the task


@dataclass(frozen=True, slots=True)
class OutgoingTask:
    """One message to enqueue: the task function, its arguments, its stable id."""

    func: Any
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    task_id: str


class OffloadFailed(Exception):
    """The broker did not take a batch; ``__cause__`` is the engine's error."""


def checked_when(when: object, where: str) -> When:
    """``when`` if it is one of ``WHENS``, else a ValueError that lists them."""
    for choice in WHENS:
        if when == choice:
            return choice
    raise ValueError(
        f"{where}: when must be 'before_response' or 'after_response', not {when!r}:\n"
        f"    right: {where}(..., when='after_response')"
    )


_CURRENT: contextvars.ContextVar[Offloader | None] = contextvars.ContextVar(
    "microready_offloader", default=None)


def current_offloader() -> contextvars.ContextVar[Offloader | None]:
    """The context variable that holds the offloader of the request being handled.

    The app sets it around its handler (sync handlers and dependencies run in
    threads that copy the context, so they see it too).
    """
    return _CURRENT


def claim(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
          where: str) -> Offloaded | None:
    """Ask the current offloader about ``func``: None keeps the task in-process."""
    offloader = _CURRENT.get()
    if offloader is None or not offloader.is_offloaded(func):
        return None
    offloader.check_args(func, args, kwargs, where)
    return Offloaded(offloader, offloader.when_for(func), offloader.task_name(func))


def new_request_id() -> str:
    """The request half of a task id (see the module docstring)."""
    return uuid.uuid4().hex


def unserializable_argument(where: str, task: str, label: str, positional: bool, value: Any,
                            engine: str, error: Exception) -> TypeError:
    """The TypeError for an argument the queue cannot carry, with the right call."""
    kind = type(value).__name__
    variable = label if label.isidentifier() else kind.lower()
    wrong = variable if positional else f"{label}={variable}"
    return TypeError(
        f"{where}({task}, ...): argument {label!r} is a {kind}, which {engine} cannot "
        f"carry to a worker ({error}).\n"
        f"Pass plain data (str, int, float, bool, None, and lists and dicts of them) and "
        f"let the task load the rest, for example by its id:\n"
        f"    wrong: {where}({task}, {wrong})\n"
        f"    right: {where}({task}, {wrong}.id)"
    )
