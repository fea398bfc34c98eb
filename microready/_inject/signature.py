"""Read a handler's signature once, at registration, into a plan of what to inject.

``plan_endpoint`` inspects the endpoint and, recursively, every dependency it
names, and records for each parameter where its value comes from (path,
query, header, cookie, body, a dependency, or an injected object) and the
converter that turns the raw value into the declared type, in the objects of
``plan``. ``solve`` then follows that plan for every request without calling
``inspect`` again.

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

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any, get_args, get_origin

from .._convert import (
    Converter,
    UnsupportedType,
    compile_converter,
    constraints_from_metadata,
    has_validators,
    is_body_type,
    record_fields,
    type_name,
    with_validators,
)
from .._utils import callable_name
from ..background.tasks import BackgroundTasks
from ..formparsers import require_multipart
from ..params import (
    REQUIRED,
    BodyParam,
    Constraints,
    Dependency,
    FileParam,
    HeaderParam,
    Param,
    PathParam,
    SecurityDependency,
)
from ..requests import Request
from ..responses import Response
from ..security.base import SecurityScopes, is_security_scheme
from ..websockets import WebSocket
from .call import call_endpoint, call_plan, caller_without_args
from .plan import (
    CallPlan,
    DependencyPlan,
    EndpointPlan,
    Kind,
    ModelField,
    ParamPlan,
    call_kind,
)
from .shapes import is_bare_list, is_many, is_upload, item_type, record_type, strip_optional

__all__ = ["plan_dependency", "plan_endpoint"]


def _converts_underscores(marker: Param | None) -> bool:
    """Whether a header parameter's ``_`` become ``-`` (``Header(convert_underscores=...)``)."""
    return not isinstance(marker, HeaderParam) or marker.convert_underscores


def _merge(first: Constraints, second: Constraints) -> Constraints:
    """``first``'s checks, with ``second``'s where ``first`` sets none."""
    values = {}
    for field in dataclasses.fields(Constraints):
        value = getattr(first, field.name)
        values[field.name] = value if value is not None else getattr(second, field.name)
    return Constraints(**values)


