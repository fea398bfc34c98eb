"""Lifespan: startup and shutdown around serving, app.state, request.state, failures."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from microready import MicroReady, Request

from .helpers import client_for


def test_lifespan_runs_around_the_client_block(anyio_backend: str) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        events.append("startup")
        app.state.models = {"answer": 42}
        yield
        events.append("shutdown")

    app = MicroReady(lifespan=lifespan)

    @app.get("/predict")
    async def predict(request: Request) -> Any:
        return request.app.state.models["answer"]

    with client_for(app, anyio_backend) as client:
        assert events == ["startup"]
        assert client.get("/predict").json() == 42
    assert events == ["startup", "shutdown"]


def test_lifespan_state_is_copied_into_each_request(anyio_backend: str) -> None:
    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[dict[str, Any]]:
        yield {"counter": 0, "name": "db"}

    app = MicroReady(lifespan=lifespan)

    @app.get("/")
    async def index(request: Request) -> list[Any]:
        request.state.counter += 1  # a shallow copy per request
        return [request.state.name, request.state.counter]

    with client_for(app, anyio_backend) as client:
        assert client.get("/").json() == ["db", 1]
        assert client.get("/").json() == ["db", 1]


def test_a_plain_async_generator_lifespan_is_accepted(anyio_backend: str) -> None:
    events: list[str] = []

    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        events.append("up")
        yield
        events.append("down")

    with client_for(MicroReady(lifespan=lifespan), anyio_backend):
        pass
    assert events == ["up", "down"]


def test_startup_failure_propagates(anyio_backend: str) -> None:
    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        raise ConnectionError("database unreachable")
        yield

    with pytest.raises(ConnectionError, match="database unreachable"):  # noqa: SIM117
        with client_for(MicroReady(lifespan=lifespan), anyio_backend):
            pass


@pytest.mark.anyio
async def test_lifespan_context_is_usable_directly() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = MicroReady(lifespan=lifespan)
    async with app.lifespan_context():
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]
    async with MicroReady().lifespan_context():  # no lifespan: nothing to do
        pass


@pytest.mark.anyio
async def test_bad_lifespans() -> None:
    with pytest.raises(TypeError, match="lifespan must be a function"):
        MicroReady(lifespan="nope")  # type: ignore[arg-type]

    def not_a_context_manager(app: MicroReady) -> int:
        return 1

    app = MicroReady(lifespan=not_a_context_manager)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="asynccontextmanager"):
        async with app.lifespan_context():
            pass

    @asynccontextmanager
    async def yields_a_list(app: MicroReady) -> AsyncIterator[list[int]]:
        yield [1]

    with pytest.raises(TypeError, match="yield a dict"):
        async with MicroReady(lifespan=yields_a_list).lifespan_context():
            pass


@pytest.mark.anyio
async def test_a_lifespan_that_holds_a_task_group_is_served_and_shut_down() -> None:
    # The server holds the lifespan open in a task of its own: a lifespan whose
    # task group spans its yield (a common pattern: a worker for the app's life)
    # must close in the task and scope it opened in. Under the old shielded
    # __aexit__ this crashed at shutdown ("exit a cancel scope that isn't current").
    import anyio

    from tests.support.http import request
    from tests.support.live import connect, serving

    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        async with anyio.create_task_group() as task_group:
            ticker_stopped = anyio.Event()

            async def ticker() -> None:
                try:
                    await anyio.sleep_forever()
                finally:
                    ticker_stopped.set()

            task_group.start_soon(ticker)
            events.append("started")
            yield
            task_group.cancel_scope.cancel()
        await ticker_stopped.wait()
        events.append("stopped")

    app = MicroReady(lifespan=lifespan)

    @app.get("/")
    async def root() -> str:
        return "ok"

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("GET", "/"))
        assert (await client.read_response()).body == b'"ok"'
    assert events == ["started", "stopped"]
