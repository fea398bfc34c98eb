"""Parameter markers: ``Query``, ``Path``, ``Header``, ``Cookie``, ``Body``, ``Form``,
``File`` and ``Depends``.

They are used exactly as in FastAPI, as a default value or inside ``Annotated``::

    async def read_items(q: Annotated[str | None, Query(max_length=50)] = None): ...
    async def read_items(q: str | None = Query(default=None, max_length=50)): ...
    async def read_items(commons: Annotated[dict, Depends(common_parameters)]): ...

A marker only describes where a value comes from and what it must satisfy;
``_inject.signature`` reads the markers once, when the route is registered. The
functions return ``Any`` (like FastAPI's) so that ``q: str = Query("x")``
type-checks; the objects they build are the classes below.

Documentation-only options (``title``, ``description``, ``examples``,
``deprecated``, ``include_in_schema``...) are accepted so that FastAPI code runs
unchanged; microready has no OpenAPI generator, so they are only stored.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypedDict

from ._depends import Dependency, SecurityDependency

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:  # pragma: no cover - 3.10: only type checkers need it; they bundle it
    from typing_extensions import Unpack

__all__ = [
    "Body",
    "BodyOptions",
    "BodyParam",
    "Constraints",
    "Cookie",
    "CookieParam",
    "Dependency",
    "Depends",
    "File",
    "FileParam",
    "Form",
    "FormOptions",
    "FormParam",
    "Header",
    "HeaderOptions",
    "HeaderParam",
    "Param",
    "Path",
    "PathOptions",
    "PathParam",
    "Query",
    "QueryOptions",
    "QueryParam",
    "REQUIRED",
    "Security",
    "SecurityDependency",
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
        return any(getattr(self, field.name) is not None for field in fields(self))


# -- the keywords the markers take: each list written once, each keyword typed, so an
# -- editor completes them and mypy flags ``Query(max_length="5")``.


class PathOptions(TypedDict, total=False):
    """What every marker takes after its default; ``Path()`` takes only these."""

    alias: str | None
    validation_alias: str | None  # read under this key instead (FastAPI: it wins over alias)
    # The fields of Constraints, which Param.__init__ reads through dataclasses.fields:
    gt: float | None
    ge: float | None
    lt: float | None
    le: float | None
    multiple_of: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | None
    regex: str | None  # pattern's old name
    # Documentation only (there is no OpenAPI generator), kept on the marker:
    title: str | None
    description: str | None
    examples: list[Any] | None
    example: Any
    deprecated: bool | None
    include_in_schema: bool
    json_schema_extra: dict[str, Any] | None
    openapi_examples: dict[str, Any] | None
    serialization_alias: str | None  # names the value in a schema, never in a request


class QueryOptions(PathOptions, total=False):
    """``Query()`` and ``Cookie()``: a value the client may leave out can have a factory."""

    default_factory: Callable[[], Any] | None


class HeaderOptions(QueryOptions, total=False):
    """``Header()``: whether ``user_agent`` reads ``User-Agent`` (it does by default)."""

    convert_underscores: bool


class BodyOptions(QueryOptions, total=False):
    """``Body()``: ``embed=True`` reads the value under its name in a JSON object."""

    embed: bool | None
    media_type: str


class FormOptions(QueryOptions, total=False):
    """``Form()`` and ``File()``: what they document of the request body."""

    media_type: str


# FastAPI's marker keywords microready does not act on yet: refused by name, never
# accepted and ignored (tests/app/test_fastapi_keywords.py walks FastAPI's lists).
NOT_SUPPORTED_YET: frozenset[str] = frozenset({
    "alias_priority", "discriminator", "strict", "validate_default", "union_mode", "fail_fast",
    "allow_inf_nan", "max_digits", "decimal_places",
})


def _check_keywords(callee: str, options: Mapping[str, object],
                    accepted: frozenset[str]) -> None:
    """Python's own TypeError for a keyword ``callee`` does not take (at run time
    ``**options`` accepts any; the TypedDict's keys say which are meant), and a
    clearer one for FastAPI's keywords that microready does not support yet."""
    for name in options:
        if name in NOT_SUPPORTED_YET:
            raise TypeError(
                f"{callee}({name}=...) is not supported by microready yet; remove it "
                f"(README.md, 'Differences from FastAPI', lists what is missing)"
            )
        if name not in accepted:
            raise TypeError(f"{callee}() got an unexpected keyword argument {name!r}")


