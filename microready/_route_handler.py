"""A route's response, its ``Reply``, and FastAPI's ``get_route_handler`` hook.

``respond`` turns what an endpoint returned into the ``Reply`` the server
sends: the response, then the work to run after it (the background tasks and
the teardown of ``yield`` dependencies). ``MicroReady.handle`` calls it for
every plain route.

A ``Route`` subclass may override ``get_route_handler()`` to wrap the handler
that answers its requests (FastAPI's "Custom Request and APIRoute class"):
time it, swap the ``Request`` for a subclass, catch a
``RequestValidationError``. The route asks for that handler once, when it is
made, and keeps it as ``route.handler``; a plain ``Route`` keeps None, so its
requests take the app's direct path and pay nothing for the hook.

A handler takes a ``Request`` and returns a ``Response``, so what the
``Reply`` needs besides the response travels on the request instead: the
original handler (``original_handler``) leaves its ``RequestState`` (the
injected tasks and the exit stack) in ``request.scope``, which the handler
chain's requests share (``Request.from_request`` keeps it), and
``run_route_handler`` picks it up once the chain returns:

* the ``Reply`` is made for the response the chain returned: the injected
  ``BackgroundTasks``, then that response's own ``background``, then the
  ``yield`` teardown, all after the response is sent, as for a plain route;
* an exception out of the chain is answered as for a plain route (the tasks
  dropped, the ``yield`` dependencies closed with it thrown in, the exception
  handlers), and one the wrapper caught and answered still drops the tasks the
  failed endpoint queued; the ``yield`` dependencies then close normally;
* uploads of a form read by either request close after the tasks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

from ._exchange import Reply
from ._inject import RequestState, close_failed, run_endpoint
from ._utils import NO_CONTENT_STATUSES, is_async_callable
from .background.tasks import BackgroundTask, BackgroundTasks
from .requests import Request
from .responses import FileResponse, JSONResponse, Response

if TYPE_CHECKING:
    from ._route import Route
    from .app import MicroReady

__all__ = [
    "RouteHandler", "checked_handler", "original_handler", "respond", "run_route_handler",
    "task_list", "then",
]

RouteHandler = Callable[[Request], Awaitable[Response]]
_RUN = "microready.route_handler"  # the request.scope key of the original handler's _Run


def task_list(background: BackgroundTask[Any] | BackgroundTasks) -> list[BackgroundTask[Any]]:
    if isinstance(background, BackgroundTasks):
        return list(background.tasks)
    return [background]


def then(first: Callable[[], Awaitable[None]] | None,
         second: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """``first`` (if any), then ``second`` even if ``first`` failed."""
    if first is None:
        return second

    async def both() -> None:
        try:
            await first()
        finally:
            await second()

    return both


def respond(route: Route, result: Any, state: RequestState | None) -> Reply:
    """The endpoint's result as a response, with the work to run after it is sent.

    A result that is not a ``Response`` goes into the route's response class
    (JSON unless it says otherwise) with the status and headers an injected
    ``Response`` parameter set; a generator endpoint's generator goes into
    the streamed response its route chose (``_streaming``). The tasks: the
    injected ``BackgroundTasks`` first, then the response's own ``background``.
    """
    if isinstance(result, Response):
        response = result
    else:
        model = route.response_model
        if model is not None:  # validated and filtered; a misfit raises (a 500)
            result = model.render(result)
        status = route.status_code
        sub = state.response if state is not None else None
        if sub is not None:
            status = sub.status_code
        stream = route.stream
        if stream is not None:
            response = stream(result, status)
        elif status is not None and status in NO_CONTENT_STATUSES:
            response = Response(status_code=status)
        elif route.response_class is JSONResponse:
            response = JSONResponse(result, status if status is not None else 200)
        elif status is None:
            response = route.response_class(result)
        else:
            response = route.response_class(result, status_code=status)
        if sub is not None:
            response.raw_headers.extend(sub.raw_headers)
    background = response.background
    if state is None:
        if background is None:
            return Reply(response)
        return Reply(response, task_list(background))
    injected = state.tasks
    if injected is None:
        tasks = []
    elif route.stream is not None:
        # The live list: a streaming generator may add tasks until its last
        # item, and the server reads the list only after the last chunk.
        tasks = injected.tasks
    else:
        tasks = list(injected.tasks)
    if background is not None and background is not injected:
        tasks = [*tasks, *task_list(background)]  # never extend the live list
    stack = state.stack
    return Reply(response, tasks, stack.aclose if stack is not None else None)


# -- the get_route_handler hook ----------------------------------------------------------


class _Run:
    """What the original handler leaves for ``run_route_handler``, in ``request.scope``."""

    __slots__ = ("state", "request", "failed")

    def __init__(self, state: RequestState | None, request: Request) -> None:
        self.state = state
        self.request = request  # the one the endpoint got: the chain may have swapped it
        self.failed = False


def checked_handler(route: Route, handler: Any, where: str) -> RouteHandler:
    """What the route's ``get_route_handler()`` returned, if it is an async function."""
    if not is_async_callable(handler):
        raise TypeError(
            f"{where}: {type(route).__name__}.get_route_handler() must return an "
            f"async function (request) -> Response, not {handler!r}"
        )
    checked: RouteHandler = handler
    return checked


