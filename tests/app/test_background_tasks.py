"""The app's side of background tasks: one list per request, order, both lists, discard."""

import logging
from typing import Annotated, Any

import pytest

from microready import (
    BackgroundTask,
    BackgroundTasks,
    Depends,
    HTTPException,
    JSONResponse,
    MicroReady,
)

from .helpers import call, client_for, finish


class MyTasks(BackgroundTasks):
    pass


def build_app(log: list[str]) -> MicroReady:
    app = MicroReady()

    def sub_dependency(tasks: Annotated[BackgroundTasks, "doc"]) -> BackgroundTasks:
        tasks.add_task(log.append, "sub-dependency")
        return tasks

    async def dependency(tasks: MyTasks,
                         inner: Annotated[BackgroundTasks, Depends(sub_dependency)]) -> bool:
        tasks.add_task(log.append, "dependency")
        return tasks is inner

    @app.post("/same")
    async def same(background_tasks: BackgroundTasks,
                   same_object: Annotated[bool, Depends(dependency)]) -> bool:
        background_tasks.add_task(log.append, "handler")
        return same_object

    @app.post("/both")
    async def both(background_tasks: BackgroundTasks) -> JSONResponse:
        background_tasks.add_task(log.append, "injected")
        own = BackgroundTasks()
        own.add_task(log.append, "response 1")
        own.add_task(log.append, "response 2")
        return JSONResponse({"ok": True}, background=own)

    @app.post("/single")
    async def single() -> JSONResponse:
        return JSONResponse({}, background=BackgroundTask(log.append, "single"))

    @app.post("/returned-injected")
    async def returned_injected(background_tasks: BackgroundTasks) -> JSONResponse:
        background_tasks.add_task(log.append, "once")
        return JSONResponse({}, background=background_tasks)

    async def failing_dependency(tasks: BackgroundTasks) -> None:
        tasks.add_task(log.append, "from failing dependency")
        raise HTTPException(status_code=401)

    @app.post("/fails")
    async def fails(background_tasks: BackgroundTasks, n: int = 0) -> None:
        background_tasks.add_task(log.append, "never")
        raise HTTPException(status_code=400, detail="bad")

    @app.post("/dependency-fails", dependencies=[Depends(failing_dependency)])
    async def dependency_fails() -> None: ...

    @app.post("/invalid")
    async def invalid(value: Annotated[None, Depends(dependency)], n: int) -> None: ...

    @app.post("/crash")
    def crash(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(log.append, "never")
        raise RuntimeError("crash")

    return app


@pytest.mark.anyio
async def test_one_object_for_handler_dependency_and_sub_dependency() -> None:
    log: list[str] = []
    app = build_app(log)
    reply = await call(app, "POST", "/same")
    assert reply.response.body == b"true"
    assert [t.args for t in reply.tasks] == [("sub-dependency",), ("dependency",), ("handler",)]
    assert log == []  # nothing runs before the server hands the tasks over
    await finish(app, reply)
    assert log == ["sub-dependency", "dependency", "handler"]


@pytest.mark.anyio
async def test_injected_and_response_tasks_both_run_injected_first() -> None:
    log: list[str] = []
    app = build_app(log)
    await finish(app, await call(app, "POST", "/both"))
    assert log == ["injected", "response 1", "response 2"]
    await finish(app, await call(app, "POST", "/single"))
    assert log[-1] == "single"
    log.clear()
    await finish(app, await call(app, "POST", "/returned-injected"))
    assert log == ["once"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "status"),
    [("/fails", 400), ("/dependency-fails", 401), ("/invalid?n=x", 422), ("/crash", 500)],
)
async def test_tasks_queued_by_a_failed_request_are_discarded_and_logged(
    path: str, status: int, caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []
    app = build_app(log)
    with caplog.at_level(logging.DEBUG, logger="microready.background"):
        reply = await call(app, "POST", path)
    assert reply.response.status_code == status
    assert reply.tasks == []
    await finish(app, reply)
    assert log == []
    messages = [r.getMessage() for r in caplog.records if r.name == "microready.background"]
    assert len(messages) == 1
    assert messages[0].startswith("discarding ")
    assert "the request failed" in messages[0]


@pytest.mark.anyio
async def test_error_response_background_still_runs() -> None:
    log: list[str] = []
    app = MicroReady()

    @app.exception_handler(KeyError)
    async def handler(request: Any, exc: KeyError) -> JSONResponse:
        return JSONResponse({}, status_code=404, background=BackgroundTask(log.append, "audit"))

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> None:
        tasks.add_task(log.append, "dropped")
        raise KeyError("x")

    reply = await call(app, "GET", "/")
    await finish(app, reply)
    assert log == ["audit"]


def test_tasks_have_run_when_the_test_client_returns(anyio_backend: str) -> None:
    log: list[str] = []
    client = client_for(build_app(log), anyio_backend)
    assert client.post("/same").json() is True
    assert log == ["sub-dependency", "dependency", "handler"]
    client.post("/fails")
    assert log == ["sub-dependency", "dependency", "handler"]
