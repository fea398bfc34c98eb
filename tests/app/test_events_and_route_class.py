"""``on_event``/``add_event_handler`` and ``route_class=`` with ``get_route_handler()``.

The behaviours are FastAPI 0.165's (checked against it), except where a test
says microready differs.
"""

import gzip
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, ClassVar

import anyio
import pytest

from microready import (
    BackgroundTasks,
    Body,
    Depends,
    FileResponse,
    Form,
    HTTPException,
    JSONResponse,
    MicroReady,
    Request,
    Response,
    Router,
)
from microready.exceptions import RequestValidationError
from microready.routing import APIRoute, Route
from tests.support.http import request as raw_request
from tests.support.live import connect, serving

from .helpers import body_json, call, client_for, finish

Handler = Callable[[Request], Awaitable[Response]]


# -- startup and shutdown handlers ----------------------------------------------------------


def test_on_event_handlers_run_in_order_around_the_client_block(anyio_backend: str) -> None:
    events: list[str] = []
    app = MicroReady()
    with pytest.deprecated_call():
        @app.on_event("startup")
        def sync_startup() -> None:
            events.append("startup 1 (def)")

    with pytest.deprecated_call():
        @app.on_event("startup")
        async def async_startup() -> None:
            await anyio.lowlevel.checkpoint()
            events.append("startup 2 (async def)")

    with pytest.deprecated_call():
        @app.on_event("shutdown")
        async def async_shutdown() -> None:
            events.append("shutdown 1")

    app.add_event_handler("shutdown", lambda: events.append("shutdown 2"))  # no warning

    @app.get("/")
    async def index() -> list[str]:
        return events

    assert sync_startup.__name__ == "sync_startup"  # the decorator returns the function
    with client_for(app, anyio_backend) as client:
        assert client.get("/").json() == ["startup 1 (def)", "startup 2 (async def)"]
    assert events[2:] == ["shutdown 1", "shutdown 2"]
    client_for(app, anyio_backend).get("/")  # no `with`: no lifespan, as in FastAPI
    assert len(events) == 4


def test_on_event_warns_with_fastapis_deprecation_at_the_callers_line() -> None:
    app = MicroReady()
    with pytest.warns(DeprecationWarning, match="on_event is deprecated, use lifespan") as seen:
        app.on_event("startup")
    assert [Path(w.filename).name for w in seen] == [Path(__file__).name]
    with pytest.warns(DeprecationWarning):
        Router().on_event("shutdown")


def test_handlers_given_to_the_constructor_and_to_routers(anyio_backend: str) -> None:
    events: list[str] = []
    router = Router(on_startup=[lambda: events.append("router up")])
    router.add_event_handler("shutdown", lambda: events.append("router down"))
    inner = Router()
    inner.add_event_handler("startup", lambda: events.append("inner up"))
    router.include_router(inner)
    app = MicroReady(on_startup=[lambda: events.append("app up")],
                     on_shutdown=[lambda: events.append("app down")])
    app.include_router(router)
    with client_for(app, anyio_backend):
        # Once each (FastAPI 0.165 runs an included router's handlers twice).
        assert events == ["app up", "router up", "inner up"]
    assert events[3:] == ["app down", "router down"]


@pytest.mark.anyio
async def test_lifespan_context_runs_the_handlers_and_shutdown_survives_a_failure() -> None:
    events: list[str] = []
    app = MicroReady()
    app.add_event_handler("startup", lambda: events.append("up"))
    app.add_event_handler("shutdown", lambda: events.append("down"))
    with pytest.raises(LookupError):
        async with app.lifespan_context():
            assert events == ["up"]
            raise LookupError
    assert events == ["up", "down"]


@pytest.mark.anyio
async def test_a_failing_startup_handler_stops_startup_and_skips_shutdown() -> None:
    events: list[str] = []

    def broken() -> None:
        raise ConnectionError("database unreachable")

    app = MicroReady(on_startup=[broken, lambda: events.append("never")],
                     on_shutdown=[lambda: events.append("never either")])
    with pytest.raises(ConnectionError, match="database unreachable"):
        async with app.lifespan_context():
            pass  # pragma: no cover - not reached
    assert events == []


