"""Depends: sub-dependencies, caching, classes, threads, yield teardown, errors."""

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import pytest

from microready import (
    BackgroundTasks,
    Depends,
    HTTPException,
    MicroReady,
    Query,
    Request,
    Response,
)
from microready.exceptions import RequestValidationError

from .helpers import body_json, call, finish

pytestmark = pytest.mark.anyio


async def test_sub_dependencies_to_any_depth() -> None:
    def level3(q: str = "deep") -> str:
        return q

    async def level2(value: Annotated[str, Depends(level3)]) -> str:
        return value + "-2"

    def level1(value: str = Depends(level2)) -> str:
        return value + "-1"

    app = MicroReady()

    @app.get("/")
    async def endpoint(value: Annotated[str, Depends(level1)]) -> str:
        return value

    assert body_json(await call(app, "GET", "/")) == "deep-2-1"
    assert body_json(await call(app, "GET", "/?q=x")) == "x-2-1"


async def test_a_dependency_used_twice_runs_once_per_request() -> None:
    calls: list[str] = []

    async def counter() -> int:
        calls.append("counter")
        return len(calls)

    async def uses_counter(n: Annotated[int, Depends(counter)]) -> int:
        return n

    app = MicroReady()

    @app.get("/")
    async def endpoint(a: Annotated[int, Depends(counter)],
                       b: Annotated[int, Depends(uses_counter)],
                       c: Annotated[int, Depends(counter, use_cache=False)]) -> list[int]:
        return [a, b, c]

    assert body_json(await call(app, "GET", "/")) == [1, 1, 2]
    assert body_json(await call(app, "GET", "/")) == [3, 3, 4]  # a fresh cache per request


async def test_class_and_callable_instance_dependencies() -> None:
    class CommonQueryParams:
        def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100) -> None:
            self.q, self.skip, self.limit = q, skip, limit

    class FixedContent:
        def __init__(self, fixed: str) -> None:
            self.fixed = fixed

        async def __call__(self, q: str = "") -> bool:
            return self.fixed in q

    checker = FixedContent("bar")
    app = MicroReady()

    @app.get("/items/")
    async def items(commons: Annotated[CommonQueryParams, Depends()],
                    other: CommonQueryParams = Depends(CommonQueryParams),  # noqa: B008
                    has_bar: bool = Depends(checker)) -> list[Any]:
        return [commons.q, commons.skip, other.limit, commons is other, has_bar]

    reply = await call(app, "GET", "/items/?q=foobar&skip=2")
    assert body_json(reply) == ["foobar", 2, 100, True, True]


async def test_sync_handlers_and_dependencies_run_in_worker_threads() -> None:
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}

    def sync_dep() -> None:
        threads["dep"] = threading.get_ident()

    def sync_gen_dep() -> Iterator[None]:
        threads["gen_enter"] = threading.get_ident()
        yield
        threads["gen_exit"] = threading.get_ident()

    async def async_dep() -> None:
        threads["async_dep"] = threading.get_ident()

    app = MicroReady()

    @app.get("/", dependencies=[Depends(sync_dep), Depends(sync_gen_dep), Depends(async_dep)])
    def endpoint() -> str:
        threads["endpoint"] = threading.get_ident()
        return "ok"

    @app.get("/bare")
    def bare() -> str:
        threads["bare"] = threading.get_ident()
        return "ok"

    reply = await call(app, "GET", "/")
    await finish(app, reply)
    await call(app, "GET", "/bare")
    assert threads["async_dep"] == loop_thread
    for where in ("dep", "gen_enter", "gen_exit", "endpoint", "bare"):
        assert threads[where] != loop_thread, where


async def test_yield_teardown_runs_after_the_response_and_its_tasks() -> None:
    events: list[str] = []

    async def async_resource() -> AsyncIterator[str]:
        events.append("async enter")
        try:
            yield "a"
        finally:
            events.append("async exit")

    def sync_resource(a: Annotated[str, Depends(async_resource)]) -> Iterator[str]:
        events.append("sync enter")
        yield a + "s"
        events.append("sync exit")

    app = MicroReady()

    @app.get("/")
    async def endpoint(value: Annotated[str, Depends(sync_resource)],
                       tasks: BackgroundTasks) -> str:
        tasks.add_task(events.append, "task")
        events.append("endpoint")
        return value

    reply = await call(app, "GET", "/")
    assert body_json(reply) == "as"
    assert events == ["async enter", "sync enter", "endpoint"]
    assert reply.cleanup is not None
    await finish(app, reply)
    # Teardown is innermost first, after the background task.
    assert events == ["async enter", "sync enter", "endpoint", "task", "sync exit", "async exit"]


