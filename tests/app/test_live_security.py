"""Security schemes through the real server, over a real socket, on asyncio and trio.

Each test serves the app on an ephemeral port in the test's event loop
(``tests.support.live``) and talks to it with ``httpx.AsyncClient`` (its own
Basic ``auth=`` and form encoding) or with raw bytes, so the challenge headers
are checked as they go over the wire.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest

from microready import Depends, HTTPException, MicroReady, Security
from microready.security import (
    APIKeyCookie,
    APIKeyHeader,
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    SecurityScopes,
)
from tests.support.http import request
from tests.support.live import IO_TIMEOUT, connect, serving

pytestmark = pytest.mark.anyio

basic_scheme = HTTPBasic(realm="simple ops")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Read yourself."})
header_key = APIKeyHeader(name="x-api-key", auto_error=False)
cookie_key = APIKeyCookie(name="session", auto_error=False)
TOKENS = {"token-for-johndoe": ["me"], "token-without-scopes": []}


async def current_user(security_scopes: SecurityScopes,
                       token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, Any]:
    granted = TOKENS.get(token)
    challenge = f'Bearer scope="{security_scopes.scope_str}"'
    if granted is None:
        raise HTTPException(401, "Could not validate credentials",
                            headers={"WWW-Authenticate": challenge})
    if any(scope not in granted for scope in security_scopes.scopes):
        raise HTTPException(401, "Not enough permissions",
                            headers={"WWW-Authenticate": challenge})
    return {"username": "johndoe", "scopes": security_scopes.scopes}


def security_app() -> MicroReady:
    app = MicroReady()

    @app.get("/basic")
    async def read_basic(
        credentials: Annotated[HTTPBasicCredentials, Depends(basic_scheme)],
    ) -> dict[str, str]:
        return {"username": credentials.username, "password": credentials.password}

    @app.post("/token")
    async def login(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        if (form_data.username, form_data.password) != ("johndoe", "secret"):
            raise HTTPException(400, "Incorrect username or password")
        token = "token-for-johndoe" if "me" in form_data.scopes else "token-without-scopes"
        return {"access_token": token, "token_type": "bearer"}

    @app.get("/users/me")
    async def read_me(user: Annotated[dict[str, Any], Security(current_user, scopes=["me"])],
                      ) -> dict[str, Any]:
        return user

    @app.get("/key")
    async def read_key(header: Annotated[str | None, Depends(header_key)],
                       cookie: Annotated[str | None, Depends(cookie_key)]) -> dict[str, Any]:
        if header is None and cookie is None:
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "APIKey"})
        return {"header": header, "cookie": cookie}

    return app


# -- with httpx.AsyncClient -----------------------------------------------------------------


async def test_http_basic_with_httpx_auth() -> None:
    async with serving(security_app()) as running, httpx.AsyncClient(
        base_url=running.address, timeout=IO_TIMEOUT
    ) as client:
        response = await client.get("/basic")
        assert (response.status_code, response.json()) == (401, {"detail": "Not authenticated"})
        assert response.headers["www-authenticate"] == 'Basic realm="simple ops"'

        response = await client.get("/basic", auth=("stanley", "sword:fish"))
        assert (response.status_code, response.json()) == (
            200, {"username": "stanley", "password": "sword:fish"})


async def test_the_password_flow_with_scopes_through_httpx() -> None:
    async with serving(security_app()) as running, httpx.AsyncClient(
        base_url=running.address, timeout=IO_TIMEOUT
    ) as client:
        response = await client.post("/token", data={"username": "johndoe", "password": "no"})
        assert (response.status_code, response.json()) == (
            400, {"detail": "Incorrect username or password"})

        response = await client.post(
            "/token", data={"username": "johndoe", "password": "secret", "scope": "me"})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert (response.status_code, response.json()) == (
            200, {"username": "johndoe", "scopes": ["me"]})

        response = await client.post(
            "/token", data={"username": "johndoe", "password": "secret"})
        token = response.json()["access_token"]
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert (response.status_code, response.json()) == (
            401, {"detail": "Not enough permissions"})
        assert response.headers["www-authenticate"] == 'Bearer scope="me"'

        response = await client.get("/users/me")
        assert (response.status_code, response.json()) == (401, {"detail": "Not authenticated"})
        assert response.headers["www-authenticate"] == "Bearer"


# -- as raw bytes ------------------------------------------------------------------------


async def test_challenges_on_the_wire_and_keep_alive_after_a_401() -> None:
    async with serving(security_app()) as running, connect(running.port) as client:
        await client.send(request("GET", "/users/me", "Authorization: Basic dXNlcjpwYXNz"))
        response = await client.read_response()
        assert response.status == 401
        assert response.header(b"www-authenticate") == b"Bearer"
        assert response.header(b"content-type") == b"application/json"
        assert response.body == b'{"detail":"Not authenticated"}'

        # The same connection serves the next request: a 401 is no reason to close.
        await client.send(request("GET", "/users/me", "authorization: bearer token-for-johndoe"))
        response = await client.read_response()
        assert (response.status, response.json()) == (
            200, {"username": "johndoe", "scopes": ["me"]})

        await client.send(request("GET", "/basic", "Authorization: Basic notabase64token"))
        response = await client.read_response()
        assert response.status == 401
        assert response.header(b"www-authenticate") == b'Basic realm="simple ops"'


async def test_api_keys_as_raw_bytes() -> None:
    async with serving(security_app()) as running, connect(running.port) as client:
        await client.send(request("GET", "/key", "X-API-Key: k1", "Cookie: a=b; session=s1"))
        response = await client.read_response()
        assert (response.status, response.json()) == (200, {"header": "k1", "cookie": "s1"})

        await client.send(request("GET", "/key", "X-API-Key: "))  # empty: no key
        response = await client.read_response()
        assert (response.status, response.header(b"www-authenticate")) == (401, b"APIKey")
