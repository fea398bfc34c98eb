"""``openapi._json_schema.SchemaGenerator`` against its oracle, pydantic itself.

Each type of a large table (and random ones, from hypothesis) is described by
a fresh generator and by ``pydantic.TypeAdapter(tp).json_schema(...)``, in both
modes, and the two must be equal key for key and in key order. pydantic's
``generate`` inlines a definition referred to only once and drops unused ones;
``as_pydantic_gives`` does the same to ours, so the two can be compared.
Several types through one generator are compared with pydantic's
``generate_definitions``, which FastAPI uses for ``components/schemas``
(definition names: ``Item-Input``/``Item-Output``, module-qualified names for
clashes). The ``"fastapi"`` flavour and ``param_schema``/``model_schema`` are
compared with a FastAPI app's own document.

Differences from pydantic, chosen (each is pinned by a test below):

- a default with no JSON form (``b"\\xff"``) is left out of the schema; pydantic
  warns for most such values and fails on non-UTF-8 bytes;
- classes sharing module and qualname (made by one factory function) are
  numbered ``__1``, ``__2`` in the order they are first met; pydantic numbers
  first those its core schema uses twice;
- a ``typing.TypedDict`` is described on Python < 3.12 too (pydantic asks for
  ``typing_extensions.TypedDict``), and a bound pydantic refuses for a type
  (``Gt(1.5)`` on an ``int``) is shown as it is;
- a plain record whose name a pydantic-described record already has, with
  another schema, takes its next candidate name (``Item-Input``,
  ``module__Item``) where one pydantic generator would qualify both;
- not followed: ``Field(discriminator=...)`` (an ``anyOf``, not pydantic's
  ``oneOf`` with a ``discriminator``), ``SkipJsonSchema`` and other objects with
  their own ``__get_pydantic_json_schema__`` (ignored), and of a
  ``__pydantic_config__`` all but ``title``, ``extra`` and ``json_schema_extra``
  (from pydantic 2.14, ``str_min_length``/``str_max_length`` and
  ``ser_json_temporal`` show in its schema too; not in ours), and a
  TypedDict, even within pydantic 2.13, for PEP 728 extras it refuses
  (``extra_items=Never`` is closed, ``ReadOnly[T]`` is ``T``).

Where pydantic 2.13 and 2.14 differ (``_schema_checks.BEFORE_PYDANTIC_2_14``),
each table entry is compared with the pydantic installed: CI's, and a 2.14 or
2.13 environment run by hand, hold each version's schema.
"""

# typing.Optional and typing.Union are types under test here, beside ``X | Y``:
# ruff: noqa: UP007, UP045
from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import itertools
import json
import subprocess
import sys
import typing
import uuid
import warnings
from collections import abc
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, Optional, TypeVar, Union

import annotated_types as at
import fastapi  # the test extra pins FastAPI 0.165 (tests/app/test_fastapi_keywords.py)
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, WrapValidator
from pydantic.json_schema import Examples, GenerateJsonSchema, WithJsonSchema
from typing_extensions import Never, NotRequired, ReadOnly, Required, TypedDict, deprecated

import microready
from microready import UploadFile
from microready._convert import UnsupportedType
from microready.openapi._json_schema import ModelField, SchemaGenerator
from microready.openapi._schema_checks import BEFORE_PYDANTIC_2_14
from microready.openapi._schema_defaults import iso_duration
from microready.params import REQUIRED

REF = "#/components/schemas/{model}"
MODES = ("validation", "serialization")
T = TypeVar("T")
Bound = TypeVar("Bound", bound=int)
Either = TypeVar("Either", int, str)


# -- the oracle ---------------------------------------------------------------------------


def pydantic_schema(tp: Any, mode: str) -> dict[str, Any]:
    with warnings.catch_warnings():  # "deprecated has no effect here" and the like
        warnings.simplefilter("ignore")
        schema: dict[str, Any] = pydantic.TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)
    return schema


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for k, v in value.items() if k != "examples" for r in _refs(v)]
    return [r for v in value for r in _refs(v)] if isinstance(value, list) else []