async def test_the_failure_is_thrown_into_yield_dependencies() -> None:
    seen: list[str] = []

    async def resource() -> AsyncIterator[None]:
        try:
            yield
        except HTTPException as exc:
            seen.append(f"async saw {exc.status_code}")
            raise

    def sync_resource() -> Iterator[None]:
        try:
            yield
        except HTTPException as exc:
            seen.append(f"sync saw {exc.status_code}")
            raise

    app = MicroReady()

    @app.get("/", dependencies=[Depends(resource), Depends(sync_resource)])
    async def endpoint() -> None:
        raise HTTPException(status_code=404, detail="Item not found")

    reply = await call(app, "GET", "/")
    assert (reply.response.status_code, body_json(reply)) == (404, {"detail": "Item not found"})
    assert seen == ["sync saw 404", "async saw 404"]
    assert reply.cleanup is None  # already closed, with the exception
    assert reply.error is None


async def test_a_dependency_can_turn_the_failure_into_an_http_error() -> None:
    class OwnerError(Exception):
        pass

    def get_username() -> Iterator[str]:
        try:
            yield "Rick"
        except OwnerError as e:
            raise HTTPException(status_code=400, detail=f"Owner error: {e}") from e

    app = MicroReady()

    @app.get("/items/{item_id}")
    def get_item(item_id: str, username: Annotated[str, Depends(get_username)]) -> str:
        raise OwnerError(username)

    reply = await call(app, "GET", "/items/plumbus")
    assert (reply.response.status_code, body_json(reply)) == (400, {"detail": "Owner error: Rick"})
    assert reply.error is None


async def test_a_swallowed_failure_still_answers_for_the_original_error() -> None:
    class InternalError(Exception):
        pass

    def get_username() -> Iterator[str]:
        try:
            yield "Rick"
        except InternalError:
            return  # "we didn't raise again"

    app = MicroReady()

    @app.get("/")
    def endpoint(username: Annotated[str, Depends(get_username)]) -> str:
        raise InternalError("too dangerous")

    reply = await call(app, "GET", "/")
    assert reply.response.status_code == 500
    assert reply.response.body == b"Internal Server Error"
    assert isinstance(reply.error, InternalError)


async def test_validation_errors_reach_yield_dependencies_already_entered() -> None:
    seen: list[str] = []

    async def resource() -> AsyncIterator[None]:
        try:
            yield
        except RequestValidationError:
            seen.append("validation")
            raise

    app = MicroReady()

    @app.get("/")
    async def endpoint(dep: Annotated[None, Depends(resource)], n: int) -> None: ...

    reply = await call(app, "GET", "/?n=x")
    assert reply.response.status_code == 422
    assert seen == ["validation"]


async def test_errors_from_dependencies_and_the_endpoint_are_reported_together() -> None:
    called: list[str] = []

    def needs_token(token: int) -> int:
        called.append("needs_token")
        return token

    def fine(q: str = "") -> str:
        called.append("fine")
        return q

    app = MicroReady()

    @app.get("/", dependencies=[Depends(needs_token)])
    async def endpoint(f: Annotated[str, Depends(fine)], n: int) -> None:
        called.append("endpoint")

    reply = await call(app, "GET", "/?token=abc")
    assert [e["loc"] for e in body_json(reply)["detail"]] == [["query", "token"], ["query", "n"]]
    assert called == ["fine"]  # a dependency with bad input is not called; the others are


async def test_a_failed_cached_dependency_fails_every_user() -> None:
    def token(t: int) -> int:
        return t

    def user(t: Annotated[int, Depends(token)]) -> str:
        return f"user{t}"

    app = MicroReady()

    @app.get("/")
    async def endpoint(t: Annotated[int, Depends(token)],
                       u: Annotated[str, Depends(user)]) -> list[Any]:
        return [t, u]

    reply = await call(app, "GET", "/?t=x")
    assert reply.response.status_code == 422
    assert len(body_json(reply)["detail"]) == 1  # reported once, not per use
    assert body_json(await call(app, "GET", "/?t=3")) == [3, "user3"]


