"""FastAPI's "Middleware", "CORS", "Advanced Middleware" and "Including WSGI" pages.

Each app is the page's code (docs_src/middleware, cors, advanced_middleware,
wsgi) with only its import lines changed; each test is FastAPI's own test for
it (tests/test_tutorial/...), with the same expected values. FastAPI 0.165
has no ``fastapi.middleware.asgi.ASGIMiddleware`` (advanced_middleware's
tutorial004, from a later release), so that one is not here.
"""

import time

from a2wsgi import WSGIMiddleware
from flask import Flask
from flask import request as flask_request
from markupsafe import escape

from microready import MicroReady as FastAPI
from microready import Request
from microready.middleware.cors import CORSMiddleware
from microready.middleware.gzip import GZipMiddleware
from microready.middleware.httpsredirect import HTTPSRedirectMiddleware
from microready.middleware.trustedhost import TrustedHostMiddleware
from microready.responses import PlainTextResponse
from microready.testing import TestClient


def middleware_tutorial001() -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def add_process_time_header(request: Request, call_next):  # type: ignore[no-untyped-def]
        start_time = time.perf_counter()
        response = await call_next(request)
        process_time = time.perf_counter() - start_time
        response.headers["X-Process-Time"] = str(process_time)
        return response

    @app.get("/items/{item_id}")
    async def read_item(item_id: str):  # type: ignore[no-untyped-def]
        return {"item_id": item_id}

    return app


def test_middleware_tutorial001() -> None:
    client = TestClient(middleware_tutorial001())
    response = client.get("/items/foo")
    assert response.status_code == 200, response.text
    assert response.json() == {"item_id": "foo"}
    assert "X-Process-Time" in response.headers
    assert float(response.headers["X-Process-Time"]) >= 0


def cors_tutorial001() -> FastAPI:
    app = FastAPI()

    origins = [
        "http://localhost.tiangolo.com",
        "https://localhost.tiangolo.com",
        "http://localhost",
        "http://localhost:8080",
    ]

    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )

    @app.get("/")
    async def main():  # type: ignore[no-untyped-def]
        return {"message": "Hello World"}

    return app


def test_cors_tutorial001() -> None:
    client = TestClient(cors_tutorial001())
    # Test pre-flight response
    headers = {
        "Origin": "https://localhost.tiangolo.com",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "X-Example",
    }
    response = client.options("/", headers=headers)
    assert response.status_code == 200, response.text
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == "https://localhost.tiangolo.com"
    assert response.headers["access-control-allow-headers"] == "X-Example"

    # Test standard response
    headers = {"Origin": "https://localhost.tiangolo.com"}
    response = client.get("/", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Hello World"}
    assert response.headers["access-control-allow-origin"] == "https://localhost.tiangolo.com"

    # Test non-CORS response
    response = client.get("/")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Hello World"}
    assert "access-control-allow-origin" not in response.headers


def advanced_middleware_tutorial001() -> FastAPI:
    app = FastAPI()

    app.add_middleware(HTTPSRedirectMiddleware)

    @app.get("/")
    async def main():  # type: ignore[no-untyped-def]
        return {"message": "Hello World"}

    return app


def test_advanced_middleware_tutorial001() -> None:
    app = advanced_middleware_tutorial001()
    client = TestClient(app, base_url="https://testserver")
    response = client.get("/")
    assert response.status_code == 200

    client = TestClient(app, follow_redirects=False)
    response = client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "https://testserver/"


def advanced_middleware_tutorial002() -> FastAPI:
    app = FastAPI()

    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"]
    )

    @app.get("/")
    async def main():  # type: ignore[no-untyped-def]
        return {"message": "Hello World"}

    return app


def test_advanced_middleware_tutorial002() -> None:
    app = advanced_middleware_tutorial002()
    client = TestClient(app, base_url="http://example.com")
    response = client.get("/")
    assert response.status_code == 200
    client = TestClient(app, base_url="http://subdomain.example.com")
    response = client.get("/")
    assert response.status_code == 200
    client = TestClient(app, base_url="http://invalidhost")
    response = client.get("/")
    assert response.status_code == 400


def advanced_middleware_tutorial003() -> FastAPI:
    app = FastAPI()

    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)

    @app.get("/")
    async def main():  # type: ignore[no-untyped-def]
        return "somebigcontent"

    return app


def test_advanced_middleware_tutorial003() -> None:
    app = advanced_middleware_tutorial003()

    @app.get("/large")
    async def large() -> PlainTextResponse:
        return PlainTextResponse("x" * 4000, status_code=200)

    client = TestClient(app)
    response = client.get("/large", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert response.text == "x" * 4000
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) < 4000
    response = client.get("/")
    assert response.status_code == 200, response.text


def wsgi_tutorial001() -> FastAPI:
    flask_app = Flask(__name__)

    @flask_app.route("/")
    def flask_main():  # type: ignore[no-untyped-def]
        name = flask_request.args.get("name", "World")
        return f"Hello, {escape(name)} from Flask!"

    app = FastAPI()

    @app.get("/v2")
    def read_main():  # type: ignore[no-untyped-def]
        return {"message": "Hello World"}

    app.mount("/v1", WSGIMiddleware(flask_app))  # type: ignore[arg-type]
    return app


def test_wsgi_tutorial001() -> None:
    client = TestClient(wsgi_tutorial001())
    response = client.get("/v2")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Hello World"}
    response = client.get("/v1/")
    assert response.status_code == 200, response.text
    assert response.text == "Hello, World from Flask!"
    response = client.get("/v1/?name=<b>microready</b>")
    assert response.text == "Hello, &lt;b&gt;microready&lt;/b&gt; from Flask!"
