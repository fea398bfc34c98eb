"""FastAPI tutorial, "OAuth2 scopes" (docs_src/security/tutorial005_an_py310: PyJWT,
pwdlib's Argon2, ``Security()`` and ``SecurityScopes``), on microready: the page's
code with its import line changed (and type hints added), and the answers FastAPI's
own tests expect (tests/test_tutorial/test_security/test_tutorial005.py), the
OpenAPI schema aside, plus the scopes of ``/users/me/items/`` (``items`` from the
endpoint, then ``me`` from ``get_current_active_user``).
"""

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import jwt
import pytest
from jwt.exceptions import InvalidTokenError
from pwdlib import PasswordHash
from pydantic import BaseModel, ValidationError

from microready import Depends, HTTPException, MicroReady, Security, status
from microready.security import (
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    SecurityScopes,
)
from microready.testing import TestClient

from .helpers import client_for

# to get a string like this run:
# openssl rand -hex 32
SECRET_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_MINUTES = 30


fake_users_db: dict[str, dict[str, Any]] = {
    "johndoe": {
        "username": "johndoe",
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "hashed_password": "$argon2id$v=19$m=65536,t=3,p=4$wagCPXjifgvUFBzq4hqe3w$CYaIb8sB+wtD+Vu/P4uod1+Qof8h+1g7bbDlBID48Rc",  # noqa: E501
        "disabled": False,
    },
    "alice": {
        "username": "alice",
        "full_name": "Alice Chains",
        "email": "alicechains@example.com",
        "hashed_password": "$argon2id$v=19$m=65536,t=3,p=4$g2/AV1zwopqUntPKJavBFw$BwpRGDCyUHLvHICnwijyX8ROGoiUPwNKZ7915MeYfCE",  # noqa: E501
        "disabled": True,
    },
}


class Token(BaseModel):
    access_token: str
    token_type: str


class TokenData(BaseModel):
    username: str | None = None
    scopes: list[str] = []


class User(BaseModel):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


class UserInDB(User):
    hashed_password: str


password_hash = PasswordHash.recommended()

DUMMY_HASH = password_hash.hash("dummypassword")

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="token",
    scopes={"me": "Read information about the current user.", "items": "Read items."},
)

app = MicroReady()


def verify_password(plain_password: str, hashed_password: str) -> bool:
    return password_hash.verify(plain_password, hashed_password)


def get_password_hash(password: str) -> str:
    return password_hash.hash(password)


def get_user(db: dict[str, dict[str, Any]], username: str | None) -> UserInDB | None:
    if username in db:
        user_dict = db[username]
        return UserInDB(**user_dict)
    return None


def authenticate_user(fake_db: dict[str, dict[str, Any]], username: str,
                      password: str) -> UserInDB | Literal[False]:
    user = get_user(fake_db, username)
    if not user:
        verify_password(password, DUMMY_HASH)
        return False
    if not verify_password(password, user.hashed_password):
        return False
    return user


def create_access_token(data: dict[str, Any], expires_delta: timedelta | None = None) -> str:
    to_encode = data.copy()
    if expires_delta:
        expire = datetime.now(timezone.utc) + expires_delta
    else:
        expire = datetime.now(timezone.utc) + timedelta(minutes=15)
    to_encode.update({"exp": expire})
    encoded_jwt = jwt.encode(to_encode, SECRET_KEY, algorithm=ALGORITHM)
    return encoded_jwt


async def get_current_user(
    security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2_scheme)]
) -> UserInDB:
    if security_scopes.scopes:
        authenticate_value = f'Bearer scope="{security_scopes.scope_str}"'
    else:
        authenticate_value = "Bearer"
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": authenticate_value},
    )
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
        username = payload.get("sub")
        if username is None:
            raise credentials_exception
        scope: str = payload.get("scope", "")
        token_scopes = scope.split(" ")
        token_data = TokenData(scopes=token_scopes, username=username)
    except (InvalidTokenError, ValidationError):
        raise credentials_exception  # noqa: B904 - as on the page
    user = get_user(fake_users_db, username=token_data.username)
    if user is None:
        raise credentials_exception
    for scope in security_scopes.scopes:
        if scope not in token_data.scopes:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Not enough permissions",
                headers={"WWW-Authenticate": authenticate_value},
            )
    return user


async def get_current_active_user(
    current_user: Annotated[User, Security(get_current_user, scopes=["me"])],
) -> User:
    if current_user.disabled:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


@app.post("/token")
async def login_for_access_token(
    form_data: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    user = authenticate_user(fake_users_db, form_data.username, form_data.password)
    if not user:
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    access_token_expires = timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES)
    access_token = create_access_token(
        data={"sub": user.username, "scope": " ".join(form_data.scopes)},
        expires_delta=access_token_expires,
    )
    return Token(access_token=access_token, token_type="bearer")


@app.get("/users/me/", response_model=User)
async def read_users_me(
    current_user: Annotated[User, Depends(get_current_active_user)],
) -> Any:
    return current_user


