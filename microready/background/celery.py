"""Celery's adapter: ``add_task`` of a ``@celery_app.task`` enqueues it to workers.

::

    from microready.background.celery import CeleryOffload

    app = MicroReady(offload=CeleryOffload(celery_app))

    @app.post("/send-notification/{email}")
    async def send_notification(email: str, background_tasks: BackgroundTasks):
        background_tasks.add_task(write_notification, email, message="...")  # unchanged

What is offloaded: the tasks of ``celery_app`` (``@celery_app.task``, or a
plain function passed to ``register``), and the names made with
``by_name("module.task")``, which Celery's ``send_task`` enqueues so the web
process needs no worker code. Everything else stays in-process.

The runner's publisher threads (``publishing.py``) hand ``publish`` the
offloaded tasks of one or several requests at once; they are published with
one producer taken from Celery's pool, in one kombu batch (one Redis
pipeline), each with its stable ``task_id`` (``offload.py``).
``at_least_once(celery_app)`` applies the settings a redelivery needs.

Celery is imported when an adapter is made, not with this module: without it,
``CeleryOffload(...)`` raises one line naming ``pip install 'microready[celery]'``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .offload import OutgoingTask, When, checked_when, unserializable_argument

__all__ = ["CeleryOffload", "RemoteTask", "at_least_once"]

logger = logging.getLogger("microready.background")

INSTALL = "pip install 'microready[celery]'"


def _celery() -> Any:
    try:
        import celery  # type: ignore[import-untyped]  # Celery ships no type hints
    except ImportError:
        raise ImportError(
            f"offloading tasks to Celery needs Celery and its Redis transport: {INSTALL}"
        ) from None
    return celery


def at_least_once(celery_app: Any, *, visibility_timeout: float = 3600) -> Any:
    """Configure ``celery_app`` so that a task whose worker dies is run again.

    * ``task_acks_late``: the message is acknowledged when the task has finished,
      not when a worker takes it;
    * ``task_reject_on_worker_lost``: a task whose pool process was killed goes
      back to the queue, rather than being marked failed;
    * ``visibility_timeout`` (Redis): a message taken and not acknowledged within
      this many seconds is given to another worker. Longer than your longest
      task, or that task runs twice while the first run goes on;
    * ``worker_prefetch_multiplier = 1``: a worker holds one message beyond the
      one it runs, so a dead worker strands few.

    Redis itself must keep the queue across its own restarts: run it with
    ``appendonly yes`` (README, "Outgrowing one process"). Returns the app.
    """
    options = dict(celery_app.conf.broker_transport_options or {})
    options["visibility_timeout"] = visibility_timeout
    celery_app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=options,
    )
    return celery_app


class RemoteTask:
    """A Celery task known by name only (``CeleryOffload.by_name``): pass it to
    ``add_task`` and it is enqueued with ``send_task``; it never runs here."""

    __slots__ = ("name", "owner", "__qualname__")

    def __init__(self, name: str, owner: CeleryOffload) -> None:
        self.name = name
        self.owner = owner
        self.__qualname__ = name  # what log lines and messages call it

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            f"{self.name} runs in a Celery worker, not here; queue it:\n"
            f"    wrong: {self.name}(email, message=...)\n"
            f"    right: background_tasks.add_task({self.name.rpartition('.')[2]}, email, "
            f"message=...)"
        )

    def __repr__(self) -> str:
        return f"<RemoteTask {self.name}>"


@dataclass(frozen=True, slots=True)
class _Target:
    """What publishing and checking one offloaded function needs, worked out once."""

    name: str
    task: Any  # the celery Task, or None for a RemoteTask
    serializer: str
    signature: inspect.Signature | None  # to bind the arguments to, if Celery checks them
    positional: tuple[str, ...]  # parameter names, to name a positional argument
    takes_models: bool  # a pydantic=True task: Celery dumps models itself


class CeleryOffload:
    """``MicroReady(offload=CeleryOffload(celery_app, when="before_response"))``.

    ``when``: ``"before_response"`` (the default: the broker has the task before
    the status line is sent, or the client gets 503) or ``"after_response"``
    (published after the last byte; a failure is logged and counted).
    ``threads``: how many threads publish at once. One is the fastest on a
    nearby Redis: it takes every request waiting and publishes them in one
    pipeline; more help when the broker's round trip is long.
    """

    name = "celery"

    def __init__(self, celery_app: Any, *, when: When = "before_response",
                 threads: int = 1) -> None:
        celery = _celery()
        if not isinstance(celery_app, celery.Celery):
            raise TypeError(
                f"CeleryOffload takes your Celery app, not {type(celery_app).__name__}:\n"
                f"    right: celery_app = Celery('tasks', broker=...)\n"
                f"           app = MicroReady(offload=CeleryOffload(celery_app))"
            )
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"CeleryOffload(threads=...) must be at least 1, got {threads!r}")
        self.celery_app = celery_app
        self.when: When = checked_when(when, "CeleryOffload")
        self.threads = threads
        self._task_class: type[Any] = celery.Task
        self._functions: dict[Callable[..., Any], Any] = {}  # register(plain function) -> task
        self._whens: dict[str, When] = {}  # per-task overrides, by task name
        self._targets: dict[int, tuple[Any, _Target]] = {}  # id(func) -> (func, its target)
        conf = celery_app.conf
        if not (conf.task_acks_late and conf.task_reject_on_worker_lost):
            logger.warning(
                "Celery app %r acknowledges a task when a worker takes it: a worker that "
                "dies mid-task loses it. For at-least-once delivery call "
                "microready.background.celery.at_least_once(celery_app)", celery_app.main)

    # -- choosing what is offloaded ----------------------------------------------------

    def register(self, func: Callable[..., Any], *, when: When | None = None,
                 name: str | None = None) -> Callable[..., Any]:
        """Offload ``func``: a plain function becomes a task of the Celery app (import
        this registration in the worker too); for a ``@celery_app.task``, ``when``
        overrides the app's. Returns ``func`` unchanged, so it works as a decorator."""
        unchanged = func
        if isinstance(func, self._task_class):
            if func._get_app() is not self.celery_app:
                raise TypeError(f"{func.name} is a task of another Celery app than this "
                                f"CeleryOffload's ({self.celery_app.main!r})")
            if when is None:
                raise TypeError(
                    f"{func.name} is a task of the Celery app already, so add_task offloads "
                    f"it without registering; register it only to choose when:\n"
                    f"    right: offload.register({func.name.rpartition('.')[2]}, "
                    f"when='after_response')"
                )
            self._whens[func.name] = checked_when(when, "register")
            return unchanged
        if not callable(func) or isinstance(func, RemoteTask):
            raise TypeError(f"register() takes a function, not {func!r}")
        task: Any = self.celery_app.task(name=name)(func) if name else self.celery_app.task(func)
        self._functions[func] = task
        if when is not None:
            self._whens[task.name] = checked_when(when, "register")
        return func

    def by_name(self, name: str, *, when: When | None = None) -> RemoteTask:
        """A task the workers know by ``name``; ``add_task`` enqueues it with ``send_task``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"by_name() takes the task's registered name, not {name!r}:\n"
                            f"    right: offload.by_name('worker.write_notification')")
        if when is not None:
            self._whens[name] = checked_when(when, "by_name")
        return RemoteTask(name, self)

    def is_offloaded(self, func: Any) -> bool:
        if isinstance(func, RemoteTask):
            return func.owner is self
        if self._functions and _hashable(func) and func in self._functions:
            return True
        return isinstance(func, self._task_class) and func._get_app() is self.celery_app

    def when_for(self, func: Any) -> When:
        return self._whens.get(self._target(func).name, self.when)

    def task_name(self, func: Any) -> str:
        name: str = self._target(func).name
        return name

    # -- checking at add_task ------------------------------------------------------------

    def _target(self, func: Any) -> _Target:
        known = self._targets.get(id(func))
        if known is not None and known[0] is func:
            return known[1]
        if isinstance(func, RemoteTask):  # not kept: a handler may make one per request
            return _Target(func.name, None, self.celery_app.conf.task_serializer, None, (),
                           False)
        task = self._functions.get(func) or func
        run = task.run
        signature = inspect.signature(run) if task.typing else None
        positional = tuple(
            p.name for p in inspect.signature(run).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
        target = _Target(task.name, task, task.serializer or
                         self.celery_app.conf.task_serializer, signature, positional,
                         getattr(task, "_dump_pydantic_arguments", None) is not None)
        self._targets[id(func)] = (func, target)
        return target

    def check_args(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   where: str) -> None:
        """A TypeError now for what would fail in the worker: arguments that do not
        fit the task's signature, or that the JSON serializer cannot carry."""
        target = self._target(func)
        short = target.name.rpartition(".")[2]
        if target.signature is not None:
            try:
                target.signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{where}({short}, ...): {exc}; the task takes "
                                f"{short}{_plain(target.signature)}") from None
        if target.serializer != "json":
            return
        from kombu.utils.json import dumps as untyped_dumps  # Celery's JSON, its extra types

        dumps: Callable[[Any], str] = untyped_dumps

        labelled = [
            (target.positional[i] if i < len(target.positional) else f"args[{i}]", True, value)
            for i, value in enumerate(args)
        ] + [(key, False, value) for key, value in kwargs.items()]
        for label, positional, value in labelled:
            if target.takes_models and hasattr(value, "model_dump"):
                continue
            try:
                dumps(value)
            except (TypeError, ValueError) as exc:
                raise unserializable_argument(where, short, label, positional, value,
                                              "Celery's JSON serializer", exc) from None

    # -- publishing ----------------------------------------------------------------------

    def publish(self, batch: Sequence[OutgoingTask]) -> None:
        """Enqueue ``batch`` with one producer from Celery's pool (a publisher thread).

        kombu's ``Producer.batch()`` buffers the messages and sends them when the
        block ends: on Redis, one pipeline for the whole batch, which costs the
        web process half the CPU of one round trip per task. If the pipeline
        fails, kombu cannot say which messages Redis took (``BatchPublishError``,
        "delivery is uncertain"): the whole batch is reported failed, and a task
        of it may still run (the README says so).
        """
        app = self.celery_app
        with app.producer_or_acquire() as producer, producer.batch():
            for outgoing in batch:
                target = self._target(outgoing.func)
                if target.task is None:
                    app.send_task(target.name, outgoing.args, outgoing.kwargs,
                                  task_id=outgoing.task_id, producer=producer)
                else:
                    target.task.apply_async(outgoing.args, outgoing.kwargs,
                                            task_id=outgoing.task_id, producer=producer)


def _plain(signature: inspect.Signature) -> inspect.Signature:
    """``signature`` without its annotations: ``(tag, note='')``."""
    empty = inspect.Parameter.empty
    return signature.replace(
        parameters=[p.replace(annotation=empty) for p in signature.parameters.values()],
        return_annotation=empty)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
