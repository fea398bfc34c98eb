"""Run an endpoint for one request: what ``MicroReady.handle`` awaits.

The plan's ``Mode`` picks the cheapest way to do it:

* ``NO_PARAMS``: call the endpoint with nothing;
* ``SIMPLE``: read path, query, header and cookie values (and hand over the
  ``Request``), with no per-request state at all;
* ``FULL``: read the body once, solve the dependency tree on a
  ``RequestState``, then call.

Like ``call_plan``, ``run_endpoint`` returns the awaitable instead of being a
coroutine: in the first two modes the endpoint's own coroutine is all the
caller awaits. Missing or invalid values raise ``RequestValidationError``
(a 422) before the endpoint runs.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import anyio

from .._convert import ErrorDict
from ..exceptions import RequestValidationError
from ..requests import Request
from .plan import EndpointPlan, Mode
from .solve import load_body, read_params, solve
from .state import RequestState, close_failed

__all__ = ["run_endpoint"]


def run_endpoint(plan: EndpointPlan, request: Request,
                 state: RequestState | None) -> Awaitable[Any]:
    """The awaitable whose result is what the endpoint returned.

    ``state`` is a fresh ``RequestState`` when ``plan.needs_state`` (the
    ``FULL`` and ``TASKS`` modes), else None.
    """
    mode = plan.mode
    if mode is Mode.NO_PARAMS:
        return plan.call_without_args()
    if mode is Mode.FULL and state is not None:
        return _solve_and_call(plan, state)
    root = plan.root
    kwargs: dict[str, Any] = {}  # Mode.SIMPLE and Mode.TASKS: no dependency to solve
    errors: list[ErrorDict] = []
    read_params(root, request, kwargs, errors)
    if errors:
        raise RequestValidationError(errors)
    for name in root.request_names:
        kwargs[name] = request
    if state is not None:  # Mode.TASKS: every BackgroundTasks parameter, one list
        tasks = state.background_tasks()
        for name in root.tasks_names:
            kwargs[name] = tasks
    return plan.call_with_kwargs(root, kwargs, state)


async def _solve_and_call(plan: EndpointPlan, state: RequestState) -> Any:
    if plan.reads_body:
        await load_body(state, form=plan.reads_form)
    kwargs = await solve(plan.root, state)
    if kwargs is None:
        raise RequestValidationError(state.errors, body=state.body)
    try:
        result = await plan.call_with_kwargs(plan.root, kwargs, state)
    except BaseException as exc:
        if state.function_stack is not None:
            # Depends(..., scope="function"): closed now, with the exception thrown in.
            stack, state.function_stack = state.function_stack, None
            with anyio.CancelScope(shield=True):
                outcome = await close_failed(stack, exc)
            if outcome is not None and outcome is not exc:
                raise outcome from exc
        raise
    if state.function_stack is not None:
        stack, state.function_stack = state.function_stack, None
        await stack.aclose()  # before the response is sent
    return result
