"""response_model=, and the return annotation as one: validate, filter, never leak.

Dataclasses and TypedDicts go through microready's own converters; pydantic
models through pydantic (FastAPI's way). The tutorial pages' own examples are
in test_tutorial_response_model.py and test_tutorial_extra_models.py.
"""

import dataclasses
import logging
from typing import Any, TypedDict

import pytest
from pydantic import BaseModel

from microready import JSONResponse, MicroReady, Response
from microready.exceptions import ResponseValidationError

from ..support.http import request
from ..support.live import connect, serving
from .helpers import client_for


@dataclasses.dataclass
class UserIn:
    username: str
    password: str
    email: str
    full_name: str | None = None


@dataclasses.dataclass
class UserOut:
    username: str
    email: str
    full_name: str | None = None


class ItemOut(TypedDict):
    name: str
    price: float


@dataclasses.dataclass
class Item:
    name: str
    price: float = 10.5
    tax: float | None = None
    tags: list[str] = dataclasses.field(default_factory=list)


class PydanticUserOut(BaseModel):
    username: str
    email: str


def test_a_returned_record_is_filtered_to_the_model(anyio_backend: str) -> None:
    app = MicroReady()

    @app.post("/user/", response_model=UserOut)
    async def create_user(user: UserIn) -> Any:
        return user  # the password must not reach the client

    @app.get("/annotated/")
    async def annotated() -> UserOut:
        return UserIn("a", "secret", "a@example.com")  # type: ignore[return-value]

    client = client_for(app, anyio_backend)
    body = {"username": "john", "password": "secret", "email": "j@example.com"}
    assert client.post("/user/", json=body).json() == {
        "username": "john", "email": "j@example.com", "full_name": None}
    assert client.get("/annotated/").json() == {
        "username": "a", "email": "a@example.com", "full_name": None}


def test_typed_dicts_lists_and_dicts_of_them(anyio_backend: str) -> None:
    app = MicroReady()
    rows = [{"name": "a", "price": 1, "secret": "x"}, {"name": "b", "price": "2.5"}]

    @app.get("/list/")
    async def listed() -> list[ItemOut]:
        return rows  # type: ignore[return-value]

    @app.get("/dict/", response_model=dict[str, ItemOut])
    async def keyed() -> Any:
        return {"first": rows[0]}

    client = client_for(app, anyio_backend)
    assert client.get("/list/").json() == [{"name": "a", "price": 1.0},
                                           {"name": "b", "price": 2.5}]
    assert client.get("/dict/").json() == {"first": {"name": "a", "price": 1.0}}


