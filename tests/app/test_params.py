"""Parameters read from the signature: path, query, header, cookie; conversions and 422s."""

import enum
import uuid
from typing import Annotated, Any, Literal

import pytest

from microready import Cookie, Header, MicroReady, Path, Query, Request
from microready._inject import Mode

from .helpers import body_json, call

pytestmark = pytest.mark.anyio

INT_MSG = "Input should be a valid integer, unable to parse string as an integer"


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def echo_app(handler: Any, path: str = "/") -> MicroReady:
    app = MicroReady()
    app.get(path)(handler)
    return app


async def test_scalars_from_the_query_string() -> None:
    async def handler(s: str, i: int, f: float, b: bool, c: Color, lv: Level,
                      u: uuid.UUID) -> dict[str, Any]:
        return {"s": s, "i": i, "f": f, "b": b, "c": c, "lv": lv, "u": u,
                "types": [type(v).__name__ for v in (s, i, f, b, c, lv, u)]}

    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    reply = await call(echo_app(handler), "GET",
                       f"/?s=x&i=-3&f=2.5&b=yes&c=green&lv=2&u={value}")
    assert body_json(reply) == {
        "s": "x", "i": -3, "f": 2.5, "b": True, "c": "green", "lv": 2, "u": str(value),
        "types": ["str", "int", "float", "bool", "Color", "Level", "UUID"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("True", True), ("true", True), ("on", True), ("yes", True), ("y", True),
     ("t", True), ("0", False), ("False", False), ("off", False), ("no", False), ("n", False),
     ("f", False)],
)
async def test_fastapi_bool_spellings(text: str, expected: bool) -> None:
    async def handler(short: bool = False) -> bool:
        return short

    assert body_json(await call(echo_app(handler), "GET", f"/?short={text}")) is expected


async def test_bad_bool() -> None:
    async def handler(short: bool = False) -> bool:
        return short

    assert body_json(await call(echo_app(handler), "GET", "/?short=maybe")) == {"detail": [{
        "type": "bool_parsing", "loc": ["query", "short"],
        "msg": "Input should be a valid boolean, unable to interpret input", "input": "maybe",
    }]}


@pytest.mark.parametrize(
    ("text", "value"), [("3", 3), (" 7 ", 7), ("+4", 4), ("-2", -2), ("1_000", 1000), ("5.0", 5)]
)
async def test_int_spellings(text: str, value: int) -> None:
    async def handler(n: int) -> int:
        return n

    assert body_json(await call(echo_app(handler), "GET", f"/?n={text}")) == value


@pytest.mark.parametrize("text", ["abc", "", "1.5", "1e3", "1__0"])
async def test_int_parsing_errors(text: str) -> None:
    async def handler(n: int) -> int:
        return n

    reply = await call(echo_app(handler), "GET", f"/?n={text}")
    assert reply.response.status_code == 422
    assert body_json(reply)["detail"] == [
        {"type": "int_parsing", "loc": ["query", "n"], "msg": INT_MSG, "input": text}
    ]


async def test_non_ascii_digits_are_not_an_int() -> None:
    async def handler(n: int) -> int:
        return n

    reply = await call(echo_app(handler), "GET", "/?n=%D9%A1%D9%A2")  # Arabic-Indic 12
    assert body_json(reply)["detail"][0]["input"] == "\u0661\u0662"
    assert body_json(reply)["detail"][0]["type"] == "int_parsing"


async def test_every_failing_parameter_is_listed_at_once() -> None:
    async def handler(item_id: int, needy: str, skip: int = 0, limit: int | None = None) -> None:
        ...

    app = echo_app(handler, "/items/{item_id}")
    reply = await call(app, "GET", "/items/foo?skip=a&limit=b")
    assert reply.response.status_code == 422
    assert body_json(reply) == {"detail": [
        {"type": "int_parsing", "loc": ["path", "item_id"], "msg": INT_MSG, "input": "foo"},
        {"type": "missing", "loc": ["query", "needy"], "msg": "Field required", "input": None},
        {"type": "int_parsing", "loc": ["query", "skip"], "msg": INT_MSG, "input": "a"},
        {"type": "int_parsing", "loc": ["query", "limit"], "msg": INT_MSG, "input": "b"},
    ]}