def original_handler(route: Route) -> RouteHandler:
    """``Route.get_route_handler()``: run the endpoint with the plan, make its response."""

    async def handler(request: Request) -> Response:
        plan = route.plan
        state = RequestState(
            request, route.status_code, route.strict_content_type is not False,
            request.app.active_overrides() if getattr(request.app, "dependency_overrides", None)
            else None,
        ) if plan.needs_state else None
        run = request.scope[_RUN] = _Run(state, request)
        try:
            result = await run_endpoint(plan, request, state)
            return respond(route, result, state).response
        except BaseException:
            run.failed = True
            raise

    return handler


async def run_route_handler(app: MicroReady, route: Route, handler: RouteHandler,
                            request: Request) -> Reply:
    """Answer ``request`` through ``route``'s handler chain (see the module docstring)."""
    scope = request.scope
    try:
        response = await handler(request)
        if not isinstance(response, Response):
            raise TypeError(
                f"the route handler of {route!r} ({type(route).__name__}.get_route_handler) "
                f"returned {type(response).__name__}, not a Response; return what the "
                f"original handler returned, or a Response of your own"
            )
        if isinstance(response, FileResponse):  # as MicroReady.handle does
            response = await response.for_request(request)
    except Exception as exc:
        run: _Run | None = scope.pop(_RUN, None)
        reply = await app._failed(request, exc, run.state if run is not None else None)
        return _closing_uploads(reply, request, run)
    except BaseException as exc:  # cancelled: still close the yield dependencies
        run = scope.pop(_RUN, None)
        with anyio.CancelScope(shield=True):
            if run is not None and run.state is not None and run.state.stack is not None:
                await close_failed(run.state.stack, exc)
            for reader in _form_readers(request, run):
                await reader.close()
        raise
    run = scope.pop(_RUN, None)
    state = run.state if run is not None else None
    if run is not None and run.failed:
        # The wrapper answered the endpoint's failure: its tasks are dropped, as
        # when the exception handlers answer; its yield dependencies close after.
        reply = respond(route, response, None)
        if state is not None and state.stack is not None:
            reply.cleanup = state.stack.aclose
    else:
        reply = respond(route, response, state)
    return _closing_uploads(reply, request, run)


def _form_readers(request: Request, run: _Run | None) -> list[Request]:
    """The requests (the app's, the endpoint's) that read a form, one per form."""
    readers = [request] if request._form is not None else []
    if run is not None and run.request._form is not None and run.request._form is not (
        request._form
    ):
        readers.append(run.request)
    return readers


def _closing_uploads(reply: Reply, request: Request, run: _Run | None) -> Reply:
    """``reply``, closing the form files either request read after its tasks."""
    for reader in _form_readers(request, run):
        reply.cleanup = then(reply.cleanup, reader.close)
    return reply
