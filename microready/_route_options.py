"""The keywords a route and a router take, and their checks, made once at registration.

``RouteKeywords`` lists every keyword of ``add_api_route`` and the verb
decorators (written once, so each decorator is one line and mypy still checks
every keyword); the helpers refuse, with the right call beside the wrong one,
what FastAPI would accept silently or fail on later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, TypeVar, cast

from ._fastapi_keywords import ROUTE_NOT_YET
from .params import Dependency
from .responses import Response

__all__ = [
    "FROM_ANNOTATION",
    "MODEL_OPTIONS",
    "ROUTE_KEYWORDS",
    "RouteKeywords",
    "RouteOptions",
    "check_dependencies",
    "check_prefix",
    "check_route_class",
    "merge_route_options",
    "model_options",
    "refuse_unknown_keywords",
]

RouteT = TypeVar("RouteT", bound=type)


class RouteOptions(TypedDict, total=False):
    """Options every route decorator takes besides ``status_code`` and friends.

    These only describe the route (FastAPI uses them for OpenAPI, which
    microready does not generate); they are kept on ``Route.metadata``.
    """

    tags: list[Any] | None
    summary: str | None
    description: str | None
    response_description: str
    responses: dict[Any, Any] | None
    deprecated: bool | None
    operation_id: str | None
    include_in_schema: bool
    callbacks: list[Any] | None
    openapi_extra: dict[str, Any] | None
    generate_unique_id_function: Any


class RouteKeywords(RouteOptions, total=False):
    """Every keyword of ``add_api_route``, ``api_route`` and the verb decorators.

    Written once, so each decorator is one line and an editor still completes
    (and mypy still checks) every keyword. A keyword not listed here is refused
    with a TypeError that lists these.
    """

    status_code: int | None
    response_class: type[Response] | None
    dependencies: Sequence[Any] | None
    name: str | None
    strict_content_type: bool | None
    # The response model (default: the return annotation; None: no model) and its options.
    response_model: Any
    response_model_include: Any
    response_model_exclude: Any
    response_model_by_alias: bool
    response_model_exclude_unset: bool
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool


ROUTE_KEYWORDS: frozenset[str] = RouteKeywords.__optional_keys__ | RouteKeywords.__required_keys__
MODEL_OPTIONS = tuple(key for key in RouteKeywords.__optional_keys__
                      if key.startswith("response_model_"))
# response_model's default: take the endpoint's return annotation (FastAPI 0.89).
FROM_ANNOTATION: Any = object()


def model_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``response_model_exclude_unset=True`` -> ``exclude_unset=True``, for ResponseModel."""
    return {key.removeprefix("response_model_"): value for key, value in options.items()}


def refuse_unknown_keywords(options: Mapping[str, Any], label: str, path: str) -> None:
    # Accepting a keyword we do not act on would hide a typo, or a FastAPI option
    # microready lacks, behind a route that seems to work.
    for name in options:
        if name in ROUTE_NOT_YET:
            raise TypeError(
                f"route {path!r} on {label}: {name}= is not supported by microready yet; "
                f"remove it ({ROUTE_NOT_YET[name]})"
            )
    unknown = sorted(set(options) - ROUTE_KEYWORDS)
    if unknown:
        raise TypeError(
            f"route {path!r} on {label} got keyword(s) it does not support: "
            f"{', '.join(unknown)}; it takes methods, {', '.join(sorted(ROUTE_KEYWORDS))} "
            f"(README.md, 'Differences from FastAPI', lists what is not there yet)"
        )


def check_dependencies(dependencies: Sequence[Any] | None, where: str) -> tuple[Dependency, ...]:
    if dependencies is None:
        return ()
    if isinstance(dependencies, Dependency) or not isinstance(dependencies, Sequence):
        raise TypeError(
            f"{where}: dependencies= takes a list:\n"
            f"    right: dependencies=[Depends(verify_token)]"
        )
    checked: list[Dependency] = []
    for item in dependencies:
        if not isinstance(item, Dependency):
            name = getattr(item, "__name__", None) or repr(item)
            raise TypeError(
                f"{where}: each item of dependencies= must be wrapped in Depends():\n"
                f"    wrong: dependencies=[{name}]\n"
                f"    right: dependencies=[Depends({name})]"
            )
        if item.dependency is None:
            raise TypeError(
                f"{where}: Depends() in dependencies= needs the function to call, "
                "e.g. dependencies=[Depends(verify_token)]"
            )
        checked.append(item)
    return tuple(checked)


def check_prefix(prefix: str, where: str) -> str:
    if not isinstance(prefix, str):
        raise TypeError(f"{where}: prefix must be a str such as '/items'")
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        right = "/" + prefix.strip("/")
        raise ValueError(
            f"{where}: a prefix starts with '/' and does not end with one:\n"
            f"    wrong: prefix={prefix!r}\n"
            f"    right: prefix={right!r}"
        )
    return prefix


def check_route_class(route_class: Any, base: RouteT, where: str) -> RouteT:
    """``route_class`` if it is ``base`` (``Route``) or a subclass of it."""
    if not (isinstance(route_class, type) and issubclass(route_class, base)):
        raise TypeError(
            f"{where}: route_class must be microready.routing.Route (APIRoute) or a "
            f"subclass of it, not {route_class!r}:\n"
            f"    right: class TimedRoute(APIRoute): ...; Router(route_class=TimedRoute)"
        )
    return cast(RouteT, route_class)


def merge_route_options(outer: RouteOptions, inner: RouteOptions) -> RouteOptions:
    """A route's options (``inner``) under its router's (``outer``), as FastAPI
    combines them: tags and callbacks add up, responses merge (the route's win),
    either's ``deprecated`` counts, ``include_in_schema`` needs both."""
    merged: RouteOptions = {**outer, **inner}
    tags = [*(outer.get("tags") or []), *(inner.get("tags") or [])]
    callbacks = [*(outer.get("callbacks") or []), *(inner.get("callbacks") or [])]
    merged.pop("tags", None)
    merged.pop("callbacks", None)
    if tags:
        merged["tags"] = tags
    if callbacks:
        merged["callbacks"] = callbacks
    if outer.get("responses") or inner.get("responses"):
        merged["responses"] = {**(outer.get("responses") or {}), **(inner.get("responses") or {})}
    else:
        merged.pop("responses", None)
    if outer.get("deprecated") or inner.get("deprecated"):
        merged["deprecated"] = True
    if "include_in_schema" in merged:
        merged["include_in_schema"] = bool(outer.get("include_in_schema", True)
                                           and inner.get("include_in_schema", True))
    if inner.get("generate_unique_id_function") is None and outer.get(
            "generate_unique_id_function") is not None:
        merged["generate_unique_id_function"] = outer["generate_unique_id_function"]
    return merged
