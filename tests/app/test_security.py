"""microready.security: every scheme's answers, success and failure, in-process.

Each expected status, ``WWW-Authenticate`` challenge and body below is what
FastAPI 0.165 answers for the same app and request (the same apps were run on
both and compared). Where FastAPI has changed its answer over time, a comment
says so: before 0.122 the API-key, HTTPBearer, HTTPDigest, OAuth2 and
OpenIdConnect schemes answered a missing credential with 403 and no challenge,
and HTTPBasic said "Invalid authentication credentials" for a broken header.
"""

import subprocess
import sys
from base64 import b64encode
from typing import Annotated, Any

import pytest

from microready import Depends, HTTPException, MicroReady, Request
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
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    OpenIdConnect,
)
from microready.security.base import SecurityBase
from microready.security.http import HTTPBase

from .helpers import client_for

NOT_AUTHENTICATED = {"detail": "Not authenticated"}


def basic(user_pass: bytes) -> str:
    return "Basic " + b64encode(user_pass).decode("ascii")


def schemes(auto_error: bool) -> dict[str, SecurityBase]:
    return {
        "/apikey/header": APIKeyHeader(name="x-key", auto_error=auto_error),
        "/apikey/query": APIKeyQuery(name="api_key", auto_error=auto_error),
        "/apikey/cookie": APIKeyCookie(name="key", auto_error=auto_error),
        "/basic": HTTPBasic(auto_error=auto_error),
        "/basic-realm": HTTPBasic(realm="simple ops", auto_error=auto_error),
        "/bearer": HTTPBearer(auto_error=auto_error),
        "/digest": HTTPDigest(auto_error=auto_error),
        "/custom": HTTPBase(scheme="custom", auto_error=auto_error),
        "/oauth2": OAuth2(auto_error=auto_error),
        "/password-bearer": OAuth2PasswordBearer(tokenUrl="token", auto_error=auto_error),
        "/code-bearer": OAuth2AuthorizationCodeBearer(
            authorizationUrl="authorize", tokenUrl="token", auto_error=auto_error),
        "/oidc": OpenIdConnect(openIdConnectUrl="/.well-known/openid-configuration",
                               auto_error=auto_error),
    }


app = MicroReady()


def serve(path: str, scheme: SecurityBase) -> None:
    @app.get(path)
    async def endpoint(value: Annotated[Any, Depends(scheme)]) -> dict[str, Any]:
        return {"v": value}


for _path, _scheme in schemes(auto_error=True).items():
    serve(_path, _scheme)
for _path, _scheme in schemes(auto_error=False).items():
    serve(_path + "-opt", _scheme)


def case(path: str, headers: dict[str, str], status: int, challenge: str | None,
         body: Any, id: str) -> Any:
    return pytest.param(path, headers, status, challenge, body, id=id)


def ok(path: str, headers: dict[str, str], value: Any, id: str) -> Any:
    return case(path, headers, 200, None, {"v": value}, id)


def refused(path: str, headers: dict[str, str], challenge: str, id: str) -> Any:
    return case(path, headers, 401, challenge, NOT_AUTHENTICATED, id)


