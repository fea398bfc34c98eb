"""FastAPI tutorial, "HTTP Basic Auth" (docs_src/security/tutorial006 and tutorial007,
with and without Annotated), on microready: the page's code with its import line
changed (and type hints added), and the answers FastAPI's own tests expect
(tests/test_tutorial/test_security/test_tutorial006.py and test_tutorial007.py),
the OpenAPI schema aside.

FastAPI's tests send ``auth=(user, password)``; microready's TestClient has no
``auth=`` yet, so ``basic()`` writes the same header httpx writes.
A header that is not valid Basic credentials answers "Not authenticated" in
FastAPI >= 0.122 ("Invalid authentication credentials" before).
"""

import secrets
from base64 import b64encode
from typing import Annotated, Any

import pytest

from microready import Depends, HTTPException, MicroReady, status
from microready.security import HTTPBasic, HTTPBasicCredentials

from .helpers import client_for


def basic(username: str, password: str) -> dict[str, str]:
    """What httpx sends for ``auth=(username, password)``."""
    token = b64encode(f"{username}:{password}".encode("latin-1")).decode("ascii")
    return {"Authorization": f"Basic {token}"}


# tutorial006_an_py310
app006_an = MicroReady()

security006_an = HTTPBasic()


@app006_an.get("/users/me")
def read_current_user006_an(
    credentials: Annotated[HTTPBasicCredentials, Depends(security006_an)],
) -> Any:
    return {"username": credentials.username, "password": credentials.password}


# tutorial006_py310
app006 = MicroReady()

security006 = HTTPBasic()


@app006.get("/users/me")
def read_current_user006(credentials: HTTPBasicCredentials = Depends(security006)) -> Any:  # noqa: B008
    return {"username": credentials.username, "password": credentials.password}


# tutorial007_an_py310
app007_an = MicroReady()

security007_an = HTTPBasic()


def get_current_username_an(
    credentials: Annotated[HTTPBasicCredentials, Depends(security007_an)],
) -> str:
    current_username_bytes = credentials.username.encode("utf8")
    correct_username_bytes = b"stanleyjobson"
    is_correct_username = secrets.compare_digest(
        current_username_bytes, correct_username_bytes
    )
    current_password_bytes = credentials.password.encode("utf8")
    correct_password_bytes = b"swordfish"
    is_correct_password = secrets.compare_digest(
        current_password_bytes, correct_password_bytes
    )
    if not (is_correct_username and is_correct_password):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Basic"},
        )
    return credentials.username


@app007_an.get("/users/me")
def read_current_user007_an(username: Annotated[str, Depends(get_current_username_an)]) -> Any:
    return {"username": username}


# tutorial007_py310
app007 = MicroReady()

security007 = HTTPBasic()


def get_current_username(credentials: HTTPBasicCredentials = Depends(security007)) -> str:  # noqa: B008
    current_username_bytes = credentials.username.encode("utf8")
    correct_username_bytes = b"stanleyjobson"
    is_correct_username = secrets.compare_digest(
        current_username_bytes, correct_username_bytes
    )
    current_password_bytes = credentials.password.encode("utf8")
    correct_password_bytes = b"swordfish"
    is_correct_password = secrets.compare_digest(
        current_password_bytes, correct_password_bytes
    )
    if not (is_correct_username and is_correct_password):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Basic"},
        )
    return credentials.username


@app007.get("/users/me")
def read_current_user007(username: str = Depends(get_current_username)) -> Any:
    return {"username": username}


ALL_APPS = pytest.mark.parametrize(
    "app", [app006_an, app006, app007_an, app007],
    ids=["006-annotated", "006-default", "007-annotated", "007-default"])
APPS_007 = pytest.mark.parametrize("app", [app007_an, app007], ids=["annotated", "default"])
NOT_BASIC = b64encode(b"johnsecret").decode("ascii")  # no colon: not a user-password pair


def test_tutorial006_security_http_basic(anyio_backend: str) -> None:
    for app in (app006_an, app006):
        response = client_for(app, anyio_backend).get("/users/me", headers=basic("john", "secret"))
        assert response.status_code == 200, response.text
        assert response.json() == {"username": "john", "password": "secret"}


@ALL_APPS
def test_security_http_basic_no_credentials(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/users/me")
    assert response.json() == {"detail": "Not authenticated"}
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Basic"


@ALL_APPS
@pytest.mark.parametrize("authorization", ["Basic notabase64token", f"Basic {NOT_BASIC}"],
                         ids=["invalid-credentials", "non-basic-credentials"])
def test_security_http_basic_invalid_credentials(anyio_backend: str, app: MicroReady,
                                                 authorization: str) -> None:
    response = client_for(app, anyio_backend).get(
        "/users/me", headers={"Authorization": authorization})
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Basic"
    assert response.json() == {"detail": "Not authenticated"}


@APPS_007
def test_tutorial007_security_http_basic(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/users/me", headers=basic("stanleyjobson", "swordfish"))
    assert response.status_code == 200, response.text
    assert response.json() == {"username": "stanleyjobson"}


@APPS_007
@pytest.mark.parametrize(("username", "password"), [
    ("alice", "swordfish"), ("stanleyjobson", "wrongpassword"),
], ids=["invalid-username", "invalid-password"])
def test_tutorial007_incorrect_username_or_password(anyio_backend: str, app: MicroReady,
                                                    username: str, password: str) -> None:
    response = client_for(app, anyio_backend).get("/users/me", headers=basic(username, password))
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Incorrect username or password"}
    assert response.headers["WWW-Authenticate"] == "Basic"
