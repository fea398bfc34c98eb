"""Security schemes, with the names and answers of ``fastapi.security``.

Each scheme is an object used as a dependency: it reads the credentials from
the request and gives them to the endpoint, or answers 401 with the
``WWW-Authenticate`` challenge of its scheme (``auto_error=False``: gives None).
Checking the credentials is the app's job. ``model`` and ``scheme_name`` keep
what OpenAPI documents of each scheme.

- ``api_key``: ``APIKeyHeader``, ``APIKeyQuery``, ``APIKeyCookie``;
- ``http``: ``HTTPBasic`` (``HTTPBasicCredentials``), ``HTTPBearer`` and
  ``HTTPDigest`` (``HTTPAuthorizationCredentials``);
- ``oauth2``: ``OAuth2``, ``OAuth2PasswordBearer``,
  ``OAuth2AuthorizationCodeBearer``, the login form
  ``OAuth2PasswordRequestForm`` (and ``...Strict``), ``SecurityScopes``;
- ``open_id_connect_url``: ``OpenIdConnect``;
- ``utils``: ``get_authorization_scheme_param``.
"""

from .api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
from .http import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
)
from .oauth2 import (
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    SecurityScopes,
)
from .open_id_connect_url import OpenIdConnect
from .utils import get_authorization_scheme_param

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "SecurityScopes",
    "get_authorization_scheme_param",
]
