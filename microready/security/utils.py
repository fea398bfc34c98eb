"""Reading an ``Authorization`` header, as FastAPI's schemes read it."""

from __future__ import annotations

__all__ = ["get_authorization_scheme_param"]


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """``"Bearer abc"`` -> ``("Bearer", "abc")``: the scheme and its credentials.

    RFC 9110 section 11.6.2 writes the header ``auth-scheme [ 1*SP token68 ]``:
    the scheme is everything before the first space, and the rest, stripped, is
    the parameter. A missing or empty header gives ``("", "")``; a scheme alone
    (``"Bearer"``) gives an empty parameter. The scheme's case is kept: compare
    it with ``.lower()`` (schemes are case-insensitive).
    """
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.partition(" ")
    return scheme, param.strip()
