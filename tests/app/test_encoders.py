"""The one JSON encoder: ``jsonable_encoder`` and what a handler's return value is sent as.

FastAPI's ``fastapi/encoders.py`` is the oracle for every expected value here.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import enum
import ipaddress
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

import pydantic
import pydantic_core
import pytest

from microready import MicroReady
from microready.encoders import UnencodableError, json_bytes, jsonable_encoder

from .helpers import client_for


class Color(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    HIGH = 3


class Shade(str, enum.Enum):
    DARK = "dark"


@dataclasses.dataclass
class Point:
    x: int
    y: Decimal


@dataclasses.dataclass
class Shape:
    name: str
    points: list[Point]
    tags: frozenset[str] = frozenset()


class Pair(NamedTuple):
    left: int
    right: dt.date


class Pet(pydantic.BaseModel):
    pet_name: str = pydantic.Field(alias="petName")
    born: dt.date
    weight: Decimal


class Plain:
    def __init__(self) -> None:
        self.a = 1
        self.when = dt.time(8, 30)


class Pairs:
    """Iterable of key/value pairs: FastAPI turns it into a dict with dict()."""

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter([("k", 1)])


class Frozen(Mapping[str, int]):
    def __getitem__(self, key: str) -> int:
        return {"one": 1}[key]

    def __iter__(self) -> Iterator[str]:
        return iter(["one"])

    def __len__(self) -> int:
        return 1


class Slotted:
    __slots__ = ("a",)


WHEN = dt.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=dt.timezone.utc)
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")

# (value, what FastAPI's jsonable_encoder makes of it)
CASES: list[tuple[Any, Any]] = [
    (None, None),
    (True, True),
    ("hé", "hé"),
    (3, 3),
    (1.5, 1.5),
    (Decimal("1.5"), 1.5),
    (Decimal("2"), 2),
    (Decimal("2.0"), 2.0),
    (Decimal("2E+1"), 20),
    (Decimal("-0.25"), -0.25),
    (dt.timedelta(seconds=3), 3.0),
    (dt.timedelta(days=1, milliseconds=500), 86400.5),
    (WHEN, "2024-05-06T07:08:09.000010+00:00"),
    (dt.date(2024, 5, 6), "2024-05-06"),
    (dt.time(7, 8, 9), "07:08:09"),
    (ID, "12345678-1234-5678-1234-567812345678"),
    (PurePosixPath("/a/b"), "/a/b"),
    (PureWindowsPath("C:/a"), "C:\\a"),
    (Path("rel/x"), "rel/x"),
    (Color.RED, "red"),
    (Color.PAIR, [1, 2]),
    (Level.HIGH, 3),
    (Shade.DARK, "dark"),
    (b"bytes", "bytes"),
    ({3, 1, 2}, [1, 2, 3]),
    (frozenset({"x"}), ["x"]),
    ((1, Decimal("2")), [1, 2]),
    (collections.deque([1, 2]), [1, 2]),
    (range(3), [0, 1, 2]),
    (Pair(1, dt.date(2020, 1, 2)), [1, "2020-01-02"]),
    (ipaddress.ip_address("10.0.0.1"), "10.0.0.1"),
    (ipaddress.ip_network("10.0.0.0/8"), "10.0.0.0/8"),
    (ipaddress.ip_interface("10.0.0.1/8"), "10.0.0.1/8"),
    (ipaddress.ip_address("::1"), "::1"),
    (ipaddress.ip_network("::/64"), "::/64"),
    (ipaddress.ip_interface("::1/64"), "::1/64"),
    (re.compile(r"^a+$"), "^a+$"),
    ({"when": dt.date(2020, 1, 2), "n": [Decimal("1.25")]}, {"when": "2020-01-02", "n": [1.25]}),
    ({ID: 1, Color.RED: 2, 3: 4}, {"12345678-1234-5678-1234-567812345678": 1, "red": 2, 3: 4}),
    (collections.OrderedDict(a=Decimal("1")), {"a": 1}),
    (Frozen(), {"one": 1}),
    (Point(1, Decimal("0.5")), {"x": 1, "y": 0.5}),
    (Shape("s", [Point(0, Decimal("1"))], frozenset({"t"})),
     {"name": "s", "points": [{"x": 0, "y": 1}], "tags": ["t"]}),
    (Pet(petName="Rex", born=dt.date(2020, 1, 2), weight=Decimal("7.5")),
     {"petName": "Rex", "born": "2020-01-02", "weight": "7.5"}),
    (pydantic_core.PydanticUndefined, None),
    (pydantic.SecretStr("hidden"), "**********"),
    (pydantic.AnyUrl("https://example.com/x"), "https://example.com/x"),
    (pydantic.NameEmail("Ann", "ann@example.com"), "Ann <ann@example.com>"),
    (Plain(), {"a": 1, "when": "08:30:00"}),
    (Pairs(), {"k": 1}),
    (ValueError("bad input"), "bad input"),
]


@pytest.mark.parametrize(("value", "expected"), CASES, ids=[type(v).__name__ for v, _ in CASES])
def test_jsonable_encoder(value: Any, expected: Any) -> None:
    encoded = jsonable_encoder(value)
    assert encoded == expected
    assert type(encoded) is type(expected)


@pytest.mark.parametrize(("value", "expected"), CASES, ids=[type(v).__name__ for v, _ in CASES])
def test_the_response_path_agrees_with_jsonable_encoder(value: Any, expected: Any) -> None:
    """The response's C-encoder path (with its default= hook) sends what the walk returns."""
    assert json_bytes(value) == json.dumps(
        expected, ensure_ascii=False, separators=(",", ":")).encode()


