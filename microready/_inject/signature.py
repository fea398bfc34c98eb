"""Read a handler's signature once, at registration, into a plan of what to inject.

``plan_endpoint`` inspects the endpoint and, recursively, every dependency it
names, and records for each parameter where its value comes from (path,
query, header, cookie, body, a dependency, or an injected object) and the
converter that turns the raw value into the declared type. ``dependencies``
then follows that plan for every request without calling ``inspect`` again.

The rules are FastAPI's:

* a name that appears in the path template is a path parameter;
* ``Request``, ``BackgroundTasks`` and ``Response`` (plain, in ``Annotated``, or
  a subclass) are injected; every ``BackgroundTasks`` of one request is the
  same object, and so is every ``Response``;
* ``Depends(fn)`` as a default or inside ``Annotated`` is a dependency;
* a marker (``Query()``, ``Header()``, ``Cookie()``, ``Body()``, ``Path()``) says
  where the value comes from;
* otherwise a record type (dataclass, TypedDict, pydantic model), a mapping
  or a list of records is read from the JSON body, and anything else from the
  query string (``list[X]`` from repeated keys).

A mistake found here raises ``TypeError`` or ``ValueError`` at once, naming
the route and the parameter and showing the right spelling.
"""

from __future__ import annotations

import copy
import enum
import inspect
import types
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, Union, get_args, get_origin

from .._convert import (
    Converter,
    UnsupportedType,
    compile_converter,
    constraints_from_metadata,
    is_body_type,
    type_name,
)
from .._utils import call_target
from ..background.tasks import BackgroundTasks
from ..params import (
    REQUIRED,
    BodyParam,
    Constraints,
    Dependency,
    HeaderParam,
    Param,
    PathParam,
)
from ..requests import Request
from ..responses import Response

__all__ = [
    "CallPlan",
    "DependencyPlan",
    "EndpointPlan",
    "Kind",
    "Mode",
    "ParamPlan",
    "plan_endpoint",
]


class Kind(enum.Enum):
    """How a callable is called, decided once."""

    ASYNC = "async def"
    SYNC = "def (run in a worker thread)"
    ASYNC_GEN = "async generator (async with)"
    SYNC_GEN = "generator (with, in a worker thread)"


class Mode(enum.Enum):
    """How much work a request to an endpoint needs, so the common cases stay cheap."""

    NO_PARAMS = "call it with nothing"
    SIMPLE = "path/query/header/cookie/Request only"
    FULL = "dependencies, body, background tasks or a Response parameter"


