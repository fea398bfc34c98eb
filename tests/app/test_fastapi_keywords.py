"""No FastAPI keyword is accepted and ignored: each is implemented, stored for OpenAPI,
or refused by name at once.

FastAPI itself (pinned in the test extra) gives the keyword lists, read from its
signatures, so a keyword a new FastAPI adds fails here until it is classified.
"""

import inspect
from collections.abc import Callable
from typing import Any

import fastapi
import pytest

import microready
from microready import params

# What microready does with each FastAPI marker keyword that is not plainly
# implemented under the same name: stored (documentation, for the OpenAPI issue)
# or refused as not supported yet.
MARKER_STORED = {"openapi_examples", "serialization_alias", "title", "description",
                 "examples", "example", "deprecated", "include_in_schema", "json_schema_extra"}
MARKERS: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (fastapi.Query, microready.Query), (fastapi.Path, microready.Path),
    (fastapi.Header, microready.Header), (fastapi.Cookie, microready.Cookie),
    (fastapi.Body, microready.Body), (fastapi.Form, microready.Form),
    (fastapi.File, microready.File),
]
# Keywords FastAPI's Path() takes that make no sense for a path parameter.
PATH_REFUSED = {"default_factory"}


def keywords(callable_: Callable[..., Any]) -> list[str]:
    return [name for name, parameter in inspect.signature(callable_).parameters.items()
            if parameter.kind is parameter.KEYWORD_ONLY or name != "default"]


def a_value_for(name: str) -> Any:
    return {
        "default_factory": list, "alias": "a", "validation_alias": "v",
        "serialization_alias": "s", "convert_underscores": False, "embed": True,
        "media_type": "text/plain", "pattern": "x", "regex": "x", "title": "t",
        "description": "d", "examples": ["e"], "example": "e", "openapi_examples": {},
        "deprecated": True, "include_in_schema": False, "json_schema_extra": {},
    }.get(name, 1)


@pytest.mark.parametrize(("theirs", "ours"), MARKERS, ids=lambda f: f.__name__)
def test_every_marker_keyword_is_implemented_stored_or_refused(
        theirs: Callable[..., Any], ours: Callable[..., Any]) -> None:
    accepted = []
    for name in keywords(theirs):
        if name in params.NOT_SUPPORTED_YET or (ours is microready.Path and name in PATH_REFUSED):
            with pytest.raises(TypeError, match=name):
                ours(**{name: a_value_for(name)})
            continue
        marker = ours(**{name: a_value_for(name)})  # accepted...
        accepted.append(name)
        if name in MARKER_STORED:  # ...and kept, for the OpenAPI issue
            assert getattr(marker, name) == a_value_for(name), name
    assert "alias" in accepted and "gt" in accepted


def test_refusals_say_what_to_do() -> None:
    with pytest.raises(TypeError) as raised:
        microready.Query(strict=True)
    message = str(raised.value)
    assert "Query(strict=...) is not supported by microready yet; remove it" in message
    assert "\n" not in message
    with pytest.raises(TypeError, match=r"Depends\(max_concurrency=...\) is not supported"):
        microready.Depends(len, max_concurrency=2)


def test_validation_alias_is_the_key_the_value_is_read_under() -> None:
    from typing import Annotated

    from microready.testing import TestClient

    app = microready.MicroReady()

    @app.get("/")
    async def read(q: Annotated[str, microready.Query(alias="item-query",
                                                      validation_alias="q2")]) -> str:
        return q

    client = TestClient(app)
    assert client.get("/?q2=yes").json() == "yes"
    response = client.get("/?item-query=no")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q2"]


def test_dependency_marker_keywords() -> None:
    for theirs, ours in ((fastapi.Depends, microready.Depends),
                         (fastapi.Security, microready.Security)):
        ours_keywords = set(inspect.signature(ours).parameters)
        assert set(inspect.signature(theirs).parameters) <= ours_keywords, theirs


# -- the app, routers, routes and include_router ----------------------------------------

