"""FastAPI tutorial, "Dependencies" (docs_src/dependencies/), on microready.

tutorial001 (a function), tutorial002-004 (classes), tutorial005
(sub-dependencies), tutorial006 (dependencies in the decorator), tutorial012
(global dependencies) and the ``yield`` chapter (tutorial007, 008, 008b-d).
"""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from microready import Cookie, Depends, Header, HTTPException, MicroReady

from .helpers import client_for

# -- tutorial001: a function dependency ---------------------------------------------------

app001 = MicroReady()


async def common_parameters(q: str | None = None, skip: int = 0,
                            limit: int = 100) -> dict[str, Any]:
    return {"q": q, "skip": skip, "limit": limit}


@app001.get("/items/")
async def read_items001(commons: Annotated[dict, Depends(common_parameters)]) -> dict:  # type: ignore[type-arg]
    return commons


@app001.get("/users/")
async def read_users001(commons: Annotated[dict, Depends(common_parameters)]) -> dict:  # type: ignore[type-arg]
    return commons


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items", {"q": None, "skip": 0, "limit": 100}),
        ("/items?q=foo", {"q": "foo", "skip": 0, "limit": 100}),
        ("/items?q=foo&skip=5", {"q": "foo", "skip": 5, "limit": 100}),
        ("/items?q=foo&skip=5&limit=30", {"q": "foo", "skip": 5, "limit": 30}),
        ("/users", {"q": None, "skip": 0, "limit": 100}),
    ],
)
def test_tutorial001(anyio_backend: str, path: str, expected: object) -> None:
    response = client_for(app001, anyio_backend).get(path)
    assert response.status_code == 200
    assert response.json() == expected


# -- tutorial004: a class dependency, with the Depends() shortcut -------------------------

fake_items_db = [{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]
app004 = MicroReady()


class CommonQueryParams:
    def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100) -> None:
        self.q = q
        self.skip = skip
        self.limit = limit


@app004.get("/items/")
async def read_items004(commons: Annotated[CommonQueryParams, Depends()]) -> dict[str, Any]:
    response: dict[str, Any] = {}
    if commons.q:
        response.update({"q": commons.q})
    items = fake_items_db[commons.skip : commons.skip + commons.limit]
    response.update({"items": items})
    return response


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items", {"items": fake_items_db}),
        ("/items?q=foo", {"items": fake_items_db, "q": "foo"}),
        ("/items?q=foo&skip=1", {"items": fake_items_db[1:], "q": "foo"}),
        ("/items?q=bar&limit=2", {"items": fake_items_db[:2], "q": "bar"}),
        ("/items?q=bar&skip=1&limit=1", {"items": fake_items_db[1:2], "q": "bar"}),
        ("/items?limit=1&q=bar&skip=1", {"items": fake_items_db[1:2], "q": "bar"}),
    ],
)
def test_tutorial004(anyio_backend: str, path: str, expected: object) -> None:
    assert client_for(app004, anyio_backend).get(path).json() == expected


# -- tutorial005: sub-dependencies --------------------------------------------------------

app005 = MicroReady()


def query_extractor(q: str | None = None) -> str | None:
    return q


def query_or_cookie_extractor(
    q: Annotated[str | None, Depends(query_extractor)],
    last_query: Annotated[str | None, Cookie()] = None,
) -> str | None:
    if not q:
        return last_query
    return q


@app005.get("/items/")
async def read_query(
    query_or_default: Annotated[str | None, Depends(query_or_cookie_extractor)],
) -> dict[str, str | None]:
    return {"q_or_cookie": query_or_default}


@pytest.mark.parametrize(
    ("path", "cookies", "expected"),
    [
        ("/items", None, {"q_or_cookie": None}),
        ("/items?q=foo", None, {"q_or_cookie": "foo"}),
        ("/items", {"last_query": "bar"}, {"q_or_cookie": "bar"}),
        ("/items?q=foo", {"last_query": "bar"}, {"q_or_cookie": "foo"}),
    ],
)
def test_tutorial005(anyio_backend: str, path: str, cookies: dict[str, str] | None,
                     expected: object) -> None:
    response = client_for(app005, anyio_backend).get(path, cookies=cookies)
    assert response.json() == expected


