"""A stand-in for ``_json_schema.SchemaGenerator`` while that module does not exist:
pydantic's own schemas (so only when pydantic is installed). Delete it once
``_json_schema`` lands; ``utils.schema_generator`` prefers that module."""

from __future__ import annotations

import importlib
from typing import Any

from ._fields import Mode

__all__ = ["SchemaGenerator"]


class SchemaGenerator:
    def __init__(self, *, ref_template: str = "#/components/schemas/{model}") -> None:
        self.ref_template = ref_template
        self._definitions: dict[str, dict[str, Any]] = {}

    def schema(self, tp: Any, *, mode: Mode = "validation") -> dict[str, Any]:
        pydantic = importlib.import_module("pydantic")
        schema: dict[str, Any] = pydantic.TypeAdapter(tp).json_schema(
            mode=mode, ref_template=self.ref_template)
        self._definitions.update(schema.pop("$defs", {}))
        if isinstance(tp, type) and ("properties" in schema or "enum" in schema):
            name = str(schema.get("title", tp.__name__))
            self._definitions[name] = schema
            return {"$ref": self.ref_template.format(model=name)}
        return schema

    @property
    def definitions(self) -> dict[str, dict[str, Any]]:
        return dict(self._definitions)
