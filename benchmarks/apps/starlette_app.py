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


async def count(request: Request) -> Response:
    return JSONResponse(_tasks.counts())


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_message),
        Route("/items/{item_id:int}", read_item),
        Route("/notify/{email}", _notifier(_tasks.count_async), methods=["POST"]),
        Route("/notify-sync/{email}", _notifier(_tasks.count_sync), methods=["POST"]),
        Route("/notify-slow/{email}", _notifier(_tasks.slow_async), methods=["POST"]),
        Route("/notify-sync-slow/{email}", _notifier(_tasks.slow_sync), methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/count", count),
    ]
)
