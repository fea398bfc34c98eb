"""FastAPI tutorial, "Query Parameters" (docs_src/query_params/tutorial001-006), on microready."""

from typing import Any

import pytest

from microready import MicroReady

from .helpers import client_for

INT_MSG = "Input should be a valid integer, unable to parse string as an integer"

fake_items_db = [{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]

# tutorial001
app001 = MicroReady()


@app001.get("/items/")
async def read_item001(skip: int = 0, limit: int = 10) -> list[dict[str, str]]:
    return fake_items_db[skip : skip + limit]


# tutorial002: optional parameters
app002 = MicroReady()


@app002.get("/items/{item_id}")
async def read_item002(item_id: str, q: str | None = None) -> dict[str, str]:
    if q:
        return {"item_id": item_id, "q": q}
    return {"item_id": item_id}


# tutorial003: bool conversion
app003 = MicroReady()


@app003.get("/items/{item_id}")
async def read_item003(item_id: str, q: str | None = None, short: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"item_id": item_id}
    if q:
        item.update({"q": q})
    if not short:
        item.update({"description": "This is an amazing item that has a long description"})
    return item


# tutorial004: multiple path and query parameters
app004 = MicroReady()


@app004.get("/users/{user_id}/items/{item_id}")
async def read_user_item004(
    user_id: int, item_id: str, q: str | None = None, short: bool = False
) -> dict[str, Any]:
    item: dict[str, Any] = {"item_id": item_id, "owner_id": user_id}
    if q:
        item.update({"q": q})
    if not short:
        item.update({"description": "This is an amazing item that has a long description"})
    return item


# tutorial005: required query parameters
app005 = MicroReady()


@app005.get("/items/{item_id}")
async def read_user_item005(item_id: str, needy: str) -> dict[str, str]:
    return {"item_id": item_id, "needy": needy}


# tutorial006: required, default and optional together
app006 = MicroReady()


@app006.get("/items/{item_id}")
async def read_user_item006(
    item_id: str, needy: str, skip: int = 0, limit: int | None = None
) -> dict[str, Any]:
    return {"item_id": item_id, "needy": needy, "skip": skip, "limit": limit}


LONG = "This is an amazing item that has a long description"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/", fake_items_db),
        ("/items/?skip=1", fake_items_db[1:]),
        ("/items/?skip=1&limit=1", fake_items_db[1:2]),
        ("/items/?limit=0", []),
    ],
)
def test_tutorial001(anyio_backend: str, path: str, expected: object) -> None:
    assert client_for(app001, anyio_backend).get(path).json() == expected


def test_tutorial002(anyio_backend: str) -> None:
    client = client_for(app002, anyio_backend)
    assert client.get("/items/foo").json() == {"item_id": "foo"}
    assert client.get("/items/foo?q=bar").json() == {"item_id": "foo", "q": "bar"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/foo", {"item_id": "foo", "description": LONG}),
        ("/items/foo?q=fooquery", {"item_id": "foo", "q": "fooquery", "description": LONG}),
        ("/items/foo?short=1", {"item_id": "foo"}),
        ("/items/foo?short=True", {"item_id": "foo"}),
        ("/items/foo?short=true", {"item_id": "foo"}),
        ("/items/foo?short=on", {"item_id": "foo"}),
        ("/items/foo?short=yes", {"item_id": "foo"}),
        ("/items/foo?short=0", {"item_id": "foo", "description": LONG}),
        ("/items/foo?q=fooquery&short=1", {"item_id": "foo", "q": "fooquery"}),
    ],
)
def test_tutorial003(anyio_backend: str, path: str, expected: object) -> None:
    assert client_for(app003, anyio_backend).get(path).json() == expected


def test_tutorial004(anyio_backend: str) -> None:
    client = client_for(app004, anyio_backend)
    assert client.get("/users/123/items/foo?q=bar&short=yes").json() == {
        "item_id": "foo", "owner_id": 123, "q": "bar",
    }
    assert client.get("/users/123/items/foo").json() == {
        "item_id": "foo", "owner_id": 123, "description": LONG,
    }


def test_tutorial005(anyio_backend: str) -> None:
    client = client_for(app005, anyio_backend)
    assert client.get("/items/foo-item?needy=sooooneedy").json() == {
        "item_id": "foo-item", "needy": "sooooneedy",
    }
    response = client.get("/items/foo-item")
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["query", "needy"], "msg": "Field required", "input": None}
    ]}


def test_tutorial006(anyio_backend: str) -> None:
    client = client_for(app006, anyio_backend)
    assert client.get("/items/foo?needy=very").json() == {
        "item_id": "foo", "needy": "very", "skip": 0, "limit": None,
    }
    response = client.get("/items/foo?skip=a&limit=b")
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["query", "needy"], "msg": "Field required", "input": None},
        {"type": "int_parsing", "loc": ["query", "skip"], "msg": INT_MSG, "input": "a"},
        {"type": "int_parsing", "loc": ["query", "limit"], "msg": INT_MSG, "input": "b"},
    ]}
