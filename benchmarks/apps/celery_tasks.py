"""The Celery side of ``notify-celery``: the task both web apps enqueue, and its count.

The worker runs ``notify_celery``, which counts itself in Redis (``INCR``), so
``GET /count`` of either web app can say how many ran: ``submitted`` is the
web process's own count of queued tasks, ``done`` the Redis counter. The broker
URL comes from ``BENCH_CELERY_BROKER`` (``benchmarks/broker.py`` sets it for the
web app and the worker it starts). The Celery app is configured as
``microready.background.celery.at_least_once`` configures it, for both targets.

Worker: ``celery -A benchmarks.apps.celery_tasks:celery_app worker --pool solo``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import redis
from celery import Celery, signals

from microready.background.celery import at_least_once

from . import _tasks

BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/0")
DONE_KEY = "bench:notify-celery:done"

celery_app = at_least_once(Celery("bench", broker=BROKER))
celery_app.conf.update(task_ignore_result=True, worker_hijack_root_logger=False,
                       broker_connection_retry_on_startup=True)
_redis = redis.Redis.from_url(BROKER)


@signals.after_setup_logger.connect
def _quiet_per_task_lines(**_: Any) -> None:
    # Two INFO lines per task would cost the worker more than the task does.
    for name in ("celery.app.trace", "celery.worker.strategy"):
        logging.getLogger(name).setLevel(logging.WARNING)


@celery_app.task(name="bench.notify_celery")
def notify_celery(email: str) -> None:
    _redis.incr(DONE_KEY)


def counts() -> dict[str, Any]:
    """``GET /count``: the web process's submitted count, the workers' done count."""
    body = _tasks.counts()
    body["done"] = int(_redis.get(DONE_KEY) or 0)
    return body
