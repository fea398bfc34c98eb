"""FastAPI's "Lifespan Events" page, its deprecated ``on_event`` examples
(docs_src/events/tutorial001-002, the py310 versions).

Changed: the import and ``app = MicroReady()``. Each app is built in a function
because ``@app.on_event`` warns (``DeprecationWarning``, as in FastAPI), which
this suite turns into an error unless a test expects it; ``log.txt`` is written
in the test's ``tmp_path``. The tests are FastAPI's docs tests.
"""

from pathlib import Path
from typing import Any

import pytest

from microready import MicroReady
from tests.support.http import request
from tests.support.live import connect, serving

from .helpers import client_for


def tutorial001() -> MicroReady:
    app = MicroReady()

    items: dict[str, Any] = {}

    @app.on_event("startup")
    async def startup_event():  # type: ignore[no-untyped-def]
        items["foo"] = {"name": "Fighters"}
        items["bar"] = {"name": "Tenders"}

    @app.get("/items/{item_id}")
    async def read_items(item_id: str):  # type: ignore[no-untyped-def]
        return items[item_id]

    return app


def tutorial002() -> MicroReady:
    app = MicroReady()

    @app.on_event("shutdown")
    def shutdown_event():  # type: ignore[no-untyped-def]
        with open("log.txt", mode="a") as log:
            log.write("Application shutdown")

    @app.get("/items/")
    async def read_items():  # type: ignore[no-untyped-def]
        return [{"name": "Foo"}]

    return app


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "log.txt"


def test_tutorial001(anyio_backend: str) -> None:
    with pytest.deprecated_call(match="on_event is deprecated"):
        app = tutorial001()
    with client_for(app, anyio_backend) as client:
        response = client.get("/items/foo")
        assert response.status_code == 200
        assert response.json() == {"name": "Fighters"}


def test_tutorial001_needs_the_startup(anyio_backend: str) -> None:
    with pytest.deprecated_call():
        app = tutorial001()
    client = client_for(app, anyio_backend)  # no `with`: the startup handler does not run
    with pytest.raises(KeyError, match="foo"):
        client.get("/items/foo")


def test_tutorial002(anyio_backend: str, in_tmp: Path) -> None:
    with pytest.deprecated_call():
        app = tutorial002()
    with client_for(app, anyio_backend) as client:
        response = client.get("/items/")
        assert response.status_code == 200
        assert response.json() == [{"name": "Foo"}]
        assert not in_tmp.exists()
    with open("log.txt") as log:
        assert "Application shutdown" in log.read()


@pytest.mark.anyio
async def test_tutorials_on_a_live_server(in_tmp: Path) -> None:
    with pytest.deprecated_call():
        apps = tutorial001(), tutorial002()
    async with serving(apps[0]) as running, connect(running.port) as client:
        await client.send(request("GET", "/items/bar"))
        assert (await client.read_response()).json() == {"name": "Tenders"}
    async with serving(apps[1]) as running, connect(running.port) as client:
        await client.send(request("GET", "/items/"))
        assert (await client.read_response()).json() == [{"name": "Foo"}]
        assert not in_tmp.exists()  # noqa: ASYNC240 - a test's instant check
    assert in_tmp.read_text() == "Application shutdown"  # noqa: ASYNC240
