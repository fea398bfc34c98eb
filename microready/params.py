"""Parameter markers: ``Query``, ``Path``, ``Header``, ``Cookie``, ``Body`` and ``Depends``.

They are used exactly as in FastAPI, as a default value or inside ``Annotated``::

    async def read_items(q: Annotated[str | None, Query(max_length=50)] = None): ...
    async def read_items(q: str | None = Query(default=None, max_length=50)): ...
    async def read_items(commons: Annotated[dict, Depends(common_parameters)]): ...

A marker only describes where a value comes from and what it must satisfy;
``_signature`` reads the markers once, when the route is registered. The
functions return ``Any`` (like FastAPI's) so that ``q: str = Query("x")``
type-checks; the objects they build are the classes below.

Documentation-only options (``title``, ``description``, ``examples``,
``deprecated``, ``include_in_schema``...) are accepted so that FastAPI code runs
unchanged; microready has no OpenAPI generator, so they are only stored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "Body",
    "BodyParam",
    "Constraints",
    "Cookie",
    "CookieParam",
    "Dependency",
    "Depends",
    "Header",
    "HeaderParam",
    "Param",
    "Path",
    "PathParam",
    "Query",
    "QueryParam",
    "REQUIRED",
]


class _Required:
    """The default of a parameter that has none: the client must send it."""

    _instance: ClassVar[_Required | None] = None

    def __new__(cls) -> _Required:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REQUIRED"

    def __reduce__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True, slots=True)
class Constraints:
    """Value checks applied after conversion, with pydantic's error types and messages."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    def __bool__(self) -> bool:
        return any(
            value is not None
            for value in (
                self.gt, self.ge, self.lt, self.le, self.multiple_of,
                self.min_length, self.max_length, self.pattern,
            )
        )


class Param:
    """Where a parameter is read from (``location``), its default and its checks."""

    location: ClassVar[str] = ""

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        regex: str | None = None,
        examples: list[Any] | None = None,
        example: Any = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        json_schema_extra: dict[str, Any] | None = None,
    ) -> None:
        if default is not REQUIRED and default is not ... and default_factory is not None:
            raise TypeError(
                f"{type(self).__name__}() takes a default or a default_factory, not both: "
                f"{self._marker_name}(default_factory=list) or {self._marker_name}(default=[...])"
            )
        if alias is not None and not isinstance(alias, str):
            raise TypeError(f"alias must be a str, got {type(alias).__name__}")
        if pattern is not None and regex is not None:
            raise TypeError("pass pattern= only (regex= is its old name)")
        # ``...`` (Ellipsis) is FastAPI's spelling of "required".
        self.default = REQUIRED if default is ... else default
        self.default_factory = default_factory
        self.alias = alias
        self.title = title
        self.description = description
        self.constraints = Constraints(
            gt, ge, lt, le, multiple_of, min_length, max_length,
            pattern if pattern is not None else regex,
        )
        self.examples = examples
        self.example = example
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.json_schema_extra = json_schema_extra

    @property
    def _marker_name(self) -> str:
        return self.location.capitalize() if self.location else "Param"

    @property
    def has_default(self) -> bool:
        return self.default is not REQUIRED or self.default_factory is not None

    def __repr__(self) -> str:
        default = "" if self.default is REQUIRED else repr(self.default)
        return f"{self._marker_name}({default})"


class QueryParam(Param):
    location = "query"


class PathParam(Param):
    location = "path"


class HeaderParam(Param):
    location = "header"

    def __init__(self, default: Any = REQUIRED, *, convert_underscores: bool = True,
                 **options: Any) -> None:
        super().__init__(default, **options)
        self.convert_underscores = convert_underscores


class CookieParam(Param):
    location = "cookie"


class BodyParam(Param):
    location = "body"

    def __init__(self, default: Any = REQUIRED, *, embed: bool | None = None,
                 media_type: str = "application/json", **options: Any) -> None:
        super().__init__(default, **options)
        self.embed = embed
        self.media_type = media_type


class Dependency:
    """``Depends(fn)``: call ``fn`` (with its own parameters solved) and pass its result."""

    __slots__ = ("dependency", "use_cache")

    def __init__(self, dependency: Callable[..., Any] | None = None, *,
                 use_cache: bool = True) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(_not_callable_message(dependency))
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", None) or repr(self.dependency)
        cache = "" if self.use_cache else ", use_cache=False"
        return f"Depends({'' if self.dependency is None else name}{cache})"


def _not_callable_message(value: object) -> str:
    if inspect.iscoroutine(value) or inspect.isgenerator(value):
        name = value.__name__
        value.close()  # silences "never awaited"; it was a mistake anyway
        return (
            f"Depends() needs the function, not the result of calling it:\n"
            f"    wrong: Depends({name}())\n"
            f"    right: Depends({name})"
        )
    return (
        f"Depends() needs a function or class to call, not {type(value).__name__} {value!r}:\n"
        f"    right: Depends(get_db)"
    )


# -- the functions users call; typed ``-> Any`` like FastAPI's, so that
# -- ``q: str = Query("x")`` type-checks.


