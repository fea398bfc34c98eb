"""HTTPException, exception handlers, validation-error overrides and the 500."""

import logging
from typing import Any

import pytest

from microready import (
    HTTPException,
    JSONResponse,
    MicroReady,
    PlainTextResponse,
    Request,
    Response,
)
from microready.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from microready.exceptions import RequestValidationError

from .helpers import body_json, call, client_for


class UnicornError(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.mark.anyio
async def test_http_exception_detail_and_headers() -> None:
    app = MicroReady()

    @app.get("/items/{item_id}")
    async def read(item_id: str) -> None:
        raise HTTPException(status_code=404, detail="Item not found",
                            headers={"X-Error": "There goes my error"})

    @app.get("/structured")
    async def structured() -> None:
        raise HTTPException(status_code=409, detail={"code": 7, "why": ["a"]})

    @app.get("/phrase")
    async def phrase() -> None:
        raise HTTPException(status_code=418)

    @app.get("/nobody")
    async def nobody() -> None:
        raise HTTPException(status_code=304)

    reply = await call(app, "GET", "/items/foo")
    assert reply.response.status_code == 404
    assert body_json(reply) == {"detail": "Item not found"}
    assert reply.response.headers["x-error"] == "There goes my error"
    assert reply.error is None
    assert body_json(await call(app, "GET", "/structured")) == {"detail": {"code": 7, "why": ["a"]}}
    assert body_json(await call(app, "GET", "/phrase")) == {"detail": "I'm a Teapot"}
    not_modified = (await call(app, "GET", "/nobody")).response
    assert (not_modified.status_code, not_modified.body) == (304, b"")


@pytest.mark.anyio
async def test_custom_exception_handler_async_and_sync() -> None:
    app = MicroReady()

    @app.exception_handler(UnicornError)
    async def unicorn(request: Request, exc: UnicornError) -> JSONResponse:
        return JSONResponse(status_code=418, content={
            "message": f"Oops! {exc.name} did something. There goes a rainbow..."})

    def lookup(request: Request, exc: LookupError) -> PlainTextResponse:
        return PlainTextResponse(f"missing {exc.args[0]} at {request.url.path}", status_code=404)

    app.add_exception_handler(LookupError, lookup)

    @app.get("/unicorns/{name}")
    async def read(name: str) -> dict[str, str]:
        if name == "yolo":
            raise UnicornError(name=name)
        return {"unicorn_name": name}

    @app.get("/key")
    def key() -> None:
        raise KeyError("k")  # a LookupError subclass: the handler is found by the MRO

    reply = await call(app, "GET", "/unicorns/yolo")
    assert reply.response.status_code == 418
    assert body_json(reply) == {"message": "Oops! yolo did something. There goes a rainbow..."}
    assert body_json(await call(app, "GET", "/unicorns/shinny")) == {"unicorn_name": "shinny"}
    reply = await call(app, "GET", "/key")
    assert (reply.response.status_code, reply.response.body) == (404, b"missing k at /key")


@pytest.mark.anyio
async def test_status_code_handlers_and_overriding_404_405() -> None:
    app = MicroReady()

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse("nothing here", status_code=404)

    @app.exception_handler(HTTPException)
    async def any_http(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code,
                                 headers=exc.headers)

    @app.get("/only-get")
    async def only_get() -> None: ...

    assert (await call(app, "GET", "/missing")).response.body == b"nothing here"
    reply = await call(app, "POST", "/only-get")
    assert (reply.response.status_code, reply.response.body) == (405, b"Method Not Allowed")
    assert reply.response.headers["allow"] == "GET, HEAD"


@pytest.mark.anyio
async def test_validation_error_override_and_reuse_of_defaults() -> None:
    app = MicroReady()
    seen: list[str] = []

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> Response:
        seen.append(str(exc))
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> Response:
        seen.append(repr(exc))
        return await http_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
        return {"item_id": item_id}

    reply = await call(app, "GET", "/items/foo")
    assert reply.response.status_code == 422
    assert body_json(reply)["detail"][0]["loc"] == ["path", "item_id"]
    reply = await call(app, "GET", "/items/3")
    assert body_json(reply) == {"detail": "Nope! I don't like 3."}
    assert seen == [
        "1 validation error:\n  path -> item_id\n    Input should be a valid integer, unable to "
        "parse string as an integer (type=int_parsing)",
        "HTTPException(status_code=418, detail=\"Nope! I don't like 3.\")",
    ]


@pytest.mark.anyio
async def test_unhandled_exception_is_500_logged_never_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = MicroReady()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret database password in the message")

    with caplog.at_level(logging.ERROR, logger="microready.error"):
        reply = await call(app, "GET", "/boom?x=1")
    assert reply.response.status_code == 500
    assert reply.response.body == b"Internal Server Error"
    assert reply.response.headers["content-type"] == "text/plain; charset=utf-8"
    assert isinstance(reply.error, RuntimeError)
    [record] = [r for r in caplog.records if r.name == "microready.error"]
    assert "GET '/boom?x=1'" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is reply.error
    assert b"secret" not in reply.response.body


def test_test_client_raises_or_returns_the_500(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/boom")
    async def boom() -> None:
        raise ZeroDivisionError("x")

    with pytest.raises(ZeroDivisionError):
        client_for(app, anyio_backend).get("/boom")
    response = client_for(app, anyio_backend, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


@pytest.mark.anyio
async def test_catch_all_handler_shapes_the_500_but_still_reports(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = MicroReady()

    @app.exception_handler(Exception)
    async def everything(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"oops": type(exc).__name__}, status_code=500)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("x")

    @app.get("/http")
    async def http() -> None:
        raise HTTPException(403)

    with caplog.at_level(logging.ERROR, logger="microready.error"):
        reply = await call(app, "GET", "/boom")
    assert body_json(reply) == {"oops": "ValueError"}
    assert isinstance(reply.error, ValueError)
    assert caplog.records
    reply = await call(app, "GET", "/http")  # the more specific default still wins
    assert (body_json(reply), reply.error) == ({"detail": "Forbidden"}, None)


@pytest.mark.anyio
async def test_a_broken_exception_handler_is_a_500() -> None:
    app = MicroReady()

    @app.exception_handler(UnicornError)
    async def broken(request: Request, exc: UnicornError) -> Any:
        return {"not": "a response"}

    @app.exception_handler(KeyError)
    def raising(request: Request, exc: KeyError) -> Response:
        raise RuntimeError("handler bug")

    @app.get("/u")
    async def u() -> None:
        raise UnicornError("x")

    @app.get("/k")
    async def k() -> None:
        raise KeyError("x")

    reply = await call(app, "GET", "/u")
    assert reply.response.status_code == 500
    assert isinstance(reply.error, TypeError)
    assert "JSONResponse(status_code=418" in str(reply.error)
    reply = await call(app, "GET", "/k")
    assert (reply.response.status_code, str(reply.error)) == (500, "handler bug")


def test_exception_handler_registration_errors() -> None:
    app = MicroReady()
    with pytest.raises(TypeError, match=r"right: @app.exception_handler\(ValueError\)"):
        app.add_exception_handler("nope", lambda r, e: Response())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"right: @app.exception_handler\(UnicornException\)"):
        app.exception_handler(lambda r, e: Response())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a function"):
        app.add_exception_handler(ValueError, "nope")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_exception_handlers_passed_to_the_constructor() -> None:
    async def teapot(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("teapot", status_code=418)

    app = MicroReady(exception_handlers={ValueError: teapot})

    @app.get("/")
    async def index() -> None:
        raise ValueError

    assert (await call(app, "GET", "/")).response.status_code == 418
