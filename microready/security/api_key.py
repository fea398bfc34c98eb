"""API keys: a secret the client sends in a header, a query parameter or a cookie.

Each class is used as a dependency; its value is the key (a ``str``)::

    header_scheme = APIKeyHeader(name="x-key")

    @app.get("/items/")
    async def read_items(key: Annotated[str, Depends(header_scheme)]): ...

A missing or empty key answers 401 ``{"detail": "Not authenticated"}`` with
``WWW-Authenticate: APIKey``, as FastAPI does since 0.122 (before, it answered
403 without the header; a subclass that overrides ``make_not_authenticated_error``
brings that back). With ``auto_error=False`` the value is None instead, for
optional authentication or for trying several schemes in turn. The key is only
read: checking it is the app's job.
"""

from __future__ import annotations

from ..exceptions import HTTPException
from ..requests import Request
from .base import SecurityBase
from .models import APIKey

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase):
    """What the three API-key schemes share: the model, the 401, and the check."""

    model: APIKey

    def __init__(self, location: str, name: str, description: str | None,
                 scheme_name: str | None, auto_error: bool) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"{type(self).__name__}(name=...) takes the name the key is sent under, "
                f"got {name!r}:\n    right: {type(self).__name__}(name=\"x-api-key\")"
            )
        self.model = APIKey(in_=location, name=name, description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 for a missing key. RFC 9110 section 15.5.2 requires a 401 to carry a
        ``WWW-Authenticate`` challenge; API keys have no registered scheme, so the
        challenge is FastAPI's made-up ``APIKey``."""
        return HTTPException(
            status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "APIKey"}
        )

    def check_api_key(self, api_key: str | None) -> str | None:
        """The key, or (it is missing or empty) the 401, or None with ``auto_error=False``."""
        if api_key:
            return api_key
        if self.auto_error:
            raise self.make_not_authenticated_error()
        return None


class APIKeyQuery(APIKeyBase):
    """A key in the query string: ``APIKeyQuery(name="api_key")`` reads ``?api_key=...``
    (the last value when the key repeats, as every query parameter)."""

    def __init__(self, *, name: str, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        super().__init__("query", name, description, scheme_name, auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.query_params.get(self.model.name))


class APIKeyHeader(APIKeyBase):
    """A key in a header: ``APIKeyHeader(name="x-key")`` reads ``X-Key: ...`` (any case;
    the first one when the header repeats)."""

    def __init__(self, *, name: str, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        super().__init__("header", name, description, scheme_name, auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.headers.get(self.model.name))


class APIKeyCookie(APIKeyBase):
    """A key in a cookie: ``APIKeyCookie(name="session")`` reads ``Cookie: session=...``."""

    def __init__(self, *, name: str, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        super().__init__("cookie", name, description, scheme_name, auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.cookies.get(self.model.name))
