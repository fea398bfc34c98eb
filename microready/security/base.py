"""What every security scheme shares, and ``SecurityScopes``, which injection knows.

``SecurityBase`` is the base class of the schemes: the dependency planner
treats an instance of it as a security scheme (its cached value depends on the
scopes in force, as in FastAPI). ``SecurityScopes`` is defined here because
``microready._inject`` must recognise it without importing the schemes.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["SecurityBase", "SecurityScopes", "is_security_scheme"]


class SecurityBase:
    """A security scheme: an object whose ``__call__`` is a dependency."""

    scheme_name: str


def is_security_scheme(call: object) -> bool:
    """Whether ``call`` (a dependency) is a security scheme instance."""
    return isinstance(call, SecurityBase)


class SecurityScopes:
    """The OAuth2 scopes required by every ``Security(..., scopes=[...])`` from the
    endpoint down to the dependency that declares ``security_scopes: SecurityScopes``."""

    def __init__(self, scopes: Iterable[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes) if scopes is not None else []
        self.scope_str: str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
