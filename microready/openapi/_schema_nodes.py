"""A schema while it is built: its JSON and what pydantic's core schema would say of it.

pydantic first turns a type into a *core schema*, then the core schema into
JSON. Some of its JSON rules look at the core schema, so a ``Node`` carries
the little of it they need:

- ``kind``, the core schema's type (``"str"``, ``"list"``, ``"nullable"``,
  ``"function-after"``...): which constraints a type takes natively (a
  ``max_length`` on a ``str`` is ``maxLength``; on a ``bool`` it is kept under
  its own name, as pydantic does);
- ``inner_kind``, the kind under validator wrappers, where pydantic looks to
  spell a length constraint (``maxItems`` on a list, ``maxLength`` otherwise);
- ``titled``: pydantic's ``field_title_should_be_set``; a record, an Enum and
  a reference carry their own title, so a field holding one gets none.

A ``nullable`` (``X | None``) keeps its member apart until it is rendered,
because constraints on it apply to the member (``Annotated[str | None,
Query(max_length=3)]`` puts ``maxLength`` on the string).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable
from collections.abc import Set as AbstractSet
from typing import Any, Literal, Protocol

from ._schema_defaults import NotEncodable, encode

__all__ = ["FUNCTION_KINDS", "REF_KINDS", "Context", "Mode", "Node", "any_of", "with_default",
           "wrap"]

Mode = Literal["validation", "serialization"]
Update = Callable[[dict[str, Any]], None]

# The wrappers pydantic looks through (``_core_utils.is_function_with_inner_schema``).
FUNCTION_KINDS = frozenset({"function-before", "function-after", "function-wrap"})
# The kinds of node that are a ``$ref`` to a definition.
REF_KINDS = frozenset({"enum", "dataclass", "typed-dict", "model"})


class Context(Protocol):
    """What building a node needs of the generator, for one mode."""

    mode: Mode

    def hashable(self, value: Any) -> Hashable:
        """``value`` as a hashable, each reference standing for its definition."""

    def build(self, tp: Any) -> Node:
        """The node of ``tp``."""


class Node:
    """A schema being built (see the module docstring)."""

    __slots__ = ("core", "inner_kind", "json", "kind", "member", "titled", "updates")

    def __init__(self, json: dict[str, Any], kind: str, *, titled: bool = True,
                 inner_kind: str | None = None, member: Node | None = None) -> None:
        self.json = json
        self.kind = kind
        self.inner_kind = inner_kind or kind
        self.titled = titled
        self.member = member  # a nullable's member
        self.updates: list[Update] = []  # a nullable's own keys, laid over its anyOf
        self.core: dict[str, Any] = {}  # a Decimal's constraints, which make its JSON

    @classmethod
    def nullable(cls, member: Node) -> Node:
        return cls({}, "nullable", titled=member.titled, member=member)

    def update(self, update: Update) -> None:
        """Apply ``update`` to this node's JSON (a nullable's or a reference's, once it is
        rendered: see ``drop_updates``)."""
        if self.member is not None or self.kind in REF_KINDS:
            self.updates.append(update)
        else:
            update(self.json)

    def drop_updates(self) -> None:
        """Forget the keys a ``Field()`` put on a reference, as pydantic does when a
        constraint follows it (``Annotated[Color, Field(description=...), Gt(1)]``):
        pydantic then checks a copy of the referenced schema, without them."""
        if self.kind in REF_KINDS:
            self.updates.clear()

    def render(self, ctx: Context) -> dict[str, Any]:
        """The JSON Schema. A node is rendered once, by whatever consumes it."""
        if self.member is None:
            json = self.json
        else:
            member = self.member.render(ctx)
            null = {"type": "null"}
            json = null if member == null else any_of(ctx, [member, null])
        for update in self.updates:
            update(json)
        self.updates.clear()
        return json


def any_of(ctx: Context, schemas: list[dict[str, Any]]) -> dict[str, Any]:
    """pydantic's ``get_flattened_anyof``: nested ``anyOf`` lifted, duplicates dropped."""
    members: list[dict[str, Any]] = []
    for schema in schemas:
        if len(schema) == 1 and "anyOf" in schema:
            members.extend(schema["anyOf"])
        else:
            members.append(schema)
    unique = list({ctx.hashable(member): member for member in members}.values())
    return unique[0] if len(unique) == 1 else {"anyOf": unique}


def wrap(node: Node, kind: str, ctx: Context, json: dict[str, Any] | None = None) -> Node:
    """``node`` under a validator (``kind``); its JSON unless ``json`` replaces it."""
    rendered = node.render(ctx) if json is None else json
    if kind not in FUNCTION_KINDS:  # pydantic looks through these three only
        return Node(rendered, kind)
    # pydantic looks through the wrappers, and into a json-or-python (a Sequence's list)
    looked_into = node.kind in FUNCTION_KINDS or node.kind == "json-or-python"
    inner = node.inner_kind if looked_into else node.kind
    return Node(rendered, kind, titled=node.titled, inner_kind=inner)


def with_default(node: Node, value: Any, ctx: Context) -> Node:
    """``node`` with a ``default`` (left out when it has no JSON form, as pydantic does)."""
    if isinstance(value, AbstractSet) and len(value) > 1:
        with contextlib.suppress(TypeError):  # pydantic sorts a set default, for a stable schema
            value = sorted(value)
    try:
        encoded = encode(value)
    except NotEncodable:
        return node
    json = node.render(ctx)
    json["default"] = encoded
    return Node(json, "default", titled=node.titled, inner_kind=node.inner_kind)
