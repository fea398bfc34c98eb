"""``app.mount()`` and ``root_path``, as FastAPI's tutorials use them.

* FastAPI's "Sub Applications - Mounts" tutorial, ported: a microready sub-app at
  ``/subapi`` with its own routes, docs page and OpenAPI document (whose
  ``servers`` is ``[{"url": "/subapi"}]``); a Starlette app and a WSGI app
  (through ``a2wsgi.WSGIMiddleware``, as "Including WSGI" now recommends) mounted
  beside it.
* FastAPI's "Behind a Proxy" tutorial: ``request.scope.get("root_path")`` with
  ``--root-path /api/v1`` and with ``MicroReady(root_path="/api/v1")``, and the
  document's ``servers``.

Each is checked in-process with ``TestClient`` and through a real microready
server, whose answers are compared with FastAPI's own version of the same app
served by a real uvicorn with the same flags (and with the values FastAPI's
pages state). Last, a mounted microready sub-app's background tasks run after
the response.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest

from microready import BackgroundTasks, MicroReady, StreamingResponse
from microready._asgi.scope import Message
from microready.testing import TestClient
from tests.asgi.apps import (
    ServedProcess,
    microready_command,
    mounts_app,
    proxy_app_with_root_path,
    served,
    uvicorn_command,
)
from tests.support.http import request
from tests.support.live import connect, serving
from tests.support.processes import wait_for_path

DEADLINE = 10.0  # seconds; only reached when something is broken

# FastAPI's pages and tests state these.
MAIN_DOCUMENT_PATHS = {"/app": {"get": {
    "summary": "Read Main", "operationId": "read_main_app_get",
    "responses": {"200": {"description": "Successful Response",
                          "content": {"application/json": {"schema": {}}}}},
}}}
SUB_DOCUMENT_PATHS = {"/sub": {"get": {
    "summary": "Read Sub", "operationId": "read_sub_sub_get",
    "responses": {"200": {"description": "Successful Response",
                          "content": {"application/json": {"schema": {}}}}},
}}}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServedProcess]]:
    """microready's server and FastAPI on uvicorn, each app with the same flags."""
    root = ("--root-path", "/api/v1")
    commands = {
        "mounts-microready": microready_command("tests.asgi.apps:mounts_app"),
        "mounts-uvicorn": uvicorn_command("tests.asgi.apps:fastapi_mounts_app"),
        "mounts-root-microready": microready_command("tests.asgi.apps:mounts_app", *root),
        "mounts-root-uvicorn": uvicorn_command("tests.asgi.apps:fastapi_mounts_app", *root),
        "proxy-flag-microready": microready_command("tests.asgi.apps:proxy_app", *root),
        "proxy-flag-uvicorn": uvicorn_command("tests.asgi.apps:fastapi_proxy_app", *root),
        "proxy-app-microready": microready_command("tests.asgi.apps:proxy_app_with_root_path"),
        "proxy-app-uvicorn": uvicorn_command("tests.asgi.apps:fastapi_proxy_app_with_root_path"),
        # microready's apps as ASGI apps, on uvicorn: the same answers again.
        "mounts-root-microready-on-uvicorn": uvicorn_command(
            "tests.asgi.apps:mounts_app", *root),
        "proxy-flag-microready-on-uvicorn": uvicorn_command("tests.asgi.apps:proxy_app", *root),
    }
    with served(commands, tmp_path_factory.mktemp("servers")) as processes:
        yield processes


def docs_openapi_url(html: str) -> str:
    """The document URL a Swagger UI page loads."""
    match = re.search(r"""url: ["']([^"']*openapi\.json)["']""", html)
    assert match, html
    return match.group(1)


def answer(process: ServedProcess, path: str) -> tuple[Any, ...]:
    """What ``GET path`` answers, with what must differ between the two frameworks
    taken out: the port in URLs, the document's title, the docs page's markup."""
    response = httpx.get(f"http://127.0.0.1:{process.port}{path}", timeout=DEADLINE)
    port = str(process.port)
    content_type = response.headers.get("content-type", "")
    body: Any = response.text.replace(port, "PORT")
    if content_type.startswith("application/json"):
        body = json.loads(body)
        if isinstance(body, dict):
            body.pop("info", None)  # {"title": "FastAPI"} and {"title": "MicroReady"}
    elif content_type.startswith("text/html"):
        body = docs_openapi_url(body)
    return (response.status_code, content_type,
            response.headers.get("location", "").replace(port, "PORT"), body)


MOUNT_PATHS = [
    "/app", "/subapi/sub", "/subapi/openapi.json", "/subapi/docs", "/openapi.json", "/docs",
    "/subapi/missing", "/subapi", "/missing",
    "/starlette/where/a%20b?x=1", "/v1/?name=Ana", "/v1/hello", "/v1",
]


