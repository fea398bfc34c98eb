"""Routing: templates, convertors, 404/405, HEAD, redirect_slashes, routers."""

import uuid
from typing import Annotated

import pytest

from microready import Depends, HTMLResponse, MicroReady, Router
from microready.routing import PathTemplate, RouteTable
from microready.testing import TestClient

from .helpers import body_json, call, client_for

# -- path templates -----------------------------------------------------------------


def test_template_parses_names_and_convertors() -> None:
    template = PathTemplate("/users/{user_id:int}/files/{file_path:path}")
    assert template.names == ("user_id", "file_path")
    assert not template.is_static
    assert template.match("/users/7/files/a/b.txt") == {"user_id": 7, "file_path": "a/b.txt"}
    assert template.match("/users/x/files/a") is None
    assert PathTemplate("/items/").is_static


def test_template_float_and_uuid_convertors() -> None:
    value = uuid.uuid4()
    assert PathTemplate("/p/{v:float}").match("/p/1.5") == {"v": 1.5}
    assert PathTemplate("/u/{v:uuid}").match(f"/u/{value}") == {"v": value}
    assert PathTemplate("/u/{v:uuid}").match("/u/not-a-uuid") is None


def test_str_parameter_does_not_cross_slashes() -> None:
    assert PathTemplate("/items/{item_id}").match("/items/a/b") is None
    assert PathTemplate("/files/{p:path}").match("/files/a/b") == {"p": "a/b"}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("items/{id}", "must start with '/'"),
        ("/items/{item id}", "not a valid parameter"),
        ("/items/{id:number}", "unknown convertor 'number'"),
        ("/items/{id}/{id}", "uses the parameter {id} twice"),
        ("/items/{id", "unbalanced brace"),
        ("/items/id}", "unbalanced brace"),
    ],
)
def test_bad_templates_raise_with_the_fix(path: str, message: str) -> None:
    app = MicroReady()
    with pytest.raises(ValueError, match=message):
        app.get(path)(lambda: None)


def test_missing_leading_slash_shows_the_right_call() -> None:
    with pytest.raises(ValueError, match=r"right: @app.get\('/items'\)"):
        MicroReady().get("items")(lambda: None)


def test_decorator_without_path_is_explained() -> None:
    app = MicroReady()
    with pytest.raises(TypeError, match=r"right: @app.get\(\"/items\"\)"):
        app.get(lambda: None)  # type: ignore[arg-type]


def test_methods_must_be_a_list() -> None:
    with pytest.raises(TypeError, match=r"right: methods=\['GET'\]"):
        MicroReady().api_route("/", methods="GET")(lambda: None)


def test_generator_endpoint_with_a_non_streaming_class_is_refused() -> None:
    # A generator path operation streams (tests/app/test_streaming.py); a response
    # class that cannot stream is refused at registration, naming the ones that can.
    def chunks():  # type: ignore[no-untyped-def]
        yield b"x"

    with pytest.raises(TypeError, match="StreamingResponse"):
        MicroReady().get("/", response_class=HTMLResponse)(chunks)


# -- matching -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_static_and_dynamic_routes() -> None:
    app = MicroReady()

    @app.get("/users/me")
    async def me() -> dict[str, str]:
        return {"user_id": "the current user"}

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> dict[str, str]:
        return {"user_id": user_id}

    assert body_json(await call(app, "GET", "/users/me")) == {"user_id": "the current user"}
    assert body_json(await call(app, "GET", "/users/42")) == {"user_id": "42"}


@pytest.mark.anyio
async def test_registration_order_wins_as_in_fastapi() -> None:
    """A dynamic route registered first also wins over a later static one."""
    app = MicroReady()

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> dict[str, str]:
        return {"dynamic": user_id}

    @app.get("/users/me")
    async def me() -> dict[str, str]:
        return {"static": "me"}

    assert body_json(await call(app, "GET", "/users/me")) == {"dynamic": "me"}


@pytest.mark.anyio
async def test_first_of_two_identical_routes_wins() -> None:
    app = MicroReady()

    @app.get("/users")
    async def first() -> list[str]:
        return ["Rick", "Morty"]

    @app.get("/users")
    async def second() -> list[str]:
        return ["Bean", "Elfo"]

    assert body_json(await call(app, "GET", "/users")) == ["Rick", "Morty"]


