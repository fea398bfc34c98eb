"""pydantic's Before/After/Plain/WrapValidator inside ``Annotated`` run, as in FastAPI.

The expected orders and error shapes were taken from pydantic itself
(``TypeAdapter(Annotated[...]).validate_python``); ``ctx.error`` is ``{}``
because that is how FastAPI's encoder writes the exception object.
"""

from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainValidator,
    SkipValidation,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from microready import Body, Header, MicroReady, Path, Query
from tests.app.helpers import client_for
from tests.support.http import request
from tests.support.live import connect, serving


def check_id(value: str) -> str:
    if not value.startswith(("isbn-", "imdb-")):
        raise ValueError('Invalid ID format, it must start with "isbn-" or "imdb-"')
    return value


def positive(value: int) -> int:
    if value <= 0:  # what a plain assert raises (pytest rewrites asserts in tests)
        raise AssertionError("must be positive")
    return value


def even(value: int) -> int:
    if value % 2:
        raise PydanticCustomError("not_even", "{value} is not even", {"value": value})
    return value


def build_app(log: list[Any]) -> MicroReady:
    app = MicroReady()

    def record(name: str) -> Any:
        def step(value: Any) -> Any:
            log.append((name, value))
            return value
        return step

    def wrapped(name: str) -> Any:
        def step(value: Any, handler: Any) -> Any:
            log.append((name, "in", value))
            result = handler(value)
            log.append((name, "out", result))
            return result
        return step

    @app.get("/items/")
    def items(id: Annotated[str | None, AfterValidator(check_id)] = None) -> dict[str, Any]:
        return {"id": id}

    @app.get("/after/{n}")
    def after(n: Annotated[int, Path(gt=-10), AfterValidator(positive)]) -> dict[str, Any]:
        return {"n": n}

    @app.get("/before")
    def before(
        tags: Annotated[list[int], Query(), BeforeValidator(lambda v: v[0].split(","))],
    ) -> dict[str, Any]:
        return {"tags": tags}

    @app.get("/plain")
    def plain(
        x: Annotated[int, PlainValidator(lambda v: f"plain:{v}")],
        y: Annotated[str, Header(), PlainValidator(int)],
    ) -> dict[str, Any]:
        return {"x": x, "y": y}

    @app.get("/wrap")
    def wrap(
        n: Annotated[int, WrapValidator(lambda v, handler: -1 if v == "none" else handler(v))],
    ) -> dict[str, Any]:
        return {"n": n}

    def fallback(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError:
            return 0

    @app.get("/fallback")
    def fallback_route(n: Annotated[int, WrapValidator(fallback)]) -> dict[str, Any]:
        return {"n": n}

    @app.get("/stacked")
    def stacked(
        v: Annotated[
            int,
            AfterValidator(record("a1")), BeforeValidator(record("b1")),
            WrapValidator(wrapped("w")),
            AfterValidator(record("a2")), BeforeValidator(record("b2")),
        ],
    ) -> dict[str, Any]:
        return {"v": v}

    @app.get("/plain-discards")
    def plain_discards(
        v: Annotated[int, AfterValidator(record("gone")), PlainValidator(str),
                     AfterValidator(record("kept"))],
    ) -> dict[str, Any]:
        return {"v": v}

    @app.get("/even")
    def even_route(n: Annotated[int, AfterValidator(even)]) -> dict[str, Any]:
        return {"n": n}

    @dataclass
    class Order:
        code: Annotated[str, BeforeValidator(str.strip), AfterValidator(check_id)]
        qty: Annotated[int, AfterValidator(positive)] = 1

    @app.post("/orders/")
    def orders(order: Order, note: Annotated[str, Body(), AfterValidator(str.upper)]) -> Any:
        return {"code": order.code, "qty": order.qty, "note": note}

    return app


def test_after_validator_passes_and_refuses(anyio_backend: str) -> None:
    with client_for(build_app([]), anyio_backend) as client:
        assert client.get("/items/?id=isbn-9781").json() == {"id": "isbn-9781"}
        assert client.get("/items/").json() == {"id": None}  # defaults are not validated
        response = client.get("/items/?id=igf-9")
        assert response.status_code == 422
        assert response.json() == {"detail": [{
            "type": "value_error", "loc": ["query", "id"],
            "msg": 'Value error, Invalid ID format, it must start with "isbn-" or "imdb-"',
            "input": "igf-9", "ctx": {"error": {}},
        }]}


def test_after_validator_gets_the_converted_checked_value(anyio_backend: str) -> None:
    with client_for(build_app([]), anyio_backend) as client:
        assert client.get("/after/3").json() == {"n": 3}
        # The constraint fails first, so the validator never sees -20.
        assert client.get("/after/-20").json()["detail"][0]["type"] == "greater_than"
        assert client.get("/after/-2").json() == {"detail": [{
            "type": "assertion_error", "loc": ["path", "n"],
            "msg": "Assertion failed, must be positive", "input": "-2", "ctx": {"error": {}},
        }]}


def test_before_validator_runs_on_the_raw_value(anyio_backend: str) -> None:
    with client_for(build_app([]), anyio_backend) as client:
        assert client.get("/before?tags=1,2,3").json() == {"tags": [1, 2, 3]}
        error = client.get("/before?tags=1,x").json()["detail"][0]
        assert (error["type"], error["loc"], error["input"]) == (
            "int_parsing", ["query", "tags", 1], "x"
        )


def test_plain_validator_replaces_conversion(anyio_backend: str) -> None:
    with client_for(build_app([]), anyio_backend) as client:
        response = client.get("/plain?x=abc", headers={"y": "42"})
        assert response.json() == {"x": "plain:abc", "y": 42}
        error = client.get("/plain?x=1", headers={"y": "nope"}).json()["detail"][0]
        assert (error["type"], error["loc"], error["input"]) == (
            "value_error", ["header", "y"], "nope"
        )
        assert error["msg"].startswith("Value error, invalid literal for int()")


def test_wrap_validator_gets_the_handler(anyio_backend: str) -> None:
    with client_for(build_app([]), anyio_backend) as client:
        assert client.get("/wrap?n=none").json() == {"n": -1}
        assert client.get("/wrap?n=5").json() == {"n": 5}
        assert client.get("/wrap?n=x").json() == {"detail": [{
            "type": "int_parsing", "loc": ["query", "n"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        }]}
        # The handler's failure is a pydantic ValidationError the validator can catch.
        assert client.get("/fallback?n=x").json() == {"n": 0}
        assert client.get("/fallback?n=7").json() == {"n": 7}


def test_stacked_validators_run_in_pydantic_order(anyio_backend: str) -> None:
    log: list[Any] = []
    with client_for(build_app(log), anyio_backend) as client:
        assert client.get("/stacked?v=4").json() == {"v": 4}
    assert log == [
        ("b2", "4"), ("w", "in", "4"), ("b1", "4"), ("a1", 4), ("w", "out", 4), ("a2", 4),
    ]


def test_plain_validator_discards_what_comes_before(anyio_backend: str) -> None:
    log: list[Any] = []
    with client_for(build_app(log), anyio_backend) as client:
        assert client.get("/plain-discards?v=x").json() == {"v": "x"}
    assert log == [("kept", "x")]


def test_custom_error_keeps_its_type_and_message(anyio_backend: str) -> None:
    with client_for(build_app([]), anyio_backend) as client:
        assert client.get("/even?n=3").json() == {"detail": [{
            "type": "not_even", "loc": ["query", "n"], "msg": "3 is not even", "input": "3",
            "ctx": {"value": 3},
        }]}


def test_validators_on_body_fields(anyio_backend: str) -> None:
    with client_for(build_app([]), anyio_backend) as client:
        response = client.post("/orders/", json={
            "order": {"code": "  imdb-1 ", "qty": 2}, "note": "hi",
        })
        assert response.json() == {"code": "imdb-1", "qty": 2, "note": "HI"}
        response = client.post("/orders/", json={"order": {"code": "x", "qty": 0}, "note": "n"})
        assert response.status_code == 422
        assert response.json() == {"detail": [
            {"type": "value_error", "loc": ["body", "order", "code"],
             "msg": 'Value error, Invalid ID format, it must start with "isbn-" or "imdb-"',
             "input": "x", "ctx": {"error": {}}},
            {"type": "assertion_error", "loc": ["body", "order", "qty"],
             "msg": "Assertion failed, must be positive", "input": 0, "ctx": {"error": {}}},
        ]}


def test_an_unknown_pydantic_hook_is_refused_not_skipped() -> None:
    app = MicroReady()
    with pytest.raises(TypeError, match="SkipValidation"):
        @app.get("/")
        def read(n: Annotated[int, SkipValidation()]) -> None: ...


@pytest.mark.anyio
async def test_validators_through_the_real_server(anyio_backend: str) -> None:
    async with serving(build_app([])) as running, connect(running.port) as client:
        await client.send(request("GET", "/items/?id=isbn-1"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, {"id": "isbn-1"})
        await client.send(request("GET", "/items/?id=nope"))
        response = await client.read_response()
        assert response.status == 422
        assert response.json()["detail"] == [{
            "type": "value_error", "loc": ["query", "id"],
            "msg": 'Value error, Invalid ID format, it must start with "isbn-" or "imdb-"',
            "input": "nope", "ctx": {"error": {}},
        }]