def as_pydantic_gives(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Ours as ``GenerateJsonSchema.generate`` would end it: a definition referred to
    once is inlined, unused ones dropped, ``$defs`` added, keys sorted."""
    by_ref = {REF.format(model=name): body for name, body in definitions.items()}
    counts: dict[str, int] = {}

    def count(value: Any) -> None:  # GenerateJsonSchema.get_json_ref_counts
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                counts[ref] = counts.get(ref, 0) + 1
                if counts[ref] == 1:
                    count(by_ref[ref])
            for key, item in value.items():
                if key != "examples":
                    count(item)
        elif isinstance(value, list):
            for item in value:
                count(item)

    count(schema)
    if set(schema) == {"$ref"} and counts[schema["$ref"]] == 1:
        schema = dict(by_ref[schema["$ref"]])
    kept, todo = set(), _refs(schema)
    while todo:
        ref = todo.pop()
        if ref not in kept:
            kept.add(ref)
            todo.extend(_refs(by_ref[ref]))
    used = {n: b for n, b in definitions.items() if REF.format(model=n) in kept}
    return dict(sorted({**schema, **({"$defs": used} if used else {})}.items()))


def ours(tp: Any, mode: str) -> dict[str, Any]:
    generator = SchemaGenerator(flavor="pydantic")
    return as_pydantic_gives(generator.schema(tp, mode=mode), generator.definitions)


def assert_same(tp: Any, mode: str) -> None:
    expected = pydantic_schema(tp, mode)
    got = ours(tp, mode)
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)  # the same key order too


# -- the types ----------------------------------------------------------------------------


class Color(enum.Enum):
    """A colour."""

    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(enum.Enum):
    ONE = 1
    BEE = "b"
    ALIAS = 1


class Ratio(float, enum.Enum):
    HALF = 0.5


@dataclasses.dataclass
class Item:
    """An item."""

    name: str
    item_id: int = 3
    tags: list[str] = dataclasses.field(default_factory=list)
    color: Color = Color.RED
    maybe: Color | None = None
    price: decimal.Decimal = decimal.Decimal("1.50")
    when: dt.datetime = dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.timezone.utc)
    wait: dt.timedelta = dt.timedelta(minutes=1, seconds=30)
    seen: frozenset[int] = frozenset({3, 1, 2})
    pair: tuple[int, str] = (1, "a")
    raw: bytes = b"abc"


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node] = dataclasses.field(default_factory=list)
    parent: Node | None = None


@dataclasses.dataclass
class Fields:
    plain: int
    described: Annotated[int, Field(description="D", title="Described!", examples=[1])]
    checked: Annotated[str, Field(min_length=1, pattern="^a")] = "a"
    assigned: int = Field(default=7, description="from the default")  # type: ignore[assignment]
    hidden: int = dataclasses.field(default=2, init=False)
    later: int = dataclasses.field(default=1, kw_only=True)
    init_only: dataclasses.InitVar[int] = 4
    constant: typing.ClassVar[int] = 5
    alias: Annotated[int, Field(alias="Alias", serialization_alias="AliasOut")] = 0
    excluded: Annotated[int, Field(exclude=True)] = 0
    extra: Annotated[int, Field(json_schema_extra={"x-extra": [1]})] = 0
    described_item: Annotated[Item, Field(description="An item.")] = dataclasses.field(
        default_factory=lambda: Item("x"))
    validated: Annotated[int, AfterValidator(abs), Field(gt=0)] = 1
    before: Annotated[str, BeforeValidator(str, json_schema_input_type=int)] = "1"
    plain_validated: Annotated[list[int], PlainValidator(list), Field(max_length=3)] = (
        dataclasses.field(default_factory=list))
    wrapped: Annotated[int | None, WrapValidator(lambda v, h: h(v))] = None
    overridden: Annotated[int, WithJsonSchema({"type": "integer", "x-w": 1})] = 0
    exampled: Annotated[int, Examples([1, 2])] = 0


class Keys(TypedDict, total=False):
    """Keys."""

    needed: Required[int]
    optional: str
    checked: NotRequired[Annotated[int, Field(gt=1, description="c")]]
    titled: Annotated[NotRequired[str], Field(title="Titled")]
    read_only: ReadOnly[int]
    defaulted: Annotated[int, Field(default=3)]
    item: Item


class Total(TypedDict):
    a: int
    b: NotRequired[list[Keys]]


@dataclasses.dataclass
class Box(Generic[T]):
    content: T
    more: list[T] = dataclasses.field(default_factory=list)


class GenericKeys(TypedDict, Generic[T]):
    value: T


@pydantic.with_config(pydantic.ConfigDict(title="Configured!", extra="forbid",
                                          json_schema_extra={"x-c": 1}))
@dataclasses.dataclass
class Configured:
    a: int


@dataclasses.dataclass
class Money:
    amount: decimal.Decimal  # a number or a string when read, a string when written


@dataclasses.dataclass
class Wallet:
    money: Money
    spare: list[Money] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Purse:
    wallet: Wallet
    color: Color = Color.RED


def _clash(module: str) -> Any:
    cls = dataclasses.make_dataclass("Clash", [("a", int if module.endswith("a") else str)])
    cls.__module__ = module
    return cls


ClashA, ClashB = _clash("shop.a"), _clash("shop.b")


def _twin(kind: type) -> Any:
    cls = dataclasses.make_dataclass("Twin", [("a", kind)])
    cls.__module__ = "shop"
    return cls


TwinA, TwinB, TwinC = _twin(int), _twin(int), _twin(str)


@dataclasses.dataclass
class Twins:
    a: Union[TwinA, TwinB]
    b: Union[TwinA, TwinC]
    c: TwinC | None = None


class Pet(pydantic.BaseModel):  # type: ignore[misc]
    """A pet."""

    name: str
    age: int = 0


class Owner(pydantic.BaseModel):  # type: ignore[misc]
    pets: list[Pet] = []
    purse: Purse | None = None

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.pets)


@dataclasses.dataclass
class Shelf:
    pet: Pet
    owner: Owner | None = None


class Hybrid(pydantic.BaseModel):  # type: ignore[misc]
    shelf: Shelf


@dataclasses.dataclass
class Labelled:
    pet: Annotated[Pet, Field(description="The pet")]
    more: Annotated[list[Labelled], Field(max_length=3)] = dataclasses.field(
        default_factory=list)


@pydantic.dataclasses.dataclass
class PydanticPoint:
    x: int = 0


# Records whose schemas pydantic 2.14 changed (each compared with the pydantic installed).


@deprecated("use New")
@dataclasses.dataclass
class Old:
    a: int = 0


with warnings.catch_warnings():  # subclassing a @deprecated class warns
    warnings.simplefilter("ignore", DeprecationWarning)

    @dataclasses.dataclass
    class OldChild(Old):  # 2.14: not deprecated itself
        b: int = 0


@deprecated("use New")
@pydantic.with_config(pydantic.ConfigDict(json_schema_extra={"deprecated": False}))
@dataclasses.dataclass
class OldSaysNot:  # 2.14: the config's json_schema_extra wins
    a: int = 0


class Leaf(TypedDict):
    x: int


@dataclasses.dataclass
class Mid:
    leaf: Leaf
    leaves: list[Leaf] = dataclasses.field(default_factory=list)


@pydantic.with_config(pydantic.ConfigDict(extra="forbid"))
@dataclasses.dataclass
class Strict:  # Mid and Leaf take its extra: Leaf shows it, Mid from 2.14
    mid: Mid | None
    more: dict[str, Mid]


@pydantic.with_config(pydantic.ConfigDict(title="Own"))
@dataclasses.dataclass
class OwnConfig:  # a config of its own, without extra: nothing taken
    mid: Mid


@pydantic.with_config(pydantic.ConfigDict(extra="allow"))
class Loose(TypedDict):
    own: OwnConfig
    mid: Mid


class Closed(TypedDict, closed=True):  # PEP 728
    a: int


class ClosedChild(Closed):  # 2.14: closed too
    b: int


class Extras(TypedDict, extra_items=int):
    a: int


class ExtrasChild(Extras):  # 2.14: extra items typed too
    b: int


class GenericExtras(TypedDict, Generic[T], extra_items=T):
    a: int


class AnyExtras(TypedDict, extra_items=Any):
    a: int


class ItemExtras(TypedDict, extra_items=Annotated[Item, Field(description="d")]):
    a: int


@pydantic.with_config(pydantic.ConfigDict(extra="allow"))
class ClosedAnyway(TypedDict, closed=True):  # closed wins over the config
    a: int


class Reopened(ClosedAnyway, closed=False):  # the base's config then
    b: int



A = Annotated
TYPES: list[Any] = [
    # scalars
    str, int, float, bool, bytes, None, type(None), Any, object, dt.datetime, dt.date, dt.time,
    dt.timedelta, uuid.UUID, decimal.Decimal, typing.NewType("UserId", int),
    # containers, bare and parametrised
    list, set, frozenset, tuple, dict, typing.List, typing.Dict, typing.Sequence, list[int],  # noqa: UP006
    set[str], frozenset[int], tuple[int, ...], tuple[int, str], tuple[()], dict[str, int],
    dict[int, str], dict[str, Any], typing.Sequence[int], typing.Mapping[str, int],
    abc.MutableSet[int], abc.Set[int], abc.MutableSequence[str], list[list[dict[str, float]]],
    dict[A[str, at.MaxLen(3)], int], dict[A[str, Field(pattern="^a")], int], dict[Color, int],
    dict[Literal["a", "b"], int], dict[uuid.UUID, int], dict[int, A[int, Field(title="V")]],
    # unions and choices
    Optional[int], int | str, int | None | str, Union[list[int], typing.List[int]],  # noqa: UP006
    Color, Level, Mixed, Ratio, Color | None, list[Color], Literal["a"], Literal["a", "b"],
    Literal[1, 2], Literal["a", 1], Literal[True], Literal[None], Literal["a", None],
    Literal[Color.RED, "x"], Optional[Literal["a", "b"]], Union[int, A[int, at.Gt(1)]],
    # records
    Item, Node, Fields, Keys, Total, Box[int], Box[list[str]], Box[Item], Box, GenericKeys[int],
    Configured, list[Item], Item | None, dict[str, Item], Union[Item, int], Optional[Node],
    Box[Bound], Box[Either],
    # constraints and Field() metadata
    A[str, Field(max_length=3, min_length=1, pattern="^a")], A[str, at.MaxLen(3)],
    A[int, at.Gt(1), at.Le(10)], A[float, Field(multiple_of=0.5, ge=0)],
    A[decimal.Decimal, Field(gt=1, le=5)],
    A[decimal.Decimal, Field(max_digits=5, decimal_places=2)],
    A[decimal.Decimal, Field(examples=[1]), at.MultipleOf(2)],
    A[list[int], Field(min_length=1)], A[set[int], at.MaxLen(3)],
    A[dict[str, int], Field(max_length=2)], A[tuple[int, str], at.MaxLen(5)],
    A[str | None, Field(max_length=3)], A[Optional[int], at.Gt(3)], A[int | str, at.Gt(3)],
    A[int | str | None, at.Gt(1)], A[dt.date, Field(gt=dt.date(2020, 1, 1))],
    A[bytes, at.MaxLen(3)], A[Color, at.MaxLen(3)], A[Item, at.Gt(1)], A[Any, at.Gt(1)],
    A[str, at.Len(2, 5)], A[str, at.MultipleOf(2)], A[bool, at.Gt(0)],
    A[uuid.UUID, Field(pattern="x")], A[Literal["a", "b"], at.MaxLen(1)],
    A[list[A[int, at.Gt(0)]], at.MaxLen(2)], A[str, at.Predicate(str.islower), at.MaxLen(3)],
    A[dict, at.Predicate(bool), at.MaxLen(3)], A[int, Field(pattern="x")],
    A[Item, Field(pattern="x")], A[int, at.Timezone(None)], A[str, "doc"],
    A[int, Field(description="d", title="T", examples=[1, 2], default=3)], A[int, Field(3)],
    A[Item, Field(description="d")], A[Item | None, Field(description="d", default=None)],
    A[Color, Field(description="d"), at.Gt(1)],  # pydantic drops the description here
    A[Color, at.Gt(1), Field(description="d"), at.Lt(3)],  # and keeps it there
    A[str, Field(json_schema_extra={"x-a": 1})], A[int, Field(deprecated=True)],
    A[list[Color], Field(examples=[[Color.RED]], json_schema_extra={"x": Color.GREEN})],
    A[int, Field(default=1), Field(default=2)], A[list[int], Field(default_factory=list)],
    A[str, pydantic.StringConstraints(min_length=1, max_length=5, pattern="^x")],
    pydantic.conlist(int, min_length=1), pydantic.conint(gt=1, strict=True),
    pydantic.condecimal(gt=0, max_digits=5, decimal_places=2),
    # validators
    A[int, AfterValidator(abs)], A[int, BeforeValidator(int)], A[int, PlainValidator(int)],
    A[int, WrapValidator(lambda v, h: h(v))],
    A[int, PlainValidator(int, json_schema_input_type=str)],
    A[int, PlainValidator(int), Field(gt=1)], A[int, Field(gt=1), PlainValidator(int)],
    A[Item, PlainValidator(Item)], A[int | None, PlainValidator(int)],
    Optional[A[int, PlainValidator(int)]], A[int, WithJsonSchema({"type": "x"})],
    A[int, WithJsonSchema({"type": "x"}, mode="serialization")], A[int, Examples([1])],
    # default values in JSON, as pydantic writes them
    A[dict[Any, Any], Field(default={1: "a", Color.RED: 2, (1, 2): 3, None: 5, 1.5: 6})],
    A[Any, Field(default=Item("x"))], A[Any, Field(default=Pet(name="p"))],
    A[Any, Field(default=uuid.UUID(int=1))], A[Any, Field(default=b"x")],
    A[Any, Field(default=dt.time(1, 2, tzinfo=dt.timezone.utc))],
    A[Any, Field(default=dt.datetime(2020, 1, 2, 3, 4, 5, 6))],
    A[Any, Field(default=float("inf"))],
    A[Any, Field(default=(Level.LOW, {Color.GREEN}))], A[set[int], Field(default={3, 1, 2})],
    # generic records' names
    tuple[Box[Optional[int]], Box[Optional[int]]],
    tuple[Box[Literal["a", 1]], Box[Literal["a", 1]]],
    tuple[Box[dict[str, int]], Box[dict[str, int]]],
    tuple[Box[typing.Dict[str, int]], Box[typing.Dict[str, int]]],  # noqa: UP006
    tuple[Box[Box[Item]], Box[Box[Item]]], tuple[Box[Any], Box[Any]],
    # pydantic models, and records holding one or held by one: pydantic's own
    Pet, Owner, list[Pet], Optional[Owner], Shelf, Hybrid, PydanticPoint,
    Union[Pet, PydanticPoint], dict[str, Owner], Purse, Labelled,
    # what pydantic 2.14 changed, each as the installed pydantic gives it: bounds on a date,
    # time or datetime are checked unseen, and from 2.14 a multiple_of is a shown validator
    # (then the bounds after it too); on bytes the string steps (pattern, strip_whitespace,
    # to_lower...) were native, from 2.14 they are a chain, serialized as a string; an int
    # took allow_inf_nan natively; a subclass of a @deprecated record...
    A[dt.date, at.MultipleOf(2)], A[dt.datetime, Field(multiple_of=3)],
    A[dt.time, Field(gt=dt.time(1), multiple_of=2)],
    A[dt.datetime, at.MultipleOf(2), at.Lt(dt.datetime(2020, 1, 1))],
    A[dt.date, Field(multiple_of=dt.timedelta(seconds=5))], list[A[dt.date, at.MultipleOf(3)]],
    A[Optional[dt.datetime], at.MultipleOf(2)], A[dt.timedelta, at.MultipleOf(dt.timedelta(1))],
    A[bytes, Field(pattern="^a")], A[bytes, Field(pattern="^a"), at.MaxLen(3)],
    A[bytes, pydantic.StringConstraints(min_length=1, pattern="^x", to_lower=True)],
    A[bytes, Field(pattern="^a"), pydantic.StringConstraints(to_lower=True)],
    A[Optional[bytes], pydantic.StringConstraints(strip_whitespace=True)],
    A[bytes, Field(coerce_numbers_to_str=True)], A[int, pydantic.StringConstraints(to_lower=True)],
    A[int, Field(coerce_numbers_to_str=True), at.Gt(1)],
    A[int, pydantic.AllowInfNan(False), at.Gt(1)], A[float, Field(allow_inf_nan=False), at.Lt(5)],
    A[dt.date, pydantic.AllowInfNan(False), at.Gt(dt.date(2020, 1, 1))],
    A[typing.Sequence[int], at.Len(1, 4)],
    Old, OldChild, OldSaysNot, Strict, Loose, tuple[Mid, Strict], Closed, ClosedChild, Extras,
    ExtrasChild, GenericExtras[str], GenericExtras, AnyExtras, ItemExtras, ClosedAnyway, Reopened,
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tp", TYPES, ids=[repr(tp)[:60] for tp in TYPES])
def test_same_schema_as_pydantic(tp: Any, mode: str) -> None:
    assert_same(tp, mode)


# -- microready's markers are Field()s ----------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("marker", "field"), [
    (microready.Query(max_length=3, description="q", examples=["a"]),
     Field(max_length=3, description="q", examples=["a"])),
    (microready.Path(ge=1, le=9, title="Id", deprecated=True), Field(ge=1, le=9, title="Id",
                                                                     deprecated=True)),
    (microready.Header(pattern="^x", json_schema_extra={"x-h": 1}),
     Field(pattern="^x", json_schema_extra={"x-h": 1})),
    (microready.Body("d", min_length=1), Field("d", min_length=1)),
])
def test_markers_are_described_as_pydantic_fields(marker: Any, field: Any, mode: str) -> None:
    for tp in (str, str | None, list[str]):
        assert ours(Annotated[tp, marker], mode) == pydantic_schema(Annotated[tp, field], mode)


# -- random types -------------------------------------------------------------------------

_names = itertools.count()
_leaves = st.sampled_from([
    str, int, float, bool, bytes, type(None), dt.datetime, dt.date, dt.time, dt.timedelta,
    uuid.UUID, decimal.Decimal, Any, Color, Level, Literal["a"], Literal["a", 1], Literal[1, 2],
])
_extras = st.sampled_from([
    at.Gt(1), at.Ge(0), at.Lt(10), at.Le(5), at.MultipleOf(2), at.MinLen(1), at.MaxLen(3),
    at.Len(1, 4), at.Predicate(bool), Field(description="d"), Field(title="T"),
    Field(examples=[1]), Field(max_length=2), Field(pattern="^a"), Field(gt=0, le=100),
    Field(json_schema_extra={"x-k": 1}), Field(default=None), AfterValidator(abs),
    PlainValidator(int), BeforeValidator(int, json_schema_input_type=str), "doc",
    pydantic.StringConstraints(strip_whitespace=True), pydantic.AllowInfNan(False),
    Field(multiple_of=dt.timedelta(seconds=5)),
])


def _record(kind: str, fields: list[tuple[Any, bool]], total: bool) -> Any:
    name = f"Random{next(_names)}"
    if kind == "td":
        return TypedDict(name, {f"k_{i}": NotRequired[tp] if optional else tp  # type: ignore[operator]
                                for i, (tp, optional) in enumerate(fields)}, total=total)
    specs = [(f"f_{i}", tp, dataclasses.field(default=None)) if optional else (f"f_{i}", tp)
             for i, (tp, optional) in enumerate(fields)]
    return dataclasses.make_dataclass(name, sorted(specs, key=len))  # defaults last


def _bigger(parts: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    two = st.tuples(parts, parts)
    return st.one_of(
        parts.map(lambda t: list[t]), parts.map(lambda t: set[t]),  # type: ignore[valid-type]
        parts.map(lambda t: tuple[t, ...]), two.map(lambda p: tuple[p]),  # type: ignore[valid-type]
        parts.map(lambda t: dict[str, t]), parts.map(lambda t: Optional[t]),  # type: ignore[valid-type]
        two.map(lambda p: Union[p]), st.tuples(parts, _extras).map(lambda p: Annotated[p]),
        st.tuples(parts, _extras, _extras).map(lambda p: Annotated[p]),
        st.builds(_record, st.sampled_from(["dc", "td"]),
                  st.lists(st.tuples(parts, st.booleans()), max_size=4), st.booleans()),
    )


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(_leaves, _bigger, max_leaves=8), st.sampled_from(MODES))
def test_random_types_as_pydantic(tp: Any, mode: str) -> None:
    try:
        expected = pydantic_schema(tp, mode)
    except Exception:  # a combination pydantic refuses (a bound it cannot apply...)
        return
    got = ours(tp, mode)
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)


# -- one generator for many types: FastAPI's components -----------------------------------


V, S = "validation", "serialization"
SHARED: list[list[tuple[Any, str]]] = [
    [(Item, V), (Item, S)],
    [(Purse, V), (Wallet, S), (list[Money], V)],
    [(Purse, V), (Purse, S), (Color, V), (Optional[Wallet], S)],
    [(ClashA, V), (ClashB, V), (Box[int], V), (Box[str], S), (Box[ClashA], V)],
    [(Node, V), (Optional[Node], S), (Total, V), (Total, S)],
    [(Pet, V), (Owner, S), (Owner, V), (list[Pet], S), (PydanticPoint, V)],
    [(Shelf, V), (Shelf, S), (Hybrid, V), (Pet, V)],
    [(Wallet, V), (Purse, S), (Owner, V), (Money, S)],  # Purse moves to pydantic's side
    [(Union[Pet, PydanticPoint], V), (dict[str, Owner], S), (Item, V)],
    [(Mid, V), (Strict, V), (Strict, S)], [(Strict, V), (Mid, S), (Loose, V)],
]


@pytest.mark.parametrize("pairs", SHARED, ids=[str(i) for i in range(len(SHARED))])
def test_shared_definitions_as_fastapi_makes_them(pairs: list[tuple[Any, str]]) -> None:
    """``generate_definitions`` over every input at once, as FastAPI's ``get_definitions``."""
    _same_definitions_as_fastapi(pairs)


def _same_definitions_as_fastapi(pairs: list[tuple[Any, str]]) -> None:
    with warnings.catch_warnings():  # ReadOnly "is not protected"
        warnings.simplefilter("ignore")
        inputs = [(i, mode, pydantic.TypeAdapter(tp).core_schema)
                  for i, (tp, mode) in enumerate(pairs)]
    mapping, expected = GenerateJsonSchema(ref_template=REF).generate_definitions(inputs)
    generator = SchemaGenerator(flavor="pydantic")
    got = [generator.schema(tp, mode=mode) for tp, mode in pairs]  # type: ignore[arg-type]
    assert got == [mapping[(i, mode)] for i, (_, mode) in enumerate(pairs)]
    assert generator.definitions == expected
    assert list(generator.definitions) == list(expected)


_POOL = [Item, Money, Wallet, Purse, ClashA, ClashB, Box[int], Box[Money], Node, TwinA, TwinC,
         list[Wallet], Color, Pet, Owner, Shelf]


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(_POOL), st.sampled_from(MODES)), min_size=1,
                max_size=8, unique=True))
