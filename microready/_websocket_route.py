"""WebSocket routes: ``@app.websocket("/ws")``, and how a connection reaches its endpoint.

A ``WebSocketRoute`` is planned like an HTTP route (``_inject``), so its
endpoint declares what FastAPI's do: the ``WebSocket`` itself, path, query,
header and cookie values, ``Depends`` and ``Security``. ``serve_websocket``
answers one ASGI ``websocket`` connection, whoever called it: microready's
own server (through ``server/websocket_session``), an ASGI server
(``uvicorn main:app``), or ``TestClient.websocket_connect``.

What an endpoint's exceptions mean, as in FastAPI:

* ``WebSocketDisconnect``: the client left; the connection just ends;
* ``WebSocketException(code, reason)``: close with that code;
* invalid parameters (``RequestValidationError``): close with 1008, the
  errors logged at debug; before ``accept()`` that is a 403 to the client;
* anything else propagates, and the server closes with 1011 (500 before
  ``accept()``) and logs it.

No route for the path: the connection is refused before it is accepted
(HTTP 403), as Starlette does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ._inject import EndpointPlan, RequestState, close_failed, plan_endpoint, run_endpoint
from ._mount import Mount
from ._path_template import PathTemplate
from ._route_table import fill_path
from .exceptions import RequestValidationError
from .params import Dependency
from .websockets import WebSocket, WebSocketDisconnect, WebSocketException, WebSocketState

if TYPE_CHECKING:
    from ._asgi.scope import Receive, Scope, Send

__all__ = ["ENDED_BY", "WEBSOCKET", "WebSocketRoute", "serve_websocket"]

error_logger = logging.getLogger("microready.error")

WEBSOCKET = "WEBSOCKET"  # the route table's "method" for a WebSocket connection
_POLICY_VIOLATION = 1008
ENDED_BY = "microready.ended_by"  # the WebSocketDisconnect that ended the endpoint


class WebSocketRoute:
    """One WebSocket path and the endpoint that serves its connections."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, name: str | None = None,
                 dependencies: Sequence[Dependency] = ()) -> None:
        if not callable(endpoint):
            raise TypeError(f"websocket route {path!r}: the endpoint must be an async function, "
                            f"got {type(endpoint).__name__}")
        self.path = path
        self.template = PathTemplate(path)
        self.endpoint = endpoint
        self.name = name if name is not None else getattr(endpoint, "__name__", repr(endpoint))
        self.dependencies = tuple(dependencies)
        self.methods: tuple[str, ...] = (WEBSOCKET,)
        self.method_set = frozenset(self.methods)
        self.plan: EndpointPlan = plan_endpoint(
            endpoint, frozenset(self.template.names), self.dependencies, f"WEBSOCKET {path}")
        if self.plan.reads_body:
            raise TypeError(
                f"WEBSOCKET {path}: a WebSocket endpoint has no request body; read messages "
                f"with await websocket.receive_text() (or receive_json()) instead of Body()/Form()"
            )

    def copy_with(self, *, prefix: str, dependencies: Sequence[Dependency],
                  **_: Any) -> WebSocketRoute:
        """This route under ``prefix``, after ``dependencies`` (``include_router``)."""
        return WebSocketRoute(prefix + self.path, self.endpoint, name=self.name,
                              dependencies=(*dependencies, *self.dependencies))

    def url_path(self, name: str, params: dict[str, Any]) -> str | None:
        if name != self.name or set(params) != set(self.template.names):
            return None
        return fill_path(self.path, params)

    def __repr__(self) -> str:
        return f"<WebSocketRoute {self.path} -> {self.name}>"


async def serve_websocket(app: Any, route: WebSocketRoute | Mount | None,
                          params: dict[str, Any], scope: Scope, receive: Receive,
                          send: Send) -> None:
    """Serve one WebSocket connection with ``route``'s endpoint (None: no route, refused)."""
    if isinstance(route, Mount):
        await route.serve_websocket(scope, receive, send)
        return
    websocket = WebSocket(scope, receive, send)
    if route is None:
        await websocket.close()  # before accept(): the client is answered 403
        return
    scope["path_params"] = params
    # A WebSocket has what the solver reads of a request (query, headers,
    # cookies, path parameters, scope), so it stands in for one.
    as_request: Any = websocket
    plan = route.plan
    state = RequestState(as_request, None, True, app.active_overrides()) if (
        plan.needs_state) else None
    try:
        await run_endpoint(plan, as_request, state)
    except Exception as exc:
        outcome: BaseException | None = exc
        if state is not None and state.stack is not None:
            # The yield dependencies see what ended the endpoint, as in FastAPI.
            stack, state.stack = state.stack, None
            with anyio.CancelScope(shield=True):
                outcome = await close_failed(stack, exc)
        if outcome is None:
            return  # a dependency swallowed it
        if isinstance(outcome, WebSocketDisconnect):
            # The client left: the connection just ends. Kept in the scope, so
            # TestClient can raise it from its `with` block as Starlette's does.
            scope[ENDED_BY] = outcome
        elif isinstance(outcome, WebSocketException):
            await _close(websocket, outcome.code, outcome.reason)
        elif isinstance(outcome, RequestValidationError):
            error_logger.debug("closing %s: invalid parameters %s", scope.get("path"),
                               outcome.errors())
            await _close(websocket, _POLICY_VIOLATION, "invalid parameters")
        elif outcome is exc:
            raise
        else:
            raise outcome from exc
    finally:
        if state is not None and state.stack is not None:
            await state.stack.aclose()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state is not WebSocketState.DISCONNECTED:
        await websocket.close(code, reason or None)