@pytest.mark.parametrize("path", MOUNT_PATHS)
@pytest.mark.parametrize(("ours", "fastapis"), [
    ("mounts-microready", "mounts-uvicorn"),
    ("mounts-root-microready", "mounts-root-uvicorn"),
    ("mounts-root-microready-on-uvicorn", "mounts-root-uvicorn"),
], ids=["no-root-path", "root-path", "microready-app-on-uvicorn"])
def test_mounts_answer_as_fastapi_on_uvicorn(
    servers: dict[str, ServedProcess], ours: str, fastapis: str, path: str,
) -> None:
    assert answer(servers[ours], path) == answer(servers[fastapis], path)


PROXY_PATHS = ["/app", "/api/v1/app", "/openapi.json", "/api/v1/openapi.json", "/docs",
               "/api/v1/docs", "/missing"]


@pytest.mark.parametrize("path", PROXY_PATHS)
@pytest.mark.parametrize(("ours", "fastapis"), [
    ("proxy-flag-microready", "proxy-flag-uvicorn"),
    ("proxy-app-microready", "proxy-app-uvicorn"),
    ("proxy-flag-microready-on-uvicorn", "proxy-flag-uvicorn"),
], ids=["root-path-flag", "root-path-in-the-app", "microready-app-on-uvicorn"])
def test_behind_a_proxy_answers_as_fastapi_on_uvicorn(
    servers: dict[str, ServedProcess], ours: str, fastapis: str, path: str,
) -> None:
    assert answer(servers[ours], path) == answer(servers[fastapis], path)


# -- the values the tutorials state, over HTTP and in-process ------------------------------------


def check_sub_applications_tutorial(get: Any, prefix: str = "") -> None:
    response = get("/app")
    assert (response.status_code, response.json()) == (
        200, {"message": "Hello World from main app"})
    response = get("/subapi/sub")
    assert (response.status_code, response.json()) == (
        200, {"message": "Hello World from sub API"})
    main = get("/openapi.json").json()
    assert main["paths"] == MAIN_DOCUMENT_PATHS  # the mounts are not in it
    assert main.get("servers", []) == ([{"url": prefix}] if prefix else [])
    sub = get("/subapi/openapi.json").json()
    assert sub["paths"] == SUB_DOCUMENT_PATHS
    assert sub["servers"] == [{"url": f"{prefix}/subapi"}]
    assert docs_openapi_url(get("/subapi/docs").text) == f"{prefix}/subapi/openapi.json"
    assert docs_openapi_url(get("/docs").text) == f"{prefix}/openapi.json"


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_the_sub_applications_tutorial_over_http(
    servers: dict[str, ServedProcess], prefix: str,
) -> None:
    process = servers["mounts-root-microready" if prefix else "mounts-microready"]
    with httpx.Client(base_url=f"http://127.0.0.1:{process.port}", timeout=DEADLINE) as client:
        check_sub_applications_tutorial(client.get, prefix)


def test_the_sub_applications_tutorial_in_process() -> None:
    with TestClient(mounts_app) as client:
        check_sub_applications_tutorial(client.get)


def test_a_mounted_starlette_app_sees_its_mount_in_root_path() -> None:
    client = TestClient(mounts_app)
    response = client.get("/starlette/where/a%20b?x=1")
    assert response.json() == {
        "path": "/starlette/where/a b",
        "raw_path": "/starlette/where/a%20b",
        "root_path": "/starlette",
        "url": "http://testserver/starlette/where/a b?x=1",  # Starlette's, as on uvicorn
        "url_for": "http://testserver/starlette/where/x",
        "query": {"x": "1"},
    }


def test_a_mounted_wsgi_app_gets_script_name_and_path_info() -> None:
    client = TestClient(mounts_app)
    response = client.get("/v1/", params={"name": "Ana"})
    assert (response.status_code, response.text) == (
        200, "Hello, Ana from WSGI! SCRIPT_NAME=/v1 PATH_INFO=/")
    assert response.headers["content-type"] == "text/plain"
    assert client.get("/v1/hello").text == (
        "Hello, World from WSGI! SCRIPT_NAME=/v1 PATH_INFO=/hello")
    response = client.get("/v1", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "http://testserver/v1/")


def check_behind_a_proxy(get: Any) -> None:
    # The page: {"message": "Hello World", "root_path": "/api/v1"}, and the
    # document's servers start with the root path.
    for path in ("/app", "/api/v1/app"):
        response = get(path)
        assert (response.status_code, response.json()) == (
            200, {"message": "Hello World", "root_path": "/api/v1"})
    assert get("/openapi.json").json()["servers"] == [{"url": "/api/v1"}]
    assert docs_openapi_url(get("/docs").text) == "/api/v1/openapi.json"


def test_behind_a_proxy_with_the_root_path_in_the_app_in_process() -> None:
    check_behind_a_proxy(TestClient(proxy_app_with_root_path).get)


@pytest.mark.parametrize("flavour", ["proxy-flag", "proxy-app"])
def test_behind_a_proxy_over_http(servers: dict[str, ServedProcess], flavour: str) -> None:
    process = servers[f"{flavour}-microready"]
    with httpx.Client(base_url=f"http://127.0.0.1:{process.port}", timeout=DEADLINE) as client:
        if flavour == "proxy-flag":
            # The proxy strips the prefix, so the server only ever sees /app.
            response = client.get("/app")
            assert response.json() == {"message": "Hello World", "root_path": "/api/v1"}
            assert client.get("/openapi.json").json()["servers"] == [{"url": "/api/v1"}]
            assert docs_openapi_url(client.get("/docs").text) == "/api/v1/openapi.json"
        else:
            check_behind_a_proxy(client.get)


