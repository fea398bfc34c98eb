"""The benchmark endpoints, written the way a FastAPI user writes them.

Serve: ``uvicorn benchmarks.apps.fastapi_app:app`` (or hypercorn, granian).
"""

from __future__ import annotations

from typing import Any

from fastapi import BackgroundTasks, FastAPI, UploadFile
from fastapi.responses import PlainTextResponse

from . import _tasks

app = FastAPI()


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(_tasks.PLAINTEXT)


@app.get("/json")
async def json_message() -> dict[str, str]:
    return _tasks.MESSAGE


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None, limit: int = 10) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/notify/{email}")
async def notify(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.count_async, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.post("/notify-sync/{email}")
async def notify_sync(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.count_sync, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.post("/notify-slow/{email}")
async def notify_slow(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.slow_async, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.post("/notify-sync-slow/{email}")
async def notify_sync_slow(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.slow_sync, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.post("/upload")
async def upload(file: UploadFile, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.read_upload, file)
    _tasks.note_submitted()
    return _tasks.UPLOADED


@app.get("/count")
async def count() -> dict[str, Any]:
    return _tasks.counts()
