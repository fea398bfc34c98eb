"""The plan: what to pass to a handler and its dependencies, decided once.

``signature`` builds these objects when a route is registered; ``solve`` and
``call`` follow them for every request without looking at a signature again.
They hold data and the facts derived from it, nothing that runs per request.
"""

from __future__ import annotations

import copy
import enum
import inspect
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from .._convert import Converter
from .._utils import call_target

__all__ = [
    "CallPlan",
    "DependencyPlan",
    "EndpointPlan",
    "Kind",
    "ModelField",
    "Mode",
    "ParamPlan",
    "call_kind",
]


class Kind(enum.Enum):
    """How a callable is called, decided once."""

    ASYNC = "async def"
    SYNC = "def (run in a worker thread)"
    ASYNC_GEN = "async generator (async with)"
    SYNC_GEN = "generator (with, in a worker thread)"


def call_kind(call: Any) -> Kind:
    """Whether ``call`` is async, sync, or a (sync or async) generator function."""
    if inspect.isclass(call):
        return Kind.SYNC
    target = call_target(call)
    if inspect.isasyncgenfunction(target):
        return Kind.ASYNC_GEN
    if inspect.isgeneratorfunction(target):
        return Kind.SYNC_GEN
    if inspect.iscoroutinefunction(target):
        return Kind.ASYNC
    return Kind.SYNC


class Mode(enum.Enum):
    """How much work a request to an endpoint needs, so the common cases stay cheap."""

    NO_PARAMS = "call it with nothing"
    SIMPLE = "path/query/header/cookie/Request only"
    TASKS = "as SIMPLE, and BackgroundTasks: a state for the tasks, no solver"
    FULL = "dependencies, body or a Response parameter"


class ModelField:
    """One field of a parameter model (``Annotated[Filters, Query()]``, a form model):
    the key it is read under, and whether it takes every value of a repeated key."""

    __slots__ = ("name", "key", "many", "reads_file")

    def __init__(self, name: str, key: str, *, many: bool, reads_file: bool) -> None:
        self.name = name  # the key the model's converter expects (its alias, if it has one)
        self.key = key  # the key in the request (a header's name with hyphens)
        self.many = many
        self.reads_file = reads_file  # bytes: an uploaded file's content is read for it

    def __repr__(self) -> str:
        return f"<ModelField {self.name} from {self.key!r}>"