@pytest.mark.parametrize("in_servers", [True, False])
def test_behind_a_proxy_with_more_servers(in_servers: bool) -> None:
    # The tutorial's "Additional servers" and root_path_in_servers=False.
    servers = [
        {"url": "https://stag.example.com", "description": "Staging environment"},
        {"url": "https://prod.example.com", "description": "Production environment"},
    ]
    app = MicroReady(servers=servers, root_path="/api/v1", root_path_in_servers=in_servers)

    @app.get("/app")
    def read_main() -> dict[str, str]:
        return {"message": "Hello World"}

    document = TestClient(app).get("/openapi.json").json()
    assert document["servers"] == ([{"url": "/api/v1"}] if in_servers else []) + servers


# -- a mounted sub-app's background tasks ---------------------------------------------------------


def test_a_mounted_sub_apps_task_runs_after_the_response_over_http(
    servers: dict[str, ServedProcess],
) -> None:
    process = servers["mounts-microready"]
    response = httpx.post(f"http://127.0.0.1:{process.port}/tasks/hold/sub", timeout=DEADLINE)
    # The task waits for a flag the test creates only now: the response did not wait.
    assert (response.status_code, response.json()) == (200, {"queued": "sub"})
    wait_for_path(process.cwd / "sub.started", DEADLINE)
    assert not (process.cwd / "sub.done").exists()
    (process.cwd / "sub.release").touch()
    assert wait_for_path(process.cwd / "sub.done", DEADLINE) == "sub.done"


class Gate:
    """A task that records its start, then waits for the test to let it finish."""

    def __init__(self) -> None:
        self.started = anyio.Event()
        self.release = anyio.Event()
        self.finished = anyio.Event()

    async def task(self) -> None:
        self.started.set()
        await self.release.wait()
        self.finished.set()


def parent_with_sub_app(gate: Gate, order: list[str]) -> MicroReady:
    sub = MicroReady()

    @sub.post("/work")
    async def work(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(gate.task)
        return {"status": "queued"}

    @sub.get("/stream")
    async def stream(background_tasks: BackgroundTasks) -> StreamingResponse:
        async def record() -> None:
            order.append("task")

        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"one,", b"two"):
                order.append(f"chunk {part.decode()}")
                yield part
            order.append("body done")

        background_tasks.add_task(record)
        return StreamingResponse(chunks(), media_type="text/plain")

    parent = MicroReady()
    parent.mount("/sub", sub)
    return parent


@pytest.mark.anyio
async def test_a_mounted_sub_apps_task_runs_after_the_response_on_a_live_server() -> None:
    gate = Gate()
    order: list[str] = []
    app = parent_with_sub_app(gate, order)
    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("POST", "/sub/work", "Content-Length: 0"))
        with anyio.fail_after(DEADLINE):
            response = await client.read_response("POST")
            await gate.started.wait()
        assert (response.status, response.json()) == (200, {"status": "queued"})
        assert not gate.finished.is_set()
        # The connection serves its next request while the task waits.
        await client.send(request("GET", "/sub/stream"))
        with anyio.fail_after(DEADLINE):
            response = await client.read_response()
        assert response.body == b"one,two"
        gate.release.set()
        with anyio.fail_after(DEADLINE):
            await gate.finished.wait()
            await app.background.join()
    assert order == ["chunk one,", "chunk two", "body done", "task"]


@pytest.mark.anyio
async def test_a_mounted_sub_apps_task_waits_for_the_final_asgi_send() -> None:
    # Through the ASGI entry: a slow server's last send() holds the task back.
    gate = Gate()
    app = parent_with_sub_app(gate, [])
    sent: list[Message] = []
    last_is_in = anyio.Event()
    release = anyio.Event()

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            last_is_in.set()
            await release.wait()

    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/sub/work",
        "raw_path": b"/sub/work", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1), "server": None,
    }
    async with anyio.create_task_group() as group:
        group.start_soon(app, scope, receive, send)
        with anyio.fail_after(DEADLINE):
            await last_is_in.wait()
        await anyio.wait_all_tasks_blocked()
        assert not gate.started.is_set()
        release.set()
        with anyio.fail_after(DEADLINE):
            await gate.started.wait()
        gate.release.set()
    assert gate.finished.is_set()
    assert sent[0]["status"] == 200
    assert sent[-1] == {"type": "http.response.body", "body": b'{"status":"queued"}',
                        "more_body": False}


def test_a_mounted_sub_apps_task_in_the_test_client() -> None:
    order: list[str] = []
    client = TestClient(parent_with_sub_app(Gate(), order))
    response = client.get("/sub/stream")
    assert response.text == "one,two"
    # TestClient returns once the tasks are done; the task came after the body.
    assert order == ["chunk one,", "chunk two", "body done", "task"]
