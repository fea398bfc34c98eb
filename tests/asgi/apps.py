"""The apps that tests/asgi serves, and how the tests start the servers that serve them.

Every app here is importable as ``tests.asgi.apps:NAME``, by a server process
(``python -m microready``, ``python -m uvicorn``, ``python -m hypercorn``) run
in a scratch directory: the files the apps read and write (flags, markers,
``log.txt``) are relative to the server's current directory, so each server
gets its own and the test looks at them there.

* microready apps for ASGI servers: ``lifespan_app`` (state, startup and shutdown
  markers, a task that waits for a flag file);
* ASGI apps for microready's server: ``starlette_app`` (the scope, bodies in and
  out, disconnects, a slow endpoint), ``fastapi_app`` (FastAPI's background-task
  tutorial), ``failing_lifespan_app``, ``bare_app``;
* mounts and root paths: ``mounts_app`` (FastAPI's "Sub Applications" tutorial
  ported, plus a Starlette app and a WSGI app mounted), ``proxy_app`` and
  ``proxy_app_with_root_path`` ("Behind a Proxy"), and FastAPI's own versions
  of those tutorials, to compare with.

At the end, ``ServedProcess``: any ``python -m MODULE`` server as a child
process, with its log collected, stopped by its PID; and ``python -m
tests.asgi.apps NAME``, which serves ``NAME`` with ``microready.run(app_object)``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
from a2wsgi import WSGIMiddleware
from fastapi import BackgroundTasks as FastAPIBackgroundTasks
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from fastapi import Response as FastAPIResponse
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import PlainTextResponse as StarlettePlainTextResponse
from starlette.responses import StreamingResponse as StarletteStreamingResponse
from starlette.routing import Route

from microready import BackgroundTasks, MicroReady, Request
from tests.support.processes import ServerProcess

REPO = Path(__file__).resolve().parents[2]
FLAG_DEADLINE = 20.0  # how long an app waits for a flag file the test creates
BIG_BODY = 32 * 1024 * 1024  # more than the kernel buffers both ends of a local socket hold


async def wait_for_file(path: Path) -> None:
    """Poll for ``path`` (a flag the test creates), failing after ``FLAG_DEADLINE``."""
    flag = anyio.Path(path)
    with anyio.fail_after(FLAG_DEADLINE):
        while not await flag.exists():
            await anyio.sleep(0.01)


def write_marker(name: str, text: str = "") -> None:
    """Write ``name`` in the current directory: to a partial file, then renamed, so a
    reader never sees it half-written."""
    partial = Path(name + ".partial")
    partial.write_text(text or name)
    partial.replace(name)


# -- what the scope looked like, as JSON ----------------------------------------------------------


def scope_as_json(scope: dict[str, Any]) -> dict[str, Any]:
    """The parts of an ASGI http scope a test checks, in JSON's types."""

    def text(value: bytes) -> str:
        return value.decode("latin-1")

    state = scope.get("state")
    return {
        "type": scope["type"],
        "asgi": scope.get("asgi"),
        "http_version": scope["http_version"],
        "method": scope["method"],
        "scheme": scope["scheme"],
        "path": scope["path"],
        "raw_path": text(scope["raw_path"]) if scope.get("raw_path") is not None else None,
        "query_string": text(scope["query_string"]),
        "root_path": scope.get("root_path"),
        "headers": [[text(name), text(value)] for name, value in scope["headers"]],
        "client": list(scope["client"]) if scope.get("client") else None,
        "server": list(scope["server"]) if scope.get("server") else None,
        "state": sorted(state) if state is not None else None,
        "state_db": state.get("db") if state is not None else None,
        "header_types": sorted({f"{type(n).__name__},{type(v).__name__}"
                                for n, v in scope["headers"]}),
    }


# -- a microready app, for ASGI servers ------------------------------------------------------------


@asynccontextmanager
async def _marking_lifespan(app: MicroReady) -> AsyncIterator[dict[str, Any]]:
    write_marker("startup.txt")
    yield {"greeting": "hello from the lifespan"}
    _write_shutdown_marker()


def _write_shutdown_marker() -> None:
    """``shutdown.txt``, naming the tasks that had finished by then."""
    write_marker("shutdown.txt", f"shutdown after {sorted(p.name for p in Path().glob('*.done'))}")


lifespan_app = MicroReady(lifespan=_marking_lifespan)


