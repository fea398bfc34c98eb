"""FastAPI tutorial, "Path Parameters" (docs_src/path_params/tutorial001-005), on microready."""

from enum import Enum

import pytest

from microready import MicroReady

from .helpers import client_for

INT_MSG = "Input should be a valid integer, unable to parse string as an integer"

# tutorial001: a path parameter without a type is a str
app001 = MicroReady()


@app001.get("/items/{item_id}")
async def read_item001(item_id):  # type: ignore[no-untyped-def]
    return {"item_id": item_id}


# tutorial002: with a type
app002 = MicroReady()


@app002.get("/items/{item_id}")
async def read_item002(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


# tutorial003: order matters
app003 = MicroReady()


@app003.get("/users/me")
async def read_user_me() -> dict[str, str]:
    return {"user_id": "the current user"}


@app003.get("/users/{user_id}")
async def read_user(user_id: str) -> dict[str, str]:
    return {"user_id": user_id}


# tutorial003b: a path operation cannot be redefined; the first one wins
app003b = MicroReady()


@app003b.get("/users")
async def read_users() -> list[str]:
    return ["Rick", "Morty"]


@app003b.get("/users")
async def read_users2() -> list[str]:
    return ["Bean", "Elfo"]


# tutorial004: path convertor
app004 = MicroReady()


@app004.get("/files/{file_path:path}")
async def read_file(file_path: str) -> dict[str, str]:
    return {"file_path": file_path}


# tutorial005: predefined values
class ModelName(str, Enum):
    alexnet = "alexnet"
    resnet = "resnet"
    lenet = "lenet"


app005 = MicroReady()


@app005.get("/models/{model_name}")
async def get_model(model_name: ModelName) -> dict[str, object]:
    if model_name is ModelName.alexnet:
        return {"model_name": model_name, "message": "Deep Learning FTW!"}

    if model_name.value == "lenet":
        return {"model_name": model_name, "message": "LeCNN all the images"}

    return {"model_name": model_name, "message": "Have some residuals"}


def test_tutorial001(anyio_backend: str) -> None:
    client = client_for(app001, anyio_backend)
    assert client.get("/items/foo").json() == {"item_id": "foo"}


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/items/3", 200, {"item_id": 3}),
        ("/items/foo", 422, {"detail": [
            {"type": "int_parsing", "loc": ["path", "item_id"], "msg": INT_MSG, "input": "foo"}
        ]}),
        ("/items/4.2", 422, {"detail": [
            {"type": "int_parsing", "loc": ["path", "item_id"], "msg": INT_MSG, "input": "4.2"}
        ]}),
    ],
)
def test_tutorial002(anyio_backend: str, path: str, status: int, expected: object) -> None:
    response = client_for(app002, anyio_backend).get(path)
    assert response.status_code == status, response.text
    assert response.json() == expected


def test_tutorial003(anyio_backend: str) -> None:
    client = client_for(app003, anyio_backend)
    assert client.get("/users/me").json() == {"user_id": "the current user"}
    assert client.get("/users/rick").json() == {"user_id": "rick"}


def test_tutorial003b(anyio_backend: str) -> None:
    assert client_for(app003b, anyio_backend).get("/users").json() == ["Rick", "Morty"]


def test_tutorial004(anyio_backend: str) -> None:
    client = client_for(app004, anyio_backend)
    assert client.get("/files/home/johndoe/myfile.txt").json() == {
        "file_path": "home/johndoe/myfile.txt"
    }
    assert client.get("/files//home/johndoe/myfile.txt").json() == {
        "file_path": "/home/johndoe/myfile.txt"
    }


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/models/alexnet", 200, {"model_name": "alexnet", "message": "Deep Learning FTW!"}),
        ("/models/lenet", 200, {"model_name": "lenet", "message": "LeCNN all the images"}),
        ("/models/resnet", 200, {"model_name": "resnet", "message": "Have some residuals"}),
        ("/models/foo", 422, {"detail": [{
            "type": "enum", "loc": ["path", "model_name"],
            "msg": "Input should be 'alexnet', 'resnet' or 'lenet'", "input": "foo",
            "ctx": {"expected": "'alexnet', 'resnet' or 'lenet'"},
        }]}),
    ],
)
def test_tutorial005(anyio_backend: str, path: str, status: int, expected: object) -> None:
    response = client_for(app005, anyio_backend).get(path)
    assert response.status_code == status, response.text
    assert response.json() == expected
