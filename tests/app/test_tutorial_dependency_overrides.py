"""FastAPI's "Testing Dependencies with Overrides" (advanced/testing-dependencies), on microready.

docs_src/dependency_testing/tutorial001 in its Annotated (``tutorial001_an_py310``) and
non-Annotated (``tutorial001_py310``) variants: the page's app, with the override set
the way the page sets it, checked with every answer FastAPI's
tests/test_tutorial/test_dependency_testing/test_tutorial001.py checks.

The page resets the overrides by assigning a new dict (``app.dependency_overrides = {}``)
and FastAPI's own ``test_normal_app`` assigns ``None``: in FastAPI the attribute is a
plain attribute, so whatever was assigned is what the next request consults.
"""

from types import SimpleNamespace
from typing import Annotated

import pytest

from microready import Depends, MicroReady

from ..support.http import request
from ..support.live import connect, serving
from .helpers import client_for


def tutorial001_an(anyio_backend: str) -> SimpleNamespace:
    app = MicroReady()

    async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100):
        return {"q": q, "skip": skip, "limit": limit}

    @app.get("/items/")
    async def read_items(commons: Annotated[dict, Depends(common_parameters)]):
        return {"message": "Hello Items!", "params": commons}

    @app.get("/users/")
    async def read_users(commons: Annotated[dict, Depends(common_parameters)]):
        return {"message": "Hello Users!", "params": commons}

    client = client_for(app, anyio_backend)

    async def override_dependency(q: str | None = None):
        return {"q": q, "skip": 5, "limit": 10}

    app.dependency_overrides[common_parameters] = override_dependency

    return SimpleNamespace(app=app, client=client, common_parameters=common_parameters,
                           override_dependency=override_dependency)


def tutorial001(anyio_backend: str) -> SimpleNamespace:
    app = MicroReady()

    async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100):
        return {"q": q, "skip": skip, "limit": limit}

    @app.get("/items/")
    async def read_items(commons: dict = Depends(common_parameters)):  # noqa: B008
        return {"message": "Hello Items!", "params": commons}

    @app.get("/users/")
    async def read_users(commons: dict = Depends(common_parameters)):  # noqa: B008
        return {"message": "Hello Users!", "params": commons}

    client = client_for(app, anyio_backend)

    async def override_dependency(q: str | None = None):
        return {"q": q, "skip": 5, "limit": 10}

    app.dependency_overrides[common_parameters] = override_dependency

    return SimpleNamespace(app=app, client=client, common_parameters=common_parameters,
                           override_dependency=override_dependency)


@pytest.fixture(params=[tutorial001_an, tutorial001], ids=["annotated", "non-annotated"])
def page(request: pytest.FixtureRequest, anyio_backend: str) -> SimpleNamespace:
    """A fresh copy of the page's module: its app, client, dependency and override."""
    return request.param(anyio_backend)  # type: ignore[no-any-return]


OVERRIDDEN = [
    # The page's own tests: test_override_in_items, _with_q, _with_params.
    ("/items/", {"message": "Hello Items!", "params": {"q": None, "skip": 5, "limit": 10}}),
    ("/items/?q=foo", {"message": "Hello Items!", "params": {"q": "foo", "skip": 5, "limit": 10}}),
    ("/items/?q=foo&skip=100&limit=200",
     {"message": "Hello Items!", "params": {"q": "foo", "skip": 5, "limit": 10}}),
    # FastAPI's test module: test_override_in_users, _with_q, _with_params.
    ("/users/", {"message": "Hello Users!", "params": {"q": None, "skip": 5, "limit": 10}}),
    ("/users/?q=foo", {"message": "Hello Users!", "params": {"q": "foo", "skip": 5, "limit": 10}}),
    ("/users/?q=foo&skip=100&limit=200",
     {"message": "Hello Users!", "params": {"q": "foo", "skip": 5, "limit": 10}}),
]

ORIGINAL_ITEMS = {"message": "Hello Items!", "params": {"q": "foo", "skip": 100, "limit": 200}}
ORIGINAL_USERS = {"message": "Hello Users!", "params": {"q": "foo", "skip": 100, "limit": 200}}


@pytest.mark.parametrize(("path", "expected"), OVERRIDDEN)
def test_the_override_answers(page: SimpleNamespace, path: str, expected: object) -> None:
    response = page.client.get(path)
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_assigning_an_empty_dict_restores_the_dependency(page: SimpleNamespace) -> None:
    """The page's reset: ``app.dependency_overrides = {}`` at the end of a test."""
    assert page.client.get("/items/?q=foo&skip=100&limit=200").json()["params"]["skip"] == 5
    page.app.dependency_overrides = {}
    response = page.client.get("/items/?q=foo&skip=100&limit=200")
    assert response.status_code == 200, response.text
    assert response.json() == ORIGINAL_ITEMS
    assert page.client.get("/users/?q=foo&skip=100&limit=200").json() == ORIGINAL_USERS
    # The next test sets its override on the new dict, as the page does.
    page.app.dependency_overrides[page.common_parameters] = page.override_dependency
    assert page.client.get("/users/?q=foo&skip=100&limit=200").json() == OVERRIDDEN[-1][1]


def test_normal_app(page: SimpleNamespace) -> None:
    """FastAPI's own test_normal_app: assigning ``None`` turns every override off."""
    page.app.dependency_overrides = None
    response = page.client.get("/items/?q=foo&skip=100&limit=200")
    assert response.status_code == 200, response.text
    assert response.json() == ORIGINAL_ITEMS


def test_an_assigned_dict_with_entries_overrides(page: SimpleNamespace) -> None:
    page.app.dependency_overrides = {}
    page.app.dependency_overrides = {page.common_parameters: page.override_dependency}
    assert page.client.get("/users/?q=foo&skip=100&limit=200").json() == OVERRIDDEN[-1][1]
    page.app.dependency_overrides.clear()
    assert page.client.get("/users/?q=foo&skip=100&limit=200").json() == ORIGINAL_USERS


def test_the_assigned_dict_is_the_one_consulted(page: SimpleNamespace) -> None:
    """In FastAPI the assigned dict is kept as is: changing it later changes the answers."""
    overrides: dict = {}
    page.app.dependency_overrides = overrides
    assert page.client.get("/items/?q=foo&skip=100&limit=200").json() == ORIGINAL_ITEMS
    overrides[page.common_parameters] = page.override_dependency
    assert page.client.get("/items/?q=foo&skip=100&limit=200").json() == OVERRIDDEN[2][1]
    overrides.clear()
    assert page.client.get("/items/?q=foo&skip=100&limit=200").json() == ORIGINAL_ITEMS


@pytest.mark.anyio
async def test_the_override_through_the_real_server(anyio_backend: str) -> None:
    tutorial = tutorial001_an(anyio_backend)
    async with serving(tutorial.app) as server, connect(server.port) as client:
        await client.send(request("GET", "/users/?q=foo&skip=100&limit=200"))
        overridden = await client.read_response()
        tutorial.app.dependency_overrides = {}
        await client.send(request("GET", "/users/?q=foo&skip=100&limit=200"))
        original = await client.read_response()
    assert overridden.status == 200
    assert overridden.json() == OVERRIDDEN[-1][1]
    assert original.json() == ORIGINAL_USERS
