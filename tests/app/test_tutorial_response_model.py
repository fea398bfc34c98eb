"""FastAPI tutorial, "Response Model - Return Type" (docs_src/response_model/), as tests.

Each example is FastAPI's with the import line changed (``app = MicroReady()``
where FastAPI has ``app = FastAPI()``); the models stay pydantic models, so
they go through pydantic's TypeAdapter as in FastAPI. One more change:
``EmailStr`` needs the ``email-validator`` package, which is not installed
here (and is no dependency of microready), so those fields are ``str``.

The expected answers are the ones FastAPI's own tests check
(tests/test_tutorial/test_response_model/, OpenAPI schemas aside); where those
tests are thin (tutorial005/006 only ask for "bar", error cases), the answers
are what FastAPI 0.165 gave for the same requests. Each app is a module-level
object, one per example, named after it.
"""

from typing import Any

import pytest
from pydantic import BaseModel

from microready import MicroReady, Response
from microready.exceptions import ResponseValidationError
from microready.responses import JSONResponse, RedirectResponse

from ..support.http import request
from ..support.live import connect, serving
from .helpers import client_for

RICK = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
PORTAL = {"message": "Here's your interdimensional portal."}


# -- tutorial001: response_model= -----------------------------------------------------


app001 = MicroReady()


class Item001(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None
    tags: list[str] = []


@app001.post("/items/", response_model=Item001)
async def create_item001(item: Item001) -> Any:
    return item


@app001.get("/items/", response_model=list[Item001])
async def read_items001() -> Any:
    return [
        {"name": "Portal Gun", "price": 42.0},
        {"name": "Plumbus", "price": 32.0},
    ]


# -- tutorial001_01: the return annotation is the response model ----------------------


app001_01 = MicroReady()


@app001_01.post("/items/")
async def create_item001_01(item: Item001) -> Item001:
    return item


@app001_01.get("/items/")
async def read_items001_01() -> list[Item001]:
    return [
        Item001(name="Portal Gun", price=42.0),
        Item001(name="Plumbus", price=32.0),
    ]


APPS001 = pytest.mark.parametrize("app", [app001, app001_01], ids=["001", "001_01"])


@APPS001
def test_read_items(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/items/")
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"name": "Portal Gun", "description": None, "price": 42.0, "tags": [], "tax": None},
        {"name": "Plumbus", "description": None, "price": 32.0, "tags": [], "tax": None},
    ]


@APPS001
def test_create_item(app: MicroReady, anyio_backend: str) -> None:
    item_data = {
        "name": "Test Item",
        "description": "A test item",
        "price": 10.5,
        "tax": 1.5,
        "tags": ["test", "item"],
    }
    response = client_for(app, anyio_backend).post("/items/", json=item_data)
    assert response.status_code == 200, response.text
    assert response.json() == item_data


@APPS001
def test_create_item_only_required(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).post(
        "/items/", json={"name": "Test Item", "price": 10.5})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "Test Item", "price": 10.5, "description": None, "tax": None, "tags": [],
    }


@APPS001
def test_create_item_invalid_body_is_a_422(app: MicroReady, anyio_backend: str) -> None:
    # FastAPI 0.165's answer to the same request.
    response = client_for(app, anyio_backend).post(
        "/items/", json={"name": "Test Item", "price": 1, "tags": "x"})
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "list_type", "loc": ["body", "tags"], "msg": "Input should be a valid list",
        "input": "x",
    }]}


# The page: "if the data is invalid (e.g. you are missing a field), it means that
# your app code is broken ... it will return a server error". FastAPI 0.165 raises
# ResponseValidationError with these very errors, and answers 500.
app001_broken = MicroReady()


@app001_broken.get("/items/", response_model=list[Item001])
async def read_broken_items() -> Any:
    return [{"name": "Portal Gun", "price": 42.0}, {"price": "free"}]


def test_a_returned_value_that_does_not_fit_is_a_500(anyio_backend: str) -> None:
    with pytest.raises(ResponseValidationError) as raised:
        client_for(app001_broken, anyio_backend).get("/items/")
    assert raised.value.errors() == [
        {"type": "missing", "loc": ("response", 1, "name"), "msg": "Field required",
         "input": {"price": "free"}},
        {"type": "float_parsing", "loc": ("response", 1, "price"),
         "msg": "Input should be a valid number, unable to parse string as a number",
         "input": "free"},
    ]
    response = client_for(app001_broken, anyio_backend, raise_server_exceptions=False).get(
        "/items/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


# -- tutorial002: return the same input data ("Don't do this in production!") ---------


app002 = MicroReady()


class UserIn002(BaseModel):
    username: str
    password: str
    email: str  # EmailStr in FastAPI's example (needs email-validator)
    full_name: str | None = None


# Don't do this in production!
@app002.post("/user/")
async def create_user002(user: UserIn002) -> UserIn002:
    return user


def test_post_user_echoes_the_password(anyio_backend: str) -> None:
    user_data = {
        "username": "foo",
        "password": "fighter",
        "email": "foo@example.com",
        "full_name": "Grave Dohl",
    }
    response = client_for(app002, anyio_backend).post("/user/", json=user_data)
    assert response.status_code == 200, response.text
    assert response.json() == user_data


def test_post_user_missing_fields_is_a_422(anyio_backend: str) -> None:
    response = client_for(app002, anyio_backend).post("/user/", json={"username": "foo"})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["body", "password"], "msg": "Field required",
         "input": {"username": "foo"}},
        {"type": "missing", "loc": ["body", "email"], "msg": "Field required",
         "input": {"username": "foo"}},
    ]}