AUTH = "authorization"
CASES = [
    # -- API keys: the key as sent; missing or empty is a 401 with FastAPI's made-up
    # -- "APIKey" challenge (FastAPI >= 0.122; 403 without a challenge before).
    ok("/apikey/header", {"x-key": "secret"}, "secret", "header"),
    ok("/apikey/header", {"X-KEY": "secret"}, "secret", "header-any-case"),
    refused("/apikey/header", {}, "APIKey", "header-missing"),
    refused("/apikey/header", {"x-key": ""}, "APIKey", "header-empty"),
    ok("/apikey/header-opt", {}, None, "header-missing-optional"),
    ok("/apikey/query?api_key=secret", {}, "secret", "query"),
    ok("/apikey/query?api_key=a&api_key=b", {}, "b", "query-repeated-last-wins"),
    refused("/apikey/query?api_key=", {}, "APIKey", "query-empty"),
    refused("/apikey/query?API_KEY=secret", {}, "APIKey", "query-name-is-case-sensitive"),
    ok("/apikey/query-opt", {}, None, "query-missing-optional"),
    ok("/apikey/cookie", {"cookie": "key=secret"}, "secret", "cookie"),
    refused("/apikey/cookie", {"cookie": "key="}, "APIKey", "cookie-empty"),
    refused("/apikey/cookie", {"cookie": "Key=secret"}, "APIKey", "cookie-other-name"),
    ok("/apikey/cookie-opt", {}, None, "cookie-missing-optional"),
    # -- HTTP Basic (RFC 7617)
    ok("/basic", {AUTH: basic(b"user:pass")}, {"username": "user", "password": "pass"}, "basic"),
    ok("/basic", {AUTH: "basic " + b64encode(b"u:p").decode()}, {"username": "u", "password": "p"},
       "basic-scheme-any-case"),
    ok("/basic", {AUTH: basic(b"a:b:c")}, {"username": "a", "password": "b:c"},
       "basic-password-may-hold-colons"),
    ok("/basic", {AUTH: basic(b":")}, {"username": "", "password": ""}, "basic-both-empty"),
    # FastAPI: b64decode skips characters outside base64's alphabet.
    ok("/basic", {AUTH: basic(b"user:pass") + "!!"}, {"username": "user", "password": "pass"},
       "basic-junk-after-base64"),
    refused("/basic", {}, "Basic", "basic-missing"),
    refused("/basic", {AUTH: "Bearer tok"}, "Basic", "basic-other-scheme"),
    # FastAPI >= 0.122; "Invalid authentication credentials" before.
    refused("/basic", {AUTH: "Basic notabase64token"}, "Basic", "basic-not-base64"),
    refused("/basic", {AUTH: basic(b"nocolon")}, "Basic", "basic-no-colon"),
    refused("/basic", {AUTH: basic("\u00fc:x".encode())}, "Basic", "basic-not-ascii"),
    refused("/basic", {AUTH: "Basic"}, "Basic", "basic-scheme-alone"),
    refused("/basic-realm", {}, 'Basic realm="simple ops"', "basic-realm-challenge"),
    ok("/basic-opt", {}, None, "basic-missing-optional"),
    ok("/basic-opt", {AUTH: "Bearer tok"}, None, "basic-other-scheme-optional"),
    # FastAPI: a Basic header that cannot be decoded is a 401 even with auto_error=False.
    refused("/basic-opt", {AUTH: "Basic notabase64token"}, "Basic", "basic-broken-optional"),
    refused("/basic-opt", {AUTH: "Basic"}, "Basic", "basic-scheme-alone-optional"),
    refused("/basic-realm-opt", {AUTH: basic(b"x")}, 'Basic realm="simple ops"',
            "basic-realm-broken-optional"),
    # -- HTTP Bearer (RFC 6750) and Digest (RFC 7616): scheme and credentials as sent
    ok("/bearer", {AUTH: "Bearer tok"}, {"scheme": "Bearer", "credentials": "tok"}, "bearer"),
    ok("/bearer", {AUTH: "BEARER tok"}, {"scheme": "BEARER", "credentials": "tok"},
       "bearer-scheme-any-case"),
    ok("/bearer", {AUTH: "Bearer  tok  x"}, {"scheme": "Bearer", "credentials": "tok  x"},
       "bearer-split-at-the-first-space"),
    refused("/bearer", {}, "Bearer", "bearer-missing"),  # FastAPI < 0.122: 403
    refused("/bearer", {AUTH: "Bearer"}, "Bearer", "bearer-scheme-alone"),
    refused("/bearer", {AUTH: "Bearer\ttok"}, "Bearer", "bearer-tab-is-no-separator"),
    refused("/bearer", {AUTH: basic(b"user:pass")}, "Bearer", "bearer-other-scheme"),
    ok("/bearer-opt", {}, None, "bearer-missing-optional"),
    ok("/bearer-opt", {AUTH: "Token x"}, None, "bearer-other-scheme-optional"),
    ok("/digest", {AUTH: 'Digest username="u", nonce="n"'},
       {"scheme": "Digest", "credentials": 'username="u", nonce="n"'}, "digest"),
    refused("/digest", {AUTH: "Bearer tok"}, "Digest", "digest-other-scheme"),
    refused("/digest", {}, "Digest", "digest-missing"),
    ok("/digest-opt", {}, None, "digest-missing-optional"),
    # HTTPBase itself takes any scheme; its challenge is its own, capitalised.
    ok("/custom", {AUTH: "Token x"}, {"scheme": "Token", "credentials": "x"}, "custom-any-scheme"),
    refused("/custom", {AUTH: "Token"}, "Custom", "custom-no-credentials"),
    # -- OAuth2 and OpenID Connect: the whole header, or the token of "Bearer <token>"
    ok("/oauth2", {AUTH: "Token x"}, "Token x", "oauth2-whole-header"),
    refused("/oauth2", {}, "Bearer", "oauth2-missing"),
    ok("/oauth2-opt", {}, None, "oauth2-missing-optional"),
    ok("/password-bearer", {AUTH: "Bearer tok"}, "tok", "password-bearer"),
    ok("/password-bearer", {AUTH: "bearer tok"}, "tok", "password-bearer-scheme-any-case"),
    # FastAPI: the scheme alone gives an empty token, not a 401 (HTTPBearer refuses it).
    ok("/password-bearer", {AUTH: "Bearer"}, "", "password-bearer-scheme-alone"),
    refused("/password-bearer", {AUTH: basic(b"user:pass")}, "Bearer",
            "password-bearer-other-scheme"),
    refused("/password-bearer", {}, "Bearer", "password-bearer-missing"),
    ok("/password-bearer-opt", {AUTH: "Token x"}, None, "password-bearer-other-scheme-optional"),
    ok("/code-bearer", {AUTH: "Bearer tok"}, "tok", "code-bearer"),
    refused("/code-bearer", {AUTH: "Token x"}, "Bearer", "code-bearer-other-scheme"),
    ok("/code-bearer-opt", {}, None, "code-bearer-missing-optional"),
    ok("/oidc", {AUTH: "Bearer id-token"}, "Bearer id-token", "oidc-whole-header"),
    refused("/oidc", {}, "Bearer", "oidc-missing"),  # FastAPI < 0.122: 403
    ok("/oidc-opt", {}, None, "oidc-missing-optional"),
]