class Param:
    """Where a parameter is read from (``location``), its default and its checks."""

    location: ClassVar[str] = ""

    def __init__(self, default: Any = REQUIRED, **options: Unpack[QueryOptions]) -> None:
        _check_keywords("Param.__init__", options, QueryOptions.__optional_keys__)
        default_factory = options.get("default_factory")
        alias = options.get("alias")
        pattern = options.get("pattern")
        regex = options.get("regex")
        if default is not REQUIRED and default is not ... and default_factory is not None:
            raise TypeError(
                f"{type(self).__name__}() takes a default or a default_factory, not both: "
                f"{self._marker_name}(default_factory=list) or {self._marker_name}(default=[...])"
            )
        validation_alias = options.get("validation_alias")
        for keyword, value in (("alias", alias), ("validation_alias", validation_alias)):
            if value is not None and not isinstance(value, str):
                raise TypeError(
                    f"{keyword} must be a str, got {type(value).__name__} (pydantic's "
                    f"AliasPath and AliasChoices are not supported yet)"
                )
        if pattern is not None and regex is not None:
            raise TypeError("pass pattern= only (regex= is its old name)")
        # ``...`` (Ellipsis) is FastAPI's spelling of "required".
        self.default = REQUIRED if default is ... else default
        self.default_factory = default_factory
        # The key the value is read under: validation_alias wins, as in FastAPI.
        self.alias = validation_alias if validation_alias is not None else alias
        self.schema_alias = alias
        self.serialization_alias = options.get("serialization_alias")
        self.openapi_examples = options.get("openapi_examples")
        self.title = options.get("title")
        self.description = options.get("description")
        checks: dict[str, Any] = {f.name: options.get(f.name) for f in fields(Constraints)}
        if regex is not None:
            checks["pattern"] = regex
        self.constraints = Constraints(**checks)
        self.examples = options.get("examples")
        self.example = options.get("example")
        self.deprecated = options.get("deprecated")
        self.include_in_schema = options.get("include_in_schema", True)
        self.json_schema_extra = options.get("json_schema_extra")

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
                 **options: Unpack[QueryOptions]) -> None:
        super().__init__(default, **options)
        self.convert_underscores = convert_underscores


class CookieParam(Param):
    location = "cookie"


class BodyParam(Param):
    location = "body"

    def __init__(self, default: Any = REQUIRED, *, embed: bool | None = None,
                 media_type: str = "application/json", **options: Unpack[QueryOptions]) -> None:
        super().__init__(default, **options)
        self.embed = embed
        self.media_type = media_type


class FormParam(Param):
    """A field of a form body (``application/x-www-form-urlencoded`` or
    ``multipart/form-data``), read with python-multipart."""

    location = "form"
    default_media_type: ClassVar[str] = "application/x-www-form-urlencoded"

    def __init__(self, default: Any = REQUIRED, *, media_type: str | None = None,
                 **options: Unpack[QueryOptions]) -> None:
        super().__init__(default, **options)
        self.media_type = media_type or self.default_media_type


class FileParam(FormParam):
    """A file of a ``multipart/form-data`` body: ``UploadFile``, or its content as ``bytes``."""

    location = "file"
    default_media_type = "multipart/form-data"


# -- the functions users call; typed ``-> Any`` like FastAPI's, so that
# -- ``q: str = Query("x")`` type-checks.


