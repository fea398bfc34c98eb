"""FastAPI tutorial, "Handling Errors" (docs_src/handling_errors/tutorial001-006).

tutorial005's ``Item`` is a dataclass instead of a pydantic model.
"""

from dataclasses import dataclass

from microready import HTTPException, JSONResponse, MicroReady, Request
from microready.encoders import jsonable_encoder
from microready.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from microready.exceptions import HTTPException as StarletteHTTPException
from microready.exceptions import RequestValidationError
from microready.responses import PlainTextResponse

from .helpers import client_for

INT_MSG = "Input should be a valid integer, unable to parse string as an integer"

# tutorial001 and tutorial002: raise HTTPException, with custom headers
items = {"foo": "The Foo Wrestlers"}
app001 = MicroReady()


@app001.get("/items/{item_id}")
async def read_item001(item_id: str) -> dict[str, str]:
    if item_id not in items:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"item": items[item_id]}


@app001.get("/items-header/{item_id}")
async def read_item_header(item_id: str) -> dict[str, str]:
    if item_id not in items:
        raise HTTPException(
            status_code=404,
            detail="Item not found",
            headers={"X-Error": "There goes my error"},
        )
    return {"item": items[item_id]}


def test_tutorial001_and_002(anyio_backend: str) -> None:
    client = client_for(app001, anyio_backend)
    response = client.get("/items/foo")
    assert (response.status_code, response.json()) == (200, {"item": "The Foo Wrestlers"})
    response = client.get("/items/bar")
    assert (response.status_code, response.json()) == (404, {"detail": "Item not found"})
    response = client.get("/items-header/bar")
    assert (response.status_code, response.json()) == (404, {"detail": "Item not found"})
    assert response.headers.get("x-error") == "There goes my error"


# tutorial003: a custom exception handler
class UnicornException(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


app003 = MicroReady()


@app003.exception_handler(UnicornException)
async def unicorn_exception_handler(request: Request, exc: UnicornException) -> JSONResponse:
    return JSONResponse(
        status_code=418,
        content={"message": f"Oops! {exc.name} did something. There goes a rainbow..."},
    )


@app003.get("/unicorns/{name}")
async def read_unicorn(name: str) -> dict[str, str]:
    if name == "yolo":
        raise UnicornException(name=name)
    return {"unicorn_name": name}


def test_tutorial003(anyio_backend: str) -> None:
    client = client_for(app003, anyio_backend)
    response = client.get("/unicorns/shinny")
    assert (response.status_code, response.json()) == (200, {"unicorn_name": "shinny"})
    response = client.get("/unicorns/yolo")
    assert response.status_code == 418
    assert response.json() == {"message": "Oops! yolo did something. There goes a rainbow..."}


# tutorial004: override the default handlers with plain text
app004 = MicroReady()


@app004.exception_handler(StarletteHTTPException)
async def http_exception_handler004(request: Request, exc: HTTPException) -> PlainTextResponse:
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)


@app004.exception_handler(RequestValidationError)
async def validation_exception_handler004(request: Request,
                                          exc: RequestValidationError) -> PlainTextResponse:
    message = "Validation errors:"
    for error in exc.errors():
        message += f"\nField: {error['loc']}, Error: {error['msg']}"
    return PlainTextResponse(message, status_code=400)


@app004.get("/items/{item_id}")
async def read_item004(item_id: int) -> dict[str, int]:
    if item_id == 3:
        raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
    return {"item_id": item_id}


def test_tutorial004(anyio_backend: str) -> None:
    client = client_for(app004, anyio_backend)
    response = client.get("/items/foo")
    assert response.status_code == 400
    assert response.text == f"Validation errors:\nField: ('path', 'item_id'), Error: {INT_MSG}"
    response = client.get("/items/3")
    assert (response.status_code, response.text) == (418, "Nope! I don't like 3.")
    assert client.get("/items/2").json() == {"item_id": 2}
    response = client.get("/nothing")  # the HTTPException override also answers 404s
    assert (response.status_code, response.text) == (404, "Not Found")


# tutorial005: use the RequestValidationError body
@dataclass
class Item:
    title: str
    size: int


app005 = MicroReady()


@app005.exception_handler(RequestValidationError)
async def validation_exception_handler005(request: Request,
                                          exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content=jsonable_encoder({"detail": exc.errors(), "body": exc.body}),
    )


@app005.post("/items/")
async def create_item(item: Item) -> Item:
    return item


def test_tutorial005(anyio_backend: str) -> None:
    client = client_for(app005, anyio_backend)
    response = client.post("/items/", json={"title": "towel", "size": "XL"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": "int_parsing", "loc": ["body", "size"], "msg": INT_MSG, "input": "XL"}
        ],
        "body": {"title": "towel", "size": "XL"},
    }
    data = {"title": "towel", "size": 5}
    assert client.post("/items/", json=data).json() == data


# tutorial006: reuse the default handlers
app006 = MicroReady()
printed: list[str] = []


@app006.exception_handler(StarletteHTTPException)
async def custom_http_exception_handler(request: Request, exc: HTTPException) -> object:
    printed.append(f"OMG! An HTTP error!: {exc!r}")
    return await http_exception_handler(request, exc)


@app006.exception_handler(RequestValidationError)
async def validation_exception_handler006(request: Request,
                                          exc: RequestValidationError) -> object:
    printed.append(f"OMG! The client sent invalid data!: {exc}")
    return await request_validation_exception_handler(request, exc)


@app006.get("/items/{item_id}")
async def read_item006(item_id: int) -> dict[str, int]:
    if item_id == 3:
        raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
    return {"item_id": item_id}


def test_tutorial006(anyio_backend: str) -> None:
    printed.clear()
    client = client_for(app006, anyio_backend)
    response = client.get("/items/foo")
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "int_parsing", "loc": ["path", "item_id"], "msg": INT_MSG, "input": "foo"}
    ]}
    response = client.get("/items/3")
    assert (response.status_code, response.json()) == (418, {"detail": "Nope! I don't like 3."})
    assert client.get("/items/2").json() == {"item_id": 2}
    assert printed[0].startswith("OMG! The client sent invalid data!: 1 validation error")
    assert printed[1] == "OMG! An HTTP error!: HTTPException(status_code=418, " \
        "detail=\"Nope! I don't like 3.\")"
