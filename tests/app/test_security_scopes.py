"""``Security(dependency, scopes=[...])`` and ``SecurityScopes``, as FastAPI 0.165 solves
them (the same app was run on both and the answers compared).

A ``security_scopes: SecurityScopes`` parameter receives the scopes of every
``Security()`` from the endpoint down to its dependency, endpoint first, each
once; a dependency reached through two different scope sets runs once per set.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from microready import Depends, MicroReady, Security
from microready.security import OAuth2PasswordBearer, SecurityScopes

from .helpers import client_for

app = MicroReady()
scheme = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "m", "items": "i", "admin": "a"})
calls: list[list[str]] = []  # the scopes each call of current_user saw


async def scopes_of(security_scopes: SecurityScopes) -> dict[str, Any]:
    return {"scopes": security_scopes.scopes, "scope_str": security_scopes.scope_str}


async def current_user(security_scopes: SecurityScopes,
                       token: Annotated[str, Depends(scheme)]) -> dict[str, Any]:
    calls.append(list(security_scopes.scopes))
    return {"token": token, "scopes": security_scopes.scopes}


async def active_user(user: Annotated[Any, Security(current_user, scopes=["me"])]) -> Any:
    return user


@app.get("/plain")
async def plain(scopes: Annotated[Any, Depends(scopes_of)]) -> Any:
    return scopes


@app.get("/direct")
async def direct(scopes: Annotated[Any, Security(scopes_of, scopes=["a", "b"])]) -> Any:
    return scopes


@app.get("/chain")
async def chain(user: Annotated[Any, Security(active_user, scopes=["items"])]) -> Any:
    return user


@app.get("/endpoint-scopes")
async def endpoint_scopes(security_scopes: SecurityScopes,
                          user: Annotated[Any, Security(active_user, scopes=["items"])]) -> Any:
    return {"endpoint": security_scopes.scopes, "user": user}


@app.get("/twice")
async def twice(a: Annotated[Any, Security(current_user, scopes=["admin"])],
                b: Annotated[Any, Depends(current_user)],
                c: Annotated[Any, Security(current_user, scopes=["admin"])]) -> Any:
    return {"a": a, "b": b, "c": c}


@app.get("/repeat")
async def repeat(user: Annotated[Any, Security(active_user, scopes=["me"])]) -> Any:
    return user


@app.get("/scheme")
async def on_the_scheme(token: Annotated[str, Security(scheme, scopes=["items"])]) -> Any:
    return {"token": token}


@app.get("/decorator", dependencies=[Security(current_user, scopes=["admin"])])
async def decorator(scopes: Annotated[Any, Security(scopes_of, scopes=["x"])]) -> Any:
    return scopes


@app.get("/default")
async def default_style(user: Any = Security(active_user, scopes=["items"])) -> Any:  # noqa: B008
    return user


BEARER = {"authorization": "Bearer t"}


@pytest.mark.parametrize(("path", "body", "seen"), [
    ("/plain", {"scopes": [], "scope_str": ""}, []),
    ("/direct", {"scopes": ["a", "b"], "scope_str": "a b"}, []),
    ("/chain", {"token": "t", "scopes": ["items", "me"]}, [["items", "me"]]),
    # The endpoint's own SecurityScopes has only what is above it: nothing.
    ("/endpoint-scopes", {"endpoint": [], "user": {"token": "t", "scopes": ["items", "me"]}},
     [["items", "me"]]),
    # Cached per scope set: ["admin"] twice is one call, [] another.
    ("/twice", {"a": {"token": "t", "scopes": ["admin"]}, "b": {"token": "t", "scopes": []},
                "c": {"token": "t", "scopes": ["admin"]}}, [["admin"], []]),
    ("/repeat", {"token": "t", "scopes": ["me"]}, [["me"]]),  # each scope once
    ("/scheme", {"token": "t"}, []),
    ("/decorator", {"scopes": ["x"], "scope_str": "x"}, [["admin"]]),
    ("/default", {"token": "t", "scopes": ["items", "me"]}, [["items", "me"]]),
])
def test_scopes_accumulate_from_the_endpoint_down(anyio_backend: str, path: str, body: Any,
                                                  seen: list[list[str]]) -> None:
    calls.clear()
    response = client_for(app, anyio_backend).get(path, headers=BEARER)
    assert (response.status_code, response.json()) == (200, body)
    assert calls == seen


def test_the_scheme_under_security_still_refuses_a_missing_token(anyio_backend: str) -> None:
    calls.clear()
    response = client_for(app, anyio_backend).get("/chain")
    assert (response.status_code, response.json()) == (401, {"detail": "Not authenticated"})
    assert response.headers["www-authenticate"] == "Bearer"
    assert calls == []  # current_user never ran
