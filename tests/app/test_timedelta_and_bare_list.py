"""``timedelta`` parameters (read as pydantic reads them) and bare ``list`` query parameters.

The timedelta table is checked against pydantic itself: each string goes through
a query string and each JSON value through a body, and microready's answer (the
value, or the 422's type, msg and ctx) must be the one FastAPI gives, i.e.
pydantic's ``validate_python`` on the decoded value.
"""

from __future__ import annotations

import datetime as dt
import json
import typing
from typing import Annotated, Any
from urllib.parse import quote

import pytest

from microready import Body, Header, MicroReady, Query
from tests.app.helpers import client_for
from tests.support.http import request
from tests.support.live import connect, serving

pydantic = pytest.importorskip("pydantic")

_ADAPTER = pydantic.TypeAdapter(dt.timedelta)

# Accepted and refused, one of each rule pydantic has (found by running it).
STRINGS = [
    "P1D", "P3DT4H", "PT1.5S", "PT1,5S", "-P1D", "+P1D", "P1W", "P1Y", "P1M", "PT1M", "P1DT",
    "P1.5D", "PT1.5H", "P1Y2M3W4DT5H6M7.8S", "PT0.1234567S", "PT1.9999999S", "P1YT", "PT1H1H",
    "1 day", "1 days", "2 days, 01:02:03", "2 days 01:02:03", "-1 day, 23:59:59", "1d",
    "1 D, 01:00:00", "1d01:00:00", "1 DAY", "1 dAY", "1 day,", "1 day, 12:30", "1 day, 1:00:00",
    "01:02:03", "1:02:03", "01:02", "00:00:01.5", "00:00:01.1234567", "25:00:00", "99:00:00",
    "0000:00", "-01:02:03", "+01:00:00", "-01:00", "12:30:45.000001", "01:00:00.123456xyz",
    "2400000000:00", "999999999 days",
    # refused
    "", " ", "1", "3600", "1.5", "-1", "1e3", "1_000", "86400.5", "nan", "abc", "p1d", "PT",
    "P", "-", "P1.5DT1H", "PT1.5H30M", "P-1D", "PTT1H", "P1H", "PT1D", "PT1", "P1", "PT.5S",
    "P99999999999D", "P5000000Y", "P4294967296D", "1000000000 days", "4294967296 days",
    "1:2:3", "1:2", "00:0", "00:60:00", "00:00:60", "00-00", "12:30:", "12:30:45.",
    "12:30:45Z", "1:00:00:00", "1 day 1 day", "1  day", "1.5 day", "1 dax", "1 DAys", "1 dayS",
    "1 day, 24:00:00", "1 day, 12:3", "1 day,  01:00:00", "12345678901:00", "2400000001:00",
    "\u221201:00:00", "٣ days",
]

JSON_VALUES = [
    "1", "1.5", "-1.5", "0", "-0.0", "1e3", "86399999999999", "86400000000000", "1e20",
    "-1e20", "1e15", "0.0000001", "0.0000005", "-0.0000005", "2.5e-6", "86399999999999.5",
    "true", "false", "[]", "{}", '"P1D"', '"1 day, 01:00:00"', '"3600"', '"PTT"',
]


def pydantic_answer(value: Any) -> tuple[int, Any]:
    """(200, seconds) or (422, the error's type/msg/ctx), as FastAPI would answer."""
    try:
        return 200, _ADAPTER.validate_python(value).total_seconds()
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        return 422, {k: error.get(k) for k in ("type", "msg", "ctx")}


def our_answer(status: int, body: Any) -> tuple[int, Any]:
    if status == 200:
        return 200, body["seconds"]
    error = body["detail"][0]
    return status, {k: error.get(k) for k in ("type", "msg", "ctx")}


def duration_app() -> MicroReady:
    app = MicroReady()

    @app.get("/query")
    def from_query(d: dt.timedelta) -> dict[str, Any]:
        assert isinstance(d, dt.timedelta)
        return {"seconds": d.total_seconds()}

    @app.get("/path/{d}")
    def from_path(d: dt.timedelta) -> dict[str, Any]:
        return {"seconds": d.total_seconds()}

    @app.get("/header")
    def from_header(x_wait: Annotated[dt.timedelta, Header()]) -> dict[str, Any]:
        return {"seconds": x_wait.total_seconds()}

    @app.post("/body")
    def from_body(d: Annotated[dt.timedelta, Body(embed=True)]) -> dict[str, Any]:
        return {"seconds": d.total_seconds()}

    @app.get("/optional")
    def optional(d: dt.timedelta | None = None) -> dict[str, Any]:
        return {"seconds": None if d is None else d.total_seconds()}

    return app


def test_query_strings_match_pydantic(anyio_backend: str) -> None:
    with client_for(duration_app(), anyio_backend) as client:
        mismatches = []
        for text in STRINGS:
            response = client.get("/query?d=" + quote(text, safe=""))
            ours = our_answer(response.status_code, response.json())
            if ours != pydantic_answer(text):
                mismatches.append((text, ours, pydantic_answer(text)))
    assert mismatches == []
    assert sum(pydantic_answer(text)[0] == 200 for text in STRINGS) > 40  # both kinds covered
    assert sum(pydantic_answer(text)[0] == 422 for text in STRINGS) > 40


