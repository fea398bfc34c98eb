"""OpenID Connect: documents where the provider's discovery document is.

Like FastAPI's, it is a stub for the documentation: it does not fetch
``openIdConnectUrl`` nor check a token. Its value is the whole ``Authorization``
header; a request without one answers 401 ``{"detail": "Not authenticated"}``
with ``WWW-Authenticate: Bearer`` (FastAPI since 0.122; 403 before), or, with
``auto_error=False``, gives None. Subclass it to verify the token.
"""

from __future__ import annotations

from ..exceptions import HTTPException
from ..requests import Request
from . import models
from .base import SecurityBase

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """``OpenIdConnect(openIdConnectUrl="https://example.com/.well-known/openid-configuration")``."""

    model: models.OpenIdConnect

    def __init__(self, *, openIdConnectUrl: str, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        self.model = models.OpenIdConnect(openIdConnectUrl=openIdConnectUrl,
                                          description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(
            status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if authorization:
            return authorization
        if self.auto_error:
            raise self.make_not_authenticated_error()
        return None