from microready._fastapi_keywords import (  # noqa: E402
    APP_NOT_YET,
    INCLUDE_NOT_YET,
    ROUTE_NOT_YET,
    ROUTER_NOT_YET,
    AppOpenAPIOptions,
    RouterOpenAPIOptions,
)
from microready._route_options import ROUTE_KEYWORDS  # noqa: E402

# Keywords that are implemented under another mechanism than a named parameter.
ROUTE_IMPLEMENTED = ROUTE_KEYWORDS | {"path", "endpoint", "methods", "route_class_override"}


def named_parameters(callable_: Callable[..., Any]) -> set[str]:
    return {name for name, parameter in inspect.signature(callable_).parameters.items()
            if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)} - {"self"}


def check_classified(theirs: set[str], implemented: set[str], stored: frozenset[str],
                     not_yet: Any, what: str) -> None:
    unclassified = theirs - implemented - stored - set(not_yet)
    assert not unclassified, f"{what}: FastAPI keywords microready neither takes, stores " \
                             f"nor refuses: {sorted(unclassified)}"


def test_the_apps_keywords() -> None:
    theirs = named_parameters(fastapi.FastAPI.__init__)
    check_classified(theirs, named_parameters(microready.MicroReady.__init__),
                     AppOpenAPIOptions.__optional_keys__, APP_NOT_YET, "FastAPI()")
    app = microready.MicroReady(docs_url="/documentation", openapi_tags=[{"name": "a"}],
                                summary="s")
    assert app.openapi_options == {"docs_url": "/documentation",
                                   "openapi_tags": [{"name": "a"}], "summary": "s"}
    for name in APP_NOT_YET:
        with pytest.raises(TypeError, match=rf"MicroReady\({name}=...\) is not supported"):
            microready.MicroReady(**{name: 1})
    with pytest.raises(TypeError, match="unexpected keyword argument 'titel'"):
        microready.MicroReady(titel="x")  # type: ignore[call-arg]


def test_a_routers_keywords() -> None:
    theirs = named_parameters(fastapi.APIRouter.__init__)
    check_classified(theirs, named_parameters(microready.Router.__init__),
                     RouterOpenAPIOptions.__optional_keys__, ROUTER_NOT_YET, "APIRouter()")
    assert microready.Router(deprecated=True).openapi_options == {"deprecated": True}
    for name in ROUTER_NOT_YET:
        with pytest.raises(TypeError, match=rf"Router\({name}=...\) is not supported"):
            microready.Router(**{name: 1})


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "head", "options",
                                    "api_route", "add_api_route"])
def test_route_keywords(method: str) -> None:
    theirs = named_parameters(getattr(fastapi.APIRouter, method))
    check_classified(theirs, ROUTE_IMPLEMENTED, frozenset(), ROUTE_NOT_YET, f"{method}()")
    app = microready.MicroReady()

    async def endpoint() -> None: ...

    app.get("/", openapi_extra={"x": 1}, callbacks=[],
            generate_unique_id_function=str)(endpoint)
    assert app.routes[-1].metadata["openapi_extra"] == {"x": 1}
    with pytest.raises(TypeError, match=r"max_body_size= is not supported by microready yet"):
        app.get("/other", max_body_size=10)(endpoint)  # type: ignore[call-arg]


def test_include_router_keywords() -> None:
    theirs = named_parameters(fastapi.APIRouter.include_router)
    check_classified(theirs, named_parameters(microready.Router.include_router),
                     RouterOpenAPIOptions.__optional_keys__, INCLUDE_NOT_YET, "include_router()")
    router = microready.Router()

    @router.get("/x")
    async def x() -> None: ...

    app = microready.MicroReady()
    app.include_router(router, deprecated=True, include_in_schema=False)
    assert app.routes[-1].metadata["deprecated"] is True
    with pytest.raises(TypeError, match=r"include_router\(form_limits=...\) is not supported"):
        app.include_router(router, form_limits={})  # type: ignore[call-arg]
