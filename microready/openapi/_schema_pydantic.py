"""pydantic's share of the definitions: the types pydantic itself describes.

A pydantic model (or pydantic dataclass) is described by pydantic, and so is
every record it refers to (a dataclass field of a model, an Enum...) and every
record that refers to a model (a dataclass holding one): one record is then
never described twice, by pydantic and by microready, under two names. All
of them go through one ``GenerateJsonSchema.generate_definitions`` call, as
FastAPI makes it, redone when a new one comes, so their names are pydantic's
own (``Pet``, ``Owner-Input``/``Owner-Output``...). Every ``$ref`` to one that
has been handed out is renamed in place when that changes.

pydantic is imported here only for a type that holds a pydantic model, which
means the app has imported pydantic already.
"""

from __future__ import annotations

import copy
import importlib
import sys
from collections.abc import Iterable
from typing import Any, get_origin

from .._convert import is_pydantic_type
from ._schema_nodes import Mode
from ._schema_records import records_in
from ._schema_types import Flavor

__all__ = ["PydanticSide"]

_Key = tuple[Any, Mode]
_GENERATORS: dict[str, Any] = {}


class PydanticSide:
    """The types pydantic describes, their definitions and the ``$ref``s to them."""

    def __init__(self, ref_template: str, flavor: Flavor) -> None:
        self.ref_template = ref_template
        self.flavor: Flavor = flavor
        self.definitions: dict[str, dict[str, Any]] = {}
        self._owned: set[Any] = set()
        self._holds: dict[Any, bool] = {}  # record -> whether it refers to a pydantic model
        self._inputs: list[tuple[Any, Mode, Any]] = []
        self._input_keys: set[_Key] = set()
        self._outputs: dict[_Key, dict[str, Any]] = {}
        self._refs: dict[_Key, list[dict[str, Any]]] = {}
        self._ref_ids: set[int] = set()
        self.past: dict[str, _Key] = {}  # a $ref value pydantic no longer gives -> its key

    def owns(self, tp: Any) -> bool:
        """Whether pydantic describes the record ``tp``."""
        if "pydantic_core" not in sys.modules:
            return False  # no app type can hold a pydantic model
        if tp in self._owned:
            return True
        if tp not in self._holds:
            self._holds[tp] = any(is_pydantic_type(found) or is_pydantic_type(get_origin(found))
                                  for found in records_in(tp))
        return self._holds[tp]

    def adopt(self, tp: Any) -> list[Any]:
        """Make ``tp`` and the records it refers to pydantic's; the ones that were not."""
        new = [found for found in records_in(tp) if found not in self._owned]
        self._owned.update(new)
        return new

    def add(self, tp: Any, mode: Mode) -> bool:
        """Describe ``tp`` in ``mode`` too (False: it already was); call ``regenerate``."""
        if (tp, mode) in self._input_keys:
            return False
        adapter = importlib.import_module("pydantic").TypeAdapter(tp)
        self._inputs.append((tp, mode, adapter.core_schema))
        self._input_keys.add((tp, mode))
        return True

    def regenerate(self) -> None:
        """Describe every type again, at once; rename the ``$ref``s handed out."""
        before = {key: found.get("$ref") for key, found in self._outputs.items()}
        generator = _generator(self.flavor)(ref_template=self.ref_template)
        self._outputs, self.definitions = generator.generate_definitions(inputs=self._inputs)
        for key, ref in before.items():
            if isinstance(ref, str) and ref != self._outputs[key].get("$ref"):
                self.past[ref] = key
        for key, refs in self._refs.items():
            for json in refs:
                json["$ref"] = self._outputs[key]["$ref"]

    def current(self, key: _Key) -> str | None:
        """The ``$ref`` to ``key``'s definition now."""
        found = self._outputs.get(key, {}).get("$ref")
        return found if isinstance(found, str) else None

    def ref(self, tp: Any, mode: Mode) -> dict[str, Any]:
        """pydantic's schema of ``tp``: a live ``$ref`` for a record (else a copy)."""
        found = self._outputs[(tp, mode)]
        if set(found) != {"$ref"}:
            return copy.deepcopy(found)
        json = dict(found)
        self.take((tp, mode), [json])
        return json

    def take(self, key: _Key, refs: Iterable[dict[str, Any]]) -> None:
        """Keep ``refs`` (``$ref`` dicts to ``key``'s definition) named as pydantic names it."""
        for json in refs:
            self._refs.setdefault(key, []).append(json)
            self._ref_ids.add(id(json))
            json["$ref"] = self._outputs[key]["$ref"]

    def body_of(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        """The definition a ``$ref`` handed out here points to (None: not one of ours)."""
        if id(ref) not in self._ref_ids:
            return None
        return self.definitions.get(str(ref["$ref"]).rsplit("/", 1)[-1])


def _generator(flavor: Flavor) -> Any:
    """pydantic's ``GenerateJsonSchema``, or FastAPI's subclass of it (for ``bytes``)."""
    if flavor not in _GENERATORS:
        base = importlib.import_module("pydantic.json_schema").GenerateJsonSchema
        _GENERATORS[flavor] = base if flavor == "pydantic" else type(
            "FastAPIGenerateJsonSchema", (base,), {"bytes_schema": _fastapi_bytes_schema})
    return _GENERATORS[flavor]


def _fastapi_bytes_schema(self: Any, schema: Any) -> dict[str, Any]:
    """``fastapi._compat.v2.GenerateJsonSchema.bytes_schema``."""
    json: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
    config = self._config
    mode = config.ser_json_bytes if self.mode == "serialization" else config.val_json_bytes
    if mode == "base64":
        json["contentEncoding"] = "base64"
    self.update_with_validations(json, schema, self.ValidationsMapping.bytes)
    return json