@pytest.mark.parametrize(("path", "headers", "status", "challenge", "body"), CASES)
def test_scheme_answers(anyio_backend: str, path: str, headers: dict[str, str], status: int,
                        challenge: str | None, body: Any) -> None:
    response = client_for(app, anyio_backend).get(path, headers=headers)
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers.get("www-authenticate") == challenge


# -- the password flow's form --------------------------------------------------------------

forms_app = MicroReady()


def form_fields(form_data: OAuth2PasswordRequestForm) -> dict[str, Any]:
    names = ("grant_type", "username", "password", "scopes", "client_id", "client_secret")
    return {name: getattr(form_data, name) for name in names}


@forms_app.post("/token")
async def token(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
    return form_fields(form_data)


@forms_app.post("/token-strict")
async def token_strict(
    form_data: Annotated[OAuth2PasswordRequestFormStrict, Depends()],
) -> dict[str, Any]:
    return form_fields(form_data)


def missing(*names: str) -> dict[str, Any]:
    return {"detail": [{"type": "missing", "loc": ["body", name], "msg": "Field required",
                        "input": None} for name in names]}


FORM = {"username": "johndoe", "password": "secret"}
PATTERN_MISMATCH = {"detail": [{
    "type": "string_pattern_mismatch", "loc": ["body", "grant_type"],
    "msg": "String should match pattern '^password$'", "input": "foo",
    "ctx": {"pattern": "^password$"},
}]}


def answer(**fields: Any) -> dict[str, Any]:
    return {"grant_type": None, "username": "johndoe", "password": "secret", "scopes": [],
            "client_id": None, "client_secret": None, **fields}


@pytest.mark.parametrize(("path", "data", "status", "body"), [
    ("/token", FORM, 200, answer()),
    ("/token", {**FORM, "grant_type": "password"}, 200, answer(grant_type="password")),
    ("/token", {**FORM, "grant_type": ""}, 200, answer()),  # an empty field counts as absent
    ("/token", {**FORM, "grant_type": "foo"}, 422, PATTERN_MISMATCH),
    ("/token", {**FORM, "scope": " me  items:read "}, 200, answer(scopes=["me", "items:read"])),
    ("/token", {**FORM, "client_id": "app", "client_secret": "shh"}, 200,
     answer(client_id="app", client_secret="shh")),
    ("/token", {"username": "johndoe"}, 422, missing("password")),
    ("/token", {"username": "", "password": "secret"}, 422, missing("username")),
    ("/token", None, 422, missing("username", "password")),
    ("/token-strict", FORM, 422, missing("grant_type")),
    ("/token-strict", {**FORM, "grant_type": "password", "scope": "me"}, 200,
     answer(grant_type="password", scopes=["me"])),
    ("/token-strict", {**FORM, "grant_type": "foo"}, 422, PATTERN_MISMATCH),
    ("/token-strict", None, 422, missing("grant_type", "username", "password")),
], ids=lambda value: None if isinstance(value, dict | int) or value is None else str(value))
def test_password_request_form(anyio_backend: str, path: str, data: dict[str, str] | None,
                               status: int, body: Any) -> None:
    response = client_for(forms_app, anyio_backend).post(path, data=data)
    assert (response.status_code, response.json()) == (status, body)


def test_a_json_body_is_no_login_form(anyio_backend: str) -> None:
    response = client_for(forms_app, anyio_backend).post("/token", json=FORM)
    assert (response.status_code, response.json()) == (422, missing("username", "password"))


def test_the_form_class_is_a_plain_class_too() -> None:
    form = OAuth2PasswordRequestForm(username="u", password="p", scope="a  b")
    assert (form.username, form.password, form.scopes, form.grant_type) == ("u", "p", ["a", "b"],
                                                                           None)


def test_microready_security_imports_without_python_multipart() -> None:
    # Only registering a route that reads the form needs the extra.
    script = (
        "import sys; sys.modules['python_multipart'] = None\n"
        "from typing import Annotated\n"
        "from microready import Depends, MicroReady\n"
        "from microready.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm\n"
        "app = MicroReady()\n"
        "scheme = OAuth2PasswordBearer(tokenUrl='token')\n"
        "@app.get('/me')\n"
        "async def me(token: Annotated[str, Depends(scheme)]) -> str: return token\n"
        "try:\n"
        "    @app.post('/token')\n"
        "    async def login(f: Annotated[OAuth2PasswordRequestForm, Depends()]) -> None: ...\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "pip install 'microready[forms]'" in done.stdout, done.stdout + done.stderr
    assert "POST /token" in done.stdout


# -- how the schemes are used and extended ---------------------------------------------------

style_app = MicroReady()
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
basic_scheme = HTTPBasic()


@style_app.get("/default")
async def read_default(token: str = Depends(oauth2_scheme)) -> dict[str, str]:
    return {"token": token}


@style_app.get("/sync")
def read_sync(credentials: Annotated[HTTPBasicCredentials, Depends(basic_scheme)]) -> str:
    return credentials.username  # a plain def, run in a worker thread


class Bearer403(HTTPBearer):
    """FastAPI's how-to for keeping the old 403 (before 0.122)."""

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(status_code=403, detail="Not authenticated")


class CheckedToken(OAuth2PasswordBearer):
    async def __call__(self, request: Request) -> str | None:
        token = await super().__call__(request)
        if token != "good":
            raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})
        return token


