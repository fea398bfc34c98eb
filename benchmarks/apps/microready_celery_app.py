"""``notify-celery`` on microready: the handler's ``add_task`` is enqueued to Celery.

The same handler as ``notify``; the app is made with ``offload=CeleryOffload(...)``,
so the task is published on microready's publisher threads before the response
is sent, never on the event loop. A separate app from ``microready_app``, so
the other endpoints do not pay for offloading.

Serve: ``python -m microready benchmarks.apps.microready_celery_app:app``.
"""

from __future__ import annotations

from typing import Any

from microready import BackgroundTasks, MicroReady, PlainTextResponse
from microready.background.celery import CeleryOffload

from . import _tasks
from .celery_tasks import celery_app, counts, notify_celery

app = MicroReady(offload=CeleryOffload(celery_app))


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(_tasks.PLAINTEXT)


@app.post("/notify-celery/{email}")
async def notify(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(notify_celery, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.get("/count")
def count() -> dict[str, Any]:  # reads Redis: a def, in a thread
    return counts()