class ParamPlan:
    """One parameter read from the request: where, under which key, converted how.

    ``fields`` is set for a parameter model: its value is a mapping built from
    the fields' keys (plus every other key of the source, so that a model with
    ``extra="forbid"`` can refuse them). ``from_form`` marks a body parameter
    read from a form, and ``reads_file`` one that takes an uploaded file's
    content as ``bytes``. ``annotation`` (the declared type, ``Annotated``
    unwrapped), ``marker`` (the ``Query()``... object, or None) and
    ``constraints`` (the marker's and ``Annotated``'s checks, merged) are kept
    for the OpenAPI generator only; no request reads them.
    """

    __slots__ = (
        "name", "key", "raw_key", "loc", "convert", "required", "default", "default_factory",
        "copy_default", "many", "embed", "fields", "from_form", "reads_file",
        "annotation", "marker", "constraints",
    )

    def __init__(self, name: str, location: str, key: str, convert: Converter | None, *,
                 required: bool, default: Any, default_factory: Callable[[], Any] | None,
                 many: bool, embed: bool, loc_key: str | None = None,
                 fields: tuple[ModelField, ...] | None = None, from_form: bool = False,
                 reads_file: bool = False, annotation: Any = Any, marker: Any = None,
                 constraints: Any = None) -> None:
        self.name = name
        self.key = key
        self.raw_key = key.encode("latin-1") if location == "header" else b""
        self.loc: tuple[str, ...] = (location, loc_key if loc_key is not None else key)
        self.convert = convert
        self.required = required
        self.default = default
        self.default_factory = default_factory
        # FastAPI copies mutable defaults so one request cannot change the next's.
        self.copy_default = isinstance(default, list | dict | set)
        self.many = many
        self.embed = embed
        self.fields = fields
        if fields is not None:
            self.loc = (location,)  # the model's errors name the field
        self.from_form = from_form
        self.reads_file = reads_file
        self.annotation = annotation
        self.marker = marker  # a params.Param (typed Any: plan does not import params)
        self.constraints = constraints  # a params.Constraints, or None

    def default_value(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        if self.copy_default:
            return copy.deepcopy(self.default)
        return self.default

    def __repr__(self) -> str:
        return f"<ParamPlan {self.name} from {self.loc}>"


class DependencyPlan:
    """``name=Depends(call)``; ``name`` is None for ``dependencies=[...]`` entries.

    ``own_scopes`` are the OAuth2 scopes a ``Security(call, scopes=[...])``
    adds on this edge; ``cache_by_scopes`` says the dependency's value depends
    on the scopes in force (FastAPI: it or something below it takes
    ``SecurityScopes``, names scopes, or is a security scheme), so its cache
    key includes them. ``closes_early``: ``Depends(..., scope="function")``.
    """

    __slots__ = ("name", "call", "plan", "use_cache", "own_scopes", "cache_by_scopes",
                 "closes_early")

    def __init__(self, name: str | None, call: Callable[..., Any], plan: CallPlan,
                 use_cache: bool, own_scopes: tuple[str, ...] = (),
                 closes_early: bool = False) -> None:
        self.name = name
        self.call = call
        self.plan = plan
        self.use_cache = use_cache
        self.own_scopes = own_scopes
        self.cache_by_scopes = bool(own_scopes) or plan.uses_scopes
        self.closes_early = closes_early


class CallPlan:
    """What to pass to one callable (an endpoint or a dependency)."""

    __slots__ = (
        "call", "name", "kind", "context", "path", "query", "header", "cookie", "models", "body",
        "request_names", "tasks_names", "response_names", "scopes_names", "dependencies",
        "uses_scopes",
    )

    def __init__(self, call: Callable[..., Any], name: str, kind: Kind) -> None:
        self.call = call
        self.name = name
        self.kind = kind
        # For generator dependencies: call(**kwargs) as a context manager.
        self.context: Callable[..., Any] | None = None
        if kind is Kind.ASYNC_GEN:
            self.context = asynccontextmanager(call)
        elif kind is Kind.SYNC_GEN:
            self.context = contextmanager(call)
        self.path: tuple[ParamPlan, ...] = ()
        self.query: tuple[ParamPlan, ...] = ()
        self.header: tuple[ParamPlan, ...] = ()
        self.cookie: tuple[ParamPlan, ...] = ()
        # Query/Header/Cookie parameter models, apart so the loops above stay lean.
        self.models: tuple[ParamPlan, ...] = ()
        self.body: tuple[ParamPlan, ...] = ()
        self.request_names: tuple[str, ...] = ()
        self.tasks_names: tuple[str, ...] = ()
        self.response_names: tuple[str, ...] = ()
        self.scopes_names: tuple[str, ...] = ()  # SecurityScopes parameters
        self.dependencies: tuple[DependencyPlan, ...] = ()
        self.uses_scopes = False  # see DependencyPlan.cache_by_scopes

    def walk(self) -> list[CallPlan]:
        """This plan and every plan below it, each once."""
        seen: dict[int, CallPlan] = {}
        pending = [self]
        while pending:
            plan = pending.pop()
            if id(plan) not in seen:
                seen[id(plan)] = plan
                pending.extend(dep.plan for dep in reversed(plan.dependencies))
        return list(seen.values())

    def __repr__(self) -> str:
        return f"<CallPlan {self.name} ({self.kind.value})>"


class EndpointPlan:
    """The endpoint's plan plus facts about its whole dependency tree.

    ``needs_state`` says whether a request needs a ``RequestState`` (the
    dependency cache, the exit stack, the injected tasks and Response): the
    ``FULL`` and ``TASKS`` modes do, so the other two allocate nothing for it.
    ``call_without_args`` returns the endpoint's awaitable in the ``NO_PARAMS``
    mode (``call.caller_without_args`` chose it), ``call_with_kwargs`` in the
    others (``call.call_plan``, or ``call.call_endpoint`` when ``streams``:
    the endpoint is a (sync or async) generator function, and calling it gives
    the generator, whose items the response streams).
    """

    __slots__ = (
        "root", "mode", "reads_body", "reads_form", "needs_state", "call_without_args",
        "call_with_kwargs", "streams",
    )

    def __init__(self, root: CallPlan, call_without_args: Callable[[], Awaitable[Any]],
                 call_with_kwargs: Callable[[CallPlan, dict[str, Any], Any], Awaitable[Any]],
                 *, streams: bool) -> None:
        self.root = root
        self.call_without_args = call_without_args
        self.call_with_kwargs = call_with_kwargs
        self.streams = streams
        plans = root.walk()
        body = [param for plan in plans for param in plan.body]
        # FastAPI: when any body parameter is a Form() or File(), the body is a form
        # and every body parameter is one of its fields, except a form model, which
        # takes the whole form.
        self.reads_form = any(param.from_form for param in body)
        if self.reads_form:
            for param in body:
                if param.fields is not None:
                    param.loc = ("body",)
                else:
                    param.embed = True
        # FastAPI: a single body parameter *is* the body, unless embed=True;
        # with several, the body is an object keyed by their names.
        elif len(body) == 1 and not body[0].embed:
            body[0].loc = ("body",)  # errors point into the body itself
        else:
            for param in body:
                param.embed = True
        self.reads_body = bool(body)
        if root.dependencies or body or any(
            plan.response_names or plan.scopes_names for plan in plans
        ):
            self.mode = Mode.FULL
        elif root.tasks_names:  # the handler's own BackgroundTasks, the common case
            self.mode = Mode.TASKS
        elif (root.path or root.query or root.header or root.cookie or root.models
              or root.request_names):
            self.mode = Mode.SIMPLE
        else:
            self.mode = Mode.NO_PARAMS
        self.needs_state = self.mode is Mode.FULL or self.mode is Mode.TASKS