@pytest.mark.anyio
async def test_same_path_different_methods() -> None:
    app = MicroReady()

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> str:
        return "read"

    @app.delete("/items/{item_id}")
    async def delete(item_id: int) -> str:
        return "deleted"

    @app.api_route("/both", methods=["put", "PATCH"])
    async def both() -> str:
        return "both"

    assert body_json(await call(app, "DELETE", "/items/1")) == "deleted"
    assert body_json(await call(app, "GET", "/items/1")) == "read"
    assert body_json(await call(app, "PUT", "/both")) == "both"
    assert body_json(await call(app, "PATCH", "/both")) == "both"


@pytest.mark.anyio
async def test_unknown_path_is_404() -> None:
    app = MicroReady()

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> None: ...

    for target in ("/nothing", "/items/1/more", "/"):
        reply = await call(app, "GET", target)
        assert reply.response.status_code == 404
        assert body_json(reply) == {"detail": "Not Found"}
        assert reply.error is None


@pytest.mark.anyio
async def test_wrong_method_is_405_with_allow_listing_every_method() -> None:
    app = MicroReady()

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> None: ...

    @app.put("/items/{item_id}")
    async def put(item_id: int) -> None: ...

    @app.post("/static")
    async def post() -> None: ...

    reply = await call(app, "DELETE", "/items/1")
    assert reply.response.status_code == 405
    assert body_json(reply) == {"detail": "Method Not Allowed"}
    assert reply.response.headers["allow"] == "GET, HEAD, PUT"
    reply = await call(app, "GET", "/static")
    assert (reply.response.status_code, reply.response.headers["allow"]) == (405, "POST")


def test_head_is_served_by_get_routes(anyio_backend: str) -> None:
    app = MicroReady()
    calls: list[str] = []

    @app.get("/items")
    async def items() -> dict[str, int]:
        calls.append("get")
        return {"count": 3}

    with client_for(app, anyio_backend) as client:
        response = client.head("/items")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"count":3}'))
    assert calls == ["get"]


@pytest.mark.anyio
async def test_explicit_head_and_options_routes() -> None:
    app = MicroReady()

    @app.head("/h")
    async def head() -> None: ...

    @app.options("/o")
    async def options() -> dict[str, str]:
        return {"allow": "GET"}

    assert (await call(app, "HEAD", "/h")).response.status_code == 200
    assert (await call(app, "GET", "/h")).response.status_code == 405
    assert body_json(await call(app, "OPTIONS", "/o")) == {"allow": "GET"}
    assert (await call(app, "OPTIONS", "/h")).response.status_code == 405


@pytest.mark.anyio
async def test_trailing_slash_redirects_keep_the_query() -> None:
    app = MicroReady()

    @app.get("/items/")
    async def items() -> str:
        return "items"

    @app.get("/things")
    async def things() -> str:
        return "things"

    # Absolute, as Starlette sends it: the scheme and the Host, then the path and query.
    reply = await call(app, "GET", "/items?q=1")
    assert reply.response.status_code == 307
    assert reply.response.headers["location"] == "http://testserver/items/?q=1"
    reply = await call(app, "GET", "/things/")
    assert (reply.response.status_code, reply.response.headers["location"]) == (
        307, "http://testserver/things")


def test_a_trailing_slash_redirect_keeps_https() -> None:
    # Over TLS, or behind a trusted proxy that says https, the redirect must not
    # send the client back to plain http (Starlette builds it from the scope too).
    app = MicroReady()

    @app.get("/items/")
    async def items() -> str:
        return "items"

    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/items", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        307, "https://testserver/items/")


@pytest.mark.anyio
async def test_redirect_slashes_can_be_turned_off() -> None:
    app = MicroReady(redirect_slashes=False)

    @app.get("/items/")
    async def items() -> None: ...

    assert (await call(app, "GET", "/items")).response.status_code == 404


@pytest.mark.anyio
async def test_percent_encoded_paths_are_matched_decoded() -> None:
    app = MicroReady()

    @app.get("/files/{file_path:path}")
    async def read_file(file_path: str) -> dict[str, str]:
        return {"file_path": file_path}

    reply = await call(app, "GET", "/files/home/johndoe/my%20file.txt")
    assert body_json(reply) == {"file_path": "home/johndoe/my file.txt"}


@pytest.mark.anyio
async def test_path_convertor_value_reaches_the_handler_and_request() -> None:
    app = MicroReady()
    seen = {}

    @app.get("/users/{user_id:int}")
    async def user(user_id: int) -> int:
        seen["type"] = type(user_id)
        return user_id

    assert body_json(await call(app, "GET", "/users/12")) == 12
    assert seen["type"] is int
    assert (await call(app, "GET", "/users/abc")).response.status_code == 404


