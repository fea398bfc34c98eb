"""``app.dependency_overrides``, ``Security(..., scopes=)`` with ``SecurityScopes``, and
``Depends(..., scope="function")``: the dependency features FastAPI's tutorials use."""


from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import pytest

from microready import BackgroundTasks, Depends, HTTPException, MicroReady, Security
from microready.security.base import SecurityScopes

from ..support.http import request
from ..support.live import connect, serving
from .helpers import client_for


async def common(q: str | None = None, skip: int = 0) -> dict[str, Any]:
    return {"q": q, "skip": skip}


def inner() -> str:
    return "real inner"


def middle(value: Annotated[str, Depends(inner)]) -> str:
    return f"middle({value})"


def overrides_app() -> MicroReady:
    app = MicroReady()

    @app.get("/items/")
    async def items(commons: Annotated[dict[str, Any], Depends(common)]) -> Any:
        return {"message": "items", "params": commons}

    @app.get("/deep/{item_id}")
    async def deep(item_id: int, value: Annotated[str, Depends(middle)]) -> Any:
        return {"item_id": item_id, "value": value}

    @app.get("/guarded/", dependencies=[Depends(inner)])
    async def guarded() -> str:
        return "ok"

    return app


def test_an_override_replaces_a_dependency_and_clearing_restores_it(anyio_backend: str) -> None:
    app = overrides_app()
    client = client_for(app, anyio_backend)

    async def override_common(q: str | None = None) -> dict[str, Any]:
        return {"q": q, "skip": 5, "limit": 10}

    app.dependency_overrides[common] = override_common
    assert client.get("/items/?q=foo&skip=100").json() == {
        "message": "items", "params": {"q": "foo", "skip": 5, "limit": 10}}
    app.dependency_overrides.clear()
    assert client.get("/items/?q=foo&skip=100").json() == {
        "message": "items", "params": {"q": "foo", "skip": 100}}


def test_an_override_reaches_sub_dependencies_and_reads_the_request(anyio_backend: str) -> None:
    app = overrides_app()
    client = client_for(app, anyio_backend)

    def fake_inner(item_id: int, token: str = "none") -> str:  # path and query, like any dep
        return f"fake for {item_id} with {token}"

    app.dependency_overrides[inner] = fake_inner
    assert client.get("/deep/3?token=t").json() == {
        "item_id": 3, "value": "middle(fake for 3 with t)"}
    del app.dependency_overrides[inner]
    assert client.get("/deep/3").json()["value"] == "middle(real inner)"

    def refusing() -> None:
        raise HTTPException(403, "no")

    app.dependency_overrides[inner] = refusing  # route-level dependencies=[...] too
    assert client.get("/guarded/").status_code == 403
    app.dependency_overrides.pop(inner)
    assert client.get("/guarded/").json() == "ok"


def test_an_override_may_yield_and_its_teardown_runs_after_the_tasks(anyio_backend: str) -> None:
    app = MicroReady()
    events: list[str] = []

    def get_db() -> str:
        return "real"

    @app.get("/")
    async def read(db: Annotated[str, Depends(get_db)], tasks: BackgroundTasks) -> str:
        tasks.add_task(events.append, "task")
        return db

    def fake_db() -> Iterator[str]:
        events.append("open")
        yield "fake"
        events.append("close")

    app.dependency_overrides.update({get_db: fake_db})
    assert client_for(app, anyio_backend).get("/").json() == "fake"
    assert events == ["open", "task", "close"]


def test_an_override_must_be_callable(anyio_backend: str) -> None:
    app = overrides_app()
    app.dependency_overrides[inner] = "not a function"  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"right: app.dependency_overrides\[inner\] = override_fn"):
        client_for(app, anyio_backend).get("/deep/1")


@pytest.mark.anyio
async def test_an_override_through_the_real_server() -> None:
    app = overrides_app()
    app.dependency_overrides[inner] = lambda: "from the override"
    async with serving(app) as server, connect(server.port) as client:
        await client.send(request("GET", "/deep/7"))
        response = await client.read_response()
    assert response.json() == {"item_id": 7, "value": "middle(from the override)"}


# -- Security and SecurityScopes ---------------------------------------------------------


def scopes_app(seen: list[tuple[str, list[str]]]) -> MicroReady:
    app = MicroReady()

    def token(security_scopes: SecurityScopes) -> str:
        seen.append(("token", security_scopes.scopes))
        return security_scopes.scope_str

    def current_user(security_scopes: SecurityScopes,
                     scopes_seen: Annotated[str, Depends(token)]) -> dict[str, Any]:
        seen.append(("user", security_scopes.scopes))
        return {"scopes": security_scopes.scopes, "token saw": scopes_seen}

    def active_user(user: Annotated[dict[str, Any], Security(current_user, scopes=["me"])],
                    ) -> dict[str, Any]:
        return user

    @app.get("/users/me/")
    async def me(user: Annotated[dict[str, Any], Depends(active_user)]) -> Any:
        return user

    @app.get("/users/me/items/")
    async def items(user: Annotated[dict[str, Any], Security(active_user, scopes=["items"])],
                    ) -> Any:
        return user

    @app.get("/both/")
    async def both(a: Annotated[dict[str, Any], Security(current_user, scopes=["a"])],
                   b: Annotated[dict[str, Any], Security(current_user, scopes=["b"])]) -> Any:
        return [a["scopes"], b["scopes"]]

    @app.get("/plain/")
    async def plain(scopes: SecurityScopes) -> Any:
        return scopes.scopes

    return app


