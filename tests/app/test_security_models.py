"""microready.security: what the schemes store for OpenAPI, their small helpers, and
the messages for mistakes made when building one.

The expected ``openapi()`` dicts are FastAPI 0.165's
``scheme.model.model_dump(by_alias=True, exclude_none=True)`` for the same
scheme: what it writes under ``components.securitySchemes``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from microready.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OpenIdConnect,
    SecurityScopes,
    get_authorization_scheme_param,
)
from microready.security import models as security_models
from microready.security.base import SecurityBase, is_security_scheme
from microready.security.http import HTTPBase


@pytest.mark.parametrize(("scheme", "scheme_name", "openapi"), [
    (APIKeyHeader(name="x-key", description="A key"), "APIKeyHeader",
     {"type": "apiKey", "in": "header", "name": "x-key", "description": "A key"}),
    (APIKeyQuery(name="api_key", scheme_name="QueryKey"), "QueryKey",
     {"type": "apiKey", "in": "query", "name": "api_key"}),
    (APIKeyCookie(name="session"), "APIKeyCookie",
     {"type": "apiKey", "in": "cookie", "name": "session"}),
    (HTTPBasic(realm="ops"), "HTTPBasic", {"type": "http", "scheme": "basic"}),
    (HTTPBearer(bearerFormat="JWT"), "HTTPBearer",
     {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
    (HTTPBearer(), "HTTPBearer", {"type": "http", "scheme": "bearer"}),
    (HTTPDigest(description="Digest"), "HTTPDigest",
     {"type": "http", "scheme": "digest", "description": "Digest"}),
    (HTTPBase(scheme="custom", scheme_name="Mine"), "Mine", {"type": "http", "scheme": "custom"}),
    (OAuth2(), "OAuth2", {"type": "oauth2", "flows": {}}),
    (OAuth2(flows={"password": {"tokenUrl": "t", "scopes": {"a": "b"}},
                   "implicit": {"authorizationUrl": "au"}}), "OAuth2",
     {"type": "oauth2", "flows": {"implicit": {"scopes": {}, "authorizationUrl": "au"},
                                  "password": {"scopes": {"a": "b"}, "tokenUrl": "t"}}}),
    (OAuth2(flows={"clientCredentials": {"tokenUrl": "t"}}), "OAuth2",
     {"type": "oauth2", "flows": {"clientCredentials": {"scopes": {}, "tokenUrl": "t"}}}),
    (OAuth2PasswordBearer("token"), "OAuth2PasswordBearer",
     {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "token"}}}),
    (OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Me"}, refreshUrl="refresh"),
     "OAuth2PasswordBearer",
     {"type": "oauth2", "flows": {"password": {"refreshUrl": "refresh", "scopes": {"me": "Me"},
                                               "tokenUrl": "token"}}}),
    (OAuth2AuthorizationCodeBearer(authorizationUrl="a", tokenUrl="t"),
     "OAuth2AuthorizationCodeBearer",
     {"type": "oauth2", "flows": {"authorizationCode": {"scopes": {}, "authorizationUrl": "a",
                                                        "tokenUrl": "t"}}}),
    (OpenIdConnect(openIdConnectUrl="u"), "OpenIdConnect",
     {"type": "openIdConnect", "openIdConnectUrl": "u"}),
], ids=lambda value: type(value).__name__ if isinstance(value, SecurityBase) else "")
def test_scheme_name_and_openapi_model(scheme: SecurityBase, scheme_name: str,
                                       openapi: dict[str, Any]) -> None:
    assert scheme.scheme_name == scheme_name
    assert scheme.model.openapi() == openapi
    assert scheme.auto_error is True
    assert is_security_scheme(scheme)


def test_model_attributes_read_as_in_fastapi() -> None:
    password = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Me"}).model.flows.password
    assert password is not None
    assert (password.tokenUrl, password.refreshUrl, dict(password.scopes)) == (
        "token", None, {"me": "Me"})
    header = APIKeyHeader(name="x-key", auto_error=False)
    assert (header.model.in_, header.model.name, header.model.type_) == ("header", "x-key",
                                                                         "apiKey")
    assert header.auto_error is False
    assert HTTPBasic(realm="ops").realm == "ops"
    assert HTTPBearer(description="d").model.description == "d"
    assert isinstance(OAuth2().model, security_models.OAuth2)


def test_oauth2_flows_may_be_models_too() -> None:
    flow = security_models.OAuthFlowPassword(tokenUrl="token", scopes={"me": "Me"})
    flows = security_models.OAuthFlows(password=flow)
    assert OAuth2(flows=flows).model.flows is flows
    assert OAuth2(flows={"password": flow}).model.flows == flows
    assert OAuth2(flows=flows).model.openapi() == {
        "type": "oauth2", "flows": {"password": {"scopes": {"me": "Me"}, "tokenUrl": "token"}}}


def test_credentials_are_frozen_records() -> None:
    credentials = HTTPBasicCredentials(username="u", password="p")
    assert dataclasses.asdict(credentials) == {"username": "u", "password": "p"}
    assert HTTPAuthorizationCredentials("Bearer", "t") == HTTPAuthorizationCredentials(
        scheme="Bearer", credentials="t")
    with pytest.raises(dataclasses.FrozenInstanceError):
        credentials.username = "other"  # type: ignore[misc]


def test_what_is_a_security_scheme() -> None:
    async def dependency() -> None: ...
    assert not is_security_scheme(dependency)
    assert not is_security_scheme(HTTPBasic)  # the class is not a scheme; an instance is
    assert repr(HTTPBasic(scheme_name="Ops")) == "<HTTPBasic 'Ops'>"


@pytest.mark.parametrize(("value", "expected"), [
    (None, ("", "")),
    ("", ("", "")),
    ("Bearer", ("Bearer", "")),
    ("bearer abc", ("bearer", "abc")),
    ("Bearer  a b  ", ("Bearer", "a b")),
    ("Basic dXNlcjpwYXNz", ("Basic", "dXNlcjpwYXNz")),
])
def test_get_authorization_scheme_param(value: str | None, expected: tuple[str, str]) -> None:
    assert get_authorization_scheme_param(value) == expected


def test_security_scopes_is_a_plain_class() -> None:
    empty = SecurityScopes()
    assert (empty.scopes, empty.scope_str) == ([], "")
    scopes = SecurityScopes(["items", "me"])
    assert (scopes.scopes, scopes.scope_str) == (["items", "me"], "items me")
    assert SecurityScopes(("a",)).scopes == ["a"]
    assert repr(scopes) == "SecurityScopes(['items', 'me'])"


# -- mistakes: the wrong call beside the right one --------------------------------------------


def test_scopes_must_map_each_scope_to_its_description() -> None:
    with pytest.raises(TypeError) as caught:
        OAuth2PasswordBearer(tokenUrl="token", scopes=["me", "items"])  # type: ignore[arg-type]
    assert str(caught.value) == (
        "OAuth2PasswordBearer(scopes=...) maps each scope to what it lets a client do, "
        "not list:\n"
        "    wrong: scopes=['me', 'items']\n"
        "    right: scopes={'me': \"...\", 'items': \"...\"}"
    )
    with pytest.raises(TypeError, match=r"(?s)not str:.*wrong: scopes='me'.*right: scopes=\{'me'"):
        OAuth2AuthorizationCodeBearer("a", "t", scopes="me")  # type: ignore[arg-type]


def test_an_unknown_oauth2_flow_is_refused() -> None:
    with pytest.raises(TypeError) as caught:
        OAuth2(flows={"pasword": {"tokenUrl": "token"}})
    assert str(caught.value) == (
        "OAuth2(flows=...) has no flow 'pasword'; the flows are implicit, password, "
        "clientCredentials, authorizationCode:\n"
        "    wrong: OAuth2(flows={'pasword': ...})\n"
        "    right: OAuth2(flows={\"password\": {\"tokenUrl\": \"token\"}})"
    )
    with pytest.raises(TypeError, match=r"the 'password' flow: .*'tokenURL'"):
        OAuth2(flows={"password": {"tokenURL": "token"}})


@pytest.mark.parametrize("scheme", [APIKeyHeader, APIKeyQuery, APIKeyCookie])
def test_an_api_key_needs_a_name(scheme: type[APIKeyHeader]) -> None:
    with pytest.raises(TypeError) as caught:
        scheme(name="")
    assert str(caught.value) == (
        f"{scheme.__name__}(name=...) takes the name the key is sent under, got '':\n"
        f"    right: {scheme.__name__}(name=\"x-api-key\")"
    )
