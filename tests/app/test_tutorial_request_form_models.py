"""FastAPI tutorial, "Form Models" (docs_src/request_form_models/tutorial001 and
tutorial002, with and without Annotated), on microready, with the answers FastAPI's own
tests expect (tests/test_tutorial/test_request_form_models/), the OpenAPI schema aside.

A form model is validated as one value, so a missing field's ``input`` is the whole
form that was sent (``{}`` when nothing was), not ``None`` as for a lone ``Form()``.
"""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from microready import Form, MicroReady

from .helpers import client_for

# -- tutorial001: a pydantic model for the form ----------------------------------------------


class FormData(BaseModel):
    username: str
    password: str


app001_an = MicroReady()


@app001_an.post("/login/")
async def login001_an(data: Annotated[FormData, Form()]) -> FormData:
    return data


app001 = MicroReady()


@app001.post("/login/")
async def login001(data: FormData = Form()) -> FormData:  # noqa: B008
    return data


# -- tutorial002: extra fields forbidden -----------------------------------------------------


class StrictFormData(BaseModel):  # the page names it FormData too
    username: str
    password: str
    model_config = {"extra": "forbid"}


app002_an = MicroReady()


@app002_an.post("/login/")
async def login002_an(data: Annotated[StrictFormData, Form()]) -> StrictFormData:
    return data


app002 = MicroReady()


@app002.post("/login/")
async def login002(data: StrictFormData = Form()) -> StrictFormData:  # noqa: B008
    return data


ALL = pytest.mark.parametrize(
    "app", [app001_an, app001, app002_an, app002],
    ids=["001-annotated", "001-default", "002-annotated", "002-default"],
)


def missing(form: dict[str, str], *names: str) -> dict[str, Any]:
    return {"detail": [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": form}
        for name in names
    ]}


@ALL
def test_post_body_form(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post(
        "/login/", data={"username": "Foo", "password": "secret"}
    )
    assert response.status_code == 200
    assert response.json() == {"username": "Foo", "password": "secret"}


@ALL
def test_post_body_form_no_password(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/login/", data={"username": "Foo"})
    assert response.status_code == 422
    assert response.json() == missing({"username": "Foo"}, "password")


@ALL
def test_post_body_form_no_username(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/login/", data={"password": "secret"})
    assert response.status_code == 422
    assert response.json() == missing({"password": "secret"}, "username")


@ALL
def test_post_body_form_no_data(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/login/")
    assert response.status_code == 422
    assert response.json() == missing({}, "username", "password")


@ALL
def test_post_body_json(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post(
        "/login/", json={"username": "Foo", "password": "secret"}
    )
    assert response.status_code == 422, response.text
    assert response.json() == missing({}, "username", "password")


@pytest.mark.parametrize("app", [app001_an, app001], ids=["annotated", "default"])
def test_extra_fields_are_ignored_without_forbid(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post(
        "/login/", data={"username": "Foo", "password": "secret", "extra": "extra"}
    )
    assert response.status_code == 200
    assert response.json() == {"username": "Foo", "password": "secret"}


@pytest.mark.parametrize("app", [app002_an, app002], ids=["annotated", "default"])
def test_post_body_extra_form(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post(
        "/login/", data={"username": "Foo", "password": "secret", "extra": "extra"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["body", "extra"],
                "msg": "Extra inputs are not permitted",
                "input": "extra",
            }
        ]
    }


@pytest.mark.parametrize("app", [app002_an, app002], ids=["annotated", "default"])
def test_the_page_s_own_extra_example(anyio_backend: str, app: MicroReady) -> None:
    # The error the page shows for username=Rick, password=Portal Gun, extra=Mr. Poopybutthole.
    response = client_for(app, anyio_backend).post("/login/", data={
        "username": "Rick", "password": "Portal Gun", "extra": "Mr. Poopybutthole",
    })
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "extra_forbidden", "loc": ["body", "extra"],
        "msg": "Extra inputs are not permitted", "input": "Mr. Poopybutthole",
    }]}
