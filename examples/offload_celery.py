"""The notifications example, with ``write_notification`` run by a Celery worker.

The handler is the one of ``examples/notifications.py``: it still calls
``background_tasks.add_task(write_notification, ...)``. Because
``write_notification`` is a task of ``celery_app`` and the app was made with
``offload=CeleryOffload(celery_app)``, the call is enqueued to Redis before the
response is sent, and a Celery worker (another process, maybe another machine)
runs it and appends to ``log.txt`` in its own directory.

Three commands, from the repository root (the broker URL comes from
``CELERY_BROKER_URL``, by default ``redis://127.0.0.1:6379/0``)::

    redis-server --appendonly yes
    celery -A examples.offload_celery:celery_app worker --loglevel INFO
    python -m microready examples.offload_celery:app

Try it:  curl -X POST http://127.0.0.1:8000/send-notification/foo@example.com

(``-A`` names ``celery_app``: given the module alone, Celery would take its
``app``, which is the web app.)
"""

import os

from celery import Celery

from microready import BackgroundTasks, MicroReady
from microready.background.celery import CeleryOffload, at_least_once

broker_url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# Late acknowledgement, redelivery when a worker is lost, a Redis visibility timeout.
celery_app = at_least_once(Celery("examples.offload_celery", broker=broker_url))


@celery_app.task
def write_notification(email: str, message: str = "") -> None:
    # Appending one line is safe to repeat (a task may run twice): see the README.
    with open("log.txt", mode="a") as email_file:
        email_file.write(f"notification for {email}: {message}\n")


app = MicroReady(offload=CeleryOffload(celery_app))


@app.post("/send-notification/{email}")
async def send_notification(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(write_notification, email, message="some notification")
    return {"message": "Notification sent in the background"}