def test_a_generator_is_a_list() -> None:
    def numbers() -> Iterator[Decimal]:
        yield from (Decimal("1"), Decimal("0.5"))

    assert jsonable_encoder(numbers()) == [1, 0.5]
    assert json_bytes(numbers()) == b"[1,0.5]"


def test_dict_keys_json_cannot_write_take_the_slow_path_and_arrive_encoded() -> None:
    body = json_bytes({dt.date(2020, 1, 2): {ID: [Color.RED]}})
    assert body == b'{"2020-01-02":{"12345678-1234-5678-1234-567812345678":["red"]}}'


def test_response_bytes_are_compact_utf8() -> None:
    assert json_bytes({"a": ["é", 1.5, None]}) == '{"a":["é",1.5,null]}'.encode()


@pytest.mark.parametrize("value", [object(), Slotted(), {"nested": [Slotted()]}])
def test_an_unencodable_value_is_a_value_and_type_error(value: Any) -> None:
    with pytest.raises(ValueError, match=r"cannot encode (Slotted|object) as JSON"):
        jsonable_encoder(value)
    with pytest.raises(TypeError, match="dataclass or pydantic model"):
        json_bytes(value)


def test_an_unencodable_value_under_an_unusual_key_is_still_an_error() -> None:
    with pytest.raises(UnencodableError):
        json_bytes({uuid.UUID(int=0): Slotted()})


def test_undecodable_bytes_are_an_error_as_in_fastapi() -> None:
    with pytest.raises(UnicodeDecodeError):
        jsonable_encoder(b"\xff")


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), float("nan")])
def test_nan_is_refused_in_a_response(value: Any) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        json_bytes(value)


def test_the_rule_for_a_type_is_found_again_for_each_value() -> None:
    # Rules are cached per type: a second value of the type must use its own fields.
    assert [jsonable_encoder(Point(n, Decimal(n))) for n in (1, 2)] == [
        {"x": 1, "y": 1}, {"x": 2, "y": 2}]


# -- through a route: what a client receives ------------------------------------------

ROUTES: dict[str, tuple[Any, Any]] = {
    "decimal-fraction": (Decimal("1.5"), 1.5),
    "decimal-whole": (Decimal("2"), 2),
    "timedelta": (dt.timedelta(seconds=3), 3.0),
    "datetime": (WHEN, "2024-05-06T07:08:09.000010+00:00"),
    "nested": ({"items": {Decimal("1")}, "pet": Pet(petName="Rex", born=dt.date(2020, 1, 2),
                                                    weight=Decimal("1"))},
               {"items": [1], "pet": {"petName": "Rex", "born": "2020-01-02", "weight": "1"}}),
    "enum-key": ({Color.RED: dt.timedelta(minutes=1)}, {"red": 60.0}),
}


def test_a_handlers_return_value_is_sent_as_fastapi_sends_it(anyio_backend: str) -> None:
    app = MicroReady()
    for name, (value, _) in ROUTES.items():
        app.get(f"/{name}")(lambda value=value: value)
    client = client_for(app, anyio_backend)
    for name, (_, expected) in ROUTES.items():
        response = client.get(f"/{name}")
        assert response.status_code == 200, (name, response.text)
        assert response.json() == expected, name
    assert client.get("/decimal-whole").content == b"2"
    assert client.get("/decimal-fraction").content == b"1.5"
    assert client.get("/timedelta").content == b"3.0"


def test_an_unencodable_return_value_is_a_500(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/")
    async def broken() -> Any:
        return {"x": Slotted()}

    with client_for(app, anyio_backend, raise_server_exceptions=False) as client:
        response = client.get("/")
    assert response.status_code == 500