def test_json_values_match_pydantic(anyio_backend: str) -> None:
    with client_for(duration_app(), anyio_backend) as client:
        mismatches = []
        for raw in JSON_VALUES:
            response = client.post("/body", content=f'{{"d": {raw}}}'.encode(),
                                   headers={"content-type": "application/json"})
            ours = our_answer(response.status_code, response.json())
            expected = pydantic_answer(json.loads(raw))
            if ours != expected:
                mismatches.append((raw, ours, expected))
    assert mismatches == []


def test_whole_422_shapes(anyio_backend: str) -> None:
    with client_for(duration_app(), anyio_backend) as client:
        response = client.get("/query?d=3600")
        assert response.status_code == 422
        assert response.json() == {"detail": [{
            "type": "time_delta_parsing", "loc": ["query", "d"],
            "msg": 'Input should be a valid timedelta, "day" identifier in duration not '
                   "correctly formatted",
            "input": "3600",
            "ctx": {"error": '"day" identifier in duration not correctly formatted'},
        }]}
        response = client.post("/body", json={"d": []})
        assert response.json() == {"detail": [{
            "type": "time_delta_type", "loc": ["body", "d"],
            "msg": "Input should be a valid timedelta", "input": [],
        }]}
        assert client.get("/query").json()["detail"][0]["type"] == "missing"


def test_path_header_and_optional(anyio_backend: str) -> None:
    with client_for(duration_app(), anyio_backend) as client:
        assert client.get("/path/P1DT1S").json() == {"seconds": 86401.0}
        assert client.get("/path/PT").json()["detail"][0]["loc"] == ["path", "d"]
        assert client.get("/header", headers={"x-wait": "00:01:30"}).json() == {"seconds": 90.0}
        assert client.get("/header", headers={"x-wait": "90"}).json()["detail"][0]["loc"] == [
            "header", "x-wait"]
        assert client.get("/optional").json() == {"seconds": None}
        assert client.get("/optional?d=-PT1M").json() == {"seconds": -60.0}


def test_large_ints_are_refused_not_wrapped(anyio_backend: str) -> None:
    # pydantic (2.13) wraps an int of more than 2**32 days around (811528269846325 s
    # becomes 802753716 days); microready refuses it, as pydantic refuses the same float.
    with client_for(duration_app(), anyio_backend) as client:
        response = client.post("/body", json={"d": 811528269846325})
        assert response.status_code == 422
        assert response.json()["detail"][0]["ctx"] == {
            "error": "durations may not exceed 999,999,999 days"}


def list_app() -> MicroReady:
    app = MicroReady()

    @app.get("/items/")
    def read_items(q: Annotated[list, Query()] = []) -> dict[str, Any]:  # noqa: B006
        return {"q": q}  # FastAPI's "Using just list" example

    @app.get("/required")
    def required(q: list = Query()) -> Any:  # type: ignore[type-arg]  # noqa: B008
        return q

    @app.get("/optional")
    def optional(q: list | None = Query(default=None)) -> Any:  # type: ignore[type-arg]  # noqa: B008
        return q

    @app.get("/typing")
    def typing_list(q: typing.List = Query()) -> Any:  # type: ignore[type-arg]  # noqa: B008, UP006
        return q

    @app.get("/header")
    def header(x_tag: list = Header()) -> Any:  # type: ignore[type-arg]  # noqa: B008
        return x_tag

    return app


def test_bare_list_reads_repeated_keys_as_strings(anyio_backend: str) -> None:
    with client_for(list_app(), anyio_backend) as client:
        assert client.get("/items/?q=foo&q=bar").json() == {"q": ["foo", "bar"]}
        assert client.get("/items/").json() == {"q": []}
        assert client.get("/required?q=1&q=2").json() == ["1", "2"]  # items stay strings
        assert client.get("/optional").json() is None
        assert client.get("/optional?q=3").json() == ["3"]
        assert client.get("/typing?q=x&q=y").json() == ["x", "y"]
        assert client.get("/header", headers={"x-tag": "a"}).json() == ["a"]


def test_bare_list_missing_is_fastapis_422(anyio_backend: str) -> None:
    with client_for(list_app(), anyio_backend) as client:
        response = client.get("/required")
        assert response.status_code == 422
        assert response.json() == {"detail": [{
            "type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None,
        }]}


def test_bare_list_without_marker_is_still_a_body() -> None:
    app = MicroReady()

    @app.post("/bodies")
    def bodies(q: list) -> Any:  # type: ignore[type-arg]
        return q

    with client_for(app, "asyncio") as client:
        assert client.post("/bodies", json=[1, "a"]).json() == [1, "a"]


@pytest.mark.anyio
async def test_through_the_real_server() -> None:
    app = duration_app()

    @app.get("/tags")
    def tags(q: list = Query()) -> Any:  # type: ignore[type-arg]  # noqa: B008
        return q

    @app.get("/header-tags")
    def header_tags(x_tag: list = Header()) -> Any:  # type: ignore[type-arg]  # noqa: B008
        return x_tag

    async with serving(app) as running, connect(running.port) as client:
        await client.send(request("GET", "/query?d=P3DT4H"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, {"seconds": 273600.0})

        await client.send(request("GET", "/query?d=1%20day,%2001:00:00"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, {"seconds": 90000.0})

        await client.send(request("GET", "/query?d=PTT"))
        response = await client.read_response()
        assert response.status == 422
        assert response.json()["detail"][0]["type"] == "time_delta_parsing"

        await client.send(request("GET", "/tags?q=a&q=b&q=3"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, ["a", "b", "3"])

        await client.send(request("GET", "/header-tags", "X-Tag: a", "X-Tag: b"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, ["a", "b"])
