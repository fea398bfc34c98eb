"""``--metrics-path``: the server's own numbers, as Prometheus text (format 0.0.4).

The server answers a scrape itself, before the app (which never sees that
path), from counters it keeps in plain Python ints:

* ``microready_http_requests_total{status="2xx"}``: responses by status class,
  and ``status="aborted"`` for responses cut short (the access log's ``-``);
* ``microready_http_request_duration_seconds``: a histogram of the time from a
  request head's arrival to its last byte written, in OpenTelemetry's
  recommended buckets for HTTP servers;
* ``microready_http_open_connections``: accepted and not yet closed, read at
  scrape time;
* ``microready_background_tasks_total{state=...}``, ``..._queued``,
  ``..._running`` and ``..._publishing``: ``app.background``'s counters, read
  at scrape time.

A request costs one ``bisect`` and three additions here, in ``AccessLog.finish``
(the access log's own bookkeeping already times every request); with metrics
off the server holds no ``ServerMetrics`` at all and pays one ``is None`` test.
Each process counts its own requests: with ``--workers N``, a scrape is
answered by whichever worker accepts its connection (see the README).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._exchange import Reply
from ..responses import Response

if TYPE_CHECKING:
    from ..background.counters import TaskCounters

__all__ = ["CONTENT_TYPE", "DURATION_BUCKETS", "ServerMetrics"]

# OpenTelemetry's recommended boundaries for http.server.request.duration, in seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# What Prometheus asks for and what its own client libraries answer with.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Index ``status // 100`` of the response counters; 0 is a response cut short.
_STATUS_LABELS = ("aborted", "1xx", "2xx", "3xx", "4xx", "5xx")


class ServerMetrics:
    """One process's counters, and their Prometheus text; see the module docstring."""

    __slots__ = ("path", "_responses", "_buckets", "_duration_sum", "_open_connections",
                 "_background")

    def __init__(
        self, path: str, *, open_connections: Callable[[], int], background: TaskCounters
    ) -> None:
        # Compared with the request target's bytes, before --root-path is added.
        self.path = path.encode("latin-1")
        self._responses = [0] * len(_STATUS_LABELS)
        self._buckets = [0] * (len(DURATION_BUCKETS) + 1)  # the last one is +Inf
        self._duration_sum = 0.0
        self._open_connections = open_connections
        self._background = background

    def is_scrape(self, target: bytes) -> bool:
        """Is this request target the metrics path (with or without a query)?"""
        return target.partition(b"?")[0] == self.path

    def observe(self, status: int, duration: float) -> None:
        """One request ended: ``status`` (0 if it was cut short) after ``duration`` seconds."""
        # A status past 599 (h11 lets an app send one) is counted with the 5xx.
        self._responses[min(status // 100, 5)] += 1
        # bisect_left: a duration equal to a boundary belongs to that bucket (le is <=).
        self._buckets[bisect_left(DURATION_BUCKETS, duration)] += 1
        self._duration_sum += duration

    def reply(self, method: str) -> Reply:
        """The answer to a scrape (HEAD gets the same head and no body, as always)."""
        if method not in ("GET", "HEAD"):
            return Reply(Response(b"", status_code=405, headers={"allow": "GET, HEAD"}))
        return Reply(Response(self.render().encode("utf-8"), media_type=CONTENT_TYPE))

    def render(self) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        family("microready_http_requests_total", "counter",
               "HTTP responses by status class; aborted: cut short before their last byte.")
        for label, count in zip(_STATUS_LABELS[1:] + _STATUS_LABELS[:1],
                                self._responses[1:] + self._responses[:1], strict=True):
            lines.append(f'microready_http_requests_total{{status="{label}"}} {count}')

        name = "microready_http_request_duration_seconds"
        family(name, "histogram",
               "Time from a request head's arrival to the last byte of its response.")
        cumulative = 0
        for bound, count in zip(DURATION_BUCKETS, self._buckets, strict=False):
            cumulative += count
            lines.append(f'{name}_bucket{{le="{bound!r}"}} {cumulative}')
        cumulative += self._buckets[-1]
        lines.append(f'{name}_bucket{{le="+Inf"}} {cumulative}')
        lines.append(f"{name}_sum {self._duration_sum!r}")
        lines.append(f"{name}_count {cumulative}")

        family("microready_http_open_connections", "gauge",
               "Connections accepted and not yet closed, this one included.")
        lines.append(f"microready_http_open_connections {self._open_connections()}")

        tasks = self._background.stats()
        family("microready_background_tasks_total", "counter",
               "Background tasks that have ended here, by how they ended; offloaded: "
               "taken by the broker, to run in another process.")
        for state, count in (("succeeded", tasks.succeeded), ("failed", tasks.failed),
                             ("dropped", tasks.dropped), ("offloaded", tasks.offloaded),
                             ("offload_failed", tasks.offload_failed)):
            lines.append(f'microready_background_tasks_total{{state="{state}"}} {count}')
        family("microready_background_tasks_queued", "gauge",
               "Background tasks waiting for their turn (--max-background-tasks).")
        lines.append(f"microready_background_tasks_queued {tasks.pending}")
        family("microready_background_tasks_running", "gauge", "Background tasks running now.")
        lines.append(f"microready_background_tasks_running {tasks.running}")
        family("microready_background_tasks_publishing", "gauge",
               "Offloaded tasks on their way to the broker now.")
        lines.append(f"microready_background_tasks_publishing {tasks.publishing}")
        lines.append("")
        return "\n".join(lines)