def test_a_value_that_does_not_fit_is_a_logged_500(anyio_backend: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    app = MicroReady()

    @app.get("/broken/")
    async def broken() -> UserOut:
        return {"username": "a"}  # type: ignore[return-value]  # no email

    with pytest.raises(ResponseValidationError) as raised:
        client_for(app, anyio_backend).get("/broken/")
    assert raised.value.errors() == [{
        "type": "missing", "loc": ("response", "email"), "msg": "Field required",
        "input": {"username": "a"},
    }]
    response = client_for(app, anyio_backend, raise_server_exceptions=False).get("/broken/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert any(record.levelno == logging.ERROR and "response -> email" in record.exc_text
               for record in caplog.records if record.exc_text)


def test_options_exclude_unset_defaults_none_include_exclude(anyio_backend: str) -> None:
    app = MicroReady()
    stored = {"name": "Foo", "price": 50.2, "tax": None}

    @app.get("/unset/", response_model=Item, response_model_exclude_unset=True)
    async def unset() -> Any:
        return stored

    @app.get("/defaults/", response_model=Item, response_model_exclude_defaults=True)
    async def defaults() -> Any:
        return Item("Bar", 10.5, None, [])

    @app.get("/none/", response_model=Item, response_model_exclude_none=True)
    async def none() -> Any:
        return Item("Baz")

    @app.get("/include/", response_model=Item, response_model_include={"name", "price"})
    async def include() -> Any:
        return Item("Baz", tags=["t"])

    @app.get("/exclude/", response_model=list[Item], response_model_exclude={"__all__": {"tax"}})
    async def exclude() -> Any:
        return [Item("a"), Item("b", tax=1.0)]

    client = client_for(app, anyio_backend)
    # As pydantic counts them, every field of a dataclass is set: exclude_unset drops none.
    assert client.get("/unset/").json() == {"name": "Foo", "price": 50.2, "tax": None,
                                            "tags": []}
    assert client.get("/defaults/").json() == {"name": "Bar"}
    assert client.get("/none/").json() == {"name": "Baz", "price": 10.5, "tags": []}
    assert client.get("/include/").json() == {"name": "Baz", "price": 10.5}
    assert client.get("/exclude/").json() == [
        {"name": "a", "price": 10.5, "tags": []}, {"name": "b", "price": 10.5, "tags": []}]


def test_pydantic_models_go_through_pydantic(anyio_backend: str) -> None:
    app = MicroReady()

    class Secret:  # any object with the attributes: pydantic reads them (from_attributes)
        username = "orm"
        email = "orm@example.com"
        password = "x"

    @app.get("/orm/", response_model=PydanticUserOut)
    async def orm() -> Any:
        return Secret()

    @app.get("/many/")
    async def many() -> list[PydanticUserOut]:
        return [{"username": "a", "email": "e", "password": "p"}]  # type: ignore[list-item]

    client = client_for(app, anyio_backend)
    assert client.get("/orm/").json() == {"username": "orm", "email": "orm@example.com"}
    assert client.get("/many/").json() == [{"username": "a", "email": "e"}]


def test_no_model_when_asked_or_when_the_annotation_is_a_response(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/none/", response_model=None)
    async def opted_out() -> UserOut:
        return {"anything": "goes"}  # type: ignore[return-value]

    @app.get("/response/")
    async def response() -> Response:
        return JSONResponse({"raw": True})

    @app.get("/returns-none/")
    async def nothing() -> None:
        return None

    client = client_for(app, anyio_backend)
    assert client.get("/none/").json() == {"anything": "goes"}
    assert client.get("/response/").json() == {"raw": True}
    assert client.get("/returns-none/").json() is None


def test_a_union_of_a_response_and_data_needs_response_model_none() -> None:
    app = MicroReady()
    with pytest.raises(TypeError, match=r"right: @app.get\(..., response_model=None\)"):
        @app.get("/")
        async def either() -> Response | dict[str, str]:
            return {}

    @app.get("/ok/", response_model=None)
    async def fine() -> Response | dict[str, str]:
        return {}


def test_a_response_model_the_converters_cannot_read_is_refused() -> None:
    app = MicroReady()

    class Opaque:
        pass

    with pytest.raises(TypeError, match="response_model=None"):
        @app.get("/", response_model=Opaque)
        async def opaque() -> Any:
            return Opaque()


def test_included_routers_keep_their_response_models(anyio_backend: str) -> None:
    from microready import Router

    router = Router()

    @router.get("/me", response_model=UserOut)
    async def me() -> Any:
        return UserIn("u", "p", "e")

    app = MicroReady()
    app.include_router(router, prefix="/users")
    assert client_for(app, anyio_backend).get("/users/me").json() == {
        "username": "u", "email": "e", "full_name": None}


@pytest.mark.anyio
async def test_filtering_through_the_real_server() -> None:
    app = MicroReady()

    @app.get("/user/", response_model=UserOut)
    async def user() -> Any:
        return UserIn("u", "hunter2", "e")

    async with serving(app) as server, connect(server.port) as client:
        await client.send(request("GET", "/user/"))
        response = await client.read_response()
    assert response.json() == {"username": "u", "email": "e", "full_name": None}
    assert b"hunter2" not in response.body


def test_typing_extensions_typeddicts_work_as_body_and_response(anyio_backend: str) -> None:
    import typing_extensions

    class Point(typing_extensions.TypedDict):  # what pydantic asks for before Python 3.12
        x: int
        y: int

    app = MicroReady()

    @app.post("/points/", response_model=Point)
    async def move(point: Point) -> Any:
        return {**point, "y": point["y"] + 1, "label": "dropped"}

    assert client_for(app, anyio_backend).post("/points/", json={"x": 1, "y": "2"}).json() == {
        "x": 1, "y": 3}


def test_the_order_of_a_union_is_kept_per_route(anyio_backend: str) -> None:
    # A | B and B | A are equal types; each route must still try its own order first.
    app = MicroReady()

    @app.get("/int-first/", response_model=int | float)
    async def int_first() -> Any:
        return "2"

    @app.get("/float-first/", response_model=float | int)
    async def float_first() -> Any:
        return "2"

    client = client_for(app, anyio_backend)
    assert client.get("/int-first/").content == b"2"
    assert client.get("/float-first/").content == b"2.0"
