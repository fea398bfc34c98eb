"""``microready._utils``: the no-content statuses and the one "is it async?" check.

The status rules are also checked where they matter, through ``TestClient`` (the
real connection core): a 205 says ``content-length: 0``, a 204 says nothing,
and a no-content response that carries a body is refused with a 500.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from microready import MicroReady, Response
from microready._utils import (
    NO_CONTENT_STATUSES,
    call_target,
    is_async_callable,
    sends_content_length,
)
from microready.testing import TestClient

# -- statuses ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [100, 101, 103, 199, 204, 205, 304])
def test_no_content_statuses(status: int) -> None:
    assert status in NO_CONTENT_STATUSES


@pytest.mark.parametrize("status", [200, 201, 202, 203, 206, 207, 300, 303, 307, 400, 500])
def test_statuses_with_content(status: int) -> None:
    assert status not in NO_CONTENT_STATUSES
    assert sends_content_length(status)


@pytest.mark.parametrize(("status", "expected"), [
    (100, False), (101, False), (204, False), (304, False),
    (205, True),  # RFC 9110 15.3.6: "Content-Length: 0", the only way to say "empty"
])
def test_which_no_content_statuses_send_content_length(status: int, expected: bool) -> None:
    assert sends_content_length(status) is expected


# -- is it async? ----------------------------------------------------------------------


async def async_function(x: int = 0) -> int:
    return x


def sync_function(x: int = 0) -> int:
    return x


async def async_generator() -> AsyncIterator[int]:
    yield 1


class AsyncCallable:
    async def __call__(self) -> None: ...


class SyncCallable:
    def __call__(self) -> None: ...


class Methods:
    async def async_method(self) -> None: ...

    def sync_method(self) -> None: ...

    @staticmethod
    async def async_static() -> None: ...

    @classmethod
    async def async_class_method(cls) -> None: ...


ASYNC: list[Any] = [
    async_function,
    functools.partial(async_function, 1),
    functools.partial(functools.partial(async_function), x=1),
    AsyncCallable(),
    functools.partial(AsyncCallable()),
    Methods().async_method,
    Methods.async_static,
    Methods.async_class_method,
    Methods.async_method,  # the plain function, unbound
]
SYNC: list[Any] = [
    sync_function,
    functools.partial(sync_function, 1),
    lambda: None,
    len,
    SyncCallable(),
    Methods().sync_method,
    async_generator,  # calling it gives an async generator, not a coroutine
    # Calling a class constructs an instance, whatever the instance's __call__ is.
    AsyncCallable,
    functools.partial(AsyncCallable),
    SyncCallable,
]


@pytest.mark.parametrize("func", ASYNC, ids=repr)
def test_async_callables(func: Any) -> None:
    assert is_async_callable(func)


@pytest.mark.parametrize("func", SYNC, ids=repr)
def test_sync_callables(func: Any) -> None:
    assert not is_async_callable(func)


def test_call_target_is_what_runs_when_called() -> None:
    obj = AsyncCallable()
    bound = Methods().async_method
    assert call_target(async_function) is async_function
    assert call_target(functools.partial(functools.partial(sync_function), 1)) is sync_function
    assert call_target(obj) is AsyncCallable.__call__
    assert call_target(functools.partial(obj)) is AsyncCallable.__call__
    assert call_target(AsyncCallable) is AsyncCallable
    assert call_target(bound) is bound
    assert call_target(len) is len


def test_call_target_of_something_not_callable_is_itself() -> None:
    # What add_task and Depends report when handed a value instead of a function.
    value = object()
    assert call_target(value) is value
    assert not is_async_callable(value)


# -- the statuses through the real connection core ---------------------------------------
# (``anyio_backend``, tests/conftest.py's fixture, gives each test both backends.)


def make_app() -> MicroReady:
    app = MicroReady()

    @app.post("/reset", status_code=205)
    async def reset() -> None:
        return None

    @app.delete("/gone", status_code=204)
    async def gone() -> None:
        return None

    @app.get("/reset-response")
    async def reset_response() -> Response:
        return Response(status_code=205)

    @app.get("/reset-with-body")
    async def reset_with_body() -> Response:
        return Response(b"surprise", status_code=205)

    @app.get("/no-content-with-body")
    async def no_content_with_body() -> Response:
        return Response(b"surprise", status_code=204)

    return app


def test_a_205_says_content_length_0(anyio_backend: str) -> None:
    client = TestClient(make_app(), backend=anyio_backend)  # type: ignore[arg-type]
    for method, path in [("POST", "/reset"), ("GET", "/reset-response")]:
        response = client.request(method, path)
        assert response.status_code == 205
        assert response.headers.getlist("content-length") == ["0"], path
        assert response.content == b""


def test_a_204_has_no_content_length(anyio_backend: str) -> None:
    response = TestClient(make_app(), backend=anyio_backend).delete("/gone")  # type: ignore[arg-type]
    assert response.status_code == 204
    assert "content-length" not in response.headers
    assert response.content == b""


@pytest.mark.parametrize("path", ["/reset-with-body", "/no-content-with-body"])
def test_a_no_content_response_with_a_body_is_refused(anyio_backend: str, path: str) -> None:
    # The core raises InvalidResponse before a byte is written, so the client gets a 500.
    client = TestClient(make_app(), backend=anyio_backend)  # type: ignore[arg-type]
    response = client.get(path)
    assert response.status_code == 500
    assert b"surprise" not in response.content
    assert client.get("/reset-response").status_code == 205  # and the client can go on