async def _wait_for_release(name: str) -> None:
    write_marker(f"{name}.started")
    await wait_for_file(Path(f"{name}.release"))
    write_marker(f"{name}.done")


@lifespan_app.get("/state")
async def read_state(request: Request) -> dict[str, Any]:
    return {"greeting": request.state.greeting}


@lifespan_app.post("/hold/{name}")
async def hold(name: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_wait_for_release, name)
    return {"queued": name}


# The same app with no lifespan (for --lifespan off, where each request runs its own tasks).
no_lifespan_app = MicroReady()
no_lifespan_app.post("/hold/{name}")(hold)


# -- a Starlette app, for microready's server -----------------------------------------------------

_gates: dict[str, anyio.Event] = {}
_seen: dict[str, Any] = {}


def _gate(name: str) -> anyio.Event:
    if name not in _gates:
        _gates[name] = anyio.Event()
    return _gates[name]


@asynccontextmanager
async def _starlette_lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    write_marker("startup.txt")
    yield {"db": "connected"}
    write_marker("shutdown.txt")


async def _scope(request: StarletteRequest) -> StarletteJSONResponse:
    answer = scope_as_json(dict(request.scope))
    request.state.written_by_a_request = True  # must not leak into the next request's state
    return StarletteJSONResponse(answer)


async def _upload(request: StarletteRequest) -> StarletteJSONResponse:
    name = request.path_params["name"]
    digest = hashlib.sha256()
    _seen[name] = 0
    async for chunk in request.stream():
        digest.update(chunk)
        _seen[name] += len(chunk)
    return StarletteJSONResponse({"size": _seen[name], "sha256": digest.hexdigest()})


async def _stream(request: StarletteRequest) -> StarletteStreamingResponse:
    gate = _gate(request.path_params["name"])

    async def body() -> AsyncIterator[bytes]:
        yield b"first\n"
        with anyio.fail_after(FLAG_DEADLINE):
            await gate.wait()
        yield b"second\n"

    return StarletteStreamingResponse(body(), media_type="text/plain")


async def _release(request: StarletteRequest) -> StarlettePlainTextResponse:
    _gate(request.path_params["name"]).set()
    return StarlettePlainTextResponse("released")


async def _seen_endpoint(request: StarletteRequest) -> StarletteJSONResponse:
    return StarletteJSONResponse(_seen.get(request.path_params["name"]))


class _Listen:
    """A raw ASGI endpoint: a first chunk, then it waits for what ``receive()`` says."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        name = scope["path_params"]["name"]
        seen: list[str] = []
        _seen[name] = seen
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first chunk\n", "more_body": True})
        with anyio.fail_after(FLAG_DEADLINE):
            while True:
                message = await receive()
                seen.append(message["type"])
                if message["type"] == "http.disconnect":
                    return


class _Ticks:
    """A raw ASGI endpoint that sends a tick every 10 ms while it listens on ``receive()``.

    It records what it learnt of the client's going, and how: ``http.disconnect``
    from ``receive()``, ``OSError`` from ``send()`` (ASGI 2.4).
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        name = scope["path_params"]["name"]
        seen: list[str] = []
        _seen[name] = seen
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})

        async def listen(cancel: anyio.CancelScope) -> None:
            while True:
                message = await receive()
                seen.append(message["type"])
                if message["type"] == "http.disconnect":
                    cancel.cancel()
                    return

        with anyio.fail_after(FLAG_DEADLINE):
            async with anyio.create_task_group() as group:
                group.start_soon(listen, group.cancel_scope)
                try:
                    while True:
                        await send({"type": "http.response.body", "body": b"tick\n",
                                    "more_body": True})
                        await anyio.sleep(0.01)
                except OSError:
                    seen.append("OSError")
                    group.cancel_scope.cancel()


async def _slow(request: StarletteRequest) -> StarlettePlainTextResponse:
    write_marker("slow.started")
    await wait_for_file(Path("slow.release"))
    return StarlettePlainTextResponse("slow done")


starlette_app = Starlette(
    lifespan=_starlette_lifespan,
    routes=[
        Route("/scope", _scope, methods=["GET", "POST"]),
        Route("/scope/{rest:path}", _scope, methods=["GET"]),
        Route("/upload/{name}", _upload, methods=["POST"]),
        Route("/stream/{name}", _stream),
        Route("/release/{name}", _release),
        Route("/seen/{name}", _seen_endpoint),
        Route("/listen/{name}", _Listen()),
        Route("/ticks/{name}", _Ticks()),
        Route("/slow", _slow),
    ],
)