def test_with_a_lifespan_the_event_handlers_are_not_run_and_a_warning_says_so(
        anyio_backend: str, caplog: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        events.append("lifespan up")
        yield
        events.append("lifespan down")

    app = MicroReady(lifespan=lifespan)
    app.add_event_handler("startup", lambda: events.append("startup"))
    with caplog.at_level(logging.WARNING, logger="microready.error"), \
            client_for(app, anyio_backend):
        pass
    assert events == ["lifespan up", "lifespan down"]  # FastAPI: "all lifespan or all events"
    assert "1 startup and 0 shutdown handler(s)" in caplog.text
    assert "not run" in caplog.text


def test_event_mistakes_say_the_right_call() -> None:
    app = MicroReady()
    with pytest.raises(ValueError, match=r"not 'startp'(.|\n)*right: @app.on_event\('startup'\)"):
        app.on_event("startp")  # a typo fails before the deprecation warning
    with pytest.raises(ValueError, match=r"right: @app.on_event\('shutdown'\)"):
        app.add_event_handler("shutdwn", lambda: None)
    with pytest.raises(ValueError, match="takes \"startup\" or \"shutdown\", not 'boot'"):
        app.add_event_handler("boot", lambda: None)

    def startup() -> None: ...

    with pytest.raises(TypeError, match=r"wrong: @app.on_event\n"):
        app.on_event(startup)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a startup handler must be a function"):
        app.add_event_handler("startup", "startup")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a shutdown handler must be a function"):
        MicroReady(on_shutdown=[None])  # type: ignore[list-item]
    assert app.on_startup == [] and app.on_shutdown == []


@pytest.mark.anyio
async def test_a_live_server_runs_the_handlers_around_serving() -> None:
    events: list[str] = []
    app = MicroReady()
    app.add_event_handler("startup", lambda: events.append("startup"))
    app.add_event_handler("shutdown", lambda: events.append("shutdown"))

    @app.get("/")
    async def index() -> list[str]:
        return events

    async with serving(app) as running, connect(running.port) as client:
        await client.send(raw_request("GET", "/"))
        assert (await client.read_response()).json() == ["startup"]
    assert events == ["startup", "shutdown"]


# -- route classes: which routes get a handler chain -------------------------------------


class TimedRoute(APIRoute):
    def get_route_handler(self) -> Callable[..., Any]:
        original = super().get_route_handler()

        async def timed(request: Request) -> Response:
            before = time.perf_counter()
            response = await original(request)
            response.headers["X-Response-Time"] = str(time.perf_counter() - before)
            return response

        return timed


class Unchanged(Route):
    """A subclass that does not override get_route_handler: it stays on the direct path."""


async def endpoint() -> dict[str, str]:
    return {"hello": "world"}


def test_only_a_class_that_overrides_get_route_handler_gets_a_handler() -> None:
    assert APIRoute is Route
    assert Route("/", endpoint).handler is None
    assert Unchanged("/", endpoint).handler is None
    assert TimedRoute("/", endpoint).handler is not None


def test_route_class_on_the_app_the_router_and_through_include_router(anyio_backend: str) -> None:
    app = MicroReady(route_class=TimedRoute)  # microready's keyword; FastAPI has none
    app.get("/app")(endpoint)
    router = Router(route_class=Unchanged)
    router.get("/plain")(endpoint)
    timed = Router(route_class=TimedRoute)
    timed.get("/timed")(endpoint)
    app.include_router(router, prefix="/r")   # each route keeps the class it was made with
    app.include_router(timed, prefix="/t")
    assert [type(route).__name__ for route in app.routes] == ["TimedRoute", "Unchanged",
                                                              "TimedRoute"]
    client = client_for(app, anyio_backend)
    for path, is_timed in [("/app", True), ("/r/plain", False), ("/t/timed", True)]:
        response = client.get(path)
        assert response.json() == {"hello": "world"}
        assert ("x-response-time" in response.headers) is is_timed, path
        if is_timed:
            assert float(response.headers["x-response-time"]) > 0


def test_setting_route_class_later_affects_the_routes_added_after(anyio_backend: str) -> None:
    app = MicroReady()
    app.get("/before")(endpoint)
    app.router.route_class = TimedRoute  # FastAPI's spelling
    app.get("/after")(endpoint)
    app.add_api_route("/override", endpoint, route_class_override=Unchanged)
    client = client_for(app, anyio_backend)
    assert "x-response-time" not in client.get("/before").headers
    assert "x-response-time" in client.get("/after").headers
    assert type(app.routes[-1]) is Unchanged


def test_route_class_mistakes() -> None:
    with pytest.raises(TypeError, match=r"route_class must be microready\.routing\.Route"):
        Router(route_class=dict)  # type: ignore[arg-type]
    app = MicroReady()
    app.router.route_class = "TimedRoute"  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"route '/': route_class must be"):
        app.get("/")(endpoint)

    class SyncHandler(Route):
        def get_route_handler(self) -> Any:
            return lambda request: Response()

    with pytest.raises(TypeError, match=r"GET /: SyncHandler.get_route_handler\(\) must return "
                                        r"an async function"):
        SyncHandler("/", endpoint)


# -- what a custom handler keeps: tasks, teardown, errors, responses -------------------------


class Wrapped(Route):
    """Records what the handler chain sees; ``mode`` picks how it answers."""

    seen: ClassVar[list[Any]] = []
    mode = "pass"

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            mode = type(self).mode
            if mode == "refuse":
                raise HTTPException(403, "not you")
            if mode == "own":
                return JSONResponse({"own": True})
            if mode == "not a response":
                return {"detail": "oops"}  # type: ignore[return-value]
            try:
                response = await original(request)
            except RequestValidationError as exc:
                if mode == "swallow":
                    return JSONResponse({"swallowed": len(exc.errors())}, 418)
                raise HTTPException(422, {"errors": exc.errors(),
                                          "body": (await request.body()).decode()}) from exc
            except ValueError:
                if mode == "swallow":
                    return JSONResponse({"swallowed": "ValueError"}, 418)
                raise
            self.seen.append(response)
            if mode == "replace":
                return JSONResponse({"replaced": True})
            return response

        return handler


@pytest.fixture
def wrapped() -> Iterator[type[Wrapped]]:
    class Fresh(Wrapped):
        seen: ClassVar[list[Any]] = []

    yield Fresh


def build_app(route_class: type[Route], events: list[str]) -> MicroReady:
    app = MicroReady(route_class=route_class)

    def session() -> Iterator[str]:
        events.append("session open")
        try:
            yield "db"
        except Exception as exc:
            events.append(f"session saw {type(exc).__name__}")
            raise
        events.append("session close")

    @app.post("/items/{item_id}")
    async def create(item_id: int, numbers: Annotated[list[int], Body()],
                     tasks: BackgroundTasks, db: Annotated[str, Depends(session)]) -> Response:
        tasks.add_task(events.append, "injected task")
        if item_id == 0:
            raise ValueError("zero")
        response = JSONResponse({"id": item_id, "sum": sum(numbers), "db": db})
        response.background = BackgroundTasks()
        response.background.add_task(events.append, "response task")
        return response

    return app


@pytest.mark.anyio
async def test_tasks_and_teardown_run_after_a_custom_handlers_response(
        wrapped: type[Wrapped]) -> None:
    events: list[str] = []
    app = build_app(wrapped, events)
    reply = await call(app, "POST", "/items/3", json=[1, 2])
    assert body_json(reply) == {"id": 3, "sum": 3, "db": "db"}
    assert wrapped.seen == [reply.response]
    assert events == ["session open"]  # nothing more until the response is sent
    await finish(app, reply)
    assert events == ["session open", "injected task", "response task", "session close"]


