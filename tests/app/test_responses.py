"""What handlers return, and how it is sent (through TestClient and the real connection)."""

import enum
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from microready import (
    HTMLResponse,
    JSONResponse,
    MicroReady,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    status,
)

from .helpers import call, client_for


@dataclass
class Point:
    x: int
    y: int


class Kind(enum.Enum):
    A = "a"


def test_plain_values_are_sent_as_json(anyio_backend: str) -> None:
    app = MicroReady()
    values: dict[str, Any] = {
        "dict": {"a": 1}, "list": [1, "two"], "str": "hé", "int": 3, "float": 1.5,
        "bool": True, "none": None, "dataclass": Point(1, 2), "enum": Kind.A,
        "uuid": uuid.UUID(int=1), "nested": {"p": [Point(0, 0)]},
    }
    for name, value in values.items():
        app.get(f"/{name}")(lambda value=value: value)
    client = client_for(app, anyio_backend)
    expected = {
        "dict": {"a": 1}, "list": [1, "two"], "str": "hé", "int": 3, "float": 1.5,
        "bool": True, "none": None, "dataclass": {"x": 1, "y": 2}, "enum": "a",
        "uuid": "00000000-0000-0000-0000-000000000001", "nested": {"p": [{"x": 0, "y": 0}]},
    }
    for name, value in expected.items():
        response = client.get(f"/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == value, name
    assert client.get("/str").content == '"hé"'.encode()


def test_status_code_on_the_decorator(anyio_backend: str) -> None:
    app = MicroReady()

    @app.post("/items/", status_code=status.HTTP_201_CREATED)
    async def create() -> dict[str, str]:
        return {"name": "x"}

    @app.delete("/items/1", status_code=204)
    async def delete() -> None:
        return None

    client = client_for(app, anyio_backend)
    created = client.post("/items/")
    assert (created.status_code, created.json()) == (201, {"name": "x"})
    deleted = client.delete("/items/1")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert "content-length" not in deleted.headers


def test_a_returned_response_is_sent_as_is_with_headers_and_cookies(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/legacy")
    def legacy() -> Response:
        data = "<?xml version='1.0'?><shampoo>x</shampoo>"
        return Response(content=data, media_type="application/xml", status_code=203,
                        headers={"X-Extra": "1"})

    @app.get("/cookie")
    async def cookie() -> JSONResponse:
        response = JSONResponse(content={"message": "Come to the dark side"})
        response.set_cookie(key="fakesession", value="fake-cookie-session-value")
        return response

    client = client_for(app, anyio_backend)
    legacy_response = client.get("/legacy")
    assert legacy_response.status_code == 203
    assert legacy_response.headers["content-type"] == "application/xml"
    assert legacy_response.headers["x-extra"] == "1"
    assert legacy_response.text == "<?xml version='1.0'?><shampoo>x</shampoo>"
    cookie_response = client.get("/cookie")
    assert cookie_response.json() == {"message": "Come to the dark side"}
    assert cookie_response.headers["set-cookie"] == (
        "fakesession=fake-cookie-session-value; Path=/; SameSite=lax"
    )


def test_response_class(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/html", response_class=HTMLResponse)
    async def html() -> str:
        return "<h1>Hi</h1>"

    @app.get("/text", response_class=PlainTextResponse, status_code=202)
    async def text() -> str:
        return "plain"

    @app.get("/go", response_class=RedirectResponse)
    async def go() -> str:
        return "/html"

    client = client_for(app, anyio_backend, follow_redirects=False)
    assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/html").text == "<h1>Hi</h1>"
    plain = client.get("/text")
    assert (plain.status_code, plain.text) == (202, "plain")
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    redirect = client.get("/go")
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/html")


def test_default_response_class_on_the_app(anyio_backend: str) -> None:
    app = MicroReady(default_response_class=PlainTextResponse)

    @app.get("/")
    async def index() -> str:
        return "text by default"

    response = client_for(app, anyio_backend).get("/")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_redirect_response_defaults_to_307_and_is_followed(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/old")
    async def old() -> RedirectResponse:
        return RedirectResponse("/new")

    @app.get("/new")
    async def new() -> str:
        return "new"

    client = client_for(app, anyio_backend, follow_redirects=False)
    response = client.get("/old")
    assert (response.status_code, response.headers["location"]) == (307, "/new")
    assert client_for(app, anyio_backend).get("/old").json() == "new"


def test_streaming_response_sync_and_async_chunked(anyio_backend: str) -> None:
    app = MicroReady()

    def numbers() -> Iterator[bytes]:
        for n in range(3):
            yield f"{n}\n".encode()

    async def words() -> AsyncIterator[str]:
        for word in ("alpha", "beta"):
            yield word + " "

    @app.get("/sync")
    def sync_stream() -> StreamingResponse:
        return StreamingResponse(numbers(), media_type="text/plain")

    @app.get("/async")
    async def async_stream() -> StreamingResponse:
        return StreamingResponse(words())

    client = client_for(app, anyio_backend)
    response = client.get("/sync")
    assert response.text == "0\n1\n2\n"
    assert response.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.headers
    assert client.get("/async").text == "alpha beta "


def test_unserialisable_return_value_is_a_500(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/")
    async def index() -> object:
        return object()

    response = client_for(app, anyio_backend, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


@pytest.mark.anyio
async def test_response_for_head_keeps_get_headers() -> None:
    app = MicroReady()

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"a": "b"}

    reply = await call(app, "HEAD", "/")
    assert reply.response.body == b'{"a":"b"}'  # the connection drops it for HEAD