def Query(
    default: Any = REQUIRED,
    *,
    default_factory: Callable[[], Any] | None = None,
    alias: str | None = None,
    title: str | None = None,
    description: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    regex: str | None = None,
    examples: list[Any] | None = None,
    example: Any = None,
    deprecated: bool | None = None,
    include_in_schema: bool = True,
    json_schema_extra: dict[str, Any] | None = None,
) -> Any:
    """A query-string parameter: ``q: str | None = Query(default=None, max_length=50)``."""
    return QueryParam(
        default, default_factory=default_factory, alias=alias, title=title,
        description=description, gt=gt, ge=ge, lt=lt, le=le, multiple_of=multiple_of,
        min_length=min_length, max_length=max_length, pattern=pattern, regex=regex,
        examples=examples, example=example, deprecated=deprecated,
        include_in_schema=include_in_schema, json_schema_extra=json_schema_extra,
    )


def Path(
    default: Any = REQUIRED,
    *,
    alias: str | None = None,
    title: str | None = None,
    description: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    regex: str | None = None,
    examples: list[Any] | None = None,
    example: Any = None,
    deprecated: bool | None = None,
    include_in_schema: bool = True,
    json_schema_extra: dict[str, Any] | None = None,
) -> Any:
    """A path parameter with checks: ``item_id: Annotated[int, Path(ge=1)]``.

    Path parameters are always required; a default is ignored, as in FastAPI.
    """
    return PathParam(
        default, alias=alias, title=title, description=description, gt=gt, ge=ge, lt=lt,
        le=le, multiple_of=multiple_of, min_length=min_length, max_length=max_length,
        pattern=pattern, regex=regex, examples=examples, example=example,
        deprecated=deprecated, include_in_schema=include_in_schema,
        json_schema_extra=json_schema_extra,
    )


def Header(
    default: Any = REQUIRED,
    *,
    default_factory: Callable[[], Any] | None = None,
    alias: str | None = None,
    convert_underscores: bool = True,
    title: str | None = None,
    description: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    regex: str | None = None,
    examples: list[Any] | None = None,
    example: Any = None,
    deprecated: bool | None = None,
    include_in_schema: bool = True,
    json_schema_extra: dict[str, Any] | None = None,
) -> Any:
    """A request header: ``user_agent: str | None = Header(None)`` reads ``User-Agent``.

    Underscores in the parameter's name become hyphens unless
    ``convert_underscores=False``; an ``alias`` is used as it is.
    """
    return HeaderParam(
        default, convert_underscores=convert_underscores, default_factory=default_factory,
        alias=alias, title=title, description=description, gt=gt, ge=ge, lt=lt, le=le,
        multiple_of=multiple_of, min_length=min_length, max_length=max_length,
        pattern=pattern, regex=regex, examples=examples, example=example,
        deprecated=deprecated, include_in_schema=include_in_schema,
        json_schema_extra=json_schema_extra,
    )


def Cookie(
    default: Any = REQUIRED,
    *,
    default_factory: Callable[[], Any] | None = None,
    alias: str | None = None,
    title: str | None = None,
    description: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    regex: str | None = None,
    examples: list[Any] | None = None,
    example: Any = None,
    deprecated: bool | None = None,
    include_in_schema: bool = True,
    json_schema_extra: dict[str, Any] | None = None,
) -> Any:
    """A cookie: ``ads_id: str | None = Cookie(None)``."""
    return CookieParam(
        default, default_factory=default_factory, alias=alias, title=title,
        description=description, gt=gt, ge=ge, lt=lt, le=le, multiple_of=multiple_of,
        min_length=min_length, max_length=max_length, pattern=pattern, regex=regex,
        examples=examples, example=example, deprecated=deprecated,
        include_in_schema=include_in_schema, json_schema_extra=json_schema_extra,
    )


def Body(
    default: Any = REQUIRED,
    *,
    default_factory: Callable[[], Any] | None = None,
    embed: bool | None = None,
    media_type: str = "application/json",
    alias: str | None = None,
    title: str | None = None,
    description: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    regex: str | None = None,
    examples: list[Any] | None = None,
    example: Any = None,
    deprecated: bool | None = None,
    include_in_schema: bool = True,
    json_schema_extra: dict[str, Any] | None = None,
) -> Any:
    """A value from the JSON body: ``importance: int = Body()``.

    With one body parameter the whole body is its value; ``embed=True`` (or a
    second body parameter) makes the body an object keyed by parameter name.
    """
    return BodyParam(
        default, embed=embed, media_type=media_type, default_factory=default_factory,
        alias=alias, title=title, description=description, gt=gt, ge=ge, lt=lt, le=le,
        multiple_of=multiple_of, min_length=min_length, max_length=max_length,
        pattern=pattern, regex=regex, examples=examples, example=example,
        deprecated=deprecated, include_in_schema=include_in_schema,
        json_schema_extra=json_schema_extra,
    )


def Depends(
    dependency: Callable[..., Any] | None = None, *, use_cache: bool = True
) -> Any:
    """Inject what ``dependency`` returns (or yields), solving its own parameters first.

    ``Depends()`` with no argument, in ``Annotated[Cls, Depends()]``, calls the
    annotated class. A dependency used twice in one request runs once unless
    ``use_cache=False``.
    """
    return Dependency(dependency, use_cache=use_cache)
