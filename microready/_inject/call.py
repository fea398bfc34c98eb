"""Calling a planned callable: the one place that knows async from sync from generator.

``call_plan`` is a plain function that returns the awaitable to await, not a
coroutine of its own: an ``async def`` endpoint's coroutine is awaited straight
by the app, so the common path adds no coroutine frame. The ``Kind`` was
decided at registration (``plan.call_kind``):

* ``async def``: called here, awaited by the caller;
* ``def``: run in a worker thread, so it cannot block the event loop;
* an async generator (a ``yield`` dependency): entered with ``async with`` on
  the request's exit stack, which closes it after the response;
* a generator: the same, but entered and exited in a worker thread.

An endpoint that is a generator function is not entered: ``call_endpoint``
calls it and its result is the generator itself, which the response iterates
while it is sent (``microready._streaming``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any

import anyio.to_thread

from .plan import CallPlan, Kind
from .state import RequestState

__all__ = ["call_endpoint", "call_plan", "caller_without_args"]

_NO_KWARGS: dict[str, Any] = {}  # never written to


def call_plan(plan: CallPlan, kwargs: dict[str, Any], state: RequestState | None,
              early: bool = False) -> Awaitable[Any]:
    """The awaitable that calls ``plan.call(**kwargs)`` the way its kind needs.

    ``early``: a ``yield`` dependency with ``scope="function"``, closed when the
    endpoint returns rather than after the response.
    """
    kind = plan.kind
    if kind is Kind.ASYNC:
        called: Awaitable[Any] = plan.call(**kwargs) if kwargs else plan.call()
        return called
    if kind is Kind.SYNC:
        if kwargs:
            return anyio.to_thread.run_sync(functools.partial(plan.call, **kwargs))
        return anyio.to_thread.run_sync(plan.call)
    return _enter(plan, kwargs, state, early)


def caller_without_args(plan: CallPlan) -> Callable[[], Awaitable[Any]]:
    """What calls ``plan`` with no arguments, chosen once, at registration.

    An ``async def`` is its own: calling it returns the awaitable, so a request
    to an async endpoint that takes nothing pays for no call of ours but
    ``run_endpoint``. Every other kind goes through ``call_endpoint``.
    """
    if plan.kind is Kind.ASYNC:
        return plan.call
    return functools.partial(call_endpoint, plan, _NO_KWARGS, None)


_GENERATORS = (Kind.ASYNC_GEN, Kind.SYNC_GEN)


def call_endpoint(plan: CallPlan, kwargs: dict[str, Any],
                  state: RequestState | None) -> Awaitable[Any]:
    """``call_plan`` for an endpoint: a generator function is called, not entered.

    Calling one runs none of its code, so it happens here in the event loop
    (a sync generator's body runs later, in worker threads, as it is iterated).
    """
    if plan.kind in _GENERATORS:
        return _value(plan.call(**kwargs))
    return call_plan(plan, kwargs, state)


async def _value(value: Any) -> Any:
    return value


async def _enter(plan: CallPlan, kwargs: dict[str, Any], state: RequestState | None,
                 early: bool = False) -> Any:
    """Enter a generator dependency on the request's exit stack; its value is what it yields."""
    context = plan.context
    if state is None or context is None:  # pragma: no cover - endpoints use call_endpoint
        raise RuntimeError(
            f"{plan.name} is a generator: a dependency is entered with a RequestState, "
            "an endpoint is called with call_endpoint"
        )
    stack = state.exit_stack(early=early)
    if plan.kind is Kind.ASYNC_GEN:
        return await stack.enter_async_context(context(**kwargs))
    manager: AbstractContextManager[Any] = context(**kwargs)
    value = await anyio.to_thread.run_sync(manager.__enter__)
    stack.push_async_exit(functools.partial(_exit_in_thread, manager))
    return value


async def _exit_in_thread(manager: AbstractContextManager[Any], exc_type: Any, exc: Any,
                          traceback: Any) -> bool:
    result = await anyio.to_thread.run_sync(manager.__exit__, exc_type, exc, traceback)
    return bool(result)
