"""FastAPI tutorial, "Form Data" (docs_src/request_forms/tutorial001, with and without
Annotated), on microready, with the answers FastAPI's own tests expect
(tests/test_tutorial/test_request_forms/), the OpenAPI schema aside."""

from typing import Annotated, Any

import pytest

from microready import Form, MicroReady

from .helpers import client_for

# tutorial001_an_py310
app_an = MicroReady()


@app_an.post("/login/")
async def login_an(username: Annotated[str, Form()],
                   password: Annotated[str, Form()]) -> dict[str, str]:
    return {"username": username}


# tutorial001_py310
app = MicroReady()


@app.post("/login/")
async def login(username: str = Form(), password: str = Form()) -> dict[str, str]:
    return {"username": username}


APPS = pytest.mark.parametrize("app", [app_an, app], ids=["annotated", "default"])


def missing(*names: str) -> dict[str, Any]:
    return {"detail": [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None}
        for name in names
    ]}


@APPS
def test_post_body_form(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post(
        "/login/", data={"username": "Foo", "password": "secret"}
    )
    assert response.status_code == 200
    assert response.json() == {"username": "Foo"}


@APPS
@pytest.mark.parametrize(("data", "absent"), [
    ({"username": "Foo"}, ["password"]),
    ({"password": "secret"}, ["username"]),
    (None, ["username", "password"]),
])
def test_post_body_form_missing_fields(anyio_backend: str, app: MicroReady,
                                       data: dict[str, str] | None, absent: list[str]) -> None:
    response = client_for(app, anyio_backend).post("/login/", data=data)
    assert response.status_code == 422
    assert response.json() == missing(*absent)


@APPS
def test_post_body_json(anyio_backend: str, app: MicroReady) -> None:
    # A JSON body is no form: both fields are missing.
    response = client_for(app, anyio_backend).post(
        "/login/", json={"username": "Foo", "password": "secret"}
    )
    assert response.status_code == 422, response.text
    assert response.json() == missing("username", "password")