@pytest.mark.anyio
async def test_a_replaced_response_keeps_the_injected_tasks_and_teardown(
        wrapped: type[Wrapped]) -> None:
    events: list[str] = []
    wrapped.mode = "replace"
    app = build_app(wrapped, events)
    reply = await call(app, "POST", "/items/3", json=[1, 2])
    assert body_json(reply) == {"replaced": True}
    await finish(app, reply)
    # The endpoint's response, and its background, are gone; the request's tasks are not.
    assert events == ["session open", "injected task", "session close"]


@pytest.mark.anyio
async def test_a_validation_error_turned_into_an_http_exception(wrapped: type[Wrapped]) -> None:
    events: list[str] = []
    app = build_app(wrapped, events)
    reply = await call(app, "POST", "/items/3", json={"numbers": [1]})
    assert reply.response.status_code == 422
    detail = body_json(reply)["detail"]
    assert detail["body"] == '{"numbers": [1]}'
    assert [error["loc"] for error in detail["errors"]] == [["body"]]
    assert reply.tasks == [] and reply.cleanup is None
    # The dependency was solved (the body is checked after it, as in FastAPI), and
    # sees the exception that left the handler chain: the handler's HTTPException.
    assert events == ["session open", "session saw HTTPException"]


@pytest.mark.anyio
async def test_a_failing_endpoint_through_a_custom_handler(wrapped: type[Wrapped]) -> None:
    events: list[str] = []
    app = build_app(wrapped, events)
    reply = await call(app, "POST", "/items/0", json=[1])
    assert reply.response.status_code == 500 and isinstance(reply.error, ValueError)
    assert reply.tasks == [] and reply.cleanup is None
    # As for a plain route: the tasks dropped, the exception thrown into the dependency.
    assert events == ["session open", "session saw ValueError"]


@pytest.mark.anyio
async def test_a_failure_the_handler_answers_drops_the_tasks_and_closes_normally(
        wrapped: type[Wrapped]) -> None:
    events: list[str] = []
    wrapped.mode = "swallow"
    app = build_app(wrapped, events)
    reply = await call(app, "POST", "/items/0", json=[1])
    assert (reply.response.status_code, body_json(reply)) == (418, {"swallowed": "ValueError"})
    assert reply.tasks == []
    await finish(app, reply)
    assert events == ["session open", "session close"]
    events.clear()
    reply = await call(app, "POST", "/items/x", json=[1])  # a validation error, answered
    assert (reply.response.status_code, body_json(reply)) == (418, {"swallowed": 1})
    await finish(app, reply)
    assert events == ["session open", "session close"]


@pytest.mark.anyio
async def test_dependency_overrides_apply_through_a_custom_handler() -> None:
    app = MicroReady(route_class=TimedRoute)

    def user() -> str:
        return "real"

    @app.get("/me")
    async def me(name: Annotated[str, Depends(user)]) -> str:
        return name

    app.dependency_overrides[user] = lambda: "stub"
    assert body_json(await call(app, "GET", "/me")) == "stub"
    app.dependency_overrides.clear()
    assert body_json(await call(app, "GET", "/me")) == "real"


@pytest.mark.anyio
async def test_an_answered_failure_without_yield_dependencies(wrapped: type[Wrapped]) -> None:
    wrapped.mode = "swallow"
    app = MicroReady(route_class=wrapped)

    @app.get("/fails")
    async def fails(tasks: BackgroundTasks) -> None:
        tasks.add_task(print, "never")
        raise ValueError

    reply = await call(app, "GET", "/fails")
    assert (reply.response.status_code, reply.tasks, reply.cleanup) == (418, [], None)


