"""FastAPI tutorial, "Cookie Parameter Models" (docs_src/cookie_param_models/tutorial001 and
tutorial002, with and without Annotated), on microready, with the answers FastAPI's own
tests expect (tests/test_tutorial/test_cookie_param_models/), the OpenAPI schema aside.

FastAPI's tests set cookies with httpx's ``client.cookies.set(name, value)``; here
``client.cookies`` is a dict, so they are set with ``client.cookies[name] = value``.
"""

from typing import Annotated

import pytest
from pydantic import BaseModel

from microready import Cookie, MicroReady

from .helpers import client_for

# -- tutorial001 -------------------------------------------------------------------------


class Cookies(BaseModel):
    session_id: str
    fatebook_tracker: str | None = None
    googall_tracker: str | None = None


app001_an = MicroReady()


@app001_an.get("/items/")
async def read_items001_an(cookies: Annotated[Cookies, Cookie()]) -> Cookies:
    return cookies


app001 = MicroReady()


@app001.get("/items/")
async def read_items001(cookies: Cookies = Cookie()) -> Cookies:  # noqa: B008
    return cookies


# -- tutorial002: extra cookies forbidden ------------------------------------------------------


class StrictCookies(BaseModel):  # the page names it Cookies too
    model_config = {"extra": "forbid"}

    session_id: str
    fatebook_tracker: str | None = None
    googall_tracker: str | None = None


app002_an = MicroReady()


@app002_an.get("/items/")
async def read_items002_an(cookies: Annotated[StrictCookies, Cookie()]) -> StrictCookies:
    return cookies


app002 = MicroReady()


@app002.get("/items/")
async def read_items002(cookies: StrictCookies = Cookie()) -> StrictCookies:  # noqa: B008
    return cookies


ALL = pytest.mark.parametrize(
    "app", [app001_an, app001, app002_an, app002],
    ids=["001-annotated", "001-default", "002-annotated", "002-default"],
)


@ALL
def test_cookie_param_model(anyio_backend: str, app: MicroReady) -> None:
    with client_for(app, anyio_backend) as c:
        c.cookies["session_id"] = "123"
        c.cookies["fatebook_tracker"] = "456"
        c.cookies["googall_tracker"] = "789"
        response = c.get("/items/")
    assert response.status_code == 200
    assert response.json() == {
        "session_id": "123",
        "fatebook_tracker": "456",
        "googall_tracker": "789",
    }


@ALL
def test_cookie_param_model_defaults(anyio_backend: str, app: MicroReady) -> None:
    with client_for(app, anyio_backend) as c:
        c.cookies["session_id"] = "123"
        response = c.get("/items/")
    assert response.status_code == 200
    assert response.json() == {
        "session_id": "123",
        "fatebook_tracker": None,
        "googall_tracker": None,
    }


@ALL
def test_cookie_param_model_invalid(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "missing",
                "loc": ["cookie", "session_id"],
                "msg": "Field required",
                "input": {},
            }
        ]
    }


@pytest.mark.parametrize("app", [app001_an, app001], ids=["annotated", "default"])
def test_cookie_param_model_extra_is_ignored(anyio_backend: str, app: MicroReady) -> None:
    with client_for(app, anyio_backend) as c:
        c.cookies["session_id"] = "123"
        c.cookies["extra"] = "track-me-here-too"
        response = c.get("/items/")
    assert response.status_code == 200
    assert response.json() == {
        "session_id": "123", "fatebook_tracker": None, "googall_tracker": None,
    }


@pytest.mark.parametrize("app", [app002_an, app002], ids=["annotated", "default"])
def test_cookie_param_model_extra_is_forbidden(anyio_backend: str, app: MicroReady) -> None:
    with client_for(app, anyio_backend) as c:
        c.cookies["session_id"] = "123"
        c.cookies["extra"] = "track-me-here-too"
        response = c.get("/items/")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["cookie", "extra"],
                "msg": "Extra inputs are not permitted",
                "input": "track-me-here-too",
            }
        ]
    }


@ALL
def test_a_missing_cookie_s_input_is_every_cookie_sent(anyio_backend: str,
                                                       app: MicroReady) -> None:
    # Not in FastAPI's tests, but what FastAPI 0.163 answers: the input is the cookies.
    response = client_for(app, anyio_backend).get("/items/", cookies={"fatebook_tracker": "1"})
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "missing", "loc": ["cookie", "session_id"], "msg": "Field required",
        "input": {"fatebook_tracker": "1"},
    }]}
