"""FastAPI tutorial, "Get Current User" (docs_src/security/tutorial002, with and without
Annotated), on microready: the page's code with its import line changed (and type
hints added), and the answers FastAPI's own tests expect
(tests/test_tutorial/test_security/test_tutorial002.py), the OpenAPI schema aside.

The page's ``User`` is a pydantic model, as on the page (pydantic is a test
dependency; microready itself does not need it).
"""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from microready import Depends, MicroReady
from microready.security import OAuth2PasswordBearer

from .helpers import client_for


class User(BaseModel):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


def fake_decode_token(token: str) -> User:
    return User(
        username=token + "fakedecoded", email="john@example.com", full_name="John Doe"
    )


# tutorial002_an_py310
app_an = MicroReady()

oauth2_scheme_an = OAuth2PasswordBearer(tokenUrl="token")


async def get_current_user_an(token: Annotated[str, Depends(oauth2_scheme_an)]) -> User:
    user = fake_decode_token(token)
    return user


@app_an.get("/users/me")
async def read_users_me_an(current_user: Annotated[User, Depends(get_current_user_an)]) -> Any:
    return current_user


# tutorial002_py310
app = MicroReady()

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


async def get_current_user(token: str = Depends(oauth2_scheme)) -> User:
    user = fake_decode_token(token)
    return user


@app.get("/users/me")
async def read_users_me(current_user: User = Depends(get_current_user)) -> Any:  # noqa: B008
    return current_user


APPS = pytest.mark.parametrize("app", [app_an, app], ids=["annotated", "default"])


@APPS
def test_no_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/users/me")
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@APPS
def test_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/users/me", headers={"Authorization": "Bearer testtoken"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "username": "testtokenfakedecoded",
        "email": "john@example.com",
        "full_name": "John Doe",
        "disabled": None,
    }
