"""Background tasks: the per-request list a handler fills, and the runner that
runs it after the response's last byte is flushed.

This wing imports neither the app layer nor the server: the app hands the
runner its tasks, and the server tells it when a response is out. Tasks that
belong to a task queue can leave the process instead: ``offload.py`` is the
seam, ``publishing.py`` publishes on threads of its own, and ``celery.py`` is
the Celery adapter (``MicroReady(offload=CeleryOffload(celery_app))``).
"""

from .tasks import BackgroundTask, BackgroundTasks

__all__ = ["BackgroundTask", "BackgroundTasks"]
