"""FastAPI tutorial, "Header Parameter Models" (docs_src/header_param_models/tutorial001-003,
with and without Annotated), on microready, with the answers FastAPI's own tests check
(tests/test_tutorial/test_header_param_models/), the OpenAPI schema aside.

The 422 bodies are FastAPI 0.163's (checked by running this file against it), which
differ from the older ones in FastAPI's tests in two ways: a missing field is reported
under the header's name (``["header", "save-data"]``, as for a lone ``Header()``; with
``convert_underscores=False`` that is ``save_data``), and a list field that was not sent
no longer appears in ``input`` as ``"x_tag": []``.

A header model is validated as one value, so a missing field's ``input`` is every
header the request carried: the model's fields under their field names, every other
header under its own name (a repeated one as a list). TestClient sends FastAPI's
TestClient's default headers (``accept``, ``accept-encoding``, ``connection``,
``user-agent``), so these inputs are FastAPI's, header for header.
"""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from microready import Header, MicroReady

from .helpers import client_for

# -- tutorial001 -------------------------------------------------------------------------


class CommonHeaders(BaseModel):
    host: str
    save_data: bool
    if_modified_since: str | None = None
    traceparent: str | None = None
    x_tag: list[str] = []


app001_an = MicroReady()


@app001_an.get("/items/")
async def read_items001_an(headers: Annotated[CommonHeaders, Header()]) -> CommonHeaders:
    return headers


app001 = MicroReady()


@app001.get("/items/")
async def read_items001(headers: CommonHeaders = Header()) -> CommonHeaders:  # noqa: B008
    return headers


# -- tutorial002: extra headers forbidden ------------------------------------------------------


class StrictCommonHeaders(BaseModel):  # the page names it CommonHeaders too
    model_config = {"extra": "forbid"}

    host: str
    save_data: bool
    if_modified_since: str | None = None
    traceparent: str | None = None
    x_tag: list[str] = []


app002_an = MicroReady()


@app002_an.get("/items/")
async def read_items002_an(
    headers: Annotated[StrictCommonHeaders, Header()],
) -> StrictCommonHeaders:
    return headers


app002 = MicroReady()


@app002.get("/items/")
async def read_items002(
    headers: StrictCommonHeaders = Header(),  # noqa: B008
) -> StrictCommonHeaders:
    return headers


# -- tutorial003: underscores not converted to hyphens ------------------------------------------

app003_an = MicroReady()


@app003_an.get("/items/")
async def read_items003_an(
    headers: Annotated[CommonHeaders, Header(convert_underscores=False)],
) -> CommonHeaders:
    return headers


app003 = MicroReady()


@app003.get("/items/")
async def read_items003(
    headers: CommonHeaders = Header(convert_underscores=False),  # noqa: B008
) -> CommonHeaders:
    return headers


def styles(*apps: MicroReady) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("app", apps, ids=["annotated", "default"])


HYPHENATED = [
    ("save-data", "true"),
    ("if-modified-since", "yesterday"),
    ("traceparent", "123"),
    ("x-tag", "one"),
    ("x-tag", "two"),
]
UNDERSCORED = [(name.replace("-", "_"), value) for name, value in HYPHENATED]
ALL_SENT = {
    "host": "testserver",
    "save_data": True,
    "if_modified_since": "yesterday",
    "traceparent": "123",
    "x_tag": ["one", "two"],
}
DEFAULTS = {
    "host": "testserver",
    "save_data": True,
    "if_modified_since": None,
    "traceparent": None,
    "x_tag": [],
}
CLIENT_DEFAULTS = {  # what FastAPI's TestClient sends, and so microready's
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "user-agent": "testclient",
}


def save_data_missing(input: dict[str, Any], name: str = "save-data") -> dict[str, Any]:
    return {"detail": [
        {"type": "missing", "loc": ["header", name], "msg": "Field required", "input": input},
    ]}


# -- tutorial001 -------------------------------------------------------------------------


@styles(app001_an, app001)
def test001_header_param_model(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/", headers=HYPHENATED)
    assert response.status_code == 200
    assert response.json() == ALL_SENT


@styles(app001_an, app001)
def test001_header_param_model_defaults(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/", headers=[("save-data", "true")])
    assert response.status_code == 200
    assert response.json() == DEFAULTS


@styles(app001_an, app001)
def test001_header_param_model_invalid(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/")
    assert response.status_code == 422
    assert response.json() == save_data_missing({"host": "testserver", **CLIENT_DEFAULTS})


@styles(app001_an, app001)
def test001_header_param_model_extra(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/items/", headers=[("save-data", "true"), ("tool", "plumbus")]
    )
    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS


# -- tutorial002: FastAPI's tests clear the client's default headers first, since the
# model forbids every header it does not name. ---------------------------------------------


def bare_client(app: MicroReady, anyio_backend: str) -> Any:
    client = client_for(app, anyio_backend)
    client.headers.clear()
    return client


@styles(app002_an, app002)
def test002_header_param_model(anyio_backend: str, app: MicroReady) -> None:
    response = bare_client(app, anyio_backend).get("/items/", headers=HYPHENATED)
    assert response.status_code == 200, response.text
    assert response.json() == ALL_SENT


@styles(app002_an, app002)
def test002_header_param_model_defaults(anyio_backend: str, app: MicroReady) -> None:
    response = bare_client(app, anyio_backend).get("/items/", headers=[("save-data", "true")])
    assert response.status_code == 200
    assert response.json() == DEFAULTS


@styles(app002_an, app002)
def test002_header_param_model_invalid(anyio_backend: str, app: MicroReady) -> None:
    response = bare_client(app, anyio_backend).get("/items/")
    assert response.status_code == 422
    assert response.json() == save_data_missing({"host": "testserver"})


@styles(app002_an, app002)
def test002_header_param_model_extra(anyio_backend: str, app: MicroReady) -> None:
    response = bare_client(app, anyio_backend).get(
        "/items/", headers=[("save-data", "true"), ("tool", "plumbus")]
    )
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["header", "tool"],
                "msg": "Extra inputs are not permitted",
                "input": "plumbus",
            }
        ]
    }


@styles(app002_an, app002)
def test002_the_client_s_default_headers_are_extra_too(anyio_backend: str,
                                                       app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/", headers=[("save-data", "true")])
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "extra_forbidden", "loc": ["header", name],
         "msg": "Extra inputs are not permitted", "input": value}
        for name, value in CLIENT_DEFAULTS.items()
    ]}


# -- tutorial003 -------------------------------------------------------------------------


@styles(app003_an, app003)
def test003_header_param_model(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/", headers=UNDERSCORED)
    assert response.status_code == 200
    assert response.json() == ALL_SENT


@styles(app003_an, app003)
def test003_header_param_model_no_underscore(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/", headers=HYPHENATED)
    assert response.status_code == 422
    assert response.json() == save_data_missing({
        "host": "testserver",
        "traceparent": "123",
        **CLIENT_DEFAULTS,
        "save-data": "true",
        "if-modified-since": "yesterday",
        "x-tag": ["one", "two"],
    }, name="save_data")


@styles(app003_an, app003)
def test003_header_param_model_defaults(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/", headers=[("save_data", "true")])
    assert response.status_code == 200
    assert response.json() == DEFAULTS


@styles(app003_an, app003)
def test003_header_param_model_invalid(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/")
    assert response.status_code == 422
    assert response.json() == save_data_missing(
        {"host": "testserver", **CLIENT_DEFAULTS}, name="save_data"
    )


@styles(app003_an, app003)
def test003_header_param_model_extra(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/items/", headers=[("save_data", "true"), ("tool", "plumbus")]
    )
    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS
