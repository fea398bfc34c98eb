"""FastAPI tutorial, "Testing" (docs_src/app_testing/), on microready.

The examples are in ``tests/app/fastapi_docs/app_testing/``, each file as FastAPI
has it but for its import lines. These tests do what FastAPI's own do
(``tests/test_tutorial/test_testing/``): call the examples' test functions, in
FastAPI's order. Each runs on asyncio and on trio: the example's ``client`` (or
the ``TestClient`` it calls) is swapped for one on the test's backend.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

import pytest

from .helpers import client_for

DOCS = "tests.app.fastapi_docs.app_testing"


def fresh(name: str) -> ModuleType:
    """The example module as if imported for the first time (its fake_db as written)."""
    return importlib.reload(importlib.import_module(f"{DOCS}.{name}"))


def on_backend(module: ModuleType, backend: str) -> ModuleType:
    module.client = client_for(module.app, backend)  # type: ignore[attr-defined]
    return module


def test_tutorial001(anyio_backend: str) -> None:
    on_backend(fresh("tutorial001_py310"), anyio_backend).test_read_main()


def test_main_a(anyio_backend: str) -> None:
    fresh("app_a_py310.main")
    on_backend(fresh("app_a_py310.test_main"), anyio_backend).test_read_main()


@pytest.mark.parametrize("order", [
    # FastAPI's tests/test_tutorial/test_testing/test_main_b.py
    ["test_create_existing_item", "test_create_item", "test_create_item_bad_token",
     "test_read_nonexistent_item", "test_read_item", "test_read_item_bad_token"],
    # the file's own order, as `pytest test_main.py` runs it
    ["test_read_item", "test_read_item_bad_token", "test_read_nonexistent_item",
     "test_create_item", "test_create_item_bad_token", "test_create_existing_item"],
])
def test_main_b(anyio_backend: str, order: list[str]) -> None:
    main = fresh("app_b_an_py310.main")
    test_main = on_backend(fresh("app_b_an_py310.test_main"), anyio_backend)
    for name in order:
        getattr(test_main, name)()
    assert "foobar" in main.fake_db  # test_create_item stored it


def test_tutorial004_lifespan(anyio_backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = fresh("tutorial004_py310")
    monkeypatch.setattr(module, "TestClient", functools.partial(client_for,
                                                                backend=anyio_backend))
    module.test_read_items()
