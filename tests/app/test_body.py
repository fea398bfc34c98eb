"""JSON bodies: dataclasses, TypedDicts, dicts and lists, Body(embed), errors."""

import dataclasses
from dataclasses import dataclass, field
from typing import Annotated, Any, NotRequired, TypedDict

import pytest

from microready import Body, MicroReady
from microready.exceptions import RequestValidationError

from .helpers import body_json, call

pytestmark = pytest.mark.anyio


@dataclass
class Image:
    url: str
    name: str


@dataclass
class Item:
    name: str
    price: float
    description: str | None = None
    tax: float | None = None
    tags: list[str] = field(default_factory=list)
    images: list[Image] | None = None


@dataclass
class User:
    username: str
    full_name: str | None = None


@dataclass
class Node:
    value: int
    children: list["Node"] = field(default_factory=list)


class Movie(TypedDict):
    title: str
    year: int
    rating: NotRequired[float]


@dataclass
class Positive:
    amount: int

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError("amount must be positive")


def app_with(handler: Any, path: str = "/items/") -> MicroReady:
    app = MicroReady()
    app.post(path)(handler)
    return app


async def test_dataclass_body_is_converted_recursively() -> None:
    seen: dict[str, Any] = {}

    async def create(item: Item) -> Item:
        seen["item"] = item
        return item

    payload = {"name": "Foo", "price": "50.5", "tags": ["a"],
               "images": [{"url": "http://x/1.png", "name": "one"}]}
    reply = await call(app_with(create), "POST", "/items/", json=payload)
    assert reply.response.status_code == 200
    item = seen["item"]
    assert isinstance(item, Item) and isinstance(item.images[0], Image)
    assert item.price == 50.5
    assert body_json(reply) == {
        "name": "Foo", "price": 50.5, "description": None, "tax": None, "tags": ["a"],
        "images": [{"url": "http://x/1.png", "name": "one"}],
    }


async def test_every_body_error_at_once_with_nested_locations() -> None:
    async def create(item: Item) -> None: ...

    payload = {"price": "cheap", "tags": "notalist", "images": [{"url": 1}]}
    reply = await call(app_with(create), "POST", "/items/", json=payload)
    assert reply.response.status_code == 422
    assert body_json(reply)["detail"] == [
        {"type": "missing", "loc": ["body", "name"], "msg": "Field required", "input": payload},
        {"type": "float_parsing", "loc": ["body", "price"],
         "msg": "Input should be a valid number, unable to parse string as a number",
         "input": "cheap"},
        {"type": "list_type", "loc": ["body", "tags"], "msg": "Input should be a valid list",
         "input": "notalist"},
        {"type": "string_type", "loc": ["body", "images", 0, "url"],
         "msg": "Input should be a valid string", "input": 1},
        {"type": "missing", "loc": ["body", "images", 0, "name"], "msg": "Field required",
         "input": {"url": 1}},
    ]


async def test_body_that_is_not_an_object() -> None:
    async def create(item: Item) -> None: ...

    reply = await call(app_with(create), "POST", "/items/", json=[1, 2])
    assert body_json(reply)["detail"] == [{
        "type": "dataclass_type", "loc": ["body"],
        "msg": "Input should be a dictionary or an instance of Item", "input": [1, 2],
        "ctx": {"class_name": "Item"},
    }]


async def test_missing_body() -> None:
    async def create(item: Item) -> None: ...

    reply = await call(app_with(create), "POST", "/items/")
    assert body_json(reply) == {"detail": [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]}


async def test_optional_body() -> None:
    async def create(item: Item | None = None) -> str:
        return "none" if item is None else item.name

    app = app_with(create)
    assert body_json(await call(app, "POST", "/items/")) == "none"
    assert body_json(await call(app, "POST", "/items/", json={"name": "x", "price": 1})) == "x"


async def test_malformed_json_is_422_json_invalid() -> None:
    async def create(item: Item) -> None: ...

    reply = await call(app_with(create), "POST", "/items/", body=b'{"name": "x",}',
                       headers=[("content-type", "application/json")])
    assert reply.response.status_code == 422
    assert body_json(reply) == {"detail": [{
        "type": "json_invalid", "loc": ["body", 13], "msg": "JSON decode error", "input": {},
        "ctx": {"error": "Expecting property name enclosed in double quotes"},
    }]}