def test_names_settle_as_fastapi_makes_them_whatever_the_order(
        pairs: list[tuple[Any, str]]) -> None:
    _same_definitions_as_fastapi(pairs)


def test_refs_handed_out_are_renamed_when_a_name_becomes_ambiguous() -> None:
    generator = SchemaGenerator()
    first = generator.schema(list[Money])
    assert first == {"items": {"$ref": REF.format(model="Money")}, "type": "array"}
    assert list(generator.definitions) == ["Money"]
    generator.schema(Money, mode="serialization")  # another schema: both names change
    assert first == {"items": {"$ref": REF.format(model="Money-Input")}, "type": "array"}
    assert list(generator.definitions) == ["Money-Input", "Money-Output"]


def test_resolve_refs_renames_copies_made_before_a_name_changed() -> None:
    generator = SchemaGenerator()
    purse = dict(generator.schema(Purse))  # ours, until Owner (pydantic's) holds one
    document = {"body": dict(generator.schema(Money)), "pet": dict(generator.schema(Owner)),
                "purse": [purse], "other": {"$ref": "elsewhere"}}
    assert document["body"] == {"$ref": REF.format(model="Money")}
    generator.schema(Money, mode="serialization")  # Money-Input and Money-Output
    generator.schema(Owner, mode="serialization")  # Owner-Input and Owner-Output (pydantic's)
    generator.resolve_refs(document)
    assert document == {
        "body": {"$ref": REF.format(model="Money-Input")},
        "pet": {"$ref": REF.format(model="Owner-Input")},
        "purse": [{"$ref": REF.format(model="Purse-Input")}],
        "other": {"$ref": "elsewhere"},
    }
    assert {"Money-Input", "Owner-Input", "Purse-Input"} <= set(generator.definitions)


