"""What the dependency solver needs to know of security: ``SecurityBase``, the class
of every scheme, and ``SecurityScopes``, what a dependency that declares it receives.

``microready._inject`` imports this module; it imports nothing of microready
but the scheme models, so the solver and the schemes never import each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import SecuritySchemeModel

__all__ = ["SecurityBase", "SecurityScopes", "is_security_scheme"]


class SecurityBase:
    """A security scheme: an object whose ``__call__`` is a dependency.

    ``model`` is what OpenAPI will document (``components.securitySchemes``)
    and ``scheme_name`` the key it is documented under: the class's name
    unless ``scheme_name=`` says otherwise.
    """

    model: SecuritySchemeModel
    scheme_name: str
    auto_error: bool

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme_name!r}>"


def is_security_scheme(call: object) -> bool:
    """Whether ``call`` (a dependency) is a security scheme: FastAPI keys the value of
    such a dependency by the scopes in force as well, since the scopes change the
    OpenAPI it documents (and a subclass may read them)."""
    return isinstance(call, SecurityBase)


class SecurityScopes:
    """The OAuth2 scopes required by every ``Security(..., scopes=[...])`` from the
    endpoint down to the dependency that declares ``security_scopes: SecurityScopes``.

    ``scopes`` is the list, in the order they were declared, endpoint first;
    ``scope_str`` is the same, space-separated, as OAuth2 writes them (RFC 6749
    section 3.3), ready for ``WWW-Authenticate: Bearer scope="..."``.
    """

    def __init__(self, scopes: Iterable[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes) if scopes is not None else []
        self.scope_str: str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
