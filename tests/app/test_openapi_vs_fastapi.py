"""microready's OpenAPI document against FastAPI 0.165's, for the same app code.

Each app below is written once, as a function of the framework's names
(``names("fastapi")`` or ``names("microready")``: only the imports differ), built
on both frameworks, and the two ``app.openapi()`` documents must be equal key
for key; every document must also be a valid OpenAPI 3.1 document
(``openapi-spec-validator``). The README's example and
``examples/notifications_with_dependencies.py`` run from their own source, with
their import line rewritten for FastAPI.
"""

import dataclasses
import decimal
import enum
import json
import pathlib
import types
import uuid
from collections.abc import AsyncIterable, Callable, Iterator
from typing import Annotated, Any, Literal

import pydantic
import pytest
from typing_extensions import TypedDict

fastapi = pytest.importorskip("fastapi")
openapi_spec_validator = pytest.importorskip("openapi_spec_validator")

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def names(kind: str) -> types.SimpleNamespace:
    """The names an app uses, from FastAPI or from microready."""
    if kind == "fastapi":
        import fastapi.responses as responses
        import fastapi.security as security
        import fastapi.sse as sse

        module: Any = fastapi
        app_class = fastapi.FastAPI
        router_class = fastapi.APIRouter
    else:
        import microready
        import microready.responses as responses  # type: ignore[no-redef]
        import microready.security as security  # type: ignore[no-redef]
        import microready.sse as sse  # type: ignore[no-redef]

        module = microready
        app_class = microready.MicroReady
        router_class = microready.Router
    shared = (
        "Query",
        "Path",
        "Header",
        "Cookie",
        "Body",
        "Form",
        "File",
        "UploadFile",
        "Depends",
        "Security",
        "BackgroundTasks",
    )
    return types.SimpleNamespace(
        App=app_class,
        Router=router_class,
        security=security,
        HTMLResponse=responses.HTMLResponse,
        PlainTextResponse=responses.PlainTextResponse,
        EventSourceResponse=sse.EventSourceResponse,
        ServerSentEvent=sse.ServerSentEvent,
        **{name: getattr(module, name) for name in shared},
    )


