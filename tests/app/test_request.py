"""The Request a handler receives, through the real connection (TestClient)."""

from typing import Any

from microready import MicroReady, Request

from .helpers import client_for


def test_request_attributes(anyio_backend: str) -> None:
    app = MicroReady()
    app.state.greeting = "hi"

    @app.get("/items/{item_id}")
    async def inspect_request(request: Request, item_id: int) -> dict[str, Any]:
        request.state.seen = True
        return {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "path_params": request.path_params,
            "q": request.query_params["q"],
            "q_all": request.query_params.getlist("q"),
            "accept": request.headers["ACCEPT"],
            "x_multi": request.headers.getlist("x-multi"),
            "cookies": request.cookies,
            "client": [request.client.host, request.client.port] if request.client else None,
            "app_is_app": request.app is app,
            "app_state": request.app.state.greeting,
            "state": request.state.seen,
        }

    client = client_for(app, anyio_backend)
    response = client.get(
        "/items/5?q=a&q=b",
        headers={"Accept": "application/json", "X-Multi": "1"},
        cookies={"session": "abc"},
    )
    assert response.json() == {
        "method": "GET",
        "path": "/items/5",
        "query": "q=a&q=b",
        "path_params": {"item_id": "5"},
        "q": "b",
        "q_all": ["a", "b"],
        "accept": "application/json",
        "x_multi": ["1"],
        "cookies": {"session": "abc"},
        "client": ["testclient", 50000],
        "app_is_app": True,
        "app_state": "hi",
        "state": True,
    }


def test_body_json_and_stream(anyio_backend: str) -> None:
    app = MicroReady()

    @app.post("/body")
    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        return {"raw": raw.decode(), "json": await request.json(), "again": await request.body()
                == raw}

    @app.post("/stream")
    async def stream(request: Request) -> int:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
        return total

    client = client_for(app, anyio_backend)
    assert client.post("/body", json={"a": [1, 2]}).json() == {
        "raw": '{"a": [1, 2]}', "json": {"a": [1, 2]}, "again": True,
    }
    assert client.post("/stream", content=b"x" * 200_000).json() == 200_000


def test_every_method_through_the_client(anyio_backend: str) -> None:
    app = MicroReady()

    @app.api_route("/any", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    async def any_method(request: Request) -> str:
        return request.method

    client = client_for(app, anyio_backend)
    assert client.get("/any").json() == "GET"
    assert client.post("/any").json() == "POST"
    assert client.put("/any").json() == "PUT"
    assert client.patch("/any").json() == "PATCH"
    assert client.delete("/any").json() == "DELETE"
    assert client.options("/any").json() == "OPTIONS"
    assert client.request("GET", "/any", params={"x": "1"}).json() == "GET"
    assert client.head("/any").status_code == 200
