"""The converters on their own: pydantic-v2 lax rules, error types and messages."""

import datetime as dt
import subprocess
import sys
import uuid
from decimal import Decimal
from typing import Annotated, Any, NewType, Union

import pytest

from microready._convert import (
    ConversionError,
    UnsupportedType,
    compile_converter,
    is_body_type,
)
from microready.params import Constraints


def convert(tp: Any, value: Any) -> Any:
    converter = compile_converter(tp)
    return value if converter is None else converter(value)


def errors(tp: Any, value: Any) -> list[dict[str, Any]]:
    with pytest.raises(ConversionError) as info:
        convert(tp, value)
    return info.value.errors


def test_passthrough_types() -> None:
    assert compile_converter(Any) is None
    assert compile_converter(object) is None
    assert compile_converter(Union[int, Any]) is None  # noqa: UP007


def test_unions_prefer_an_exact_type_then_try_in_order() -> None:
    assert convert(int | str, "5") == "5"
    assert convert(int | str, 5) == 5
    assert convert(int | float, "2.5") == 2.5
    assert errors(int | bool, "x") == [
        {"type": "int_parsing", "loc": ("int",),
         "msg": "Input should be a valid integer, unable to parse string as an integer",
         "input": "x"},
        {"type": "bool_parsing", "loc": ("bool",),
         "msg": "Input should be a valid boolean, unable to interpret input", "input": "x"},
    ]


def test_none() -> None:
    assert convert(int | None, None) is None
    assert errors(None, 1)[0]["type"] == "none_required"


def test_containers() -> None:
    assert convert(set[int], ["1", "1", "2"]) == {1, 2}
    assert convert(frozenset[str], ["a"]) == frozenset({"a"})
    assert convert(tuple[int, ...], ["1", 2]) == (1, 2)
    assert convert(tuple[int, str], [1, "x"]) == (1, "x")
    assert errors(tuple[int, str], [1]) == [
        {"type": "missing", "loc": (1,), "msg": "Field required", "input": [1]}
    ]
    assert errors(tuple[int], [1, 2])[0]["msg"] == (
        "Tuple should have at most 1 item after validation, not 2"
    )
    assert errors(list[int], "12")[0]["type"] == "list_type"
    assert errors(dict[str, int], [])[0]["type"] == "dict_type"
    assert errors(set[int], 1)[0]["msg"] == "Input should be a valid set"


def test_scalars_and_their_errors() -> None:
    assert convert(bytes, "é") == "é".encode()
    assert convert(Decimal, "1.10") == Decimal("1.10")
    assert errors(Decimal, "x")[0]["type"] == "decimal_parsing"
    assert convert(float, "inf") == float("inf")
    assert errors(int, None) == [
        {"type": "int_type", "loc": (), "msg": "Input should be a valid integer", "input": None}
    ]
    assert errors(int, "9" * 5000)[0]["type"] == "int_parsing_size"
    assert errors(bool, None)[0] == {
        "type": "bool_type", "loc": (), "msg": "Input should be a valid boolean", "input": None,
    }
    assert errors(uuid.UUID, 5)[0]["type"] == "uuid_type"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("zz", "invalid character: expected an optional prefix of `urn:uuid:` followed by "
               "[0-9a-fA-F-], found `z` at 1"),
        ("1234-5678", "invalid group count: expected 5, found 2"),
        ("12345678-1234-5678-1234-5678", "invalid group length in group 4: expected 12, found 4"),
    ],
)
def test_uuid_messages(text: str, problem: str) -> None:
    assert errors(uuid.UUID, text)[0]["msg"] == f"Input should be a valid UUID, {problem}"


def test_dates_and_times() -> None:
    assert convert(dt.datetime, "2032-04-23T10:20:30.400+02:30") == dt.datetime(
        2032, 4, 23, 10, 20, 30, 400000, tzinfo=dt.timezone(dt.timedelta(hours=2, minutes=30))
    )
    assert convert(dt.datetime, "2032-04-23T10:20:30Z").tzinfo == dt.timezone.utc
    assert convert(dt.datetime, 0) == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    assert convert(dt.date, "2032-04-23") == dt.date(2032, 4, 23)
    assert convert(dt.time, "10:20") == dt.time(10, 20)
    assert errors(dt.datetime, "soon")[0]["type"] == "datetime_from_date_parsing"
    assert errors(dt.date, "2032-04-23T10:00:00")[0]["type"] == "date_from_datetime_inexact"
    assert errors(dt.time, "noon")[0]["type"] == "time_parsing"


def test_newtype_and_annotated_constraints() -> None:
    user_id = NewType("user_id", int)
    assert convert(user_id, "4") == 4

    class Gt:  # an annotated-types-like object: anything with .gt works
        gt = 3

    assert errors(Annotated[int, Gt()], 2)[0]["type"] == "greater_than"
    limited = compile_converter(list[int], Constraints(min_length=2, max_length=3))
    assert limited is not None
    with pytest.raises(ConversionError) as info:
        limited(["1"])
    assert info.value.errors[0] == {
        "type": "too_short", "loc": (),
        "msg": "List should have at least 2 items after validation, not 1",
        "input": ["1"], "ctx": {"field_type": "List", "min_length": 2, "actual_length": 1},
    }
    multiple = compile_converter(int, Constraints(multiple_of=5))
    assert multiple is not None and multiple("10") == 10
    with pytest.raises(ConversionError):
        multiple("11")


def test_unsupported_types() -> None:
    class Opaque:
        pass

    with pytest.raises(UnsupportedType, match="cannot convert values to Opaque"):
        compile_converter(Opaque)


def test_body_type_classification() -> None:
    from dataclasses import dataclass

    @dataclass
    class Rec:
        x: int

    assert is_body_type(Rec) and is_body_type(list[Rec]) and is_body_type(Rec | None)
    assert is_body_type(dict) and is_body_type(dict[str, int]) and is_body_type(list)
    assert not is_body_type(list[str]) and not is_body_type(int) and not is_body_type(str | None)


def test_pydantic_is_never_imported_by_microready() -> None:
    # A fresh interpreter: this test process has imported pydantic for its own tests.
    program = (
        "import sys, dataclasses\n"
        "from microready import MicroReady\n"
        "from microready.testing import TestClient\n"
        "app = MicroReady()\n"
        "@dataclasses.dataclass\n"
        "class Item:\n"
        "    name: str\n"
        "@app.post('/items')\n"
        "async def create(item: Item) -> Item:\n"
        "    return item\n"
        "assert TestClient(app).post('/items', json={'name': 'x'}).json() == {'name': 'x'}\n"
        "print('pydantic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False", result.stderr