@style_app.get("/old-403")
async def read_old(creds: Annotated[HTTPAuthorizationCredentials, Depends(Bearer403())]) -> str:
    return creds.credentials


@style_app.get("/checked")
async def read_checked(token: Annotated[str, Depends(CheckedToken("token"))]) -> str:
    return token


@pytest.mark.parametrize(("path", "headers", "status", "body", "challenge"), [
    ("/default", {AUTH: "Bearer abc"}, 200, {"token": "abc"}, None),
    ("/default", {}, 401, NOT_AUTHENTICATED, "Bearer"),
    ("/sync", {AUTH: basic(b"alice:pw")}, 200, "alice", None),
    ("/old-403", {}, 403, NOT_AUTHENTICATED, None),
    ("/old-403", {AUTH: "Bearer t"}, 200, "t", None),
    ("/checked", {AUTH: "Bearer good"}, 200, "good", None),
    ("/checked", {AUTH: "Bearer bad"}, 401, {"detail": "Invalid token"}, "Bearer"),
    ("/checked", {}, 401, NOT_AUTHENTICATED, "Bearer"),
])
def test_usage_styles_and_subclasses(anyio_backend: str, path: str, headers: dict[str, str],
                                     status: int, body: Any, challenge: str | None) -> None:
    response = client_for(style_app, anyio_backend).get(path, headers=headers)
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers.get("www-authenticate") == challenge