# -- tutorial003: an output model (UserIn in, UserOut out) ----------------------------


app003 = MicroReady()


class UserIn003(BaseModel):
    username: str
    password: str
    email: str  # EmailStr in FastAPI's example (needs email-validator)
    full_name: str | None = None


class UserOut003(BaseModel):
    username: str
    email: str  # EmailStr in FastAPI's example
    full_name: str | None = None


@app003.post("/user/", response_model=UserOut003)
async def create_user003(user: UserIn003) -> Any:
    return user


# -- tutorial003_01: return type and data filtering, through inheritance --------------


app003_01 = MicroReady()


class BaseUser(BaseModel):
    username: str
    email: str  # EmailStr in FastAPI's example (needs email-validator)
    full_name: str | None = None


class UserIn003_01(BaseUser):
    password: str


@app003_01.post("/user/")
async def create_user003_01(user: UserIn003_01) -> BaseUser:
    return user


APPS003 = pytest.mark.parametrize("app", [app003, app003_01], ids=["003", "003_01"])


@APPS003
def test_post_user_filters_the_password_out(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).post("/user/", json={
        "username": "foo",
        "password": "fighter",
        "email": "foo@example.com",
        "full_name": "Grave Dohl",
    })
    assert response.status_code == 200, response.text
    assert response.json() == {
        "username": "foo", "email": "foo@example.com", "full_name": "Grave Dohl",
    }
    assert "fighter" not in response.text


@APPS003
def test_post_user_without_full_name(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).post("/user/", json={
        "username": "foo", "password": "fighter", "email": "foo@example.com",
    })
    assert response.status_code == 200, response.text
    assert response.json() == {"username": "foo", "email": "foo@example.com", "full_name": None}


# -- tutorial003_02: return a Response directly ---------------------------------------


app003_02 = MicroReady()


@app003_02.get("/portal")
async def get_portal003_02(teleport: bool = False) -> Response:
    if teleport:
        return RedirectResponse(url=RICK)
    return JSONResponse(content={"message": "Here's your interdimensional portal."})


# -- tutorial003_03: annotate a Response subclass -------------------------------------


app003_03 = MicroReady()


@app003_03.get("/teleport")
async def get_teleport() -> RedirectResponse:
    return RedirectResponse(url=RICK)


# -- tutorial003_04: an invalid return annotation --------------------------------------


def test_a_response_or_dict_annotation_is_refused_at_registration() -> None:
    # FastAPI raises FastAPIError ("Invalid args for response field! ...") when the
    # module is imported; microready raises a TypeError that says how to opt out.
    app = MicroReady()
    with pytest.raises(TypeError, match="mixes a Response with data") as raised:
        @app.get("/portal")
        async def get_portal(teleport: bool = False) -> Response | dict:  # type: ignore[type-arg]
            if teleport:
                return RedirectResponse(url=RICK)
            return {"message": "Here's your interdimensional portal."}
    assert "GET /portal" in str(raised.value)
    assert "right: @app.get(..., response_model=None)" in str(raised.value)
    assert app.routes == []


# -- tutorial003_05: disable the response model ---------------------------------------


app003_05 = MicroReady()


@app003_05.get("/portal", response_model=None)
async def get_portal003_05(teleport: bool = False) -> Response | dict:  # type: ignore[type-arg]
    if teleport:
        return RedirectResponse(url=RICK)
    return {"message": "Here's your interdimensional portal."}


PORTALS = pytest.mark.parametrize("app", [app003_02, app003_05], ids=["003_02", "003_05"])


@PORTALS
def test_get_portal(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/portal")
    assert response.status_code == 200, response.text
    assert response.json() == PORTAL


@PORTALS
def test_get_redirect(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get(
        "/portal", params={"teleport": True}, follow_redirects=False)
    assert response.status_code == 307, response.text
    assert response.headers["location"] == RICK
    assert response.content == b""


@PORTALS
def test_get_portal_with_a_bad_teleport_is_a_422(app: MicroReady, anyio_backend: str) -> None:
    # FastAPI 0.165's answer to the same request.
    response = client_for(app, anyio_backend).get("/portal?teleport=maybe")
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "bool_parsing", "loc": ["query", "teleport"],
        "msg": "Input should be a valid boolean, unable to interpret input", "input": "maybe",
    }]}


def test_get_teleport(anyio_backend: str) -> None:
    response = client_for(app003_03, anyio_backend).get("/teleport", follow_redirects=False)
    assert response.status_code == 307, response.text
    assert response.headers["location"] == RICK


# -- tutorial004: response_model_exclude_unset ----------------------------------------


app004 = MicroReady()