async def test_dependency_raising_http_exception() -> None:
    async def verify_key(x_key: Annotated[str, Query()] = "") -> str:
        if x_key != "fake-super-secret-key":
            raise HTTPException(status_code=400, detail="X-Key header invalid")
        return x_key

    app = MicroReady(dependencies=[Depends(verify_key)])

    @app.get("/items/")
    async def items() -> list[str]:
        return ["Foo"]

    reply = await call(app, "GET", "/items/?x_key=nope")
    assert reply.response.status_code == 400
    assert body_json(reply) == {"detail": "X-Key header invalid"}
    reply = await call(app, "GET", "/items/?x_key=fake-super-secret-key")
    assert body_json(reply) == ["Foo"]


async def test_request_and_response_parameters_in_dependencies() -> None:
    async def stamp(request: Request, response: Response) -> str:
        response.headers["x-path"] = request.url.path
        response.set_cookie("seen", "1")
        return request.method

    app = MicroReady()

    @app.post("/items/", status_code=201)
    async def create(method: Annotated[str, Depends(stamp)], response: Response) -> str:
        response.headers["x-method"] = method
        return "created"

    @app.get("/moved")
    async def moved(response: Response) -> dict[str, str]:
        response.status_code = 202
        return {"status": "accepted"}

    reply = await call(app, "POST", "/items/")
    response = reply.response
    assert response.status_code == 201
    assert response.headers["x-path"] == "/items/"
    assert response.headers["x-method"] == "POST"
    assert response.headers["set-cookie"].startswith("seen=1;")
    assert response.headers.getlist("content-length") == [str(len(b'"created"'))]
    assert (await call(app, "GET", "/moved")).response.status_code == 202


async def test_cancellation_still_closes_yield_dependencies() -> None:
    entered = anyio.Event()
    seen: list[str] = []

    async def resource() -> AsyncIterator[None]:
        try:
            yield
        finally:
            seen.append("closed")

    app = MicroReady()

    @app.get("/", dependencies=[Depends(resource)])
    async def endpoint() -> None:
        entered.set()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, app, "GET", "/")
        await entered.wait()
        tg.cancel_scope.cancel()
    assert seen == ["closed"]


# -- configuration errors ---------------------------------------------------------------


def test_depends_on_the_result_of_a_call_is_refused() -> None:
    async def get_db() -> None: ...

    with pytest.raises(TypeError, match=r"wrong: Depends\(get_db\(\)\)"):
        Depends(get_db())
    with pytest.raises(TypeError, match="needs a function or class"):
        Depends(42)  # type: ignore[arg-type]


def test_depends_without_argument_needs_an_annotation() -> None:
    def handler(x=Depends()) -> None: ...  # type: ignore[no-untyped-def]  # noqa: B008

    with pytest.raises(TypeError, match=r"Annotated\[CommonQueryParams, Depends\(\)\]"):
        MicroReady().get("/")(handler)


def test_dependency_cycles_are_reported() -> None:
    def a(x: Any = None) -> None: ...

    def b(y: Any = Depends(a)) -> None: ...  # noqa: B008

    a.__signature__ = __import__("inspect").signature(  # type: ignore[attr-defined]
        lambda x=Depends(b): None  # noqa: B008
    )

    with pytest.raises(TypeError, match="dependency cycle"):
        MicroReady().get("/")(lambda v=Depends(a): v)  # noqa: B008


def test_signatures_are_read_once_at_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    import inspect

    app = MicroReady()

    def dep(q: int = 0) -> int:
        return q

    @app.get("/{x}")
    async def endpoint(x: int, d: Annotated[int, Depends(dep)], tasks: BackgroundTasks) -> int:
        return x + d

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("inspect.signature called while serving")

    monkeypatch.setattr(inspect, "signature", forbidden)

    async def main() -> Any:
        return body_json(await call(app, "GET", "/2?q=3"))

    assert anyio.run(main) == 5