async def test_float_enum_uuid_errors() -> None:
    async def handler(f: float = 0, c: Color = Color.RED,
                      u: uuid.UUID | None = None) -> None: ...

    reply = await call(echo_app(handler), "GET", "/?f=x&c=blue&u=123")
    assert body_json(reply)["detail"] == [
        {"type": "float_parsing", "loc": ["query", "f"],
         "msg": "Input should be a valid number, unable to parse string as a number", "input": "x"},
        {"type": "enum", "loc": ["query", "c"], "msg": "Input should be 'red' or 'green'",
         "input": "blue", "ctx": {"expected": "'red' or 'green'"}},
        {"type": "uuid_parsing", "loc": ["query", "u"],
         "msg": "Input should be a valid UUID, invalid length: expected length 32 for simple "
                "format, found 3",
         "input": "123",
         "ctx": {"error": "invalid length: expected length 32 for simple format, found 3"}},
    ]


async def test_literal() -> None:
    async def handler(order: Literal["asc", "desc"] = "asc", n: Literal[1, 2] = 1) -> list[Any]:
        return [order, n]

    app = echo_app(handler)
    assert body_json(await call(app, "GET", "/?order=desc&n=2")) == ["desc", 2]
    assert body_json(await call(app, "GET", "/?order=up"))["detail"] == [{
        "type": "literal_error", "loc": ["query", "order"],
        "msg": "Input should be 'asc' or 'desc'", "input": "up",
        "ctx": {"expected": "'asc' or 'desc'"},
    }]


async def test_defaults_and_optional() -> None:
    async def handler(q: str | None = None, limit: int = 10, flag: bool | None = None) -> list[Any]:
        return [q, limit, flag]

    app = echo_app(handler)
    assert body_json(await call(app, "GET", "/")) == [None, 10, None]
    assert body_json(await call(app, "GET", "/?q=&limit=3&flag=0")) == ["", 3, False]


async def test_optional_without_default_is_required() -> None:
    async def handler(q: str | None) -> str | None:
        return q

    reply = await call(echo_app(handler), "GET", "/")
    assert body_json(reply)["detail"][0]["type"] == "missing"


async def test_unannotated_parameter_is_a_string_query() -> None:
    async def handler(q, n=5):  # type: ignore[no-untyped-def]
        return [q, n]

    assert body_json(await call(echo_app(handler), "GET", "/?q=a")) == ["a", 5]


async def test_repeated_keys_make_a_list() -> None:
    async def handler(q: Annotated[list[str] | None, Query()] = None,
                      n: list[int] = Query(default=[])) -> list[Any]:  # noqa: B008
        return [q, n]

    app = echo_app(handler)
    assert body_json(await call(app, "GET", "/?q=foo&q=bar&n=1&n=2")) == [["foo", "bar"], [1, 2]]
    assert body_json(await call(app, "GET", "/")) == [None, []]
    assert body_json(await call(app, "GET", "/?n=1&n=x&n=y"))["detail"] == [
        {"type": "int_parsing", "loc": ["query", "n", 1], "msg": INT_MSG, "input": "x"},
        {"type": "int_parsing", "loc": ["query", "n", 2], "msg": INT_MSG, "input": "y"},
    ]


async def test_bare_list_of_scalars_is_a_query_list() -> None:
    async def handler(tag: list[str]) -> list[str]:
        return tag

    app = echo_app(handler)
    assert body_json(await call(app, "GET", "/?tag=a&tag=b")) == ["a", "b"]
    assert body_json(await call(app, "GET", "/"))["detail"][0]["loc"] == ["query", "tag"]