class Item004(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5
    tags: list[str] = []


items004 = {
    "foo": {"name": "Foo", "price": 50.2},
    "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
    "baz": {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []},
}


@app004.get("/items/{item_id}", response_model=Item004, response_model_exclude_unset=True)
async def read_item004(item_id: str):  # type: ignore[no-untyped-def]
    return items004[item_id]


@pytest.mark.parametrize(("url", "data"), [
    ("/items/foo", {"name": "Foo", "price": 50.2}),
    ("/items/bar", {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2}),
    # set to the defaults' values, so set: they stay (the page's "Data with values for
    # fields with defaults")
    ("/items/baz", {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []}),
])
def test_exclude_unset(url: str, data: dict[str, Any], anyio_backend: str) -> None:
    response = client_for(app004, anyio_backend).get(url)
    assert response.status_code == 200, response.text
    assert response.json() == data


def test_exclude_unset_sends_fastapis_bytes(anyio_backend: str) -> None:
    # The int 62 went through "price: float": FastAPI 0.165 sends it as 62.0.
    response = client_for(app004, anyio_backend).get("/items/bar")
    assert response.content == (
        b'{"name":"Bar","description":"The bartenders","price":62.0,"tax":20.2}')
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == "69"


# -- tutorial005 (sets) and tutorial006 (lists): response_model_include/exclude -----


class Item005(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5


items005 = {
    "foo": {"name": "Foo", "price": 50.2},
    "bar": {"name": "Bar", "description": "The Bar fighters", "price": 62, "tax": 20.2},
    "baz": {
        "name": "Baz",
        "description": "There goes my baz",
        "price": 50.2,
        "tax": 10.5,
    },
}

app005 = MicroReady()


@app005.get(
    "/items/{item_id}/name",
    response_model=Item005,
    response_model_include={"name", "description"},
)
async def read_item_name005(item_id: str):  # type: ignore[no-untyped-def]
    return items005[item_id]


@app005.get("/items/{item_id}/public", response_model=Item005, response_model_exclude={"tax"})
async def read_item_public_data005(item_id: str):  # type: ignore[no-untyped-def]
    return items005[item_id]


app006 = MicroReady()


@app006.get(
    "/items/{item_id}/name",
    response_model=Item005,
    response_model_include=["name", "description"],
)
async def read_item_name006(item_id: str):  # type: ignore[no-untyped-def]
    return items005[item_id]


@app006.get("/items/{item_id}/public", response_model=Item005, response_model_exclude=["tax"])
async def read_item_public_data006(item_id: str):  # type: ignore[no-untyped-def]
    return items005[item_id]


APPS005 = pytest.mark.parametrize("app", [app005, app006], ids=["005-sets", "006-lists"])


@APPS005
def test_read_item_name(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/items/bar/name")
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "Bar", "description": "The Bar fighters"}


@APPS005
def test_read_item_public_data(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/items/bar/public")
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "Bar", "description": "The Bar fighters", "price": 62}


@APPS005
def test_include_and_exclude_keep_defaults_of_what_they_keep(app: MicroReady,
                                                             anyio_backend: str) -> None:
    # FastAPI 0.165's answers: an unset field is still sent (with its default) when
    # include/exclude keep it; only exclude_unset would drop it.
    client = client_for(app, anyio_backend)
    assert client.get("/items/foo/name").json() == {"name": "Foo", "description": None}
    assert client.get("/items/foo/public").json() == {
        "name": "Foo", "description": None, "price": 50.2}
    assert client.get("/items/baz/name").json() == {
        "name": "Baz", "description": "There goes my baz"}
    assert client.get("/items/baz/public").json() == {
        "name": "Baz", "description": "There goes my baz", "price": 50.2}


# -- through the real server ----------------------------------------------------------


@pytest.mark.anyio
async def test_output_model_through_the_real_server(anyio_backend: str) -> None:
    body = (b'{"username": "foo", "password": "fighter", "email": "foo@example.com", '
            b'"full_name": "Grave Dohl"}')
    async with serving(app003) as running, connect(running.port) as client:
        await client.send(request(
            "POST", "/user/", "Content-Type: application/json",
            f"Content-Length: {len(body)}", body=body))
        response = await client.read_response("POST")
    assert response.status == 200
    assert response.json() == {
        "username": "foo", "email": "foo@example.com", "full_name": "Grave Dohl"}
    assert b"fighter" not in response.body


@pytest.mark.anyio
async def test_exclude_unset_and_a_redirect_through_the_real_server(anyio_backend: str) -> None:
    async with serving(app004) as running, connect(running.port) as client:
        for item_id in ("foo", "bar", "baz"):
            await client.send(request("GET", f"/items/{item_id}"))
            response = await client.read_response()
            assert response.status == 200
            assert response.json() == items004[item_id]
    async with serving(app003_05) as running, connect(running.port) as client:
        await client.send(request("GET", "/portal?teleport=true"))
        response = await client.read_response()
        assert (response.status, response.header(b"location"), response.body) == (
            307, RICK.encode(), b"")
        await client.send(request("GET", "/portal"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, PORTAL)
