"""FastAPI tutorial, "Security - First Steps" (docs_src/security/tutorial001, with and
without Annotated), on microready: the page's code with its import line changed (and
type hints added), and the answers FastAPI's own tests expect
(tests/test_tutorial/test_security/test_tutorial001.py), the OpenAPI schema aside.

FastAPI >= 0.122 answers a missing or non-Bearer token 401 with
``WWW-Authenticate: Bearer``; older versions' tests expected 403.
"""

from typing import Annotated, Any

import pytest

from microready import Depends, MicroReady
from microready.security import OAuth2PasswordBearer

from .helpers import client_for

# tutorial001_an_py310
app_an = MicroReady()

oauth2_scheme_an = OAuth2PasswordBearer(tokenUrl="token")


@app_an.get("/items/")
async def read_items_an(token: Annotated[str, Depends(oauth2_scheme_an)]) -> Any:
    return {"token": token}


# tutorial001_py310
app = MicroReady()

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


@app.get("/items/")
async def read_items(token: str = Depends(oauth2_scheme)) -> Any:
    return {"token": token}


APPS = pytest.mark.parametrize("app", [app_an, app], ids=["annotated", "default"])


@APPS
def test_no_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items")  # redirected to /items/
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@APPS
def test_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/items", headers={"Authorization": "Bearer testtoken"})
    assert response.status_code == 200, response.text
    assert response.json() == {"token": "testtoken"}


@APPS
def test_incorrect_token(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/items", headers={"Authorization": "Notexistent testtoken"})
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_scheme_documents_the_token_url() -> None:
    # What FastAPI's OpenAPI test finds under components.securitySchemes.
    assert oauth2_scheme_an.scheme_name == "OAuth2PasswordBearer"
    assert oauth2_scheme_an.model.openapi() == {
        "type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "token"}}}
