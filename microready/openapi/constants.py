"""The constants FastAPI's ``fastapi.openapi.constants`` has."""

__all__ = ["METHODS_WITH_BODY", "REF_PREFIX", "REF_TEMPLATE"]

METHODS_WITH_BODY = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})
REF_PREFIX = "#/components/schemas/"
REF_TEMPLATE = "#/components/schemas/{model}"
