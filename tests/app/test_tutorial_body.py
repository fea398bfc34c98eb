"""FastAPI tutorial, "Request Body" (docs_src/body/tutorial001-004) with dataclasses.

FastAPI's version declares ``class Item(BaseModel)``; here ``Item`` is a
``@dataclass`` and ``item.dict()`` becomes ``dataclasses.asdict(item)``.
The expected responses are FastAPI's.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest

from microready import MicroReady

from .helpers import client_for

FLOAT_MSG = "Input should be a valid number, unable to parse string as a number"


@dataclass
class Item:
    name: str
    price: float
    description: str | None = None
    tax: float | None = None


# tutorial001
app001 = MicroReady()


@app001.post("/items/")
async def create_item001(item: Item) -> Item:
    return item


# tutorial002: use the model
app002 = MicroReady()


@app002.post("/items/")
async def create_item002(item: Item) -> dict[str, Any]:
    item_dict = dataclasses.asdict(item)
    if item.tax is not None:
        price_with_tax = item.price + item.tax
        item_dict.update({"price_with_tax": price_with_tax})
    return item_dict


# tutorial003: body + path parameters
app003 = MicroReady()


@app003.put("/items/{item_id}")
async def update_item003(item_id: int, item: Item) -> dict[str, Any]:
    return {"item_id": item_id, **dataclasses.asdict(item)}


# tutorial004: body + path + query parameters
app004 = MicroReady()


@app004.put("/items/{item_id}")
async def update_item004(item_id: int, item: Item, q: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"item_id": item_id, **dataclasses.asdict(item)}
    if q:
        result.update({"q": q})
    return result


def test_body_float(anyio_backend: str) -> None:
    client = client_for(app001, anyio_backend)
    response = client.post("/items/", json={"name": "Foo", "price": 50.5})
    assert response.status_code == 200
    assert response.json() == {"name": "Foo", "price": 50.5, "description": None, "tax": None}


def test_post_with_str_float(anyio_backend: str) -> None:
    client = client_for(app001, anyio_backend)
    response = client.post("/items/", json={"name": "Foo", "price": "50.5"})
    assert response.json() == {"name": "Foo", "price": 50.5, "description": None, "tax": None}


def test_post_with_str_float_description_tax(anyio_backend: str) -> None:
    response = client_for(app001, anyio_backend).post(
        "/items/", json={"name": "Foo", "price": "50.5", "description": "Some Foo", "tax": 0.3}
    )
    assert response.json() == {
        "name": "Foo", "price": 50.5, "description": "Some Foo", "tax": 0.3,
    }


def test_post_with_only_name(anyio_backend: str) -> None:
    response = client_for(app001, anyio_backend).post("/items/", json={"name": "Foo"})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["body", "price"], "msg": "Field required",
         "input": {"name": "Foo"}},
    ]}


def test_post_with_only_name_price(anyio_backend: str) -> None:
    client = client_for(app001, anyio_backend)
    response = client.post("/items/", json={"name": "Foo", "price": "twenty"})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "float_parsing", "loc": ["body", "price"], "msg": FLOAT_MSG, "input": "twenty"},
    ]}


def test_post_with_no_data(anyio_backend: str) -> None:
    response = client_for(app001, anyio_backend).post("/items/", json={})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["body", "name"], "msg": "Field required", "input": {}},
        {"type": "missing", "loc": ["body", "price"], "msg": "Field required", "input": {}},
    ]}


def test_post_with_none(anyio_backend: str) -> None:
    response = client_for(app001, anyio_backend).post("/items/", json=None)
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None},
    ]}


def test_post_broken_body(anyio_backend: str) -> None:
    response = client_for(app001, anyio_backend).post(
        "/items/", headers={"content-type": "application/json"}, content="{some broken json}"
    )
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error", "input": {},
        "ctx": {"error": "Expecting property name enclosed in double quotes"},
    }]}


def test_post_form_for_json(anyio_backend: str) -> None:
    client = client_for(app001, anyio_backend)
    response = client.post("/items/", data={"name": "Foo", "price": 50.5})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "dataclass_type"  # model_attributes_type


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/geo+json", "application/json; charset=utf-8"],
)
def test_json_content_types(anyio_backend: str, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client_for(app001, anyio_backend).post(
        "/items/", content=b'{"name": "Foo", "price": 50.5}', headers=headers
    )
    assert response.status_code == 200, response.text


# None: FastAPI 0.132's strict Content-Type check refuses a JSON body that does not say so.
@pytest.mark.parametrize("content_type", ["text/plain", "application/geo+json-seq",
                                          "application/not-really-json", None])
def test_wrong_content_types(anyio_backend: str, content_type: str | None) -> None:
    response = client_for(app001, anyio_backend).post(
        "/items/", content=b'{"name": "Foo", "price": 50.5}',
        headers={"content-type": content_type} if content_type else {},
    )
    assert response.status_code == 422, response.text


def test_tutorial002_uses_the_model(anyio_backend: str) -> None:
    client = client_for(app002, anyio_backend)
    assert client.post("/items/", json={"name": "Foo", "price": 50.5, "tax": 0.5}).json() == {
        "name": "Foo", "price": 50.5, "description": None, "tax": 0.5, "price_with_tax": 51.0,
    }
    assert "price_with_tax" not in client.post("/items/", json={"name": "F", "price": 1}).json()


def test_tutorial003_body_and_path(anyio_backend: str) -> None:
    response = client_for(app003, anyio_backend).put("/items/5", json={"name": "Foo", "price": 2})
    assert response.json() == {
        "item_id": 5, "name": "Foo", "price": 2.0, "description": None, "tax": None,
    }


def test_tutorial004_body_path_and_query(anyio_backend: str) -> None:
    client = client_for(app004, anyio_backend)
    response = client.put("/items/5?q=bar", json={"name": "Foo", "price": 2})
    assert response.json() == {
        "item_id": 5, "name": "Foo", "price": 2.0, "description": None, "tax": None, "q": "bar",
    }
    response = client.put("/items/x", json={"name": "Foo"})
    assert [e["loc"] for e in response.json()["detail"]] == [["path", "item_id"],
                                                             ["body", "price"]]