# -- tutorial006 and tutorial012: dependencies in decorators, and global ones -------------


async def verify_token(x_token: Annotated[str, Header()]) -> None:
    if x_token != "fake-super-secret-token":
        raise HTTPException(status_code=400, detail="X-Token header invalid")


async def verify_key(x_key: Annotated[str, Header()]) -> str:
    if x_key != "fake-super-secret-key":
        raise HTTPException(status_code=400, detail="X-Key header invalid")
    return x_key


app006 = MicroReady()


@app006.get("/items/", dependencies=[Depends(verify_token), Depends(verify_key)])
async def read_items006() -> list[dict[str, str]]:
    return [{"item": "Foo"}, {"item": "Bar"}]


app012 = MicroReady(dependencies=[Depends(verify_token), Depends(verify_key)])


@app012.get("/items/")
async def read_items012() -> list[dict[str, str]]:
    return [{"item": "Portal Gun"}, {"item": "Plumbus"}]


@app012.get("/users/")
async def read_users012() -> list[dict[str, str]]:
    return [{"username": "Rick"}, {"username": "Morty"}]


MISSING_BOTH = {"detail": [
    {"type": "missing", "loc": ["header", "x-token"], "msg": "Field required", "input": None},
    {"type": "missing", "loc": ["header", "x-key"], "msg": "Field required", "input": None},
]}


@pytest.mark.parametrize(
    ("app", "path", "ok"),
    [
        (app006, "/items/", [{"item": "Foo"}, {"item": "Bar"}]),
        (app012, "/items/", [{"item": "Portal Gun"}, {"item": "Plumbus"}]),
        (app012, "/users/", [{"username": "Rick"}, {"username": "Morty"}]),
    ],
)
def test_decorator_and_global_dependencies(anyio_backend: str, app: MicroReady, path: str,
                                           ok: object) -> None:
    client = client_for(app, anyio_backend)
    response = client.get(path)
    assert (response.status_code, response.json()) == (422, MISSING_BOTH)
    response = client.get(path, headers={"X-Token": "invalid", "X-Key": "fake-super-secret-key"})
    assert (response.status_code, response.json()) == (400, {"detail": "X-Token header invalid"})
    response = client.get(path, headers={"X-Token": "fake-super-secret-token", "X-Key": "bad"})
    assert (response.status_code, response.json()) == (400, {"detail": "X-Key header invalid"})
    response = client.get(path, headers={"X-Token": "fake-super-secret-token",
                                         "X-Key": "fake-super-secret-key"})
    assert (response.status_code, response.json()) == (200, ok)


# -- tutorial007/008: dependencies with yield ---------------------------------------------

events: list[str] = []


class DBSession:
    def __init__(self) -> None:
        events.append("db open")

    def close(self) -> None:
        events.append("db close")


async def get_db() -> AsyncIterator[DBSession]:
    db = DBSession()
    try:
        yield db
    finally:
        db.close()


async def dependency_a() -> AsyncIterator[str]:
    events.append("a open")
    try:
        yield "a"
    finally:
        events.append("a close")


async def dependency_b(dep_a: Annotated[str, Depends(dependency_a)]) -> AsyncIterator[str]:
    events.append("b open")
    try:
        yield dep_a + "b"
    finally:
        events.append(f"b close (a={dep_a})")


def dependency_c(dep_b: Annotated[str, Depends(dependency_b)]) -> Iterator[str]:
    events.append("c open")
    try:
        yield dep_b + "c"
    finally:
        events.append(f"c close (b={dep_b})")


app007 = MicroReady()


