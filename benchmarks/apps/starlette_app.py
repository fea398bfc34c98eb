"""The benchmark endpoints, written the way a Starlette user writes them.

Serve: ``uvicorn benchmarks.apps.starlette_app:app``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import _tasks


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(_tasks.PLAINTEXT)


async def json_message(request: Request) -> Response:
    return JSONResponse(_tasks.MESSAGE)


async def read_item(request: Request) -> Response:
    item_id: int = request.path_params["item_id"]
    query = request.query_params
    try:
        limit = int(query.get("limit", 10))
    except ValueError:
        return JSONResponse({"detail": "limit must be an integer"}, status_code=422)
    return JSONResponse({"item_id": item_id, "q": query.get("q"), "limit": limit})


def _notifier(task: Callable[[str], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        _tasks.note_submitted()
        email: str = request.path_params["email"]
        return JSONResponse(_tasks.NOTIFIED, background=BackgroundTask(task, email))

    return endpoint


async def notify_none(request: Request) -> Response:
    # notify without its task: the same route, bookkeeping and answer.
    _tasks.note_untasked()
    return JSONResponse(_tasks.NOTIFIED)


async def upload(request: Request) -> Response:
    # Starlette never closes what ``await request.form()`` parsed (only ``async with
    # request.form()`` or ``request.close()`` would), so the file is still open when
    # the response's background tasks run after it is sent. Closing the form is the
    # last task, as FastAPI closes its uploads once the background tasks are done.
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile):
        await form.close()
        return JSONResponse({"detail": "a file field named 'file' is required"}, status_code=422)
    tasks = BackgroundTasks()
    tasks.add_task(_tasks.read_upload, file)
    tasks.add_task(form.close)
    _tasks.note_submitted()
    return JSONResponse(_tasks.UPLOADED, background=tasks)


def _unauthorized(detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def create_user(request: Request) -> Response:
    # Starlette has no dependencies, no body model and no response model, so this is
    # all done by hand: read the Authorization header and check the token (what
    # OAuth2PasswordBearer and the Depends chain do in the other apps), parse the
    # body with ``await request.json()``, and build the answer without the password
    # (what ``response_model=UserOut`` does). Only the fields' presence and types
    # are checked, not pydantic's full validation.
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("Not authenticated")
    if token != _tasks.TOKEN:
        return _unauthorized("Invalid authentication credentials")
    try:
        user = await request.json()
    except ValueError:
        return JSONResponse({"detail": "the body is not JSON"}, status_code=422)
    if not isinstance(user, dict):
        return JSONResponse({"detail": "the body must be a JSON object"}, status_code=422)
    full_name = user.get("full_name")
    required = ("username", "password", "email")
    if not all(isinstance(user.get(k), str) for k in required) or not (
        full_name is None or isinstance(full_name, str)
    ):
        return JSONResponse(
            {"detail": "username, password and email (strings) are required"}, status_code=422
        )
    return JSONResponse(
        {"username": user["username"], "email": user["email"], "full_name": full_name}
    )


async def count(request: Request) -> Response:
    return JSONResponse(_tasks.counts())


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_message),
        Route("/items/{item_id:int}", read_item),
        Route("/notify/{email}", _notifier(_tasks.count_async), methods=["POST"]),
        Route("/notify-none/{email}", notify_none, methods=["POST"]),
        Route("/notify-sync/{email}", _notifier(_tasks.count_sync), methods=["POST"]),
        Route("/notify-slow/{email}", _notifier(_tasks.slow_async), methods=["POST"]),
        Route("/notify-sync-slow/{email}", _notifier(_tasks.slow_sync), methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/users", create_user, methods=["POST"]),
        Route("/count", count),
    ]
)