@app.get("/users/me/items/")
async def read_own_items(
    current_user: Annotated[User, Security(get_current_active_user, scopes=["items"])],
) -> Any:
    return [{"item_id": "Foo", "owner": current_user.username}]


@app.get("/status/")
async def read_system_status(current_user: Annotated[User, Depends(get_current_user)]) -> Any:
    return {"status": "ok"}


# -- FastAPI's tests -----------------------------------------------------------------------

CREDENTIALS_ERROR = {"detail": "Could not validate credentials"}
ME = 'Bearer scope="me"'
# Tokens signed with SECRET_KEY: {"data": "foo"} (no sub), {"sub": "foo"}, {"sub": "username:bob"}.
NO_SUB = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjoiZm9vIn0."
          "9ynBhuYb4e6aW3oJr_K_TBgwcMTDpRToQIE25L57rOE")
UNKNOWN_USER = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmb28ifQ."
                "NnExK_dlNAYyzACrXtXDrcWOgGY2JuPbI4eDaHdfK5Y")
NONEXISTENT_USER = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VybmFtZTpib2IifQ."
                    "HcfCW67Uda-0gz54ZWTqmtgJnZeNem0Q757eTa9EZuw")


def get_access_token(client: TestClient, *, username: str = "johndoe", password: str = "secret",
                     scope: str | None = None) -> str | None:
    data = {"username": username, "password": password}
    if scope:
        data["scope"] = scope
    response = client.post("/token", data=data)
    token: str | None = response.json().get("access_token")
    return token


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login(anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).post(
        "/token", data={"username": "johndoe", "password": "secret", "scope": "me items"})
    assert response.status_code == 200, response.text
    content = response.json()
    assert content["token_type"] == "bearer"
    claims = jwt.decode(content["access_token"], SECRET_KEY, algorithms=[ALGORITHM])
    assert (claims["sub"], claims["scope"]) == ("johndoe", "me items")


@pytest.mark.parametrize("data", [
    {"username": "johndoe", "password": "incorrect"},
    {"username": "foo", "password": "secret"},
], ids=["incorrect-password", "incorrect-username"])
def test_login_incorrect(anyio_backend: str, data: dict[str, str]) -> None:
    response = client_for(app, anyio_backend).post("/token", data=data)
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Incorrect username or password"}


@pytest.mark.parametrize(("path", "authorization"), [
    ("/users/me", None), ("/users/me", "Notexistent testtoken"), ("/status/", None),
], ids=["no-token", "incorrect-token-type", "status-no-token"])
def test_not_authenticated(anyio_backend: str, path: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client_for(app, anyio_backend).get(path, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token(anyio_backend: str) -> None:
    client = client_for(app, anyio_backend)
    response = client.get("/users/me", headers=bearer(get_access_token(client, scope="me")))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "username": "johndoe",
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "disabled": False,
    }


@pytest.mark.parametrize("token", ["nonexistent", NO_SUB, UNKNOWN_USER, NONEXISTENT_USER],
                         ids=["incorrect-token", "no-sub", "no-username", "inexistent-user"])
def test_could_not_validate_credentials(anyio_backend: str, token: str) -> None:
    response = client_for(app, anyio_backend).get("/users/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json() == CREDENTIALS_ERROR
    assert response.headers["WWW-Authenticate"] == ME  # the scopes /users/me needs


@pytest.mark.parametrize(("path", "scope", "challenge"), [
    ("/users/me", None, ME),
    ("/users/me/items/", "me", 'Bearer scope="items me"'),
    ("/users/me/items/", "items", 'Bearer scope="items me"'),
], ids=["me-without-scope", "items-without-items", "items-without-me"])
def test_not_enough_permissions(anyio_backend: str, path: str, scope: str | None,
                                challenge: str) -> None:
    client = client_for(app, anyio_backend)
    response = client.get(path, headers=bearer(get_access_token(client, scope=scope)))
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not enough permissions"}
    assert response.headers["WWW-Authenticate"] == challenge


def test_helpers() -> None:
    assert verify_password("secret", fake_users_db["johndoe"]["hashed_password"])
    assert get_password_hash("secretalice")
    assert create_access_token(data={"data": "foo"})


def test_token_inactive_user(anyio_backend: str) -> None:
    client = client_for(app, anyio_backend)
    access_token = get_access_token(client, username="alice", password="secretalice", scope="me")
    response = client.get("/users/me", headers=bearer(access_token))
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Inactive user"}


def test_read_items(anyio_backend: str) -> None:
    client = client_for(app, anyio_backend)
    response = client.get("/users/me/items/",
                          headers=bearer(get_access_token(client, scope="me items")))
    assert response.status_code == 200, response.text
    assert response.json() == [{"item_id": "Foo", "owner": "johndoe"}]


def test_read_system_status(anyio_backend: str) -> None:
    client = client_for(app, anyio_backend)
    response = client.get("/status/", headers=bearer(get_access_token(client)))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def test_the_scheme_documents_its_scopes() -> None:
    assert oauth2_scheme.model.openapi() == {"type": "oauth2", "flows": {"password": {
        "scopes": {"me": "Read information about the current user.", "items": "Read items."},
        "tokenUrl": "token",
    }}}
