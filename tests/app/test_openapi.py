"""The OpenAPI document and the docs pages: ``app.openapi()``, ``/openapi.json``,
``/docs``, ``/docs/oauth2-redirect`` and ``/redoc``.

What FastAPI writes is checked against FastAPI itself in
``test_openapi_vs_fastapi.py``; these tests cover the rest: the cache, the
"Extending OpenAPI" override, the URLs and their ``None``, the pages' HTML,
and the routes served through the real server on asyncio and trio.
"""

from __future__ import annotations

import json
import pathlib
from typing import Annotated, Any

import httpx
import pytest

from microready import Depends, MicroReady, Query, Router
from microready.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from microready.openapi.utils import get_openapi
from microready.routing import Route
from microready.security import OAuth2PasswordBearer
from microready.staticfiles import StaticFiles
from microready.testing import TestClient
from tests.support.live import IO_TIMEOUT, serving


def small_app(**options: Any) -> MicroReady:
    app = MicroReady(**options)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: Annotated[str | None, Query(max_length=5)] = None
                        ) -> dict[str, Any]:
        return {"item_id": item_id}

    return app


# -- app.openapi() -----------------------------------------------------------------------


def test_the_document_is_built_once_and_kept() -> None:
    app = small_app(title="Shop", version="2.0")
    assert app.openapi_schema is None  # nothing is built before it is asked for
    document = app.openapi()
    assert app.openapi_schema is document
    assert app.openapi() is document
    assert document["info"] == {"title": "Shop", "version": "2.0"}
    assert list(document["paths"]) == ["/items/{item_id}"]
    operation = document["paths"]["/items/{item_id}"]["get"]
    assert operation["operationId"] == "read_item_items__item_id__get"
    assert operation["parameters"][1]["schema"]["anyOf"][0] == {"type": "string",
                                                                "maxLength": 5}


def test_routes_added_before_the_first_request_are_in_it() -> None:
    app = small_app()
    client = TestClient(app)

    @app.get("/later")
    async def later() -> None: ...

    assert set(client.get("/openapi.json").json()["paths"]) == {"/items/{item_id}", "/later"}


def test_extending_openapi_replaces_the_method() -> None:
    """FastAPI's "Extending OpenAPI" page, as written there."""
    app = small_app()

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title="Custom title", version="2.5.0", summary="s",
                             description="Here's a longer description", routes=app.routes)
        schema["info"]["x-logo"] = {"url": "https://example.com/logo.png"}
        app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    served = TestClient(app).get("/openapi.json").json()
    assert served["info"] == {"title": "Custom title", "version": "2.5.0", "summary": "s",
                              "description": "Here's a longer description",
                              "x-logo": {"url": "https://example.com/logo.png"}}


def test_the_docs_routes_are_not_in_the_schema_nor_in_app_routes() -> None:
    app = small_app()
    assert [route.path for route in app.routes] == ["/items/{item_id}"]
    client = TestClient(app)
    assert list(client.get("/openapi.json").json()["paths"]) == ["/items/{item_id}"]


def test_a_route_of_the_app_at_a_docs_url_does_not_win() -> None:
    """FastAPI registers the docs routes first, so they answer their paths."""
    app = MicroReady()

    @app.get("/docs")
    async def mine() -> str:
        return "mine"

    assert "swagger-ui" in TestClient(app).get("/docs").text


def test_operation_ids_that_repeat_are_warned_about() -> None:
    app = MicroReady()
    app.get("/a", operation_id="same")(lambda: None)
    app.get("/b", operation_id="same")(lambda: None)
    with pytest.warns(UserWarning, match="Duplicate Operation ID same for function <lambda>"):
        app.openapi()


def test_a_response_that_is_not_a_dict_is_refused() -> None:
    app = MicroReady()
    app.get("/a", responses={404: "Not found"})(lambda: None)
    with pytest.raises(TypeError, match=r"responses\[404\] must be a dict"):
        app.openapi()


def test_an_app_without_title_cannot_serve_a_document() -> None:
    with pytest.raises(ValueError, match="OpenAPI needs a title and a version"):
        MicroReady(title="")
    assert MicroReady(title="", openapi_url=None).openapi_url is None


@pytest.mark.parametrize("keyword", ["openapi_url", "docs_url", "redoc_url",
                                     "swagger_ui_oauth2_redirect_url"])
def test_a_docs_url_must_be_a_path(keyword: str) -> None:
    with pytest.raises(ValueError, match=rf"MicroReady\({keyword}='docs'\): a URL path"):
        MicroReady(**{keyword: "docs"})  # type: ignore[arg-type]


