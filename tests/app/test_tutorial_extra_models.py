"""FastAPI tutorial, "Extra Models" (docs_src/extra_models/tutorial001-005), as tests.

Each example is FastAPI's with the import line changed (``app = MicroReady()``
where FastAPI has ``app = FastAPI()``); the models stay pydantic models.
``EmailStr`` needs the ``email-validator`` package, which is not installed
here (and is no dependency of microready), so those fields are ``str``.

The expected answers are the ones FastAPI's own tests check
(tests/test_tutorial/test_extra_models/, OpenAPI schemas aside), plus what
FastAPI 0.165 gave for the few requests its tests do not make.
"""

import dataclasses
from typing import Union

import pytest
from pydantic import BaseModel

from microready import MicroReady

from ..support.http import request
from ..support.live import connect, serving
from .helpers import client_for

# -- tutorial001: multiple models -----------------------------------------------------


app001 = MicroReady()


class UserIn001(BaseModel):
    username: str
    password: str
    email: str  # EmailStr in FastAPI's example (needs email-validator)
    full_name: str | None = None


class UserOut001(BaseModel):
    username: str
    email: str  # EmailStr in FastAPI's example
    full_name: str | None = None


class UserInDB001(BaseModel):
    username: str
    hashed_password: str
    email: str  # EmailStr in FastAPI's example
    full_name: str | None = None


def fake_password_hasher001(raw_password: str):  # type: ignore[no-untyped-def]
    return "supersecret" + raw_password


def fake_save_user001(user_in: UserIn001):  # type: ignore[no-untyped-def]
    hashed_password = fake_password_hasher001(user_in.password)
    user_in_db = UserInDB001(**user_in.model_dump(), hashed_password=hashed_password)
    print("User saved! ..not really")
    return user_in_db


@app001.post("/user/", response_model=UserOut001)
async def create_user001(user_in: UserIn001):  # type: ignore[no-untyped-def]
    user_saved = fake_save_user001(user_in)
    return user_saved


# -- tutorial002: reduce duplication (UserBase and subclasses) -------------------------


app002 = MicroReady()


class UserBase(BaseModel):
    username: str
    email: str  # EmailStr in FastAPI's example (needs email-validator)
    full_name: str | None = None


class UserIn002(UserBase):
    password: str


class UserOut002(UserBase):
    pass


class UserInDB002(UserBase):
    hashed_password: str


def fake_password_hasher002(raw_password: str):  # type: ignore[no-untyped-def]
    return "supersecret" + raw_password


def fake_save_user002(user_in: UserIn002):  # type: ignore[no-untyped-def]
    hashed_password = fake_password_hasher002(user_in.password)
    user_in_db = UserInDB002(**user_in.model_dump(), hashed_password=hashed_password)
    print("User saved! ..not really")
    return user_in_db


@app002.post("/user/", response_model=UserOut002)
async def create_user002(user_in: UserIn002):  # type: ignore[no-untyped-def]
    user_saved = fake_save_user002(user_in)
    return user_saved


USERS = pytest.mark.parametrize("app", [app001, app002], ids=["001", "002"])