_MARKER_EXAMPLE = {
    "query": "Query()", "path": "Path()", "header": "Header()", "cookie": "Cookie()",
    "body": "Body()", "form": "Form()", "file": "File()",
}
_MODEL_LOCATIONS = frozenset({"query", "header", "cookie", "form", "file"})
_FORM_LOCATIONS = frozenset({"form", "file"})
_TEXT_LOCATIONS = frozenset({"query", "header", "cookie", "path"})  # values that are always str


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
                cycle = " -> ".join(callable_name(c) for c in [*self.chain, call])
                raise TypeError(f"{self.where}: dependency cycle: {cycle}")
        name = callable_name(call)
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
            "path": [], "query": [], "header": [], "cookie": [], "models": [], "body": [],
            "request": [], "tasks": [], "response": [], "scopes": [], "deps": [],
        }
        for dependency in extra:
            assert dependency.dependency is not None  # routing checked it; narrows for mypy
            found["deps"].append(self._edge(None, dependency.dependency, dependency))
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
        plan.models = tuple(found["models"])
        plan.body = tuple(found["body"])
        plan.request_names = tuple(found["request"])
        plan.tasks_names = tuple(found["tasks"])
        plan.response_names = tuple(found["response"])
        plan.scopes_names = tuple(found["scopes"])
        plan.dependencies = tuple(found["deps"])
        plan.uses_scopes = bool(plan.scopes_names) or is_security_scheme(call) or any(
            dependency.cache_by_scopes for dependency in plan.dependencies
        )

    def _edge(self, name: str | None, call: Callable[..., Any],
              marker: Dependency) -> DependencyPlan:
        """The plan of ``call`` as the dependency ``marker`` declares it."""
        own_scopes = marker.scopes if isinstance(marker, SecurityDependency) else ()
        closes_early = marker.scope == "function"
        if closes_early and call_kind(call) not in (Kind.ASYNC_GEN, Kind.SYNC_GEN):
            raise TypeError(
                f"{self.where}: Depends({callable_name(call)}, scope=\"function\") is for "
                f"dependencies that yield; {callable_name(call)} returns its value, so there "
                f"is nothing to close: drop scope="
            )
        return DependencyPlan(name, call, self.plan(call), marker.use_cache, own_scopes,
                              closes_early)

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
        if marker is None and is_upload(base):
            marker = FileParam()  # FastAPI: an UploadFile parameter is a File() by its type
        if isinstance(base, type) and marker is None:
            if issubclass(base, Request | WebSocket):  # a WebSocket stands in for the request
                found["request"].append(name)
                return
            if issubclass(base, BackgroundTasks):
                found["tasks"].append(name)
                return
            if issubclass(base, Response):
                found["response"].append(name)
                return
            if issubclass(base, SecurityScopes):
                found["scopes"].append(name)
                return

        location = self._location(plan, name, marker, base)
        from_form = location in _FORM_LOCATIONS
        if from_form:
            require_multipart(f"{self.where}: parameter {name!r} of {plan.name}() is a form field")
        key = name
        if marker is not None and marker.alias is not None:
            key = marker.alias
        loc_key: str | None = None
        if location == "header":
            if marker is None or marker.alias is None:
                key = name.replace("_", "-") if _converts_underscores(marker) else name
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
        record = record_type(base) if location in _MODEL_LOCATIONS else None
        many = record is None and location not in ("path", "cookie", "body") and is_many(base)
        if location in ("query", "header", "cookie", "path") and is_body_type(base) and not (
            (many and is_bare_list(base)) or record is not None
        ):
            raise self.fail(
                plan, name,
                f"{type_name(base)} cannot be read from the {location}; records and mappings "
                f"come from the JSON body: drop the {_MARKER_EXAMPLE[location]} marker or use "
                f"Body(); a parameter model is a dataclass, TypedDict or pydantic model in "
                f"Annotated[Model, {_MARKER_EXAMPLE[location]}]",
            )
        try:
            convert = self._converter(base, constraints, location)
            if has_validators(others):  # pydantic's AfterValidator & co., around the rest
                convert = with_validators(convert, others)
            fields = None if record is None else self._model_fields(record, location, marker)
        except UnsupportedType as exc:
            raise self.fail(plan, name, str(exc)) from None
        default_factory = marker.default_factory if isinstance(marker, Param) else None
        required = location == "path" or (default is REQUIRED and default_factory is None)
        embed = bool(marker.embed) if isinstance(marker, BodyParam) else False
        where_found = location
        if from_form:
            where_found = location = "body"  # FastAPI's errors say ("body", field) for forms too
        elif fields is not None:
            where_found = "models"
        found[where_found].append(ParamPlan(
            name, location, key, convert, required=required,
            default=None if default is REQUIRED else default, default_factory=default_factory,
            many=many, embed=embed, loc_key=loc_key, fields=fields, from_form=from_form,
            reads_file=from_form and item_type(base) is bytes,
            annotation=base, marker=marker, constraints=constraints,
        ))

    @staticmethod
    def _model_fields(record: Any, location: str, marker: Param | None) -> tuple[ModelField, ...]:
        """Where each field of a parameter model is read from (FastAPI 0.115's rules)."""
        fields = []
        for field_name, key, annotation in record_fields(record):
            request_key = key
            if location == "header":
                if key == field_name and _converts_underscores(marker):
                    request_key = key.replace("_", "-")
                request_key = request_key.lower()
            fields.append(ModelField(
                key, request_key, many=location != "cookie" and is_many(annotation),
                reads_file=location in _FORM_LOCATIONS and item_type(annotation) is bytes,
            ))
        return tuple(fields)

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
        if location in _TEXT_LOCATIONS and not constraints and strip_optional(base) in (str, Any):
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
        found["deps"].append(self._edge(name, call, marker))


def plan_endpoint(endpoint: Callable[..., Any], path_names: frozenset[str],
                  dependencies: Sequence[Dependency], where: str) -> EndpointPlan:
    """Plan ``endpoint`` for a route whose path has ``path_names``.

    ``dependencies`` (from the app, routers and the decorator) run first, in
    order, and their values are discarded.
    A generator endpoint is planned like any other (its parameters and
    dependencies are solved per request); ``EndpointPlan.streams`` marks it.
    """
    planner = _Planner(path_names, where)
    root = planner.plan(endpoint, extra=dependencies, endpoint=True)
    streams = root.kind in (Kind.ASYNC_GEN, Kind.SYNC_GEN)
    # Chosen once: only a generator endpoint needs call_endpoint's extra check.
    return EndpointPlan(root, caller_without_args(root),
                        call_endpoint if streams else call_plan, streams=streams)


def plan_dependency(call: Callable[..., Any], path_names: frozenset[str], where: str) -> CallPlan:
    """Plan ``call`` as a dependency of a route whose path has ``path_names``
    (an ``app.dependency_overrides`` replacement, planned on first use)."""
    return _Planner(path_names, where).plan(call)
