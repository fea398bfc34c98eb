"""FastAPI's "Custom Request and APIRoute class" (docs_src/custom_request_and_route/
tutorial001-003, the py310 versions).

Changed: the imports, ``app = MicroReady()``, and in tutorial001 the line that
swaps the request, ``GzipRequest(request.scope, request.receive)``, which is
``GzipRequest.from_request(request)`` in microready (its ``Request`` is not
built from an ASGI scope). The expected answers are FastAPI 0.165's, checked
against it; the tests are FastAPI's docs tests, plus what they leave out.
"""

import gzip
import json
import time
from collections.abc import Callable

import pytest

from microready import Body, HTTPException, MicroReady, Request, Response
from microready import Router as APIRouter
from microready.exceptions import RequestValidationError
from microready.routing import APIRoute

from .helpers import client_for

# tutorial001: a Request subclass that un-gzips the body, and the route class using it


class GzipRequest(Request):
    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            body = await super().body()
            if "gzip" in self.headers.getlist("Content-Encoding"):
                body = gzip.decompress(body)
            self._body = body
        return self._body


class GzipRoute(APIRoute):
    def get_route_handler(self) -> Callable:  # type: ignore[type-arg]
        original_route_handler = super().get_route_handler()

        async def custom_route_handler(request: Request) -> Response:
            request = GzipRequest.from_request(request)  # FastAPI: (request.scope, request.receive)
            return await original_route_handler(request)

        return custom_route_handler


app001 = MicroReady()
app001.router.route_class = GzipRoute


@app001.post("/sum")
async def sum_numbers001(numbers: list[int] = Body()):  # type: ignore[no-untyped-def]  # noqa: B008
    return {"sum": sum(numbers)}


@app001.get("/check-class")  # added by FastAPI's test
async def check_gzip_request(request: Request):  # type: ignore[no-untyped-def]
    return {"request_class": type(request).__name__}


@pytest.mark.parametrize("compress", [True, False])
def test_tutorial001_gzip_request(anyio_backend: str, compress: bool) -> None:
    client = client_for(app001, anyio_backend)
    n = 1000
    headers = {}
    data = json.dumps([1] * n).encode()
    if compress:
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    response = client.post("/sum", content=data,  # FastAPI's test: data=, httpx's old name
                           headers={**headers, "Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (200, {"sum": n})


def test_tutorial001_request_class(anyio_backend: str) -> None:
    response = client_for(app001, anyio_backend).get("/check-class")
    assert response.json() == {"request_class": "GzipRequest"}


def test_tutorial001_a_body_that_is_not_gzip_is_a_500(anyio_backend: str) -> None:
    client = client_for(app001, anyio_backend, raise_server_exceptions=False)
    response = client.post("/sum", content=b"[1]", headers={
        "Content-Encoding": "gzip", "Content-Type": "application/json"})
    # gzip.BadGzipFile, unhandled. A difference: FastAPI turns any error while reading
    # the body into 400 {"detail": "There was an error parsing the body"}.
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    with pytest.raises(gzip.BadGzipFile):
        client_for(app001, anyio_backend).post("/sum", content=b"[1]", headers={
            "Content-Encoding": "gzip", "Content-Type": "application/json"})


# tutorial002: add the body to the validation error


class ValidationErrorLoggingRoute(APIRoute):
    def get_route_handler(self) -> Callable:  # type: ignore[type-arg]
        original_route_handler = super().get_route_handler()

        async def custom_route_handler(request: Request) -> Response:
            try:
                return await original_route_handler(request)
            except RequestValidationError as exc:
                body = await request.body()
                detail = {"errors": exc.errors(), "body": body.decode()}
                raise HTTPException(status_code=422, detail=detail) from None

        return custom_route_handler


app002 = MicroReady()
app002.router.route_class = ValidationErrorLoggingRoute


@app002.post("/")
async def sum_numbers002(numbers: list[int] = Body()):  # type: ignore[no-untyped-def]  # noqa: B008
    return sum(numbers)


def test_tutorial002_endpoint_works(anyio_backend: str) -> None:
    assert client_for(app002, anyio_backend).post("/", json=[1, 2, 3]).json() == 6


def test_tutorial002_exception_handler_body_access(anyio_backend: str) -> None:
    client = client_for(app002, anyio_backend)
    response = client.post("/", content=b'{"numbers":[1,2,3]}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"detail": {
        "errors": [{"type": "list_type", "loc": ["body"], "msg": "Input should be a valid list",
                    "input": {"numbers": [1, 2, 3]}}],
        "body": '{"numbers":[1,2,3]}',
    }}
    response = client.post("/", json=[1, "x"])
    assert response.json()["detail"]["errors"] == [{
        "type": "int_parsing", "loc": ["body", 1],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "x",
    }]


def test_tutorial002_malformed_json(anyio_backend: str) -> None:
    response = client_for(app002, anyio_backend).post(
        "/", content=b"[1,", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["detail"]["body"]) == (422, "[1,")
    (error,) = response.json()["detail"]["errors"]
    assert (error["type"], error["loc"]) == ("json_invalid", ["body", 3])


# tutorial003: a route class on one router only, timing its routes


class TimedRoute(APIRoute):
    def get_route_handler(self) -> Callable:  # type: ignore[type-arg]
        original_route_handler = super().get_route_handler()

        async def custom_route_handler(request: Request) -> Response:
            before = time.time()
            response: Response = await original_route_handler(request)
            duration = time.time() - before
            response.headers["X-Response-Time"] = str(duration)
            print(f"route duration: {duration}")
            print(f"route response: {response}")
            print(f"route response headers: {response.headers}")
            return response

        return custom_route_handler


app003 = MicroReady()
router = APIRouter(route_class=TimedRoute)


@app003.get("/")
async def not_timed():  # type: ignore[no-untyped-def]
    return {"message": "Not timed"}


@router.get("/timed")
async def timed():  # type: ignore[no-untyped-def]
    return {"message": "It's the time of my life"}


app003.include_router(router)


def test_tutorial003_get(anyio_backend: str) -> None:
    response = client_for(app003, anyio_backend).get("/")
    assert response.json() == {"message": "Not timed"}
    assert "X-Response-Time" not in response.headers


def test_tutorial003_get_timed(anyio_backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    response = client_for(app003, anyio_backend).get("/timed")
    assert response.json() == {"message": "It's the time of my life"}
    assert "X-Response-Time" in response.headers
    assert float(response.headers["X-Response-Time"]) >= 0  # FastAPI's test: > 0
    printed = capsys.readouterr().out
    assert "route duration: " in printed and "route response headers: " in printed
