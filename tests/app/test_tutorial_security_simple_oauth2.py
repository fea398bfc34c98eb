"""FastAPI tutorial, "Simple OAuth2 with Password and Bearer" (docs_src/security/
tutorial003, with and without Annotated), on microready: the page's code with its
import line changed (and type hints added), and the answers FastAPI's own tests
expect (tests/test_tutorial/test_security/test_tutorial003.py), the OpenAPI
schema aside. ``User`` and ``UserInDB`` are pydantic models, as on the page.
"""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from microready import Depends, HTTPException, MicroReady, status
from microready.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm

from .helpers import client_for

fake_users_db: dict[str, dict[str, Any]] = {
    "johndoe": {
        "username": "johndoe",
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "hashed_password": "fakehashedsecret",
        "disabled": False,
    },
    "alice": {
        "username": "alice",
        "full_name": "Alice Wonderson",
        "email": "alice@example.com",
        "hashed_password": "fakehashedsecret2",
        "disabled": True,
    },
}


def fake_hash_password(password: str) -> str:
    return "fakehashed" + password


class User(BaseModel):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


class UserInDB(User):
    hashed_password: str


def get_user(db: dict[str, dict[str, Any]], username: str) -> UserInDB | None:
    if username in db:
        user_dict = db[username]
        return UserInDB(**user_dict)
    return None


def fake_decode_token(token: str) -> UserInDB | None:
    # This doesn't provide any security at all
    # Check the next version
    user = get_user(fake_users_db, token)
    return user


# tutorial003_an_py310
app_an = MicroReady()

oauth2_scheme_an = OAuth2PasswordBearer(tokenUrl="token")


async def get_current_user_an(token: Annotated[str, Depends(oauth2_scheme_an)]) -> UserInDB:
    user = fake_decode_token(token)
    if not user:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid authentication credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


async def get_current_active_user_an(
    current_user: Annotated[User, Depends(get_current_user_an)],
) -> User:
    if current_user.disabled:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


@app_an.post("/token")
async def login_an(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Any:
    user_dict = fake_users_db.get(form_data.username)
    if not user_dict:
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    user = UserInDB(**user_dict)
    hashed_password = fake_hash_password(form_data.password)
    if not hashed_password == user.hashed_password:
        raise HTTPException(status_code=400, detail="Incorrect username or password")

    return {"access_token": user.username, "token_type": "bearer"}


@app_an.get("/users/me")
async def read_users_me_an(
    current_user: Annotated[User, Depends(get_current_active_user_an)],
) -> Any:
    return current_user


# tutorial003_py310
app = MicroReady()

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


async def get_current_user(token: str = Depends(oauth2_scheme)) -> UserInDB:
    user = fake_decode_token(token)
    if not user:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid authentication credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


async def get_current_active_user(current_user: User = Depends(get_current_user)) -> User:  # noqa: B008
    if current_user.disabled:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


@app.post("/token")
async def login(form_data: OAuth2PasswordRequestForm = Depends()) -> Any:  # noqa: B008
    user_dict = fake_users_db.get(form_data.username)
    if not user_dict:
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    user = UserInDB(**user_dict)
    hashed_password = fake_hash_password(form_data.password)
    if not hashed_password == user.hashed_password:
        raise HTTPException(status_code=400, detail="Incorrect username or password")

    return {"access_token": user.username, "token_type": "bearer"}


@app.get("/users/me")
async def read_users_me(current_user: User = Depends(get_current_active_user)) -> Any:  # noqa: B008
    return current_user


APPS = pytest.mark.parametrize("app", [app_an, app], ids=["annotated", "default"])


@APPS
def test_login(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post(
        "/token", data={"username": "johndoe", "password": "secret"})
    assert response.status_code == 200, response.text
    assert response.json() == {"access_token": "johndoe", "token_type": "bearer"}


@APPS
@pytest.mark.parametrize("data", [
    {"username": "johndoe", "password": "incorrect"},
    {"username": "foo", "password": "secret"},
], ids=["incorrect-password", "incorrect-username"])
def test_login_incorrect(anyio_backend: str, app: MicroReady, data: dict[str, str]) -> None:
    response = client_for(app, anyio_backend).post("/token", data=data)
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Incorrect username or password"}


@APPS
def test_no_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/users/me")
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@APPS
def test_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/users/me", headers={"Authorization": "Bearer johndoe"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "username": "johndoe",
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "hashed_password": "fakehashedsecret",
        "disabled": False,
    }


@APPS
def test_incorrect_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/users/me", headers={"Authorization": "Bearer nonexistent"})
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Invalid authentication credentials"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@APPS
def test_incorrect_token_type(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/users/me", headers={"Authorization": "Notexistent testtoken"})
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@APPS
def test_inactive_user(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/users/me", headers={"Authorization": "Bearer alice"})
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Inactive user"}


@APPS
def test_login_form_fields_are_required(anyio_backend: str, app: MicroReady) -> None:
    # FastAPI's answer for a login without a form (its test only checks the 422).
    response = client_for(app, anyio_backend).post("/token")
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [
        ["body", "username"], ["body", "password"]]