async def test_body_without_content_type_is_not_json() -> None:
    # FastAPI 0.132's strict Content-Type check: the body is handed on as text.
    async def create(item: Item) -> str:
        return item.name

    reply = await call(app_with(create), "POST", "/items/", body=b'{"name": "n", "price": 1}')
    assert reply.response.status_code == 422
    assert body_json(reply) == {"detail": [{
        "type": "dataclass_type", "loc": ["body"],
        "msg": "Input should be a dictionary or an instance of Item",
        "input": '{"name": "n", "price": 1}', "ctx": {"class_name": "Item"},
    }]}


async def test_non_json_content_type_is_not_parsed() -> None:
    async def create(item: Item) -> None: ...

    reply = await call(app_with(create), "POST", "/items/", body=b'{"name": "n", "price": 1}',
                       headers=[("content-type", "text/plain")])
    assert body_json(reply)["detail"][0]["type"] == "dataclass_type"


async def test_json_suffix_content_types_are_json() -> None:
    async def create(item: Item) -> str:
        return item.name

    reply = await call(app_with(create), "POST", "/items/", body=b'{"name": "n", "price": 1}',
                       headers=[("content-type", "application/merge-patch+json; charset=utf-8")])
    assert body_json(reply) == "n"


async def test_invalid_utf8_is_400() -> None:
    async def create(item: Item) -> None: ...

    reply = await call(app_with(create), "POST", "/items/", body=b'{"name": "\xff"}',
                       headers=[("content-type", "application/json")])
    assert reply.response.status_code == 400
    assert body_json(reply) == {"detail": "There was an error parsing the body"}


async def test_typed_dict_dict_and_list_bodies() -> None:
    app = MicroReady()

    @app.post("/movie")
    async def movie(movie: Movie) -> Movie:
        return movie

    @app.post("/weights")
    async def weights(weights: dict[int, float]) -> dict[str, Any]:
        return {"keys": sorted(weights), "types": sorted({type(k).__name__ for k in weights})}

    @app.post("/images")
    async def images(images: list[Image]) -> int:
        return len(images)

    @app.post("/anything")
    async def anything(payload: dict) -> dict:  # type: ignore[type-arg]
        return payload

    ok = await call(app, "POST", "/movie", json={"title": "Heat", "year": "1995", "extra": 1})
    assert body_json(ok) == {"title": "Heat", "year": 1995}
    bad = await call(app, "POST", "/movie", json={"year": 1995, "rating": "x"})
    assert [e["loc"] for e in body_json(bad)["detail"]] == [["body", "title"], ["body", "rating"]]
    reply = await call(app, "POST", "/weights", json={"2": 1.5, "1": 3})
    assert body_json(reply) == {"keys": [1, 2], "types": ["int"]}
    reply = await call(app, "POST", "/weights", json={"x": 1})
    assert body_json(reply)["detail"][0]["loc"] == ["body", "x", "[key]"]
    assert body_json(await call(app, "POST", "/images", json=[{"url": "u", "name": "n"}])) == 1
    assert body_json(await call(app, "POST", "/anything", json={"a": [1]})) == {"a": [1]}


async def test_self_referencing_dataclass() -> None:
    async def tree(node: Node) -> int:
        def total(n: Node) -> int:
            return n.value + sum(total(c) for c in n.children)
        return total(node)

    payload = {"value": 1, "children": [{"value": 2, "children": [{"value": "3"}]}]}
    assert body_json(await call(app_with(tree, "/tree"), "POST", "/tree", json=payload)) == 6
    payload["children"][0]["children"][0]["value"] = "x"  # type: ignore[index]
    reply = await call(app_with(tree, "/tree"), "POST", "/tree", json=payload)
    assert body_json(reply)["detail"][0]["loc"] == ["body", "children", 0, "children", 0, "value"]


async def test_post_init_value_error_is_a_422() -> None:
    async def pay(p: Positive) -> int:
        return p.amount

    reply = await call(app_with(pay), "POST", "/items/", json={"amount": -1})
    assert body_json(reply)["detail"] == [{
        "type": "value_error", "loc": ["body"], "msg": "Value error, amount must be positive",
        "input": {"amount": -1}, "ctx": {"error": "amount must be positive"},
    }]


async def test_embed_single_body() -> None:
    async def update(item: Annotated[Item, Body(embed=True)]) -> str:
        return item.name

    app = app_with(update)
    reply = await call(app, "POST", "/items/", json={"item": {"name": "x", "price": 1}})
    assert body_json(reply) == "x"
    reply = await call(app, "POST", "/items/", json={"name": "x", "price": 1})
    assert body_json(reply)["detail"] == [
        {"type": "missing", "loc": ["body", "item"], "msg": "Field required", "input": None}
    ]


