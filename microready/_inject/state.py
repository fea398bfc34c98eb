"""What one request's injection shares, and how its ``yield`` dependencies close.

Per request, ``RequestState`` holds:

* the dependency cache: a dependency used twice runs once, unless
  ``use_cache=False``;
* the one ``BackgroundTasks`` and the one ``Response`` that every parameter
  asking for them receives;
* the ``AsyncExitStack`` of ``yield`` dependencies (and a second one for
  ``Depends(..., scope="function")``, closed as soon as the endpoint returns).
  On success the app hands
  the stack's teardown to the server, which runs it after the response and its
  background tasks; when the request fails, the app closes it at once with the
  exception thrown in (``close_failed``), so ``except`` blocks in dependencies
  can turn it into an ``HTTPException`` (FastAPI's behaviour).

Only endpoints whose plan ``needs_state`` get one; the others allocate nothing.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from .._convert import ErrorDict
from ..background.tasks import BackgroundTasks
from ..requests import Request
from ..responses import Response

if TYPE_CHECKING:
    from .overrides import ActiveOverrides

__all__ = ["RequestState", "close_failed"]


class RequestState:
    """Everything one request's dependency solving shares."""

    __slots__ = (
        "request", "status_code", "strict_content_type", "overrides", "cache", "errors", "tasks",
        "response", "stack", "function_stack", "body",
    )

    def __init__(self, request: Request, status_code: int | None = None,
                 strict_content_type: bool = True,
                 overrides: ActiveOverrides | None = None) -> None:
        self.request = request
        self.overrides = overrides  # None unless app.dependency_overrides has entries
        # FastAPI's strict_content_type: a body without a Content-Type is not JSON.
        self.strict_content_type = strict_content_type
        self.status_code = status_code  # the route's, the Response parameter's default
        self.cache: dict[Any, Any] = {}
        self.errors: list[ErrorDict] = []
        self.tasks: BackgroundTasks | None = None
        self.response: Response | None = None
        self.stack: AsyncExitStack | None = None
        self.function_stack: AsyncExitStack | None = None  # Depends(scope="function")
        self.body: Any = None

    def background_tasks(self) -> BackgroundTasks:
        if self.tasks is None:
            self.tasks = BackgroundTasks()
        return self.tasks

    def sub_response(self) -> Response:
        """The ``Response`` parameters receive, to set headers, cookies or the status."""
        if self.response is None:
            response = Response(status_code=self.status_code or 200)
            del response.headers["content-length"]
            self.response = response
        return self.response

    def exit_stack(self, *, early: bool = False) -> AsyncExitStack:
        """The stack ``yield`` dependencies are entered on, made when the first one is:
        the request's, or (``early``) the one closed when the endpoint returns."""
        if early:
            if self.function_stack is None:
                self.function_stack = AsyncExitStack()
            return self.function_stack
        if self.stack is None:
            self.stack = AsyncExitStack()
        return self.stack


async def close_failed(stack: AsyncExitStack, exc: BaseException) -> BaseException | None:
    """Throw ``exc`` into the ``yield`` dependencies and close them, innermost first.

    Returns the exception that comes out: ``exc`` itself, another one a
    dependency raised instead (say, an ``HTTPException``), or None if they
    swallowed it.
    """
    try:
        suppressed = await stack.__aexit__(type(exc), exc, exc.__traceback__)
    except BaseException as raised:  # a teardown raised: that is the request's error now
        return raised
    return None if suppressed else exc
