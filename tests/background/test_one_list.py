"""One task list per request, shared by the handler and its dependencies; both
lists run when a response brings its own; a failed request runs nothing.

Checked through the real server (raw bytes) and through TestClient. (No
`from __future__ import annotations` here: the handlers name local dependencies
in their annotations, which only evaluate while they are plain objects.)
"""


import logging
from typing import Annotated

import anyio
import pytest

from microready import (
    BackgroundTask,
    BackgroundTasks,
    Depends,
    HTTPException,
    JSONResponse,
    MicroReady,
)
from microready.testing import TestClient
from tests.support.http import request
from tests.support.live import connect, serving

DEADLINE = 10


class MyTasks(BackgroundTasks):
    """A subclass: its parameters get the very same per-request object."""


def build_app(seen: list[object], ran: list[str]) -> MicroReady:
    app = MicroReady()

    def record(name: str) -> None:
        ran.append(name)

    def sub_dependency(tasks: BackgroundTasks) -> str:
        seen.append(tasks)
        tasks.add_task(record, "sub-dependency")
        return "sub"

    def dependency(
        tasks: Annotated[BackgroundTasks, "annotated"], sub: Annotated[str, Depends(sub_dependency)]
    ) -> str:
        seen.append(tasks)
        tasks.add_task(record, "dependency")
        return sub

    @app.post("/shared")
    async def shared(
        background_tasks: MyTasks, value: Annotated[str, Depends(dependency)]
    ) -> dict[str, str]:
        seen.append(background_tasks)
        background_tasks.add_task(record, "handler")
        return {"value": value}

    @app.post("/both")
    async def both(background_tasks: BackgroundTasks) -> JSONResponse:
        background_tasks.add_task(record, "injected")
        return JSONResponse({"ok": True}, background=BackgroundTask(record, "response's own"))

    @app.post("/fails")
    async def fails(background_tasks: BackgroundTasks, kind: str) -> str:
        background_tasks.add_task(record, "must not run")
        if kind == "http":
            raise HTTPException(status_code=418, detail="teapot")
        raise RuntimeError("boom")

    return app


@pytest.mark.anyio
async def test_handler_dependency_and_sub_dependency_share_one_list_through_the_server() -> None:
    seen: list[object] = []
    ran: list[str] = []
    app = build_app(seen, ran)
    async with serving(app) as running, connect(running.port) as client:
        for _ in range(2):
            await client.send(request("POST", "/shared", "Content-Length: 0"))
            with anyio.fail_after(DEADLINE):
                response = await client.read_response()
                await app.background.join()
            assert (response.status, response.body) == (200, b'{"value":"sub"}')
    first, second = seen[:3], seen[3:]
    assert len({id(tasks) for tasks in first}) == 1, "one object within a request"
    assert len({id(tasks) for tasks in second}) == 1
    assert first[0] is not second[0], "a new object for every request"
    # Dependencies resolve first, so their tasks come first.
    assert ran == ["sub-dependency", "dependency", "handler"] * 2


@pytest.mark.anyio
async def test_injected_tasks_and_the_responses_own_both_run_injected_first() -> None:
    ran: list[str] = []
    app = build_app([], ran)
    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("POST", "/both", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            response = await client.read_response()
            await app.background.join()
    assert response.status == 200
    assert ran == ["injected", "response's own"]


@pytest.mark.anyio
@pytest.mark.parametrize(("kind", "status"), [("http", 418), ("crash", 500)])
async def test_a_failed_request_discards_its_tasks_and_says_so_at_debug(
    kind: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []
    app = build_app([], ran)
    caplog.set_level(logging.DEBUG, logger="microready.background")
    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("POST", f"/fails?kind={kind}", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            response = await client.read_response()
            await app.background.join()
    assert response.status == status
    assert ran == []
    assert app.background.succeeded == 0 and app.background.pending == 0
    debug = [r for r in caplog.records if r.name == "microready.background"]
    assert debug and all(r.levelno == logging.DEBUG for r in debug)
    assert "discard" in debug[0].getMessage().lower()


def test_the_same_rules_through_testclient(anyio_backend: str) -> None:
    seen: list[object] = []
    ran: list[str] = []
    client = TestClient(build_app(seen, ran), backend=anyio_backend, raise_server_exceptions=False)
    assert client.post("/shared").json() == {"value": "sub"}
    assert ran == ["sub-dependency", "dependency", "handler"]
    assert len({id(tasks) for tasks in seen}) == 1
    ran.clear()
    client.post("/both")
    assert ran == ["injected", "response's own"]
    ran.clear()
    assert client.post("/fails?kind=http").status_code == 418
    assert client.post("/fails?kind=crash").status_code == 500
    assert ran == []