def test_scopes_accumulate_down_the_tree(anyio_backend: str) -> None:
    seen: list[tuple[str, list[str]]] = []
    client = client_for(scopes_app(seen), anyio_backend)
    assert client.get("/users/me/").json() == {"scopes": ["me"], "token saw": "me"}
    # FastAPI's order: the outer Security's scopes first, then the inner ones.
    assert client.get("/users/me/items/").json() == {
        "scopes": ["items", "me"], "token saw": "items me"}
    assert client.get("/plain/").json() == []


def test_the_same_dependency_under_other_scopes_runs_again(anyio_backend: str) -> None:
    seen: list[tuple[str, list[str]]] = []
    client = client_for(scopes_app(seen), anyio_backend)
    assert client.get("/both/").json() == [["a"], ["b"]]
    assert seen == [("token", ["a"]), ("user", ["a"]), ("token", ["b"]), ("user", ["b"])]


def test_security_scopes_must_be_a_list() -> None:
    with pytest.raises(TypeError, match=r"right: scopes=\['me'\]"):
        Security(inner, scopes="me")


# -- Depends(scope="function") -----------------------------------------------------------


def test_a_function_scoped_dependency_closes_before_the_response(anyio_backend: str) -> None:
    app = MicroReady()
    events: list[str] = []

    async def session() -> AsyncIterator[str]:
        events.append("open function-scoped")
        yield "s"
        events.append("close function-scoped")

    def request_scoped() -> Iterator[str]:
        events.append("open request-scoped")
        yield "r"
        events.append("close request-scoped")

    @app.get("/")
    async def read(s: Annotated[str, Depends(session, scope="function")],
                   r: Annotated[str, Depends(request_scoped)], tasks: BackgroundTasks) -> str:
        events.append("endpoint")
        tasks.add_task(events.append, "task")
        return s + r

    assert client_for(app, anyio_backend).get("/").json() == "sr"
    assert events == ["open function-scoped", "open request-scoped", "endpoint",
                      "close function-scoped", "task", "close request-scoped"]


def test_a_function_scoped_dependency_sees_the_endpoints_exception(anyio_backend: str) -> None:
    app = MicroReady()
    caught: list[str] = []

    async def session() -> AsyncIterator[None]:
        try:
            yield
        except ValueError as exc:
            caught.append(str(exc))
            raise HTTPException(409, "rolled back") from exc

    @app.get("/")
    async def read(_: Annotated[None, Depends(session, scope="function")]) -> None:
        raise ValueError("boom")

    response = client_for(app, anyio_backend).get("/")
    assert (response.status_code, response.json()) == (409, {"detail": "rolled back"})
    assert caught == ["boom"]


def test_scope_function_on_a_plain_dependency_is_refused() -> None:
    app = MicroReady()
    with pytest.raises(TypeError, match="is for dependencies that yield"):
        @app.get("/")
        async def read(v: Annotated[str, Depends(inner, scope="function")]) -> str:
            return v
    with pytest.raises(ValueError, match="'function' or 'request'"):
        Depends(inner, scope="app")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_function_scope_through_the_real_server() -> None:
    app = MicroReady()
    closed = anyio.Event()

    async def session() -> AsyncIterator[str]:
        yield "s"
        closed.set()

    @app.get("/")
    async def read(s: Annotated[str, Depends(session, scope="function")]) -> bool:
        return closed.is_set()

    async with serving(app) as server, connect(server.port) as client:
        await client.send(request("GET", "/"))
        response = await client.read_response()
    assert response.json() is False  # the endpoint ran before the teardown
    assert closed.is_set()


def test_assigning_a_plain_dict_works_as_fastapis_docs_reset_it(anyio_backend: str) -> None:
    app = overrides_app()
    client = client_for(app, anyio_backend)
    app.dependency_overrides = {inner: lambda: "assigned"}  # type: ignore[assignment]
    assert client.get("/deep/1").json()["value"] == "middle(assigned)"
    app.dependency_overrides = {}  # type: ignore[assignment]
    assert client.get("/deep/1").json()["value"] == "middle(real inner)"


def test_a_security_dependency_can_be_overridden(anyio_backend: str) -> None:
    from microready.security import OAuth2PasswordBearer

    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
    app = MicroReady()

    async def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> str:
        return f"user of {token}"

    @app.get("/me")
    async def me(user: Annotated[str, Security(current_user, scopes=["me"])]) -> str:
        return user

    client = client_for(app, anyio_backend)
    assert client.get("/me").status_code == 401
    app.dependency_overrides[oauth2_scheme] = lambda: "test-token"  # the scheme itself
    assert client.get("/me").json() == "user of test-token"
    app.dependency_overrides[current_user] = lambda: "fake user"  # the Security one
    assert client.get("/me").json() == "fake user"