@pytest.mark.anyio
async def test_a_handler_that_answers_alone(wrapped: type[Wrapped]) -> None:
    events: list[str] = []
    app = build_app(wrapped, events)
    wrapped.mode = "refuse"  # raises before the original handler: the handlers answer
    reply = await call(app, "POST", "/items/3", json=[1])
    assert (reply.response.status_code, body_json(reply)) == (403, {"detail": "not you"})
    wrapped.mode = "own"
    reply = await call(app, "POST", "/items/3", json=[1])
    assert (reply.response.status_code, body_json(reply), reply.tasks) == (200, {"own": True}, [])
    assert events == [] and wrapped.seen == []


def test_a_handler_that_returns_no_response_is_a_500(anyio_backend: str,
                                                     wrapped: type[Wrapped]) -> None:
    wrapped.mode = "not a response"
    app = build_app(wrapped, [])
    with pytest.raises(TypeError, match=r"returned dict, not a Response"):
        client_for(app, anyio_backend).post("/items/3", json=[1])
    response = client_for(app, anyio_backend, raise_server_exceptions=False).post(
        "/items/3", json=[1])
    assert (response.status_code, response.text) == (500, "Internal Server Error")


@pytest.mark.anyio
async def test_a_cancelled_request_still_closes_the_yield_dependencies() -> None:
    events: list[str] = []
    started = anyio.Event()

    def session() -> Iterator[str]:
        try:
            yield "db"
        except BaseException as exc:
            events.append(f"closed with {type(exc).__name__}")
            raise

    app = MicroReady(route_class=TimedRoute)

    @app.post("/wait")
    async def wait(db: Annotated[str, Depends(session)], name: Annotated[str, Form()]) -> None:
        started.set()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(partial(call, app, "POST", "/wait", body=b"name=x", headers=[
            ("content-type", "application/x-www-form-urlencoded")]))
        await started.wait()
        tasks.cancel_scope.cancel()
    assert events == [f"closed with {anyio.get_cancelled_exc_class().__name__}"]


def test_a_file_response_through_a_custom_handler_honours_ranges(
        anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"0123456789")
    app = MicroReady(route_class=TimedRoute)

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(path)

    response = client_for(app, anyio_backend).get("/file", headers={"Range": "bytes=2-4"})
    assert (response.status_code, response.content) == (206, b"234")


# -- a custom Request class ------------------------------------------------------------------


class GzipRequest(Request):
    async def body(self) -> bytes:
        if not hasattr(self, "_body"):  # FastAPI's test, unchanged
            body = await super().body()
            if "gzip" in self.headers.getlist("Content-Encoding"):
                body = gzip.decompress(body)
            self._body = body
        return self._body


class GzipRoute(Route):
    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return await original(GzipRequest.from_request(request))

        return handler