def Query(default: Any = REQUIRED, **options: Unpack[QueryOptions]) -> Any:
    """A query-string parameter: ``q: str | None = Query(default=None, max_length=50)``."""
    _check_keywords("Query", options, QueryOptions.__optional_keys__)
    return QueryParam(default, **options)


def Path(default: Any = REQUIRED, **options: Unpack[PathOptions]) -> Any:
    """A path parameter with checks: ``item_id: Annotated[int, Path(ge=1)]``.

    Path parameters are always required; a default is ignored, as in FastAPI.
    """
    _check_keywords("Path", options, PathOptions.__optional_keys__)
    return PathParam(default, **options)


def Header(default: Any = REQUIRED, **options: Unpack[HeaderOptions]) -> Any:
    """A request header: ``user_agent: str | None = Header(None)`` reads ``User-Agent``.

    Underscores in the parameter's name become hyphens unless
    ``convert_underscores=False``; an ``alias`` is used as it is.
    """
    _check_keywords("Header", options, HeaderOptions.__optional_keys__)
    return HeaderParam(default, **options)


def Cookie(default: Any = REQUIRED, **options: Unpack[QueryOptions]) -> Any:
    """A cookie: ``ads_id: str | None = Cookie(None)``."""
    _check_keywords("Cookie", options, QueryOptions.__optional_keys__)
    return CookieParam(default, **options)


def Body(default: Any = REQUIRED, **options: Unpack[BodyOptions]) -> Any:
    """A value from the JSON body: ``importance: int = Body()``.

    With one body parameter the whole body is its value; ``embed=True`` (or a
    second body parameter) makes the body an object keyed by parameter name.
    """
    _check_keywords("Body", options, BodyOptions.__optional_keys__)
    return BodyParam(default, **options)


def Form(default: Any = REQUIRED, **options: Unpack[FormOptions]) -> Any:
    """A form field: ``username: Annotated[str, Form()]``.

    A form model takes every field of the form: ``data: Annotated[FormData, Form()]``.
    Forms are parsed by python-multipart: ``pip install 'microready[forms]'``.
    """
    _check_keywords("Form", options, FormOptions.__optional_keys__)
    return FormParam(default, **options)


def File(default: Any = REQUIRED, **options: Unpack[FormOptions]) -> Any:
    """An uploaded file: ``file: Annotated[bytes, File()]`` gives its content;
    ``file: UploadFile`` (no marker needed) gives the file itself, spooled to disk
    above 1 MiB. Needs python-multipart: ``pip install 'microready[forms]'``.
    """
    _check_keywords("File", options, FormOptions.__optional_keys__)
    return FileParam(default, **options)


def Depends(
    dependency: Callable[..., Any] | None = None, *, use_cache: bool = True,
    scope: Literal["function", "request"] | None = None, max_concurrency: int | None = None,
) -> Any:
    """Inject what ``dependency`` returns (or yields), solving its own parameters first.

    ``Depends()`` with no argument, in ``Annotated[Cls, Depends()]``, calls the
    annotated class. A dependency used twice in one request runs once unless
    ``use_cache=False``.
    """
    if max_concurrency is not None:
        raise TypeError(
            "Depends(max_concurrency=...) is not supported by microready yet; remove it "
            "(README.md, 'Differences from FastAPI', lists what is missing)"
        )
    return Dependency(dependency, use_cache=use_cache, scope=scope)


def Security(
    dependency: Callable[..., Any] | None = None, *, scopes: Sequence[str] | None = None,
    use_cache: bool = True,
) -> Any:
    """A dependency that needs OAuth2 ``scopes``: ``Security(get_current_user, scopes=["me"])``.

    A ``security_scopes: SecurityScopes`` parameter of that dependency (or of
    any below it) receives every scope required on the way down to it.
    """
    return SecurityDependency(dependency, scopes=scopes, use_cache=use_cache)
