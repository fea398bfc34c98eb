"""``--metrics-path``: Prometheus text served by the server itself, before the app.

Every scrape here is read back with ``prometheus_client``'s own parser, so the
text must be what a Prometheus server accepts, and the numbers are checked
after real requests over real sockets: counts by status class, a cumulative
histogram whose ``_count`` is the number of requests, the open connections,
and the background-task counters.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from prometheus_client.parser import text_string_to_metric_families

from microready import BackgroundTasks, MicroReady, RedirectResponse
from microready._asgi.served import as_served
from microready.server.metrics import CONTENT_TYPE, DURATION_BUCKETS
from tests.support.access_app import make_app as make_streaming_app
from tests.support.http import request
from tests.support.live import IO_TIMEOUT, connect, exchange
from tests.support.live import serving as live_serving
from tests.support.processes import SyncClient, app_process

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, keyed by (name, labels); Prometheus's parser reads it."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def requests_by_class(samples: Samples) -> dict[str, float]:
    return {dict(labels)["status"]: count for (name, labels), count in samples.items()
            if name == "microready_http_requests_total"}


async def scrape(port: int, target: str = "/metrics") -> Samples:
    response, _ = await exchange(port, request("GET", target, "Connection: close"))
    assert response.status == 200, response
    assert response.header(b"content-type") == CONTENT_TYPE.encode()
    return parse(response.body.decode("utf-8"))


async def scrape_until(port: int, name: str, expected: float, **labels: str) -> Samples:
    """Scrape until the sample ``name{labels}`` reads ``expected`` (or fail after the deadline)."""
    with anyio.fail_after(IO_TIMEOUT):
        while value(samples := await scrape(port), name, **labels) != expected:
            await anyio.sleep(0.01)  # polling: what is counted moves in another task
    return samples


def make_app(seen: list[str]) -> MicroReady:
    app = MicroReady()

    @app.get("/ok")
    async def ok() -> str:
        return "ok"

    @app.get("/moved")
    async def moved() -> RedirectResponse:
        return RedirectResponse("/ok")

    @app.get("/fails")
    async def fails() -> str:
        raise RuntimeError("a bug in the app")

    @app.get("/metrics")
    async def app_metrics() -> str:
        seen.append("/metrics")
        return "the app's own /metrics"

    return app


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
async def served(seen: list[str]) -> AsyncIterator[Any]:
    async with live_serving(make_app(seen), metrics_path="/metrics") as served:
        yield served


async def get(port: int, target: str) -> int:
    response, _ = await exchange(port, request("GET", target, "Connection: close"))
    return response.status


# -- the counts ------------------------------------------------------------------------------


async def test_requests_are_counted_by_status_class(served: Any, seen: list[str]) -> None:
    before = requests_by_class(await scrape(served.port))
    # The scrape is a request too: counted once it is answered, so not in its own text.
    assert before == {"1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "aborted": 0}
    statuses = [await get(served.port, target)
                for target in ("/ok", "/ok", "/moved", "/missing", "/fails")]
    assert statuses == [200, 200, 307, 404, 500]
    # A head the server refuses is counted too.
    refused, _ = await exchange(served.port, b"GARBAGE\r\n\r\n")
    assert refused.status == 400
    after = requests_by_class(await scrape(served.port))
    assert after == {"1xx": 0, "2xx": 3, "3xx": 1, "4xx": 2, "5xx": 1, "aborted": 0}
    assert seen == []  # the app's own /metrics route never ran


async def test_the_histogram_is_cumulative_and_counts_every_request(served: Any) -> None:
    for _ in range(3):
        assert await get(served.port, "/ok") == 200
    samples = await scrape(served.port)
    name = "microready_http_request_duration_seconds"
    buckets = {dict(labels)["le"]: count for (sample, labels), count in samples.items()
               if sample == f"{name}_bucket"}
    # OpenTelemetry's boundaries, in order, then +Inf.
    assert [float(le) for le in buckets] == [*DURATION_BUCKETS, float("inf")]
    counts = list(buckets.values())
    assert counts == sorted(counts), counts  # cumulative: never decreasing
    requests = sum(requests_by_class(samples).values())
    assert requests == 3
    assert counts[-1] == value(samples, f"{name}_count") == requests
    # Three requests on loopback take more than nothing and far less than the deadline.
    assert 0 < value(samples, f"{name}_sum") < 3 * IO_TIMEOUT


async def test_a_response_cut_short_counts_as_aborted() -> None:
    streamed, stream_closed = anyio.Event(), anyio.Event()
    app = make_streaming_app(streamed, stream_closed)

    async with live_serving(app, metrics_path="/metrics", access_log=False) as served:
        async with connect(served.port) as client:
            await client.send(request("GET", "/endless"))
            with anyio.fail_after(IO_TIMEOUT):
                await streamed.wait()
        with anyio.fail_after(IO_TIMEOUT):
            await stream_closed.wait()
        samples = await scrape(served.port)
    # Counted with the access log off: metrics do not need it.
    assert requests_by_class(samples)["aborted"] == 1
    assert requests_by_class(samples)["2xx"] == 0


async def test_open_connections_are_those_accepted_and_not_closed(served: Any) -> None:
    async with connect(served.port) as first, connect(served.port) as second:
        for client in (first, second):  # answered, so accepted, and kept alive
            await client.send(request("GET", "/ok"))
            assert (await client.read_response()).status == 200
        samples = await scrape(served.port)
        assert value(samples, "microready_http_open_connections") == 3  # the scrape's too
    # The server sees both closes in their own tasks.
    await scrape_until(served.port, "microready_http_open_connections", 1)


async def test_the_background_counters_follow_the_tasks() -> None:
    release = anyio.Event()
    started = anyio.Event()
    app = MicroReady()

    async def wait_for_release() -> None:
        started.set()
        await release.wait()

    def fail() -> None:
        raise ValueError("a task that fails")

    @app.get("/slow-task")
    async def slow_task(tasks: BackgroundTasks) -> str:
        tasks.add_task(wait_for_release)
        return "queued"

    @app.get("/failing-task")
    async def failing_task(tasks: BackgroundTasks) -> str:
        tasks.add_task(fail)
        return "queued"

    async with live_serving(app, metrics_path="/metrics", max_background_tasks=1) as served:
        assert await get(served.port, "/slow-task") == 200
        with anyio.fail_after(IO_TIMEOUT):
            await started.wait()
        # One task list runs at a time: the failing one waits for the slow one.
        assert await get(served.port, "/failing-task") == 200
        # The tasks are handed over just after the response's last byte: poll.
        samples = await scrape_until(served.port, "microready_background_tasks_queued", 1)
        assert value(samples, "microready_background_tasks_running") == 1
        release.set()
        samples = await scrape_until(served.port, "microready_background_tasks_total", 1,
                                     state="failed")
        assert value(samples, "microready_background_tasks_total", state="succeeded") == 1
        assert value(samples, "microready_background_tasks_total", state="dropped") == 0
        assert value(samples, "microready_background_tasks_running") == 0
        assert value(samples, "microready_background_tasks_queued") == 0


# -- the path --------------------------------------------------------------------------------


async def test_off_by_default_the_path_is_the_apps(seen: list[str]) -> None:
    async with live_serving(make_app(seen)) as served:
        response, _ = await exchange(served.port, request("GET", "/metrics", "Connection: close"))
        assert response.body == b'"the app\'s own /metrics"'
        missing = MicroReady()
    assert seen == ["/metrics"]
    async with live_serving(missing) as served:
        assert await get(served.port, "/metrics") == 404


async def test_a_query_head_and_other_methods(served: Any, seen: list[str]) -> None:
    samples = await scrape(served.port, "/metrics?name[]=x")  # Prometheus may add params
    assert ("microready_http_open_connections", frozenset()) in samples
    async with connect(served.port) as client:
        await client.send(request("HEAD", "/metrics"))
        head = await client.read_response("HEAD")
        assert (head.status, head.body) == (200, b"")
        assert head.header(b"content-type") == CONTENT_TYPE.encode()
        await client.send(request("POST", "/metrics", "Content-Length: 2", body=b"{}"))
        post = await client.read_response()
        assert (post.status, post.header(b"allow")) == (405, b"GET, HEAD")
    # Only the exact path is the server's.
    assert await get(served.port, "/metrics/x") == 404
    assert seen == []


async def test_an_asgi_app_served_by_microready() -> None:
    called: list[str] = []

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        called.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"asgi"})

    async with live_serving(as_served(asgi_app, lifespan="off"),
                            metrics_path="/metrics") as served:
        assert await get(served.port, "/hello") == 200
        samples = await scrape(served.port)
    assert called == ["/hello"]
    assert requests_by_class(samples)["2xx"] == 1
    # No background tasks in an ASGI app, but the series are there, at zero.
    assert value(samples, "microready_background_tasks_total", state="succeeded") == 0


# -- with --workers --------------------------------------------------------------------------

WORKERS_APP = textwrap.dedent(
    """
    import os

    from microready import MicroReady

    app = MicroReady()


    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()
    """
)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Any]:
    with app_process(tmp_path, WORKERS_APP, "--workers", "2", "--metrics-path",
                     "/metrics") as server:
        yield server


def test_each_worker_answers_a_scrape_with_its_own_counts(workers: Any) -> None:
    # Each scrape is one worker's numbers: its own requests only, never more
    # than were made, and valid text whichever worker answers.
    made = 6
    for _ in range(made):
        with SyncClient(workers.port) as client:
            client.send(request("GET", "/pid", "Connection: close"))
            assert client.read_response().status == 200
    for _ in range(3):
        with SyncClient(workers.port) as client:
            client.send(request("GET", "/metrics", "Connection: close"))
            response = client.read_response()
        assert response.status == 200
        samples = parse(response.body.decode("utf-8"))
        counted = requests_by_class(samples)["2xx"]
        assert counted <= made + 3, samples
        assert value(samples, "microready_http_open_connections") >= 1