@USERS
def test_post(app: MicroReady, anyio_backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    response = client_for(app, anyio_backend).post("/user/", json={
        "username": "johndoe",
        "password": "secret",
        "email": "johndoe@example.com",
        "full_name": "John Doe",
    })
    assert response.status_code == 200, response.text
    assert response.json() == {
        "username": "johndoe",
        "email": "johndoe@example.com",
        "full_name": "John Doe",
    }
    assert "secret" not in response.text  # neither the password nor the hashed one
    assert capsys.readouterr().out == "User saved! ..not really\n"


@USERS
def test_post_without_full_name(app: MicroReady, anyio_backend: str) -> None:
    # FastAPI 0.165's answer: the default is sent.
    response = client_for(app, anyio_backend).post("/user/", json={
        "username": "johndoe", "password": "secret", "email": "johndoe@example.com",
    })
    assert response.status_code == 200, response.text
    assert response.json() == {
        "username": "johndoe", "email": "johndoe@example.com", "full_name": None,
    }


# -- tutorial003: Union or anyOf ------------------------------------------------------


class BaseItem(BaseModel):
    description: str
    type: str


class CarItem(BaseItem):
    type: str = "car"


class PlaneItem(BaseItem):
    type: str = "plane"
    size: int


items003 = {
    "item1": {"description": "All my friends drive a low rider", "type": "car"},
    "item2": {
        "description": "Music is my aeroplane, it's my aeroplane",
        "type": "plane",
        "size": 5,
    },
}

app003 = MicroReady()  # tutorial003_py310: PlaneItem | CarItem


@app003.get("/items/{item_id}", response_model=PlaneItem | CarItem)
async def read_item003(item_id: str):  # type: ignore[no-untyped-def]
    return items003[item_id]


app003_py39 = MicroReady()  # tutorial003_py39: Union[PlaneItem, CarItem]


@app003_py39.get("/items/{item_id}", response_model=Union[PlaneItem, CarItem])  # noqa: UP007
async def read_item003_py39(item_id: str):  # type: ignore[no-untyped-def]
    return items003[item_id]


UNIONS = pytest.mark.parametrize("app", [app003, app003_py39], ids=["py310", "py39"])


@UNIONS
def test_get_car(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/items/item1")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "description": "All my friends drive a low rider",
        "type": "car",
    }


@UNIONS
def test_get_plane(app: MicroReady, anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/items/item2")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "description": "Music is my aeroplane, it's my aeroplane",
        "type": "plane",
        "size": 5,
    }


# The same union with dataclasses goes through microready's own converters. FastAPI
# (pydantic's "smart" union) picks the member that takes the most fields, whatever
# the order; microready takes the first member that converts (pydantic's
# left_to_right mode), which is why the page says to put the most specific first.
# README.md lists the difference.


def test_a_dataclass_union_takes_the_first_member_that_converts(anyio_backend: str) -> None:
    @dataclasses.dataclass
    class Car:
        description: str
        type: str = "car"

    @dataclasses.dataclass
    class Plane:
        description: str
        size: int
        type: str = "plane"

    app = MicroReady()

    @app.get("/items/{item_id}", response_model=Car | Plane)  # the less specific one first
    async def read_item(item_id: str):  # type: ignore[no-untyped-def]
        return items003[item_id]

    # FastAPI answers with "size": 5 here; microready's Car takes the value first.
    assert client_for(app, anyio_backend).get("/items/item2").json() == {
        "description": "Music is my aeroplane, it's my aeroplane", "type": "plane"}


def test_another_routes_union_order_does_not_leak(anyio_backend: str) -> None:
    @dataclasses.dataclass
    class Car:
        description: str
        type: str = "car"

    @dataclasses.dataclass
    class Plane:
        description: str
        size: int
        type: str = "plane"

    app = MicroReady()

    @app.get("/reversed/{item_id}", response_model=Car | Plane)
    async def read_reversed(item_id: str):  # type: ignore[no-untyped-def]
        return items003[item_id]

    @app.get("/items/{item_id}", response_model=Plane | Car)  # as the page advises
    async def read_item(item_id: str):  # type: ignore[no-untyped-def]
        return items003[item_id]

    assert client_for(app, anyio_backend).get("/items/item2").json() == {
        "description": "Music is my aeroplane, it's my aeroplane", "size": 5, "type": "plane"}


# -- tutorial004: list of models ------------------------------------------------------


app004 = MicroReady()


class Item004(BaseModel):
    name: str
    description: str


items004 = [
    {"name": "Foo", "description": "There comes my hero"},
    {"name": "Red", "description": "It's my aeroplane"},
]


@app004.get("/items/", response_model=list[Item004])
async def read_items004():  # type: ignore[no-untyped-def]
    return items004


def test_get_items(anyio_backend: str) -> None:
    response = client_for(app004, anyio_backend).get("/items/")
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"name": "Foo", "description": "There comes my hero"},
        {"name": "Red", "description": "It's my aeroplane"},
    ]


# -- tutorial005: response with arbitrary dict ----------------------------------------


app005 = MicroReady()


@app005.get("/keyword-weights/", response_model=dict[str, float])
async def read_keyword_weights():  # type: ignore[no-untyped-def]
    return {"foo": 2.3, "bar": 3.4}


def test_get_keyword_weights(anyio_backend: str) -> None:
    response = client_for(app005, anyio_backend).get("/keyword-weights/")
    assert response.status_code == 200, response.text
    assert response.json() == {"foo": 2.3, "bar": 3.4}
    assert response.content == b'{"foo":2.3,"bar":3.4}'  # FastAPI 0.165's bytes


# -- through the real server ----------------------------------------------------------


@pytest.mark.anyio
async def test_union_and_dict_models_through_the_real_server(anyio_backend: str) -> None:
    async with serving(app003) as running, connect(running.port) as client:
        await client.send(request("GET", "/items/item1"))
        car = await client.read_response()
        await client.send(request("GET", "/items/item2"))
        plane = await client.read_response()
    assert (car.status, car.json()) == (200, items003["item1"])
    assert (plane.status, plane.json()) == (200, items003["item2"])
    async with serving(app005) as running, connect(running.port) as client:
        await client.send(request("GET", "/keyword-weights/"))
        weights = await client.read_response()
    assert (weights.status, weights.body) == (200, b'{"foo":2.3,"bar":3.4}')