@app007.get("/db")
async def use_db(db: Annotated[DBSession, Depends(get_db)]) -> str:
    events.append("handler")
    return type(db).__name__


@app007.get("/chain")
def use_chain(c: Annotated[str, Depends(dependency_c)]) -> str:
    events.append("handler")
    return c


def test_tutorial007_yield_closes_after_the_response(anyio_backend: str) -> None:
    events.clear()
    assert client_for(app007, anyio_backend).get("/db").json() == "DBSession"
    assert events == ["db open", "handler", "db close"]


def test_tutorial008_sub_dependencies_with_yield_close_in_reverse(anyio_backend: str) -> None:
    events.clear()
    assert client_for(app007, anyio_backend).get("/chain").json() == "abc"
    assert events == ["a open", "b open", "c open", "handler",
                      "c close (b=ab)", "b close (a=a)", "a close"]


# -- tutorial008b/c/d: yield and except ---------------------------------------------------

data = {
    "plumbus": {"description": "Freshly pickled plumbus", "owner": "Morty"},
    "portal-gun": {"description": "Gun to create portals", "owner": "Rick"},
}


class OwnerError(Exception):
    pass


def get_username_b() -> Iterator[str]:
    try:
        yield "Rick"
    except OwnerError as e:
        raise HTTPException(status_code=400, detail=f"Owner error: {e}") from e


app008b = MicroReady()


@app008b.get("/items/{item_id}")
def get_item_b(item_id: str, username: Annotated[str, Depends(get_username_b)]) -> Any:
    if item_id not in data:
        raise HTTPException(status_code=404, detail="Item not found")
    item = data[item_id]
    if item["owner"] != username:
        raise OwnerError(username)
    return item


def test_tutorial008b(anyio_backend: str) -> None:
    client = client_for(app008b, anyio_backend)
    response = client.get("/items/foo")
    assert (response.status_code, response.json()) == (404, {"detail": "Item not found"})
    response = client.get("/items/plumbus")
    assert (response.status_code, response.json()) == (400, {"detail": "Owner error: Rick"})
    response = client.get("/items/portal-gun")
    assert response.json() == {"description": "Gun to create portals", "owner": "Rick"}


class InternalError(Exception):
    pass


def get_username_c() -> Iterator[str]:
    try:
        yield "Rick"
    except InternalError:
        events.append("Oops, we didn't raise again")


def get_username_d() -> Iterator[str]:
    try:
        yield "Rick"
    except InternalError:
        events.append("We don't swallow the internal error here, we raise again")
        raise


app008c = MicroReady()
app008d = MicroReady()


@app008c.get("/items/{item_id}")
def get_item_c(item_id: str, username: Annotated[str, Depends(get_username_c)]) -> str:
    if item_id == "portal-gun":
        raise InternalError(f"The portal gun is too dangerous to be owned by {username}")
    if item_id != "plumbus":
        raise HTTPException(status_code=404, detail="Item not found, there's only a plumbus here")
    return item_id


@app008d.get("/items/{item_id}")
def get_item_d(item_id: str, username: Annotated[str, Depends(get_username_d)]) -> str:
    if item_id == "portal-gun":
        raise InternalError(f"The portal gun is too dangerous to be owned by {username}")
    if item_id != "plumbus":
        raise HTTPException(status_code=404, detail="Item not found, there's only a plumbus here")
    return item_id


@pytest.mark.parametrize("app", [app008c, app008d])
def test_tutorial008c_and_d(anyio_backend: str, app: MicroReady) -> None:
    events.clear()
    client = client_for(app, anyio_backend)
    response = client.get("/items/foo")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found, there's only a plumbus here"}
    assert client.get("/items/plumbus").json() == "plumbus"
    with pytest.raises(InternalError):
        client.get("/items/portal-gun")
    client = client_for(app, anyio_backend, raise_server_exceptions=False)
    response = client.get("/items/portal-gun")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert len(events) == 2  # the dependency saw the error both times