# -- FastAPI, for microready's server -------------------------------------------------------------


@asynccontextmanager
async def _fastapi_lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    yield {"db": "connected"}


fastapi_app = FastAPI(lifespan=_fastapi_lifespan)


# FastAPI's "Background Tasks" tutorial (tutorial001), as the page has it.
def write_notification(email: str, message: str = "") -> None:
    with open("log.txt", mode="w") as email_file:
        content = f"notification for {email}: {message}"
        email_file.write(content)


@fastapi_app.post("/send-notification/{email}")
async def send_notification(email: str,
                            background_tasks: FastAPIBackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(write_notification, email, message="some notification")
    return {"message": "Notification sent in the background"}


# The same, with a body bigger than the socket buffers: its last byte leaves only
# once the client has read the rest, so a task that started early would show.
@fastapi_app.post("/big-notification/{email}")
async def big_notification(email: str,
                           background_tasks: FastAPIBackgroundTasks) -> FastAPIResponse:
    background_tasks.add_task(write_marker, "big-log.txt", f"notification for {email}")
    return FastAPIResponse(b"x" * BIG_BODY, media_type="application/octet-stream")


@fastapi_app.api_route("/scope", methods=["GET", "POST"])
@fastapi_app.get("/scope/{rest:path}")
async def fastapi_scope(request: FastAPIRequest) -> dict[str, Any]:
    return {**scope_as_json(dict(request.scope)), "state_attr": request.state.db}


# -- apps that do not start ----------------------------------------------------------------------


@asynccontextmanager
async def _failing_lifespan(app: Starlette) -> AsyncIterator[None]:
    raise RuntimeError("the database is unreachable")
    yield  # pragma: no cover


failing_lifespan_app = Starlette(lifespan=_failing_lifespan)


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that knows only ``http``: it raises on a lifespan scope, as many do."""
    if scope["type"] != "http":
        raise RuntimeError(f"bare_app only speaks http, not {scope['type']}")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"bare ASGI"})


# -- mounts: FastAPI's "Sub Applications - Mounts" tutorial, on microready and on FastAPI --------
# The tutorials' functions are written as the pages have them (no return annotation,
# which would give FastAPI a response model); each framework registers its own, under
# the same route name, so the two OpenAPI documents can be compared whole.

mounts_app = MicroReady()


@mounts_app.get("/app")
def read_main():  # type: ignore[no-untyped-def]
    return {"message": "Hello World from main app"}


subapi = MicroReady()


@subapi.get("/sub")
def read_sub():  # type: ignore[no-untyped-def]
    return {"message": "Hello World from sub API"}


mounts_app.mount("/subapi", subapi)

fastapi_mounts_app = FastAPI()
fastapi_mounts_app.get("/app", name="read_main")(read_main)
fastapi_subapi = FastAPI()
fastapi_subapi.get("/sub", name="read_sub")(read_sub)
fastapi_mounts_app.mount("/subapi", fastapi_subapi)


# A Starlette app, mounted in both: what it sees of the path.
async def _where(request: StarletteRequest) -> StarletteJSONResponse:
    return StarletteJSONResponse({
        "path": request.scope["path"],
        "raw_path": request.scope["raw_path"].decode("latin-1"),
        "root_path": request.scope["root_path"],
        "url": str(request.url),
        "url_for": str(request.url_for("where", rest="x")),
        "query": dict(request.query_params),
    })


mounted_starlette = Starlette(routes=[Route("/where/{rest:path}", _where, name="where")])
mounts_app.mount("/starlette", mounted_starlette)
fastapi_mounts_app.mount("/starlette", mounted_starlette)


# A WSGI app, mounted in both through a2wsgi (FastAPI's "Including WSGI" page).
def wsgi_hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    name = parse_qs(environ.get("QUERY_STRING", "")).get("name", ["World"])[0]
    body = (f"Hello, {name} from WSGI! SCRIPT_NAME={environ['SCRIPT_NAME']} "
            f"PATH_INFO={environ['PATH_INFO']}").encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


mounts_app.mount("/v1", WSGIMiddleware(wsgi_hello))  # type: ignore[arg-type]
fastapi_mounts_app.mount("/v1", WSGIMiddleware(wsgi_hello))  # type: ignore[arg-type]

# A microready sub-app whose endpoint queues a task (microready only).
tasks_subapi = MicroReady()


@tasks_subapi.post("/hold/{name}")
async def sub_hold(name: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_wait_for_release, name)
    return {"queued": name}


mounts_app.mount("/tasks", tasks_subapi)


# -- "Behind a Proxy", on microready and on FastAPI -----------------------------------------------

proxy_app = MicroReady()


@proxy_app.get("/app", name="read_main")
def proxy_read_main(request: Request):  # type: ignore[no-untyped-def]
    return {"message": "Hello World", "root_path": request.scope.get("root_path")}


proxy_app_with_root_path = MicroReady(root_path="/api/v1")
proxy_app_with_root_path.get("/app", name="read_main")(proxy_read_main)


def fastapi_proxy_read_main(request: FastAPIRequest):  # type: ignore[no-untyped-def]
    return {"message": "Hello World", "root_path": request.scope.get("root_path")}


fastapi_proxy_app = FastAPI()
fastapi_proxy_app.get("/app", name="read_main")(fastapi_proxy_read_main)
with warnings.catch_warnings():  # FastAPI 0.165 deprecates it in favour of --root-path
    warnings.simplefilter("ignore")
    fastapi_proxy_app_with_root_path = FastAPI(root_path="/api/v1")
fastapi_proxy_app_with_root_path.get("/app", name="read_main")(fastapi_proxy_read_main)


# -- the servers ---------------------------------------------------------------------------------


class ServedProcess(ServerProcess):
    """``python -m MODULE *args`` in ``cwd``, its stderr collected line by line.

    ``ServerProcess`` (tests/support) with another command: its log waits,
    ``terminate()`` and ``stop()`` (a kill by PID) work the same.
    """

    def __init__(self, module: str, args: list[str], cwd: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        self.cwd = cwd
        self.lines: list[str] = []
        self.extra_pids: list[int] = []
        self.port = 0
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def stop(self) -> None:
        """``ServerProcess.stop``, and first note any child it spawned, to stop it too."""
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as file:
                self.extra_pids.extend(int(child) for child in file.read().split())
        except OSError:
            pass
        super().stop()

    def wait_for_port(self, pattern: str) -> int:
        """The port the log names in ``pattern``'s first group; kept in ``self.port``."""
        self.port = int(self.wait_for_log(pattern)[0].group(1))
        return self.port


MICROREADY_LISTENING = r"listening on http://127\.0\.0\.1:(\d+)"
UVICORN_LISTENING = r"Uvicorn running on http://127\.0\.0\.1:(\d+)"
HYPERCORN_LISTENING = r"Running on http://127\.0\.0\.1:(\d+)"


def microready_command(app: str, *flags: str) -> tuple[str, list[str], str]:
    return "microready", [app, "--port", "0", "--app-dir", str(REPO), *flags], MICROREADY_LISTENING


def uvicorn_command(app: str, *flags: str) -> tuple[str, list[str], str]:
    return ("uvicorn", [app, "--port", "0", "--app-dir", str(REPO), "--log-level", "info",
                        *flags], UVICORN_LISTENING)


def hypercorn_command(app: str, *flags: str) -> tuple[str, list[str], str]:
    # --workers 0: serve in this process (hypercorn's default, 1, spawns a child).
    return ("hypercorn", [app, "--bind", "127.0.0.1:0", "--workers", "0", *flags],
            HYPERCORN_LISTENING)


@contextmanager
def served(commands: dict[str, tuple[str, list[str], str]],
           directory: Path) -> Iterator[dict[str, ServedProcess]]:
    """Start every command at once (each in ``directory/KEY``), then wait for each port.

    All are stopped by PID when the block ends, whatever happened in it.
    """
    processes: dict[str, ServedProcess] = {}
    try:
        for key, (module, args, _) in commands.items():
            cwd = directory / key
            cwd.mkdir(parents=True, exist_ok=True)
            processes[key] = ServedProcess(module, args, cwd)
        for key, (_, _, pattern) in commands.items():
            processes[key].wait_for_port(pattern)
        yield processes
    finally:
        for process in processes.values():
            process.stop()


if __name__ == "__main__":
    # ``python -m tests.asgi.apps NAME``: ``microready.run(NAME)`` with the app
    # object itself (not an import string), on a free port.
    import microready

    microready.run(globals()[sys.argv[1]], port=0)