def test_the_endpoint_gets_the_request_subclass_for_json_and_forms(anyio_backend: str) -> None:
    events: list[str] = []
    app = MicroReady(route_class=GzipRoute)

    @app.post("/json")
    async def read_json(request: Request) -> dict[str, Any]:
        return {"class": type(request).__name__, "json": await request.json(),
                "body": (await request.body()).decode()}

    @app.post("/form")
    async def read_form(name: Annotated[str, Form()], request: Request,
                        tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(events.append, "task")
        return {"class": type(request).__name__, "name": name,
                "again": str((await request.form())["name"])}

    client = client_for(app, anyio_backend)
    data = gzip.compress(b'{"a": [1, 2]}')
    response = client.post("/json", content=data, headers={"Content-Encoding": "gzip"})
    assert response.json() == {"class": "GzipRequest", "json": {"a": [1, 2]},
                               "body": '{"a": [1, 2]}'}
    # A form is streamed, not read with body(): GzipRequest leaves it as it came (as in
    # FastAPI, whose form() streams too).
    response = client.post("/form", data={"name": "Ann"})
    assert response.json() == {"class": "GzipRequest", "name": "Ann", "again": "Ann"}
    assert events == ["task"]


@pytest.mark.anyio
async def test_from_request_shares_the_scope_state_and_what_was_read() -> None:
    chunks = [b"hello"]

    async def receive() -> bytes:
        return chunks.pop(0) if chunks else b""

    original = Request(method="POST", target=b"/x?q=1", raw_headers=[(b"host", b"h")],
                       receive=receive, app="the app")
    original.path_params = {"id": 1}
    original.state.user = "ann"
    assert original.headers["host"] == "h"
    copy = GzipRequest.from_request(original)
    assert (copy.method, copy.url.path, copy.query_params["q"], copy.app) == (
        "POST", "/x", "1", "the app")
    assert copy.scope is original.scope and copy.path_params is original.path_params
    assert copy.state.user == "ann"
    assert await copy.body() == b"hello"
    assert [chunk async for chunk in copy.stream()] == [b"hello"]  # kept: streams again
    with pytest.raises(RuntimeError, match="already streamed"):  # the original did not read
        await original.body()
    late = Request.from_request(copy)  # one made after the body was read keeps it
    assert await late.body() == b"hello"
    empty = Request(method="GET", target=b"/")
    assert await empty.body() == b"" and await Request.from_request(empty).body() == b""


@pytest.mark.anyio
async def test_uploads_of_a_swapped_request_close_after_the_tasks() -> None:
    app = MicroReady(route_class=GzipRoute)
    closed: list[str] = []
    forms: list[Any] = []

    def session() -> Iterator[None]:
        yield
        closed.append(f"teardown: file closed {forms[0]['file'].file.closed}")

    @app.post("/upload")
    async def upload(request: Request, tasks: BackgroundTasks,
                     _: Annotated[None, Depends(session)]) -> str:
        form = await request.form()
        forms.append(form)
        tasks.add_task(lambda: closed.append(f"task: file closed {form['file'].file.closed}"))  # type: ignore[union-attr]
        return type(request).__name__

    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
            b"data\r\n--b--\r\n")
    reply = await call(app, "POST", "/upload", body=body,
                       headers=[("content-type", "multipart/form-data; boundary=b")])
    assert body_json(reply) == "GzipRequest"
    await finish(app, reply)
    # Open for the task and the teardown, closed after them.
    assert closed == ["task: file closed False", "teardown: file closed False"]
    assert forms[0]["file"].file.closed


@pytest.mark.anyio
async def test_a_custom_route_over_a_socket() -> None:
    done = anyio.Event()
    order: list[str] = []
    app = MicroReady(route_class=TimedRoute)

    async def finished() -> None:  # async: a plain def task runs in a worker thread
        done.set()

    @app.post("/notify/{email}")
    async def notify(email: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(order.append, f"sent to {email}")
        tasks.add_task(finished)
        return {"queued": email}

    app.add_event_handler("startup", lambda: order.append("startup"))
    async with serving(app) as running, connect(running.port) as client:
        await client.send(raw_request("POST", "/notify/a@b.c", "Content-Length: 0"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, {"queued": "a@b.c"})
        assert float(response.header(b"x-response-time") or b"-1") > 0
        with anyio.fail_after(5):
            await done.wait()
        assert order == ["startup", "sent to a@b.c"]
        # The trailing-slash redirect is absolute, from the Host header.
        await client.send(raw_request("POST", "/notify/a@b.c/", "Content-Length: 0"))
        response = await client.read_response()
        assert (response.status, response.header(b"location")) == (
            307, b"http://test/notify/a@b.c")


@pytest.mark.anyio
async def test_a_streamed_body_cannot_be_read_again() -> None:
    chunks = [b"a", b"b"]

    async def receive() -> bytes:
        return chunks.pop(0) if chunks else b""

    request = Request(method="POST", target=b"/", receive=receive)
    assert [chunk async for chunk in request.stream()] == [b"a", b"b"]
    with pytest.raises(RuntimeError, match="already streamed"):
        await request.body()
    with pytest.raises(RuntimeError, match="already streamed"):
        [chunk async for chunk in GzipRequest.from_request(request).stream()]