def test_definitions_are_a_copy() -> None:
    generator = SchemaGenerator()
    generator.schema(Item)
    generator.definitions["Item"]["title"] = "changed"
    assert generator.definitions["Item"]["title"] == "Item"


# -- FastAPI's flavour, parameters and made-up models, against a FastAPI app ---------------

def _without_none(value: Any) -> Any:
    """FastAPI writes its document with exclude_none: ``"default": null`` goes."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return [_without_none(v) for v in value] if isinstance(value, list) else value


PARAMS: list[tuple[str, Any, Any, Any, Any]] = [
    # (FastAPI declaration, annotation, microready marker, default)
    ("a: int", int, None, REQUIRED),
    ("a: int = 3", int, None, 3),
    ("a: str | None = None", str | None, None, None),
    ("a: Annotated[str | None, fastapi.Query(max_length=50, description='q', examples=['x'])]"
     " = None", str | None, microready.Query(max_length=50, description="q", examples=["x"]),
     None),
    ("a: Annotated[int, fastapi.Query(ge=1, title='The A', deprecated=True)] = 5", int,
     microready.Query(ge=1, title="The A", deprecated=True), 5),
    ("a: list[str] = fastapi.Query(default=['x'])", list[str], microready.Query(["x"]), ["x"]),
    ("a: Color | None = None", Color | None, None, None),
    ("a: Literal['x', 'y'] = 'x'", Literal["x", "y"], None, "x"),
    ("a: decimal.Decimal = decimal.Decimal('1.5')", decimal.Decimal, None,
     decimal.Decimal("1.5")),
    ("a: str = fastapi.Query('ab', pattern='^a', json_schema_extra={'x-y': 1})", str,
     microready.Query("ab", pattern="^a", json_schema_extra={"x-y": 1}), "ab"),
    ("a: Annotated[float, fastapi.Query(gt=0, lt=10.5, multiple_of=0.5)] = 1.0", float,
     microready.Query(gt=0, lt=10.5, multiple_of=0.5), 1.0),
    ("a: Annotated[list[int], fastapi.Query(min_length=1)] = [1]", list[int],
     microready.Query(min_length=1), [1]),
    ("a: dt.timedelta = dt.timedelta(seconds=5)", dt.timedelta, None, dt.timedelta(seconds=5)),
    ("a: Color = Color.RED", Color, None, Color.RED),
    ("a: Annotated[Color | None, fastapi.Query(description='c')] = None", Color | None,
     microready.Query(description="c"), None),
]


@pytest.mark.parametrize(("declaration", "tp", "marker", "default"), PARAMS,
                         ids=[p[0][:50] for p in PARAMS])
def test_param_schema_as_fastapi_writes_it(declaration: str, tp: Any, marker: Any,
                                           default: Any) -> None:
    app = fastapi.FastAPI()
    namespace = {**globals()}
    exec(f"def endpoint({declaration}): ...", namespace)
    app.get("/")(namespace["endpoint"])
    expected = app.openapi()["paths"]["/"]["get"]["parameters"][0]["schema"]
    got = SchemaGenerator().param_schema(tp, name="a", marker=marker, default=default)
    assert _without_none(got) == expected


@dataclasses.dataclass
class Upload:
    """An upload.\fNot shown: FastAPI cuts a description at a form feed."""

    name: str
    data: bytes = b""
    price: decimal.Decimal = decimal.Decimal("1")


@dataclasses.dataclass
class Receipt:
    upload: Upload
    later: Upload | None = None


def test_fastapi_flavour_and_made_up_models_as_fastapi_writes_them() -> None:
    app = fastapi.FastAPI()

    @app.post("/items")
    def create(upload: Upload, extra: Annotated[int, fastapi.Body(embed=True,
                                                                  description="E")] = 1
               ) -> Receipt: ...

    @app.post("/files")
    def files(file: fastapi.UploadFile, raw: bytes = fastapi.File(),
              many: list[fastapi.UploadFile] = fastapi.File(),  # noqa: B008
              name: str = fastapi.Form("x"), maybe: fastapi.UploadFile | None = None) -> None: ...

    expected = {name: schema for name, schema in app.openapi()["components"]["schemas"].items()
                if "ValidationError" not in name}
    generator = SchemaGenerator()
    generator.model_schema("Body_create_items_post", [
        ModelField("upload", Upload),
        ModelField("extra", int, 1, microready.Body(embed=True, description="E")),
    ])
    generator.model_schema("Body_files_files_post", [
        ModelField("file", UploadFile), ModelField("raw", bytes, REQUIRED, microready.File()),
        ModelField("many", list[UploadFile], REQUIRED, microready.File()),
        ModelField("name", str, "x", microready.Form("x")),
        ModelField("maybe", UploadFile | None, None),
    ])
    generator.schema(Receipt, mode="serialization")
    assert _without_none(generator.definitions) == expected
    assert generator.definitions["Upload-Input"]["description"] == "An upload."


# -- the differences, and what pydantic is not asked for ----------------------------------


def test_a_default_with_no_json_form_is_left_out() -> None:
    bad = dataclasses.make_dataclass("Bad", [("raw", bytes, dataclasses.field(default=b"\xff"))])
    try:  # pydantic before 2.14 fails on it; 2.14 leaves the default out, as we do
        described = pydantic_schema(bad, "validation")
    except UnicodeDecodeError:
        pass
    else:
        assert "default" not in described["properties"]["raw"]
    generator = SchemaGenerator()
    generator.schema(bad)
    assert generator.definitions["Bad"]["properties"]["raw"] == {
        "contentMediaType": "application/octet-stream", "title": "Raw", "type": "string"}


class PlainKeys(typing.TypedDict):
    a: int
    b: list[Item]


class BackportedKeys(TypedDict):
    a: int
    b: list[Item]


def test_a_typing_typeddict_is_described_like_typing_extensions_one() -> None:
    expected = pydantic_schema(BackportedKeys, "validation")
    expected["title"] = "PlainKeys"
    assert ours(PlainKeys, "validation") == expected


def test_classes_of_one_name_and_module_are_numbered_as_first_met() -> None:
    generator = SchemaGenerator(flavor="pydantic")
    generator.schema(Twins)
    found = {name: body["properties"]["a"]["type"] for name, body in generator.definitions.items()
             if name != "Twins"}
    assert found == {"shop__Twin__1": "integer", "shop__Twin__2": "integer",
                    "shop__Twin__3": "string"}
    # pydantic numbers first the two its core schema uses twice (TwinA and TwinC).
    theirs = pydantic_schema(Twins, "validation")["$defs"]
    assert {name: body["properties"]["a"]["type"] for name, body in theirs.items()} == {
        "shop__Twin__1": "integer", "shop__Twin__2": "string", "shop__Twin__3": "integer"}


class Clash(pydantic.BaseModel):  # type: ignore[misc]
    b: int


def test_a_plain_record_named_as_a_pydantic_one_takes_its_next_name() -> None:
    generator = SchemaGenerator()
    assert generator.schema(ClashA) == {"$ref": REF.format(model="Clash")}
    generator.schema(Clash)  # pydantic's keeps its name; one generator would qualify both
    assert list(generator.definitions) == ["Clash", "Clash-Input"]
    assert generator.definitions["Clash"]["properties"] == {"b": {"title": "B", "type": "integer"}}


@dataclasses.dataclass
class Cat:
    kind: Literal["cat"]


@dataclasses.dataclass
class Dog:
    kind: Literal["dog"]


def test_a_discriminator_is_not_followed() -> None:
    pets = Annotated[Cat | Dog, Field(discriminator="kind")]
    assert "oneOf" in pydantic_schema(pets, "validation")
    assert SchemaGenerator().schema(pets) == {
        "anyOf": [{"$ref": REF.format(model="Cat")}, {"$ref": REF.format(model="Dog")}]}


def test_a_bound_pydantic_refuses_is_shown_as_it_is() -> None:
    with pytest.raises(Exception, match="must be coercible to an integer"):  # SchemaError
        pydantic_schema(Annotated[int, at.Gt(1.5)], "validation")
    assert SchemaGenerator().schema(Annotated[int, at.Gt(1.5)]) == {
        "exclusiveMinimum": 1.5, "type": "integer"}


@pydantic.with_config(pydantic.ConfigDict(use_attribute_docstrings=True))
@dataclasses.dataclass
class Documented:
    a: int
    """Not read: of a config, only title, extra and json_schema_extra are."""


def test_skipped_members_and_other_config_keys_are_not_followed() -> None:
    skipped = int | pydantic.json_schema.SkipJsonSchema[None]
    assert pydantic_schema(skipped, "validation") == {"type": "integer"}
    assert SchemaGenerator().schema(skipped) == {"anyOf": [{"type": "integer"},
                                                           {"type": "null"}]}
    assert "description" in pydantic_schema(Documented, "validation")["properties"]["a"]
    generator = SchemaGenerator()
    generator.schema(Documented)
    assert generator.definitions["Documented"]["properties"]["a"] == {"title": "A",
                                                                      "type": "integer"}


def test_the_pydantic_version_switch_is_the_installed_one() -> None:
    installed = tuple(int(part) for part in pydantic.VERSION.split(".")[:2])
    assert (installed < (2, 14)) is BEFORE_PYDANTIC_2_14


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tp", [
    A[bytes, pydantic.StringConstraints(max_length=2, pattern="^a")],
    A[bytes, pydantic.StringConstraints(pattern="^a", strip_whitespace=True)],
])
def test_bytes_string_steps_follow_the_installed_pydantic(tp: Any, mode: str) -> None:
    """pydantic 2.14 no longer takes a string step natively on bytes: serialized, the
    schema is the last step's string (pinned here, whatever pydantic says)."""
    got = ours(tp, mode)
    if mode == "validation" or BEFORE_PYDANTIC_2_14:
        assert got["format"] == "binary" and "pattern" not in got
    else:
        assert "format" not in got and got["type"] == "string"
    assert got == pydantic_schema(tp, mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_bound_after_multiple_of_on_a_date_is_shown_from_pydantic_2_14(mode: str) -> None:
    """From 2.14 the multiple_of is a validator, so the bound after it is one too: shown,
    and no longer refused for not being a date (before, both are unseen native checks)."""
    tp = Annotated[dt.date, at.MultipleOf(2), at.Gt(1)]
    if BEFORE_PYDANTIC_2_14:
        with pytest.raises(Exception, match="date"):  # SchemaError
            pydantic_schema(tp, mode)
        assert ours(tp, mode) == {"format": "date", "type": "string"}
    else:
        assert_same(tp, mode)
        assert ours(tp, mode) == {"format": "date", "gt": 1, "multiple_of": 2, "type": "string"}


class NoExtras(TypedDict, extra_items=Never):  # 2.14: closed; 2.13 refuses Never
    a: int


class ReadOnlyExtras(TypedDict, extra_items=ReadOnly[str]):  # 2.13 refuses ReadOnly
    a: int


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tp", [NoExtras, ReadOnlyExtras])
def test_pep_728_extras_pydantic_2_13_refuses(tp: Any, mode: str) -> None:
    with warnings.catch_warnings():  # ReadOnly "is not protected"
        warnings.simplefilter("ignore")
        if BEFORE_PYDANTIC_2_14:
            with pytest.raises(pydantic.PydanticSchemaGenerationError):
                pydantic_schema(tp, mode)
        else:
            assert_same(tp, mode)
    extra = ours(tp, mode)["additionalProperties"]
    assert extra == (False if tp is NoExtras else {"type": "string"})


@pydantic.with_config(pydantic.ConfigDict(str_max_length=3, ser_json_temporal="seconds"))
@dataclasses.dataclass
class Temporal:
    name: str
    when: dt.datetime


def test_string_and_temporal_config_keys_are_not_followed() -> None:
    """pydantic 2.14 shows these two in a schema (``maxLength``, a number); microready
    follows no config key but title, extra and json_schema_extra."""
    shown = pydantic_schema(Temporal, "serialization")["properties"]
    if not BEFORE_PYDANTIC_2_14:
        assert shown["name"]["maxLength"] == 3 and shown["when"]["type"] == "number"
    assert ours(Temporal, "serialization")["properties"] == {
        "name": {"title": "Name", "type": "string"},
        "when": {"format": "date-time", "title": "When", "type": "string"}}


def test_unsupported_types_are_refused_with_their_name() -> None:
    with pytest.raises(UnsupportedType, match="cannot describe"):
        SchemaGenerator().schema(complex)


def test_pydantic_is_never_imported_for_microready_types() -> None:
    code = (
        "import sys, dataclasses, decimal, typing\n"
        "from microready import Query\n"
        "from microready.openapi._json_schema import SchemaGenerator\n"
        "@dataclasses.dataclass\n"
        "class A:\n"
        "    x: typing.Annotated[str, Query(max_length=3)]\n"
        "    y: decimal.Decimal = decimal.Decimal(1)\n"
        "g = SchemaGenerator()\n"
        "g.schema(list[A]); g.schema(A, mode='serialization'); g.definitions\n"
        "assert not [m for m in sys.modules if m.startswith('pydantic')], sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


@given(st.timedeltas())
def test_durations_are_written_as_pydantic_writes_them(value: dt.timedelta) -> None:
    assert iso_duration(value) == pydantic.TypeAdapter(dt.timedelta).dump_python(value, mode="json")