async def test_multiple_body_parameters_and_a_singular_value() -> None:
    async def update(item_id: int, item: Item, user: User,
                     importance: Annotated[int, Body(gt=0)]) -> dict[str, Any]:
        return {"item_id": item_id, "item": item, "user": user, "importance": importance}

    app = app_with(update, "/items/{item_id}")
    payload = {"item": {"name": "Foo", "price": 42.0}, "user": {"username": "dave"},
               "importance": 5}
    reply = await call(app, "POST", "/items/5", json=payload)
    assert body_json(reply)["importance"] == 5
    assert body_json(reply)["user"] == {"username": "dave", "full_name": None}
    reply = await call(app, "POST", "/items/5", json={"item": {"price": 1}, "importance": 0})
    assert body_json(reply)["detail"] == [
        {"type": "missing", "loc": ["body", "item", "name"], "msg": "Field required",
         "input": {"price": 1}},
        {"type": "missing", "loc": ["body", "user"], "msg": "Field required", "input": None},
        {"type": "greater_than", "loc": ["body", "importance"],
         "msg": "Input should be greater than 0", "input": 0, "ctx": {"gt": 0}},
    ]


async def test_single_scalar_body_is_the_whole_body() -> None:
    async def count(n: int = Body()) -> int:
        return n * 2

    assert body_json(await call(app_with(count), "POST", "/items/", json=21)) == 42


async def test_validation_error_carries_the_body() -> None:
    app = MicroReady()
    seen: dict[str, Any] = {}

    @app.exception_handler(RequestValidationError)
    async def keep(request: Any, exc: RequestValidationError) -> Any:
        seen["body"] = exc.body
        seen["errors"] = exc.errors()
        from microready import JSONResponse
        return JSONResponse({"n": len(exc.errors())}, status_code=422)

    @app.post("/items/")
    async def create(item: Item) -> None: ...

    reply = await call(app, "POST", "/items/", json={"name": "x", "price": "y"})
    assert body_json(reply) == {"n": 1}
    assert seen["body"] == {"name": "x", "price": "y"}
    assert seen["errors"][0]["loc"] == ("body", "price")


async def test_dataclass_field_types_follow_pydantic_lax_mode() -> None:
    @dataclass
    class Types:
        i: int
        f: float
        b: bool
        s: str

    async def handler(t: Types) -> dict[str, Any]:
        return dataclasses.asdict(t)

    app = app_with(handler)
    ok = await call(app, "POST", "/items/", json={"i": 2.0, "f": 1, "b": "on", "s": "x"})
    assert body_json(ok) == {"i": 2, "f": 1.0, "b": True, "s": "x"}
    bad = await call(app, "POST", "/items/", json={"i": 2.5, "f": [], "b": 3, "s": 1})
    assert [(e["type"], e["msg"]) for e in body_json(bad)["detail"]] == [
        ("int_from_float", "Input should be a valid integer, got a number with a fractional part"),
        ("float_type", "Input should be a valid number"),
        ("bool_parsing", "Input should be a valid boolean, unable to interpret input"),
        ("string_type", "Input should be a valid string"),
    ]


@pytest.mark.parametrize("where", ["app", "router", "route"])
def test_strict_content_type_can_be_turned_off(anyio_backend: str, where: str) -> None:
    from microready import Router

    from .helpers import client_for

    async def create(item: Item) -> str:
        return item.name

    app = MicroReady(strict_content_type=where != "app")
    if where == "route":
        app.post("/items/", strict_content_type=False)(create)
    else:
        router = Router(strict_content_type=False if where == "router" else None)
        router.post("/items/")(create)
        app.include_router(router)
    app.post("/strict/")(create)  # the app's own default still holds here
    client = client_for(app, anyio_backend)
    body = b'{"name": "n", "price": 1}'
    assert client.post("/items/", content=body).json() == "n"
    strict = client.post("/strict/", content=body)
    assert strict.status_code == (200 if where == "app" else 422)
    # A Content-Type that is not JSON is never read as JSON, strict or not.
    assert client.post("/items/", content=body,
                       headers={"content-type": "text/plain"}).status_code == 422


def test_a_route_can_be_strict_in_a_lenient_app(anyio_backend: str) -> None:
    from .helpers import client_for

    async def create(item: Item) -> str:
        return item.name

    app = MicroReady(strict_content_type=False)
    app.post("/items/", strict_content_type=True)(create)
    response = client_for(app, anyio_backend).post("/items/", content=b'{"name": "n", "price": 1}')
    assert response.status_code == 422
