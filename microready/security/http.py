"""HTTP authentication (RFC 9110 section 11): credentials in the ``Authorization`` header.

``HTTPBasic`` gives ``HTTPBasicCredentials`` (RFC 7617); ``HTTPBearer`` and
``HTTPDigest`` give ``HTTPAuthorizationCredentials``, the header split into its
scheme and credentials. ``HTTPDigest`` does not run the digest exchange: like
FastAPI's, it hands the raw credentials over for the app to check.

Missing or unreadable credentials answer 401 ``{"detail": "Not authenticated"}``
with a ``WWW-Authenticate`` challenge naming the scheme (``Basic``, with
``realm="..."`` when one is set; ``Bearer``; ``Digest``), as FastAPI does since
0.122 (``HTTPBearer`` and ``HTTPDigest`` answered 403 before). ``auto_error=False``
gives None instead, except for a Basic header that is there but cannot be
decoded: FastAPI answers 401 for it even then, and so does microready.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ..exceptions import HTTPException
from ..requests import Request
from . import models
from .base import SecurityBase
from .utils import get_authorization_scheme_param

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]


@dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    """What ``HTTPBasic`` gives: the user name and password the client sent."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class HTTPAuthorizationCredentials:
    """What ``HTTPBearer`` and ``HTTPDigest`` give: ``Authorization: Bearer abc`` is
    ``scheme="Bearer"`` (as sent) and ``credentials="abc"``."""

    scheme: str
    credentials: str


class HTTPBase(SecurityBase):
    """Any ``Authorization`` scheme, named by ``scheme``; the base of the three below.

    Used directly, it accepts credentials of any scheme (it only documents which
    one it expects), as FastAPI's does.
    """

    model: models.HTTPBase

    def __init__(self, *, scheme: str, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        self.model = models.HTTPBase(scheme=scheme, description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        """The challenge of a 401 (RFC 9110 section 11.6.1): the scheme's name, capitalised."""
        return {"WWW-Authenticate": self.model.scheme.title()}

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(
            status_code=401, detail="Not authenticated", headers=self.make_authenticate_headers()
        )

    def _credentials(self, request: Request,
                     expected_scheme: str | None) -> HTTPAuthorizationCredentials | None:
        """The header's scheme and credentials, when both are there (and the scheme is
        ``expected_scheme``, compared case-insensitively, unless that is None)."""
        authorization = request.headers.get("authorization")
        scheme, credentials = get_authorization_scheme_param(authorization)
        if scheme and credentials and (
            expected_scheme is None or scheme.lower() == expected_scheme
        ):
            return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)
        if self.auto_error:
            raise self.make_not_authenticated_error()
        return None

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        return self._credentials(request, None)


class HTTPBasic(HTTPBase):
    """``Authorization: Basic base64(username:password)`` (RFC 7617).

    ``realm`` names the protection space in the challenge: ``HTTPBasic(realm="ops")``
    answers ``WWW-Authenticate: Basic realm="ops"``, which makes a browser ask for
    a user name and password.
    """

    def __init__(self, *, scheme_name: str | None = None, realm: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        super().__init__(scheme="basic", scheme_name=scheme_name, description=description,
                         auto_error=auto_error)
        self.realm = realm

    def make_authenticate_headers(self) -> dict[str, str]:
        if self.realm:
            return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}
        return {"WWW-Authenticate": "Basic"}

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "basic":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        # A Basic header that is there but broken is refused whatever auto_error says,
        # as FastAPI does: the client meant to authenticate and got it wrong. As in
        # FastAPI, characters outside base64's alphabet are skipped (b64decode's
        # default) and the decoded pair must be ASCII.
        try:
            decoded = base64.b64decode(param).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            raise self.make_not_authenticated_error() from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise self.make_not_authenticated_error()
        return HTTPBasicCredentials(username=username, password=password)


class HTTPBearer(HTTPBase):
    """``Authorization: Bearer <token>`` (RFC 6750 section 2.1); ``bearerFormat`` documents
    what the token is (e.g. ``"JWT"``)."""

    model: models.HTTPBearer

    def __init__(self, *, bearerFormat: str | None = None, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        self.model = models.HTTPBearer(bearerFormat=bearerFormat, description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        return self._credentials(request, "bearer")


class HTTPDigest(HTTPBase):
    """``Authorization: Digest ...`` (RFC 7616), handed over unchecked: the app (or a
    subclass) runs the digest exchange."""

    def __init__(self, *, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        super().__init__(scheme="digest", scheme_name=scheme_name, description=description,
                         auto_error=auto_error)

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        return self._credentials(request, "digest")
