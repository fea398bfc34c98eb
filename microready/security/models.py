"""What each security scheme declares about itself: the OpenAPI "Security Scheme
Object" (OpenAPI 3.1, section 4.8.27), one frozen dataclass per kind.

They mirror ``fastapi.openapi.models`` (``APIKey``, ``HTTPBase``, ``HTTPBearer``,
``OAuth2``, ``OAuthFlows`` and its flows, ``OpenIdConnect``) with the same
attribute names, so ``oauth2_scheme.model.flows.password.tokenUrl`` reads as it
does in FastAPI. ``openapi()`` gives the JSON object FastAPI puts under
``components.securitySchemes``: the fields by their OpenAPI names (``in``,
``type``), the unset ones (None) left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "APIKey",
    "HTTPBase",
    "HTTPBearer",
    "OAuth2",
    "OAuthFlow",
    "OAuthFlowAuthorizationCode",
    "OAuthFlowClientCredentials",
    "OAuthFlowImplicit",
    "OAuthFlowPassword",
    "OAuthFlows",
    "OpenIdConnect",
    "SecuritySchemeModel",
]


def _openapi_value(value: Any) -> Any:
    if isinstance(value, _OpenAPIObject):
        return value.openapi()
    if isinstance(value, Mapping):
        return dict(value)
    return value


class _OpenAPIObject:
    """``openapi()`` for the dataclasses below: every set field, under its OpenAPI name."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # each subclass is a dataclass
    # Python names that are keywords or builtins, and the OpenAPI names they stand for.
    _RENAMED: ClassVar[Mapping[str, str]] = {"in_": "in", "type_": "type"}

    def openapi(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        type_ = getattr(self, "type_", None)
        if type_ is not None:
            data["type"] = type_
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value is not None:
                data[self._RENAMED.get(item.name, item.name)] = _openapi_value(value)
        return data


@dataclass(frozen=True, kw_only=True)
class SecuritySchemeModel(_OpenAPIObject):
    """Any security scheme: its ``type`` and an optional ``description``."""

    type_: ClassVar[str] = ""
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class APIKey(SecuritySchemeModel):
    """A key sent in a header, a query parameter or a cookie (``in_``) named ``name``."""

    type_: ClassVar[str] = "apiKey"
    in_: str
    name: str


@dataclass(frozen=True, kw_only=True)
class HTTPBase(SecuritySchemeModel):
    """An ``Authorization`` scheme of RFC 9110 section 11: ``basic``, ``digest``..."""

    type_: ClassVar[str] = "http"
    scheme: str


@dataclass(frozen=True, kw_only=True)
class HTTPBearer(HTTPBase):
    """``Authorization: Bearer <token>`` (RFC 6750); ``bearerFormat`` is a hint, e.g. "JWT"."""

    scheme: str = "bearer"
    bearerFormat: str | None = None  # OpenAPI's spelling


@dataclass(frozen=True, kw_only=True)
class OAuthFlow(_OpenAPIObject):
    """What every OAuth2 flow has: where to refresh a token, and the scopes it grants."""

    refreshUrl: str | None = None  # OpenAPI's spelling
    scopes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class OAuthFlowImplicit(OAuthFlow):
    authorizationUrl: str


@dataclass(frozen=True, kw_only=True)
class OAuthFlowPassword(OAuthFlow):
    tokenUrl: str


@dataclass(frozen=True, kw_only=True)
class OAuthFlowClientCredentials(OAuthFlow):
    tokenUrl: str


@dataclass(frozen=True, kw_only=True)
class OAuthFlowAuthorizationCode(OAuthFlow):
    authorizationUrl: str
    tokenUrl: str


_FLOW_TYPES: dict[str, type[OAuthFlow]] = {
    "implicit": OAuthFlowImplicit,
    "password": OAuthFlowPassword,
    "clientCredentials": OAuthFlowClientCredentials,
    "authorizationCode": OAuthFlowAuthorizationCode,
}


@dataclass(frozen=True, kw_only=True)
class OAuthFlows(_OpenAPIObject):
    """The OAuth2 flows a scheme supports, each optional."""

    implicit: OAuthFlowImplicit | None = None
    password: OAuthFlowPassword | None = None
    clientCredentials: OAuthFlowClientCredentials | None = None
    authorizationCode: OAuthFlowAuthorizationCode | None = None

    @classmethod
    def from_mapping(cls, flows: Mapping[str, Mapping[str, Any] | OAuthFlow]) -> OAuthFlows:
        """``{"password": {"tokenUrl": "token"}}`` as FastAPI accepts it for ``OAuth2(flows=)``
        (a flow may also be given as its model, ``OAuthFlowPassword(tokenUrl="token")``)."""
        built: dict[str, Any] = {}
        for name, options in flows.items():
            flow_type = _FLOW_TYPES.get(name)
            if flow_type is None:
                raise TypeError(
                    f"OAuth2(flows=...) has no flow {name!r}; the flows are "
                    f"{', '.join(_FLOW_TYPES)}:\n"
                    f"    wrong: OAuth2(flows={{{name!r}: ...}})\n"
                    f"    right: OAuth2(flows={{\"password\": {{\"tokenUrl\": \"token\"}}}})"
                )
            if isinstance(options, OAuthFlow):
                built[name] = options
                continue
            try:
                built[name] = flow_type(**options)
            except TypeError as exc:
                raise TypeError(f"OAuth2(flows=...): the {name!r} flow: {exc}") from None
        return cls(**built)


@dataclass(frozen=True, kw_only=True)
class OAuth2(SecuritySchemeModel):
    type_: ClassVar[str] = "oauth2"
    flows: OAuthFlows


@dataclass(frozen=True, kw_only=True)
class OpenIdConnect(SecuritySchemeModel):
    type_: ClassVar[str] = "openIdConnect"
    openIdConnectUrl: str