class Item(pydantic.BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None


class User(pydantic.BaseModel):
    username: str
    full_name: str | None = None


class Color(str, enum.Enum):
    red = "red"
    blue = "blue"


def params_app(fw):
    app = fw.App()

    @app.get("/items/{item_id}")
    async def read_item(
        item_id: Annotated[int, fw.Path(ge=1, le=1000, title="The ID", description="the id")],
        q: Annotated[str | None, fw.Query(max_length=50, min_length=3, pattern="^f")] = None,
        size: Annotated[float, fw.Query(gt=0, lt=10.5)] = 1.0,
        tags: Annotated[list[str], fw.Query()] = [],  # noqa: B006
        short: bool = False,
        color: Color = Color.red,
        mode: Literal["a", "b"] = "a",
        user_agent: Annotated[str | None, fw.Header()] = None,
        x_token: Annotated[list[str] | None, fw.Header(convert_underscores=False)] = None,
        session: Annotated[str | None, fw.Cookie()] = None,
        item_query: Annotated[str | None, fw.Query(alias="item-query", deprecated=True)] = None,
        hidden: Annotated[str | None, fw.Query(include_in_schema=False)] = None,
        ex: Annotated[
            int | None,
            fw.Query(examples=[1, 2], openapi_examples={"one": {"summary": "One", "value": 1}}),
        ] = None,
    ):
        """Read an item.

        More text.
        \f
        Not shown.
        """
        return {}

    @app.get("/plain")
    def plain():
        return "x"

    return app


def body_app(fw):
    app = fw.App()

    @app.post("/items/")
    async def create_item(item: Item) -> Item:
        return item

    @app.put("/items/{item_id}")
    async def update_item(
        item_id: int, item: Item, user: User, importance: Annotated[int, fw.Body(gt=0)]
    ):
        return {}

    @app.post("/embed")
    async def embed(item: Annotated[Item, fw.Body(embed=True)]):
        return {}

    @app.post("/optional")
    async def optional(item: Item | None = None):
        return {}

    @app.post("/list")
    async def many(items: list[Item]) -> list[Item]:
        return items

    return app


class Filters(pydantic.BaseModel):
    model_config = {"extra": "forbid"}
    limit: int = pydantic.Field(100, gt=0, le=100)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


class FormData(pydantic.BaseModel):
    username: str
    password: str


def forms_app(fw):
    app = fw.App()

    @app.get("/items/")
    async def read_items(
        filters: Annotated[Filters, fw.Query()], h: Annotated[Filters, fw.Header()]
    ):
        return {}

    @app.post("/login/")
    async def login(
        username: Annotated[str, fw.Form()], password: Annotated[str, fw.Form(min_length=3)]
    ):
        return {}

    @app.post("/model-login/")
    async def model_login(data: Annotated[FormData, fw.Form()]):
        return {}

    @app.post("/files/")
    async def create_file(
        file: Annotated[bytes, fw.File(description="A file")], token: Annotated[str, fw.Form()]
    ):
        return {}

    @app.post("/uploadfiles/")
    async def create_upload_files(files: list[fw.UploadFile], other: fw.UploadFile | None = None):
        return {}

    return app


def security_app(fw):
    s = fw.security
    app = fw.App()
    oauth2 = s.OAuth2PasswordBearer(
        tokenUrl="token", scopes={"me": "Read me", "items": "Read items"}
    )
    basic = s.HTTPBasic()
    key = s.APIKeyHeader(name="X-Key", scheme_name="TheKey", description="key")
    bearer = s.HTTPBearer(bearerFormat="JWT")

    def get_user(scopes: s.SecurityScopes, token: Annotated[str, fw.Depends(oauth2)]):
        return token

    def get_active(user: Annotated[str, fw.Security(get_user, scopes=["me"])]):
        return user

    @app.get("/me")
    async def me(user: Annotated[str, fw.Security(get_active, scopes=["items"])]):
        return {}

    @app.get("/basic", dependencies=[fw.Depends(basic)])
    async def b():
        return {}

    @app.get("/key")
    async def k(key: Annotated[str, fw.Depends(key)], b: Annotated[object, fw.Depends(bearer)]):
        return {}

    @app.post("/token")
    async def token(form: Annotated[s.OAuth2PasswordRequestForm, fw.Depends()]):
        return {}

    return app


def meta_app(fw):
    app = fw.App(
        title="T",
        description="D",
        version="2",
        summary="S",
        terms_of_service="http://x",
        contact={"name": "c", "email": "a@b.c"},
        license_info={"name": "MIT", "identifier": "MIT"},
        openapi_tags=[{"name": "items", "description": "I"}],
        servers=[{"url": "/api"}],
    )
    router = fw.Router(prefix="/r", tags=["items"], responses={404: {"description": "Not found"}})

    @router.get(
        "/a",
        tags=["x"],
        summary="Sum",
        description="Desc",
        response_description="Resp",
        deprecated=True,
        operation_id="opA",
        status_code=201,
        responses={
            403: {"description": "No"},
            400: {"model": User},
            "default": {"description": "d"},
        },
    )
    async def a() -> Item:
        return Item(name="x", price=1)

    @router.get("/hidden", include_in_schema=False)
    async def hidden():
        return {}

    @router.delete("/d", status_code=204)
    async def d() -> None:
        return None

    @router.get("/html", response_class=fw.HTMLResponse)
    async def html():
        return "x"

    @router.post(
        "/extra", openapi_extra={"x-aperture": "on", "responses": {"200": {"description": "over"}}}
    )
    async def extra(q: int):
        return {}

    app.include_router(router, prefix="/v1", tags=["v1"])
    old = fw.Router()

    @old.get("/old")
    async def old_one(q: int = 1):
        return {}

    @old.get("/gone", include_in_schema=True)
    async def gone():
        return {}

    app.include_router(old, prefix="/old", deprecated=True, responses={418: {}})
    app.include_router(old, prefix="/hidden", include_in_schema=False)
    return app


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Movie(TypedDict):
    title: str
    year: int


def paths_app(fw):
    app = fw.App()

    @app.get("/users/{user_id:int}")
    async def read_user(user_id: int):
        return {}

    @app.get("/files/{file_path:path}")
    async def read_file(file_path: str):
        return {}

    @app.get("/things/{thing_id}")
    async def read_thing(thing_id: uuid.UUID, when: Annotated[float | None, fw.Query()] = None):
        return {}

    return app


def responses_app(fw):
    app = fw.App()

    @app.get("/users", response_model=list[User])
    async def users():
        return []

    @app.get("/raw", response_model=None)
    async def raw() -> dict[str, int]:
        return {}

    @app.post(
        "/created",
        status_code=201,
        responses={404: {"model": User, "description": "Missing"}, "4XX": {"description": "bad"}},
    )
    async def created(q: int) -> dict[str, int]:
        return {}

    @app.get("/text", response_class=fw.PlainTextResponse)
    async def text():
        return "x"

    @app.get("/point")
    async def point() -> Point:
        return Point(1)

    @app.get("/anything")
    async def anything() -> Any:  # a model of Any: {"title": ...}, not {}
        return {}

    return app


def streaming_app(fw):
    app = fw.App()

    @app.get("/gen")
    async def gen():
        yield {"a": 1}

    # The return annotation describes the items, for JSON Lines and for events.
    @app.get("/items")
    async def items() -> AsyncIterable[Item]:
        yield Item(name="a", price=1)

    @app.get("/item-names")
    def item_names() -> Iterator[str]:
        yield "a"

    @app.get("/events", response_class=fw.EventSourceResponse)
    async def events() -> AsyncIterable[User]:
        yield User(username="a")

    @app.get("/raw-events", response_class=fw.EventSourceResponse)
    async def raw_events() -> AsyncIterable[fw.ServerSentEvent]:
        yield fw.ServerSentEvent(data="x")

    return app


class InvoiceEvent(pydantic.BaseModel):
    description: str
    paid: bool


class InvoiceEventReceived(pydantic.BaseModel):
    ok: bool


def callbacks_app(fw):
    """FastAPI's "OpenAPI Callbacks" page: the callback's path is an OpenAPI runtime
    expression, "{$callback_url}/invoices/{$request.body.id}", kept as text."""
    app = fw.App()
    invoices_callback_router = fw.Router()

    @invoices_callback_router.post(
        "{$callback_url}/invoices/{$request.body.id}", response_model=InvoiceEventReceived
    )
    def invoice_notification(body: InvoiceEvent):
        pass

    @app.post("/invoices/", callbacks=invoices_callback_router.routes)
    def create_invoice(item: Item, callback_url: str | None = None):
        return {"msg": "Invoice received"}

    # callbacks= on a router, and on include_router, reach the router's routes too
    # (each its own callback: one shared by two operations repeats its operationId)
    receipts_callback_router = fw.Router()

    @receipts_callback_router.put("/receipts/{receipt_id}", status_code=204)
    def receipt_notification(receipt_id: int):
        pass

    refunds_callback_router = fw.Router()

    @refunds_callback_router.post("/refunds")
    def refund_notification(event: InvoiceEvent, amount: Annotated[float, fw.Body()]):
        pass

    router = fw.Router(callbacks=receipts_callback_router.routes)

    @router.get("/receipts")
    def receipts():
        return []

    app.include_router(router, prefix="/r", callbacks=refunds_callback_router.routes)
    return app


def deps_app(fw):
    app = fw.App()

    async def common(q: str | None = None, skip: int = 0, limit: int = 100):
        return {}

    class Pager:
        def __init__(self, page: int = 1, size: Annotated[int, fw.Query(le=50)] = 10):
            pass

    async def verify(x_token: Annotated[str, fw.Header()]):
        return x_token

    router = fw.Router(prefix="/r", dependencies=[fw.Depends(verify)])

    @router.get("/items")
    async def items(
        c: Annotated[dict, fw.Depends(common)],
        again: Annotated[dict, fw.Depends(common)],
        p: Annotated[Pager, fw.Depends()],
        q: str,
    ):
        return {}

    app.include_router(router)
    return app


def records_app(fw):
    app = fw.App()

    @app.post("/points")
    async def points(point: Point, movie: Movie):
        return {}

    @app.post("/movie")
    async def movie(movie: Movie) -> Movie:
        return movie

    @app.post("/examples")
    async def examples(
        item: Annotated[
            Item,
            fw.Body(
                openapi_examples={
                    "normal": {"summary": "A normal item", "value": {"name": "Foo", "price": 1}}
                }
            ),
        ],
    ):
        return {}

    @app.post("/scalar")
    async def scalar(n: Annotated[int, fw.Body(ge=2, description="count")] = 3):
        return {}

    return app


def ids_app(fw):
    def custom(route):
        return f"{route.tags[0]}-{route.name}"

    app = fw.App(separate_input_output_schemas=False)
    router = fw.Router(tags=["things"], generate_unique_id_function=custom)

    @router.post("/things")
    async def make_thing(item: Item) -> Item:
        return item

    app.include_router(router)
    return app


@dataclasses.dataclass
class Priced:
    name: str
    price: "decimal.Decimal"  # validation and serialization schemas differ: Priced-Input/-Output


def modes_app(fw: types.SimpleNamespace) -> Any:
    """A record whose two modes differ, used as body and response: the body's $ref
    must follow the rename to Priced-Input (found when microready's own generator landed)."""
    app = fw.App()

    @app.post("/priced")
    async def price(item: Priced) -> Priced:
        return item

    return app


def _example(name: str, kind: str) -> Any:
    """``examples/<name>.py`` run from its source; for FastAPI, its import line rewritten."""
    source = (EXAMPLES / f"{name}.py").read_text()
    if kind == "fastapi":
        source = source.replace("from microready import", "from fastapi import").replace(
            "MicroReady", "FastAPI"
        )
        assert "microready" not in source.split('"""')[-1]
    namespace: dict[str, Any] = {"__name__": f"example_{name}_{kind}"}
    exec(compile(source, f"{name}.py", "exec"), namespace)
    return namespace["app"]


def readme_app(kind: str) -> Any:
    return _example("notifications", kind)


def dependencies_example_app(kind: str) -> Any:
    return _example("notifications_with_dependencies", kind)


APPS: list[Callable[[types.SimpleNamespace], Any]] = [
    params_app,
    body_app,
    forms_app,
    security_app,
    meta_app,
    paths_app,
    responses_app,
    deps_app,
    callbacks_app,
    records_app,
    ids_app,
    streaming_app,
    modes_app,
]
# FastAPI documents a JSON Lines stream with OpenAPI 3.2's "itemSchema", which a 3.1
# validator refuses; microready writes the same, so only the comparison runs for it.
NOT_VALID_3_1 = [streaming_app]
EXAMPLE_APPS = [readme_app, dependencies_example_app]


def documents(build: Callable[[Any], Any], *, example: bool = False) -> tuple[Any, Any]:
    """(FastAPI's document, microready's), the apps' default titles set aside."""
    if example:
        theirs, ours = build("fastapi").openapi(), build("microready").openapi()
    else:
        theirs, ours = build(names("fastapi")).openapi(), build(names("microready")).openapi()
    for document in (theirs, ours):
        if document["info"]["title"] in ("FastAPI", "MicroReady"):
            document["info"]["title"] = "<default>"
    return theirs, ours


def differences(theirs: Any, ours: Any, where: str = "") -> list[str]:
    """Every place the two documents differ, for a readable failure."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        found = []
        for key in [*theirs, *(k for k in ours if k not in theirs)]:
            if key not in ours:
                found.append(f"{where}/{key}: only FastAPI has it: {json.dumps(theirs[key])}")
            elif key not in theirs:
                found.append(f"{where}/{key}: only microready has it: {json.dumps(ours[key])}")
            else:
                found.extend(differences(theirs[key], ours[key], f"{where}/{key}"))
        return found
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        return [
            line
            for index, (a, b) in enumerate(zip(theirs, ours, strict=True))
            for line in differences(a, b, f"{where}[{index}]")
        ]
    return [] if theirs == ours else [f"{where}: FastAPI {theirs!r}, microready {ours!r}"]


@pytest.mark.filterwarnings("ignore:email-validator not installed")
@pytest.mark.parametrize("build", APPS, ids=lambda build: build.__name__)
def test_the_document_is_fastapis(build: Callable[[types.SimpleNamespace], Any]) -> None:
    theirs, ours = documents(build)
    assert differences(theirs, ours) == []
    assert ours == theirs


@pytest.mark.parametrize("build", EXAMPLE_APPS, ids=lambda build: build.__name__)
def test_the_examples_document_is_fastapis(build: Callable[[str], Any]) -> None:
    theirs, ours = documents(build, example=True)
    assert differences(theirs, ours) == []
    assert ours["paths"]  # not vacuous: the example's route is there
    assert ours == theirs


@pytest.mark.filterwarnings("ignore:email-validator not installed")
@pytest.mark.parametrize(
    "build",
    [*(b for b in APPS if b not in NOT_VALID_3_1), *EXAMPLE_APPS],
    ids=lambda build: build.__name__,
)
def test_every_document_is_valid_openapi_3_1(build: Callable[[Any], Any]) -> None:
    app = build("microready") if build in EXAMPLE_APPS else build(names("microready"))
    document = app.openapi()
    assert document["openapi"] == "3.1.0"
    openapi_spec_validator.validate(document)


def test_the_comparison_can_fail() -> None:
    """A document that differs in one nested value is reported, path and all."""
    theirs, ours = documents(body_app)
    ours["paths"]["/items/"]["post"]["summary"] = "Changed"
    del ours["components"]["schemas"]["User"]
    assert differences(theirs, ours) == [
        "/paths//items//post/summary: FastAPI 'Create Item', microready 'Changed'",
        f"/components/schemas/User: only FastAPI has it: "
        f"{json.dumps(theirs['components']['schemas']['User'])}",
    ]
