"""OAuth2 (RFC 6749): the bearer-token schemes, the password flow's login form, and
``SecurityScopes``.

The usual pair, from FastAPI's tutorial::

    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

    @app.post("/token")
    async def login(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]):
        ...  # check form_data.username and form_data.password, then:
        return {"access_token": token, "token_type": "bearer"}

    @app.get("/users/me")
    async def read_users_me(token: Annotated[str, Depends(oauth2_scheme)]): ...

A request without ``Authorization: Bearer <token>`` answers 401
``{"detail": "Not authenticated"}`` with ``WWW-Authenticate: Bearer``
(RFC 6750 section 3), or, with ``auto_error=False``, gives None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from ..exceptions import HTTPException
from ..params import Form
from ..requests import Request
from . import models
from .base import SecurityBase, SecurityScopes
from .utils import get_authorization_scheme_param

__all__ = [
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "SecurityScopes",
]


class OAuth2PasswordRequestForm:
    """The password flow's token request (RFC 6749 section 4.3.2), a form body, as a
    class dependency: ``form_data: Annotated[OAuth2PasswordRequestForm, Depends()]``.

    ``username`` and ``password`` are required; ``scope`` is one string of
    space-separated scopes, split into ``scopes``. The RFC requires
    ``grant_type=password``; this class lets it be left out (but refuses any
    other value with a 422), ``OAuth2PasswordRequestFormStrict`` requires it.
    ``client_id`` and ``client_secret`` may come in the form, though the RFC
    prefers them in HTTP Basic authentication (section 2.3.1).

    Reading a form needs python-multipart (``pip install 'microready[forms]'``);
    without it, the route that uses this class fails when it is registered.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes: list[str] = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """``OAuth2PasswordRequestForm`` that requires ``grant_type=password``, as RFC 6749
    section 4.3.2 does: without it the answer is a 422 at ``["body", "grant_type"]``."""

    def __init__(
        self,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(grant_type=grant_type, username=username, password=password,
                         scope=scope, client_id=client_id, client_secret=client_secret)


def _scope_table(owner: str, scopes: Mapping[str, str] | None) -> dict[str, str]:
    if scopes is None:
        return {}
    if not isinstance(scopes, Mapping):
        names = [scopes] if isinstance(scopes, str) else (
            list(scopes) if isinstance(scopes, Iterable) else [])
        example = ", ".join(
            f"{name!r}: \"...\"" for name in names[:2] if isinstance(name, str)
        ) or "'me': \"...\""
        raise TypeError(
            f"{owner}(scopes=...) maps each scope to what it lets a client do, "
            f"not {type(scopes).__name__}:\n"
            f"    wrong: scopes={scopes!r}\n"
            f"    right: scopes={{{example}}}"
        )
    return dict(scopes)


class OAuth2(SecurityBase):
    """The base of the OAuth2 schemes: ``flows`` documents the flows the API supports.

    Used directly, its value is the whole ``Authorization`` header (whatever
    its scheme); the subclasses take the token out of ``Bearer <token>``.
    ``flows`` is an ``OAuthFlows`` or a mapping, as in FastAPI:
    ``OAuth2(flows={"password": {"tokenUrl": "token", "scopes": {}}})``.
    """

    model: models.OAuth2

    def __init__(
        self,
        *,
        flows: models.OAuthFlows | Mapping[str, Mapping[str, Any] | models.OAuthFlow] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if flows is None:
            flows = models.OAuthFlows()
        elif not isinstance(flows, models.OAuthFlows):
            flows = models.OAuthFlows.from_mapping(flows)
        self.model = models.OAuth2(flows=flows, description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 for missing credentials. OAuth2 defines no challenge of its own, so
        this is RFC 6750's ``Bearer`` (section 3), the one its tokens use; a
        subclass for another kind of token overrides it."""
        return HTTPException(
            status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )

    def _refuse(self) -> None:
        if self.auto_error:
            raise self.make_not_authenticated_error()

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            self._refuse()
            return None
        return authorization

    def _bearer_token(self, request: Request) -> str | None:
        """The token of ``Authorization: Bearer <token>`` (the scheme in any case).

        As in FastAPI, ``Authorization: Bearer`` with no token gives ``""``: the
        scheme is right, and an empty token is for the app to refuse.
        """
        authorization = request.headers.get("authorization")
        scheme, token = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            self._refuse()
            return None
        return token


class OAuth2PasswordBearer(OAuth2):
    """A bearer token the client got from ``tokenUrl`` with the password flow (the
    path operation that takes ``OAuth2PasswordRequestForm``).

    ``tokenUrl`` is relative to the API (``"token"``, not ``"/token"``, also works
    behind a proxy prefix). ``scopes`` maps each scope to its description, for
    the documentation: ``{"me": "Read information about the current user."}``.
    """

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        flow = models.OAuthFlowPassword(
            tokenUrl=tokenUrl, refreshUrl=refreshUrl,
            scopes=_scope_table(type(self).__name__, scopes),
        )
        super().__init__(flows=models.OAuthFlows(password=flow), scheme_name=scheme_name,
                         description=description, auto_error=auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self._bearer_token(request)


class OAuth2AuthorizationCodeBearer(OAuth2):
    """A bearer token the client got with the authorization-code flow (RFC 6749
    section 4.1): the user logs in at ``authorizationUrl``, the client trades the
    code for a token at ``tokenUrl``."""

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        flow = models.OAuthFlowAuthorizationCode(
            authorizationUrl=authorizationUrl, tokenUrl=tokenUrl, refreshUrl=refreshUrl,
            scopes=_scope_table(type(self).__name__, scopes),
        )
        super().__init__(flows=models.OAuthFlows(authorizationCode=flow),
                         scheme_name=scheme_name, description=description,
                         auto_error=auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self._bearer_token(request)
