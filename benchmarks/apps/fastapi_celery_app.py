"""``notify-celery`` on FastAPI, as its users write it: ``.delay()`` in an ``async def``.

Celery has no asyncio client, so ``.delay()`` publishes to Redis on the event
loop, blocking it for the round trip on every request.

Serve: ``uvicorn benchmarks.apps.fastapi_celery_app:app``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from . import _tasks
from .celery_tasks import counts, notify_celery

app = FastAPI()


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(_tasks.PLAINTEXT)


@app.post("/notify-celery/{email}")
async def notify(email: str) -> dict[str, str]:
    notify_celery.delay(email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.get("/count")
def count() -> dict[str, Any]:  # reads Redis: a def, in the threadpool
    return counts()
