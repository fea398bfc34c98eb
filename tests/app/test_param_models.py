"""Parameter models beyond the tutorial's pydantic ones: dataclasses and TypedDicts as
``Query()``, ``Header()``, ``Cookie()`` and ``Form()`` models, and form-field rules."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, TypedDict

import pytest

from microready import Cookie, File, Form, Header, MicroReady, Query, UploadFile

from .helpers import client_for


@dataclasses.dataclass
class Filters:
    limit: int = 100
    tags: list[str] = dataclasses.field(default_factory=list)


class Tracking(TypedDict):
    session_id: str
    fatebook_tracker: str | None


@dataclasses.dataclass
class Signup:
    username: str
    age: int
    avatar: bytes | None = None


def models_app() -> MicroReady:
    app = MicroReady()

    @app.get("/query/")
    async def query(filters: Annotated[Filters, Query()]) -> Any:
        return dataclasses.asdict(filters)

    @app.get("/header/")
    async def header(filters: Annotated[Filters, Header()]) -> Any:
        return dataclasses.asdict(filters)

    @app.get("/cookie/")
    async def cookie(tracking: Annotated[Tracking, Cookie()]) -> Any:
        return tracking

    @app.post("/signup/")
    async def signup(data: Annotated[Signup, Form()]) -> Any:
        return {"username": data.username, "age": data.age,
                "avatar": None if data.avatar is None else len(data.avatar)}

    return app


def test_a_dataclass_query_model_reads_repeated_keys(anyio_backend: str) -> None:
    client = client_for(models_app(), anyio_backend)
    assert client.get("/query/?limit=5&tags=a&tags=b").json() == {"limit": 5, "tags": ["a", "b"]}
    assert client.get("/query/").json() == {"limit": 100, "tags": []}
    response = client.get("/query/?limit=lots")
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "type": "int_parsing", "loc": ["query", "limit"],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "lots",
    }]


def test_a_header_model_reads_hyphenated_names(anyio_backend: str) -> None:
    client = client_for(models_app(), anyio_backend)
    response = client.get("/header/", headers=[("Limit", "7"), ("Tags", "x"), ("tags", "y")])
    assert response.json() == {"limit": 7, "tags": ["x", "y"]}


def test_a_typeddict_cookie_model(anyio_backend: str) -> None:
    client = client_for(models_app(), anyio_backend)
    response = client.get("/cookie/", headers={"cookie": "session_id=abc; fatebook_tracker=t"})
    assert response.json() == {"session_id": "abc", "fatebook_tracker": "t"}
    response = client.get("/cookie/", headers={"cookie": "fatebook_tracker=t"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "type": "missing", "loc": ["cookie", "session_id"], "msg": "Field required",
        "input": {"fatebook_tracker": "t"},
    }]


def test_a_dataclass_form_model_with_a_file(anyio_backend: str) -> None:
    client = client_for(models_app(), anyio_backend)
    response = client.post("/signup/", data={"username": "ada", "age": "36"},
                           files={"avatar": ("me.png", b"\x89PNG....")})
    assert response.json() == {"username": "ada", "age": 36, "avatar": 8}
    # An empty text field counts as absent, as FastAPI reads forms.
    response = client.post("/signup/", data={"username": "", "age": "36"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "type": "missing", "loc": ["body", "username"], "msg": "Field required",
        "input": {"age": "36"},
    }]


class Custom(TypedDict):
    x_token: str


def test_header_model_without_underscore_conversion(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/")
    async def read(headers: Annotated[Custom, Header(convert_underscores=False)]) -> Any:
        return headers

    client = client_for(app, anyio_backend)
    assert client.get("/", headers={"x_token": "a"}).json() == {"x_token": "a"}
    assert client.get("/", headers={"x-token": "a"}).status_code == 422


def test_list_of_uploads_optional_file_and_list_of_bytes(anyio_backend: str) -> None:
    app = MicroReady()

    @app.post("/many/")
    async def many(files: list[UploadFile], raw: Annotated[list[bytes], File()],
                   maybe: UploadFile | None = None) -> Any:
        return {"names": [f.filename for f in files], "raw": [r.decode() for r in raw],
                "maybe": None if maybe is None else maybe.filename}

    client = client_for(app, anyio_backend)
    files = [("files", ("a.txt", b"A")), ("files", ("b.txt", b"B")),
             ("raw", ("r1", b"one")), ("raw", ("r2", b"two"))]
    assert client.post("/many/", files=files).json() == {
        "names": ["a.txt", "b.txt"], "raw": ["one", "two"], "maybe": None}
    response = client.post("/many/", files=[*files, ("maybe", ("m.txt", b"M"))])
    assert response.json()["maybe"] == "m.txt"
    response = client.post("/many/", files=files[2:])
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "type": "missing", "loc": ["body", "files"], "msg": "Field required", "input": None,
    }]


def test_form_and_body_markers_mix_as_in_fastapi(anyio_backend: str) -> None:
    # With a Form() parameter the body is a form, and every body parameter is a field.
    app = MicroReady()

    @app.post("/")
    async def mixed(name: Annotated[str, Form()], count: Annotated[int, Form()] = 1,
                    tags: Annotated[list[str], Form()] = []) -> Any:  # noqa: B006
        return {"name": name, "count": count, "tags": tags}

    client = client_for(app, anyio_backend)
    assert client.post("/", data={"name": "n", "tags": ["a", "b"]}).json() == {
        "name": "n", "count": 1, "tags": ["a", "b"]}
    assert client.post("/", data={"name": "n", "count": ""}).json()["count"] == 1


def test_a_mapping_is_no_parameter_model() -> None:
    def handler(filters: Annotated[dict[str, str], Query()]) -> None: ...

    with pytest.raises(TypeError, match="a parameter model is a dataclass, TypedDict"):
        MicroReady().get("/")(handler)