def test_static_lookup_is_a_dict_hit() -> None:
    app = MicroReady()
    for n in range(50):
        app.get(f"/static/{n}")(lambda: None)
    app.get("/dyn/{x}")(lambda x: None)
    table = RouteTable(app.routes)
    assert "/static/49" in table.static
    assert len(table.dynamic) == 1
    route, params, other = table.find("GET", "/static/7")
    assert route is not None and route.path == "/static/7" and params == {} and other == ()


# -- routers ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_include_router_with_prefixes_and_dependencies() -> None:
    order: list[str] = []

    def app_dep() -> None:
        order.append("app")

    def router_dep() -> None:
        order.append("router")

    def include_dep() -> None:
        order.append("include")

    def route_dep() -> None:
        order.append("route")

    app = MicroReady(dependencies=[Depends(app_dep)])
    router = Router(prefix="/items", dependencies=[Depends(router_dep)])

    @router.get("/{item_id}", dependencies=[Depends(route_dep)])
    async def read(item_id: int) -> dict[str, int]:
        order.append("endpoint")
        return {"item_id": item_id}

    @router.get("")
    async def index() -> str:
        return "index"

    app.include_router(router, prefix="/v1", dependencies=[Depends(include_dep)])
    assert body_json(await call(app, "GET", "/v1/items/5")) == {"item_id": 5}
    assert order == ["app", "include", "router", "route", "endpoint"]
    assert body_json(await call(app, "GET", "/v1/items")) == "index"
    assert app.router is app
    assert [r.path for r in app.routes] == ["/v1/items/{item_id}", "/v1/items"]


@pytest.mark.anyio
async def test_nested_routers() -> None:
    inner = Router(prefix="/inner")

    @inner.get("/{name}")
    async def hello(name: str) -> str:
        return f"hello {name}"

    outer = Router(prefix="/outer")
    outer.include_router(inner)
    app = MicroReady()
    app.include_router(outer)
    assert body_json(await call(app, "GET", "/outer/inner/bob")) == "hello bob"


@pytest.mark.anyio
async def test_routes_added_after_the_first_request_are_found() -> None:
    app = MicroReady()
    assert (await call(app, "GET", "/late")).response.status_code == 404

    @app.get("/late")
    async def late() -> str:
        return "here"

    assert body_json(await call(app, "GET", "/late")) == "here"


@pytest.mark.anyio
async def test_router_prefix_parameters_are_path_parameters() -> None:
    router = Router(prefix="/users/{user_id}")

    @router.get("/items/{item_id}")
    async def item(user_id: int, item_id: int) -> list[int]:
        return [user_id, item_id]

    app = MicroReady()
    app.include_router(router)
    assert body_json(await call(app, "GET", "/users/1/items/2")) == [1, 2]


@pytest.mark.parametrize("prefix", ["items", "/items/"])
def test_bad_router_prefix(prefix: str) -> None:
    with pytest.raises(ValueError, match="right: prefix='/items'"):
        Router(prefix=prefix)


def test_dependencies_must_be_wrapped_in_depends() -> None:
    def verify_token() -> None: ...

    with pytest.raises(TypeError, match=r"right: dependencies=\[Depends\(verify_token\)\]"):
        MicroReady().get("/", dependencies=[verify_token])(lambda: None)
    with pytest.raises(TypeError, match="takes a list"):
        Router(dependencies=Depends(verify_token))


def test_include_router_needs_a_router() -> None:
    with pytest.raises(TypeError, match="takes a Router"):
        MicroReady().include_router(object())  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_route_metadata_is_accepted_and_kept() -> None:
    app = MicroReady()
    router = Router(tags=["items"])

    @router.get("/", summary="List", description="All items", tags=["list"],
                include_in_schema=False, deprecated=True, name="list_items")
    async def index() -> list[int]:
        return []

    app.include_router(router, tags=["v1"])
    route = app.routes[0]
    assert route.name == "list_items"
    assert route.metadata["tags"] == ["v1", "items", "list"]
    assert route.metadata["summary"] == "List"


@pytest.mark.anyio
async def test_annotated_dependency_on_router_route() -> None:
    router = Router()

    async def user() -> str:
        return "rick"

    @router.get("/me")
    async def me(name: Annotated[str, Depends(user)]) -> str:
        return name

    app = MicroReady()
    app.include_router(router)
    assert body_json(await call(app, "GET", "/me")) == "rick"