def test_webhooks_and_callbacks_are_documented() -> None:
    webhooks = Router()

    @webhooks.post("/new-subscription")
    async def new_subscription(body: dict[str, Any]) -> None:
        """When a user subscribes."""

    async def invoice_paid(body: dict[str, Any]) -> None: ...

    callback = Route("/invoices/{invoice_id}", invoice_paid, methods=["POST"])
    app = MicroReady(webhooks=webhooks)
    app.post("/invoices", callbacks=[callback])(lambda: None)
    document = app.openapi()
    hook = document["webhooks"]["/new-subscription"]["post"]
    assert hook["description"] == "When a user subscribes."
    assert hook["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "object", "additionalProperties": True, "title": "Body"}
    callbacks = document["paths"]["/invoices"]["post"]["callbacks"]
    assert list(callbacks) == ["invoice_paid"]
    assert callbacks["invoice_paid"]["/invoices/{invoice_id}"]["post"]["operationId"] == (
        "invoice_paid_invoices__invoice_id__post")


scheme = OAuth2PasswordBearer(tokenUrl="token")


def user(token: Annotated[str, Depends(scheme)]) -> str:
    return token


def test_security_below_a_dependency_is_documented_once() -> None:
    app = MicroReady()

    @app.get("/me", dependencies=[Depends(user)])
    async def me(again: Annotated[str, Depends(user)]) -> None: ...

    document = app.openapi()
    assert document["paths"]["/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert document["components"]["securitySchemes"] == {
        "OAuth2PasswordBearer": {"type": "oauth2",
                                 "flows": {"password": {"scopes": {}, "tokenUrl": "token"}}}}


# -- the pages ---------------------------------------------------------------------------


def test_swagger_ui_takes_fastapis_keywords() -> None:
    page = get_swagger_ui_html(
        openapi_url="/api.json", title="A </title> B", oauth2_redirect_url="/back",
        init_oauth={"clientId": "</script>"}, swagger_ui_parameters={"deepLinking": False},
    ).body.decode()
    assert "<title>A &lt;/title&gt; B</title>" in page
    assert 'url: "/api.json",' in page
    assert '"deepLinking": false,' in page and '"dom_id": "#swagger-ui",' in page
    assert 'oauth2RedirectUrl: window.location.origin + "/back",' in page
    assert 'ui.initOAuth({"clientId": "\\u003c/script\\u003e"})' in page
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in page
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css" in page


def test_redoc_and_the_oauth2_redirect_page() -> None:
    page = get_redoc_html(openapi_url="/api.json", title="T", with_google_fonts=False)
    text = page.body.decode()
    assert page.media_type == "text/html"
    assert '<redoc spec-url="/api.json"></redoc>' in text
    assert "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js" in text
    assert "fonts.googleapis.com" not in text
    assert "fonts.googleapis.com" in get_redoc_html(openapi_url="/", title="T").body.decode()
    redirect = get_swagger_ui_oauth2_redirect_html().body.decode()
    assert "window.opener.swaggerUIRedirectOauth2" in redirect


def test_self_hosted_assets(tmp_path: pathlib.Path) -> None:
    """FastAPI's "Custom Docs UI Static Assets": docs_url=None, the assets mounted."""
    (tmp_path / "swagger-ui-bundle.js").write_text("/* js */")
    (tmp_path / "swagger-ui.css").write_text("/* css */")
    app = MicroReady(docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=tmp_path), name="static")

    @app.get("/docs", include_in_schema=False)
    async def custom_swagger_ui_html() -> Any:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url), title=app.title + " - Swagger UI",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
        )

    client = TestClient(app)
    page = client.get("/docs").text
    assert 'src="/static/swagger-ui-bundle.js"' in page
    assert 'href="/static/swagger-ui.css"' in page
    assert client.get("/static/swagger-ui-bundle.js").text == "/* js */"
    assert client.get("/openapi.json").json()["paths"] == {}
    # docs_url=None: no redirect page either, as in FastAPI.
    assert client.get("/docs/oauth2-redirect").status_code == 404


# -- through the real server -------------------------------------------------------------


@pytest.mark.anyio
async def test_the_docs_through_the_server() -> None:
    app = small_app(title="Shop", swagger_ui_parameters={"syntaxHighlight": False},
                    swagger_ui_init_oauth={"clientId": "abc"})
    async with serving(app) as running, httpx.AsyncClient(
        base_url=running.address, timeout=IO_TIMEOUT
    ) as client:
        document = await client.get("/openapi.json")
        assert document.status_code == 200
        assert document.headers["content-type"] == "application/json"
        assert json.loads(document.content) == app.openapi()
        docs = await client.get("/docs")
        assert docs.headers["content-type"] == "text/html; charset=utf-8"
        assert "<title>Shop - Swagger UI</title>" in docs.text
        assert "url: \"/openapi.json\"" in docs.text
        assert '"syntaxHighlight": false' in docs.text
        assert 'ui.initOAuth({"clientId": "abc"})' in docs.text
        assert '"/docs/oauth2-redirect"' in docs.text
        redirect = await client.get("/docs/oauth2-redirect")
        assert "swaggerUIRedirectOauth2" in redirect.text
        redoc = await client.get("/redoc")
        assert "<title>Shop - ReDoc</title>" in redoc.text
        assert '<redoc spec-url="/openapi.json">' in redoc.text
        head = await client.head("/openapi.json")
        assert head.status_code == 200 and head.content == b""
        assert (await client.get("/items/3")).json() == {"item_id": 3}


@pytest.mark.anyio
@pytest.mark.parametrize(("options", "gone", "kept"), [
    ({"openapi_url": None}, ["/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"], []),
    ({"docs_url": None}, ["/docs", "/docs/oauth2-redirect"], ["/openapi.json", "/redoc"]),
    ({"redoc_url": None}, ["/redoc"], ["/openapi.json", "/docs", "/docs/oauth2-redirect"]),
    ({"swagger_ui_oauth2_redirect_url": None}, ["/docs/oauth2-redirect"], ["/docs"]),
    ({"openapi_url": "/api/v1/openapi.json", "docs_url": "/documentation"},
     ["/openapi.json", "/docs"], ["/api/v1/openapi.json", "/documentation", "/redoc"]),
])
async def test_a_url_set_to_none_is_not_served(options: dict[str, Any], gone: list[str],
                                               kept: list[str]) -> None:
    async with serving(small_app(**options)) as running, httpx.AsyncClient(
        base_url=running.address, timeout=IO_TIMEOUT
    ) as client:
        for path in gone:
            response = await client.get(path)
            assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
        for path in kept:
            assert (await client.get(path)).status_code == 200, path
        if options.get("docs_url"):
            page = (await client.get(options["docs_url"])).text
            assert f'url: "{options["openapi_url"]}"' in page