class ParamPlan:
    """One parameter read from the request: where, under which key, converted how."""

    __slots__ = (
        "name", "key", "raw_key", "loc", "convert", "required", "default", "default_factory",
        "copy_default", "many", "embed",
    )

    def __init__(self, name: str, location: str, key: str, convert: Converter | None, *,
                 required: bool, default: Any, default_factory: Callable[[], Any] | None,
                 many: bool, embed: bool, loc_key: str | None = None) -> None:
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

    def default_value(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        if self.copy_default:
            return copy.deepcopy(self.default)
        return self.default

    def __repr__(self) -> str:
        return f"<ParamPlan {self.name} from {self.loc}>"


class DependencyPlan:
    """``name=Depends(call)``; ``name`` is None for ``dependencies=[...]`` entries."""

    __slots__ = ("name", "call", "plan", "use_cache")

    def __init__(self, name: str | None, call: Callable[..., Any], plan: CallPlan,
                 use_cache: bool) -> None:
        self.name = name
        self.call = call
        self.plan = plan
        self.use_cache = use_cache


class CallPlan:
    """What to pass to one callable (an endpoint or a dependency)."""

    __slots__ = (
        "call", "name", "kind", "context", "path", "query", "header", "cookie", "body",
        "request_names", "tasks_names", "response_names", "dependencies",
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
        self.body: tuple[ParamPlan, ...] = ()
        self.request_names: tuple[str, ...] = ()
        self.tasks_names: tuple[str, ...] = ()
        self.response_names: tuple[str, ...] = ()
        self.dependencies: tuple[DependencyPlan, ...] = ()

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
    """The endpoint's plan plus facts about its whole dependency tree."""

    __slots__ = ("root", "mode", "reads_body")

    def __init__(self, root: CallPlan) -> None:
        self.root = root
        plans = root.walk()
        body = [param for plan in plans for param in plan.body]
        # FastAPI: a single body parameter *is* the body, unless embed=True;
        # with several, the body is an object keyed by their names.
        if len(body) == 1 and not body[0].embed:
            body[0].loc = ("body",)  # errors point into the body itself
        else:
            for param in body:
                param.embed = True
        self.reads_body = bool(body)
        if root.dependencies or body or any(
            plan.tasks_names or plan.response_names for plan in plans
        ):
            self.mode = Mode.FULL
        elif root.path or root.query or root.header or root.cookie or root.request_names:
            self.mode = Mode.SIMPLE
        else:
            self.mode = Mode.NO_PARAMS


def _callable_name(call: Any) -> str:
    return str(getattr(call, "__qualname__", None) or getattr(call, "__name__", None) or call)


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


def _strip_optional(tp: Any) -> Any:
    if get_origin(tp) is Annotated:
        return _strip_optional(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _strip_optional(members[0])
    return tp


_MANY_ORIGINS = frozenset({list, tuple, set, frozenset, Sequence})


def _is_many(tp: Any) -> bool:
    """``list[str]``, ``set[int] | None``...: read every value of a repeated key."""
    inner = _strip_optional(tp)
    return get_origin(inner) in _MANY_ORIGINS or inner in (list, tuple, set, frozenset)


def _merge(first: Constraints, second: Constraints) -> Constraints:
    values = {}
    for field in Constraints.__dataclass_fields__:
        value = getattr(first, field)
        values[field] = value if value is not None else getattr(second, field)
    return Constraints(**values)


_MARKER_EXAMPLE = {
    "query": "Query()", "path": "Path()", "header": "Header()", "cookie": "Cookie()",
    "body": "Body()",
}


class _Planner:
    """Plans one endpoint and its dependency tree (sub-plans are shared within it)."""

    def __init__(self, path_names: frozenset[str], where: str) -> None:
        self.path_names = path_names
        self.where = where
        self.memo: dict[Any, CallPlan] = {}
        self.chain: list[Any] = []  # the dependencies being planned, to report cycles

    def fail(self, plan: CallPlan, name: str, problem: str) -> TypeError:
        return TypeError(f"{self.where}: parameter {name!r} of {plan.name}(): {problem}")

    def plan(self, call: Callable[..., Any], *, extra: Sequence[Dependency] = (),
             endpoint: bool = False) -> CallPlan:
        key: Any = call
        if not endpoint:
            try:
                return self.memo[key]
            except KeyError:
                pass
            except TypeError:  # an unhashable callable object: plan it every time
                key = None
            if any(c is call for c in self.chain):
                cycle = " -> ".join(_callable_name(c) for c in [*self.chain, call])
                raise TypeError(f"{self.where}: dependency cycle: {cycle}")
        name = _callable_name(call)
        plan = CallPlan(call, name, call_kind(call))
        self.chain.append(call)
        try:
            self._fill(plan, call, extra)
        finally:
            self.chain.pop()
        if not endpoint and key is not None:
            self.memo[key] = plan
        return plan

    def _fill(self, plan: CallPlan, call: Callable[..., Any], extra: Sequence[Dependency]) -> None:
        try:
            signature = inspect.signature(call, eval_str=True)
        except NameError as exc:
            raise TypeError(
                f"{self.where}: cannot resolve the annotations of {plan.name}(): {exc}. "
                "Annotations are evaluated in the function's module, so define the types "
                "they name at module level."
            ) from None
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{self.where}: cannot read the signature of {plan.name}: {exc}"
            ) from None
        found: dict[str, list[Any]] = {
            "path": [], "query": [], "header": [], "cookie": [], "body": [],
            "request": [], "tasks": [], "response": [], "deps": [],
        }
        for dependency in extra:
            assert dependency.dependency is not None  # routing checked it; narrows for mypy
            found["deps"].append(DependencyPlan(
                None, dependency.dependency, self.plan(dependency.dependency),
                dependency.use_cache,
            ))
        for parameter in signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue  # *args and **kwargs receive nothing, as in FastAPI
            if parameter.kind is parameter.POSITIONAL_ONLY:
                raise self.fail(
                    plan, parameter.name,
                    "positional-only parameters cannot be filled by name; remove the '/'",
                )
            self._parameter(plan, parameter, found)
        plan.path = tuple(found["path"])
        plan.query = tuple(found["query"])
        plan.header = tuple(found["header"])
        plan.cookie = tuple(found["cookie"])
        plan.body = tuple(found["body"])
        plan.request_names = tuple(found["request"])
        plan.tasks_names = tuple(found["tasks"])
        plan.response_names = tuple(found["response"])
        plan.dependencies = tuple(found["deps"])

    def _parameter(self, plan: CallPlan, parameter: inspect.Parameter,
                   found: dict[str, list[Any]]) -> None:
        name = parameter.name
        annotation: Any = parameter.annotation
        if annotation is inspect.Parameter.empty:
            annotation = Any
        default: Any = REQUIRED if parameter.default is inspect.Parameter.empty else (
            parameter.default
        )
        base: Any = annotation
        extras: tuple[Any, ...] = ()
        if get_origin(annotation) is Annotated:
            base, *rest = get_args(annotation)
            extras = tuple(rest)
        markers: list[Param | Dependency] = [
            m for m in extras if isinstance(m, Param | Dependency)
        ]
        others: list[Any] = [m for m in extras if not isinstance(m, Param | Dependency)]
        if len(markers) > 1:
            raise self.fail(plan, name, f"Annotated holds {len(markers)} markers "
                            f"({', '.join(map(repr, markers))}); keep one")
        marker: Param | Dependency | None = markers[0] if markers else None
        if isinstance(default, Param | Dependency):
            if marker is not None:
                raise self.fail(
                    plan, name,
                    f"{marker!r} is in Annotated and {default!r} is the default; keep one:\n"
                    f"    right: {name}: Annotated[..., {marker!r}] = <default value>",
                )
            marker = default
            default = REQUIRED if isinstance(marker, Dependency) else marker.default
        elif isinstance(marker, Param) and marker.default is not REQUIRED:
            kind = type(marker).__name__.removesuffix("Param")
            raise self.fail(
                plan, name,
                f"the default cannot be set inside Annotated; set it with '=':\n"
                f"    wrong: {name}: Annotated[..., {kind}({marker.default!r})]\n"
                f"    right: {name}: Annotated[..., {kind}()] = {marker.default!r}",
            )

        if isinstance(marker, Dependency):
            self._dependency(plan, name, marker, base, found)
            return
        if isinstance(base, type) and marker is None:
            if issubclass(base, Request):
                found["request"].append(name)
                return
            if issubclass(base, BackgroundTasks):
                found["tasks"].append(name)
                return
            if issubclass(base, Response):
                found["response"].append(name)
                return

        location = self._location(plan, name, marker, base)
        key = name
        if marker is not None and marker.alias is not None:
            key = marker.alias
        loc_key: str | None = None
        if location == "header":
            if marker is None or marker.alias is None:
                convert_underscores = not isinstance(marker, HeaderParam) or (
                    marker.convert_underscores
                )
                key = name.replace("_", "-") if convert_underscores else name
            loc_key = key
            key = key.lower()
        if location == "path" and key not in self.path_names:
            raise self.fail(
                plan, name,
                f"it is a Path() parameter but the route's path has no {{{key}}}; add it to "
                f"the path, e.g. \"/items/{{{key}}}\", or read it with Query()",
            )
        constraints = constraints_from_metadata(others)
        if isinstance(marker, Param):
            constraints = _merge(marker.constraints, constraints)
        many = location in ("query", "header") and _is_many(base)
        if location in ("query", "header", "cookie", "path") and is_body_type(base):
            raise self.fail(
                plan, name,
                f"{type_name(base)} cannot be read from the {location}; records and mappings "
                f"come from the JSON body: drop the {_MARKER_EXAMPLE[location]} marker or use "
                f"Body()",
            )
        try:
            convert = self._converter(base, constraints, location)
        except UnsupportedType as exc:
            raise self.fail(plan, name, str(exc)) from None
        default_factory = marker.default_factory if isinstance(marker, Param) else None
        required = location == "path" or (default is REQUIRED and default_factory is None)
        embed = bool(marker.embed) if isinstance(marker, BodyParam) else False
        found[location].append(ParamPlan(
            name, location, key, convert, required=required,
            default=None if default is REQUIRED else default, default_factory=default_factory,
            many=many, embed=embed, loc_key=loc_key,
        ))

    def _location(self, plan: CallPlan, name: str, marker: Param | None, base: Any) -> str:
        if marker is None:
            if name in self.path_names:
                return "path"
            return "body" if is_body_type(base) else "query"
        location = marker.location
        if name in self.path_names and not isinstance(marker, PathParam):
            raise self.fail(
                plan, name,
                f"{{{name}}} is in the route's path, so it is a path parameter, not "
                f"{_MARKER_EXAMPLE[location]}:\n"
                f"    right: {name}: Annotated[..., Path()]",
            )
        return location

    def _converter(self, base: Any, constraints: Constraints, location: str) -> Converter | None:
        if location != "body" and not constraints and _strip_optional(base) in (str, Any):
            return None  # strings from the request pass through as they are
        return compile_converter(base, constraints)

    def _dependency(self, plan: CallPlan, name: str, marker: Dependency, base: Any,
                    found: dict[str, list[Any]]) -> None:
        call = marker.dependency
        if call is None:
            if not callable(base) or base is Any:
                raise self.fail(
                    plan, name,
                    "Depends() with no argument calls the parameter's annotated class; "
                    "annotate it with that class:\n"
                    f"    right: {name}: Annotated[CommonQueryParams, Depends()]",
                )
            call = base
        found["deps"].append(DependencyPlan(name, call, self.plan(call), marker.use_cache))


def plan_endpoint(endpoint: Callable[..., Any], path_names: frozenset[str],
                  dependencies: Sequence[Dependency], where: str) -> EndpointPlan:
    """Plan ``endpoint`` for a route whose path has ``path_names``.

    ``dependencies`` (from the app, routers and the decorator) run first, in
    order, and their values are discarded.
    """
    planner = _Planner(path_names, where)
    root = planner.plan(endpoint, extra=dependencies, endpoint=True)
    if root.kind in (Kind.ASYNC_GEN, Kind.SYNC_GEN):
        raise TypeError(
            f"{where}: {root.name} is a generator; to stream, return a StreamingResponse"
        )
    return EndpointPlan(root)
