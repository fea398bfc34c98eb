"""pydantic models work when pydantic is installed (it is never a dependency of
microready; the test extra installs it so these tests always run).

Error shapes are pydantic's own.
"""

from typing import Annotated, Any

import pydantic

from microready import Body, MicroReady

from .helpers import client_for


class Image(pydantic.BaseModel):  # type: ignore[name-defined,misc]
    url: str
    name: str


class Item(pydantic.BaseModel):  # type: ignore[name-defined,misc]
    name: str
    price: float = pydantic.Field(gt=0)
    tags: list[str] = pydantic.Field(default_factory=list)
    image: Image | None = None


def make_app() -> MicroReady:
    app = MicroReady()

    @app.post("/items/")
    async def create(item: Item) -> Item:
        return item

    @app.put("/items/{item_id}")
    async def update(item_id: int, item: Item, importance: Annotated[int, Body()]) -> Any:
        return {"item_id": item_id, "item": item, "importance": importance}

    @app.get("/limited")
    async def limited(q: Annotated[str, pydantic.Field(max_length=3)] = "") -> str:
        return q

    return app


def test_model_body_round_trip(anyio_backend: str) -> None:
    client = client_for(make_app(), anyio_backend)
    payload = {"name": "Foo", "price": "2.5", "image": {"url": "u", "name": "n"}}
    response = client.post("/items/", json=payload)
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "Foo", "price": 2.5, "tags": [],
                               "image": {"url": "u", "name": "n"}}


def test_model_errors_are_pydantics_with_body_locations(anyio_backend: str) -> None:
    client = client_for(make_app(), anyio_backend)
    response = client.post("/items/", json={"price": -1, "image": {"url": 1}})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(e["type"], e["loc"]) for e in detail] == [
        ("missing", ["body", "name"]),
        ("greater_than", ["body", "price"]),
        ("string_type", ["body", "image", "url"]),
        ("missing", ["body", "image", "name"]),
    ]
    assert detail[1]["ctx"] == {"gt": 0.0}
    assert all("url" not in e for e in detail)  # FastAPI leaves out pydantic's doc links


def test_models_embed_with_other_body_parameters(anyio_backend: str) -> None:
    client = client_for(make_app(), anyio_backend)
    response = client.put("/items/3", json={"item": {"name": "x", "price": 1}, "importance": 2})
    assert response.json() == {"item_id": 3, "importance": 2,
                               "item": {"name": "x", "price": 1.0, "tags": [], "image": None}}


def test_field_constraints_in_annotated(anyio_backend: str) -> None:
    client = client_for(make_app(), anyio_backend)
    assert client.get("/limited?q=abc").json() == "abc"
    assert client.get("/limited?q=abcd").json()["detail"][0]["type"] == "string_too_long"


class Signup(pydantic.BaseModel):  # type: ignore[name-defined,misc]
    username: str

    @pydantic.field_validator("username")  # type: ignore[misc]
    @classmethod
    def no_spaces(cls, value: str) -> str:
        if " " in value:
            raise ValueError("no spaces, please")
        return value


def test_a_model_validators_error_has_fastapis_ctx(anyio_backend: str) -> None:
    # FastAPI's encoder writes the exception in ctx as {}; so do we, for models
    # as for validators in Annotated (one translation of pydantic's errors).
    app = MicroReady()

    @app.post("/signup")
    async def signup(user: Signup) -> Signup:
        return user

    response = client_for(app, anyio_backend).post("/signup", json={"username": "a b"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "type": "value_error", "loc": ["body", "username"],
        "msg": "Value error, no spaces, please", "input": "a b", "ctx": {"error": {}},
    }]