async def test_mutable_defaults_are_copied_per_request() -> None:
    async def handler(q: list[str] = Query(["foo", "bar"])) -> list[str]:  # noqa: B008
        q.append("mutated")
        return q

    app = echo_app(handler)
    assert body_json(await call(app, "GET", "/")) == ["foo", "bar", "mutated"]
    assert body_json(await call(app, "GET", "/")) == ["foo", "bar", "mutated"]


async def test_default_factory() -> None:
    async def handler(q: Annotated[list[str], Query(default_factory=list)]) -> list[str]:
        return q

    assert body_json(await call(echo_app(handler), "GET", "/")) == []


async def test_query_alias_and_annotated_marker() -> None:
    async def handler(
        item_query: Annotated[str | None, Query(alias="item-query")] = None,
        q: str = Query("fixed", alias="Q"),
    ) -> list[Any]:
        return [item_query, q]

    app = echo_app(handler)
    assert body_json(await call(app, "GET", "/?item-query=x&Q=y")) == ["x", "y"]
    assert body_json(await call(app, "GET", "/?item_query=x&q=y")) == [None, "fixed"]


async def test_string_and_number_constraints() -> None:
    async def handler(
        q: Annotated[str | None, Query(min_length=3, max_length=5, pattern="^fix")] = None,
        size: Annotated[float, Query(gt=0, lt=10.5)] = 1,
        page: Annotated[int, Query(ge=1, le=100)] = 1,
    ) -> list[Any]:
        return [q, size, page]

    app = echo_app(handler)
    assert body_json(await call(app, "GET", "/?q=fixed&size=2&page=100")) == ["fixed", 2.0, 100]
    reply = await call(app, "GET", "/?q=fi&size=0&page=0")
    assert body_json(reply)["detail"] == [
        {"type": "string_too_short", "loc": ["query", "q"],
         "msg": "String should have at least 3 characters", "input": "fi",
         "ctx": {"min_length": 3}},
        {"type": "greater_than", "loc": ["query", "size"], "msg": "Input should be greater than 0",
         "input": "0", "ctx": {"gt": 0}},
        {"type": "greater_than_equal", "loc": ["query", "page"],
         "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}},
    ]
    reply = await call(app, "GET", "/?q=nofix&size=11&page=101")
    assert [e["type"] for e in body_json(reply)["detail"]] == [
        "string_pattern_mismatch", "less_than", "less_than_equal"
    ]
    assert body_json(reply)["detail"][0]["msg"] == "String should match pattern '^fix'"
    reply = await call(app, "GET", "/?q=fixedlong")
    assert body_json(reply)["detail"][0]["msg"] == "String should have at most 5 characters"


async def test_path_constraints_with_path_marker() -> None:
    async def handler(item_id: Annotated[int, Path(title="The ID", ge=1)], q: str = "") -> int:
        return item_id

    app = echo_app(handler, "/items/{item_id}")
    assert body_json(await call(app, "GET", "/items/5")) == 5
    assert body_json(await call(app, "GET", "/items/0"))["detail"][0]["type"] == (
        "greater_than_equal"
    )


async def test_headers_underscores_case_and_lists() -> None:
    async def handler(
        user_agent: Annotated[str | None, Header()] = None,
        x_token: Annotated[list[str] | None, Header()] = None,
        strange_header: Annotated[str | None, Header(convert_underscores=False)] = None,
        custom: Annotated[str | None, Header(alias="X-Custom")] = None,
        count: Annotated[int, Header()] = 0,
    ) -> list[Any]:
        return [user_agent, x_token, strange_header, custom, count]

    app = echo_app(handler)
    reply = await call(app, "GET", "/", headers=[
        ("User-Agent", "tester"), ("X-Token", "foo"), ("x-token", "bar"),
        ("strange_header", "s"), ("x-custom", "c"), ("Count", "4"),
    ])
    assert body_json(reply) == ["tester", ["foo", "bar"], "s", "c", 4]
    reply = await call(app, "GET", "/", headers=[("count", "many")])
    assert body_json(reply)["detail"] == [
        {"type": "int_parsing", "loc": ["header", "count"], "msg": INT_MSG, "input": "many"}
    ]


async def test_required_header_reports_its_hyphenated_name() -> None:
    async def handler(x_token: str = Header()) -> str:
        return x_token

    assert body_json(await call(echo_app(handler), "GET", "/")) == {"detail": [
        {"type": "missing", "loc": ["header", "x-token"], "msg": "Field required", "input": None}
    ]}


async def test_cookies() -> None:
    async def handler(ads_id: Annotated[str | None, Cookie()] = None,
                      visits: int = Cookie(0)) -> list[Any]:
        return [ads_id, visits]

    app = echo_app(handler)
    reply = await call(app, "GET", "/", headers=[("cookie", "ads_id=abc; visits=3")])
    assert body_json(reply) == ["abc", 3]
    assert body_json(await call(app, "GET", "/")) == [None, 0]


async def test_request_is_injected_plain_annotated_and_subclassed() -> None:
    class MyRequest(Request):
        pass

    async def handler(request: Request, other: Annotated[Request, "doc"],
                      sub: MyRequest) -> bool:
        return request is other is sub

    assert body_json(await call(echo_app(handler), "GET", "/")) is True


def test_plans_pick_the_cheapest_mode() -> None:
    app = MicroReady()

    @app.get("/a")
    async def none() -> None: ...

    @app.get("/b/{x}")
    async def simple(x: int, request: Request, q: str = "") -> None: ...

    @app.get("/c")
    async def full(q: str = Query("")) -> None: ...

    modes = [route.plan.mode for route in app.routes]
    assert modes == [Mode.NO_PARAMS, Mode.SIMPLE, Mode.SIMPLE]


# -- configuration errors ---------------------------------------------------------------


def test_marker_in_annotated_and_default_is_refused() -> None:
    def handler(q: Annotated[str, Query()] = Query("x")) -> None: ...

    with pytest.raises(TypeError, match="keep one"):
        MicroReady().get("/")(handler)


def test_default_inside_annotated_marker_is_refused() -> None:
    def handler(q: Annotated[str, Query("x")]) -> None: ...

    with pytest.raises(TypeError, match=r"right: q: Annotated\[\.\.\., Query\(\)\] = 'x'"):
        MicroReady().get("/")(handler)


def test_path_marker_without_path_parameter() -> None:
    def handler(item_id: int = Path()) -> None: ...

    with pytest.raises(TypeError, match=r"has no \{item_id\}"):
        MicroReady().get("/items")(handler)


def test_query_marker_on_a_path_name() -> None:
    def handler(item_id: int = Query()) -> None: ...

    with pytest.raises(TypeError, match=r"right: item_id: Annotated\[\.\.\., Path\(\)\]"):
        MicroReady().get("/items/{item_id}")(handler)


def test_unsupported_type_names_the_parameter() -> None:
    class Opaque:
        pass

    def handler(thing: Opaque) -> None: ...

    with pytest.raises(TypeError, match=r"parameter 'thing' of .*handler.*cannot convert"):
        MicroReady().get("/")(handler)


def test_positional_only_parameter_is_refused() -> None:
    def handler(q: str, /) -> None: ...

    with pytest.raises(TypeError, match="positional-only"):
        MicroReady().get("/")(handler)


def test_unresolvable_annotation_is_explained() -> None:
    def handler(q: "NoSuchType") -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError, match="cannot resolve the annotations"):
        MicroReady().get("/")(handler)


def test_mapping_in_the_query_is_refused() -> None:
    # A record is a parameter model (tests/app/test_param_models.py); a mapping has no
    # fields to read from the query string.
    def handler(filters: dict[str, str] = Query()) -> None: ...  # noqa: B008

    with pytest.raises(TypeError, match="cannot be read from the query"):
        MicroReady().get("/")(handler)
