"""Every tutorial app's OpenAPI document equals, key for key, FastAPI 0.165's.

The tutorial test modules (tests/app/test_tutorial_*.py) and the examples they
run (tests/app/fastapi_docs/) are FastAPI's docs code with the import lines
changed. Here each module's source is read back, only its microready imports are
turned into FastAPI's (the tables below), and the result is executed as a fresh
module: its apps are built by FastAPI, its test functions defined but not run.
Each module-level ``MicroReady`` app is then compared with the ``FastAPI`` app
of the same name in the rebuilt module.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import sys
import types
from pathlib import Path
from typing import Any

import fastapi
import pytest

import microready

from . import fastapi_docs
from .test_openapi_vs_fastapi import differences

# Where the names of each microready module live for a FastAPI user.
FASTAPI_MODULES = {
    "microready": "fastapi",
    "microready.encoders": "fastapi.encoders",
    "microready.exception_handlers": "fastapi.exception_handlers",
    "microready.exceptions": "fastapi.exceptions",
    "microready.responses": "fastapi.responses",
    "microready.routing": "fastapi.routing",
    "microready.security": "fastapi.security",
    "microready.sse": "fastapi.sse",
    "microready.staticfiles": "fastapi.staticfiles",
    "microready.templating": "fastapi.templating",
    "microready.testing": "fastapi.testclient",
}
# microready's names that FastAPI spells differently (the local name is kept).
FASTAPI_NAMES = {"MicroReady": "FastAPI", "Router": "APIRouter"}
# Names microready exports from its top level that FastAPI keeps in a submodule.
FASTAPI_HOMES = {
    "HTMLResponse": "fastapi.responses",
    "JSONResponse": "fastapi.responses",
}

# "module.app" -> why FastAPI cannot build that app from the same code. None today:
# every tutorial app is compared. An entry must say why, and they must stay few.
EXCLUDED: dict[str, str] = {}
MOST_EXCLUSIONS = 3

PACKAGE = __package__  # tests.app
DOCS_PACKAGE = fastapi_docs.__name__  # the examples some tutorial modules import


def fastapi_import(node: ast.ImportFrom, indent: str) -> str:
    """``node``, an import from microready, as the FastAPI imports that bind the same names."""
    assert node.module is not None
    by_module: dict[str, list[str]] = {}
    for alias in node.names:
        local = alias.asname or alias.name
        module = FASTAPI_HOMES.get(alias.name, FASTAPI_MODULES[node.module])
        name = FASTAPI_NAMES.get(alias.name, alias.name)
        by_module.setdefault(module, []).append(name if name == local else f"{name} as {local}")
    return "\n".join(
        f"{indent}from {module} import {', '.join(names)}" for module, names in by_module.items()
    )


def on_fastapi(source: str, package: str) -> tuple[str, list[str]]:
    """``source`` (a module of ``package``) with its microready imports made FastAPI's, and
    the example modules it imports from ``fastapi_docs``, which build apps too."""
    lines = source.splitlines()
    examples = []
    imports = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)]
    # From the bottom up, so that a rewritten import does not move the lines above it.
    for node in sorted(imports, key=lambda node: node.lineno, reverse=True):
        if node.level == 0 and (node.module or "").split(".")[0] == "microready":
            assert node.end_lineno is not None
            indent = lines[node.lineno - 1][: node.col_offset]
            lines[node.lineno - 1 : node.end_lineno] = [fastapi_import(node, indent)]
        elif node.level:
            module = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            if module.startswith(DOCS_PACKAGE + "."):
                examples.append(module)
    rewritten = "\n".join(lines) + "\n"
    assert "import microready" not in rewritten and "from microready" not in rewritten
    return rewritten, examples


def rebuilt(name: str) -> types.ModuleType:
    """The module ``name`` executed afresh from its source, with FastAPI's imports.

    It is registered in ``sys.modules`` under a name of its own, since pydantic and
    dataclasses look a class's module up there to resolve string annotations. The
    examples it imports are rebuilt too, and are what it sees under their own
    names while it runs.
    """
    fastapi_name = f"{name}__on_fastapi"
    if fastapi_name in sys.modules:
        return sys.modules[fastapi_name]
    original = importlib.import_module(name)
    path = Path(original.__file__ or "")
    package = original.__package__ or ""
    source, examples = on_fastapi(path.read_text(), package)
    module = types.ModuleType(fastapi_name)
    module.__file__ = str(path)
    module.__package__ = package
    sys.modules[fastapi_name] = module
    on_fastapi_examples = {example: rebuilt(example) for example in examples}
    originals = {example: sys.modules[example] for example in examples}
    sys.modules.update(on_fastapi_examples)
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    finally:
        sys.modules.update(originals)
    return module


def module_names() -> list[str]:
    """The tutorial test modules, then the examples of fastapi_docs (not their tests)."""
    tutorials = [
        f"{PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("test_tutorial_")
    ]
    examples = [
        info.name
        for info in pkgutil.walk_packages(fastapi_docs.__path__, DOCS_PACKAGE + ".")
        if not info.ispkg and not info.name.rpartition(".")[2].startswith(("test_", "conftest"))
    ]
    return sorted(tutorials) + sorted(examples)


def tutorial_apps() -> list[tuple[str, microready.MicroReady]]:
    """("module.app", app) for every module-level app, each app once (where first seen)."""
    found: list[tuple[str, microready.MicroReady]] = []
    seen: set[int] = set()
    for module_name in module_names():
        for name, value in vars(importlib.import_module(module_name)).items():
            if isinstance(value, microready.MicroReady) and id(value) not in seen:
                seen.add(id(value))
                found.append((f"{module_name.removeprefix(PACKAGE + '.')}.{name}", value))
    return found


APPS = tutorial_apps()
COMPARED = [(where, app) for where, app in APPS if where not in EXCLUDED]


def fastapi_twin(where: str) -> Any:
    module_name, _, app_name = where.rpartition(".")
    return getattr(rebuilt(f"{PACKAGE}.{module_name}"), app_name)


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the one difference microready makes on purpose set aside."""
    # The default title is the framework's name: FastAPI() is "FastAPI", MicroReady()
    # is "MicroReady" (microready/app.py); an app's own title= is compared as it is.
    if document["info"]["title"] in ("FastAPI", "MicroReady"):
        document = {**document, "info": {**document["info"], "title": "<default>"}}
    return document


@pytest.mark.filterwarnings("ignore::UserWarning")  # duplicate operation ids in some pages
@pytest.mark.parametrize(("where", "app"), COMPARED, ids=[where for where, _ in COMPARED])
def test_the_document_is_fastapis(where: str, app: microready.MicroReady) -> None:
    fastapi_app = fastapi_twin(where)
    assert isinstance(fastapi_app, fastapi.FastAPI), where
    theirs, ours = normalised(fastapi_app.openapi()), normalised(app.openapi())
    found = differences(theirs, ours)
    assert not found, f"{len(found)} differences, the first ones:\n" + "\n".join(found[:10])
    assert ours == theirs


def test_every_tutorial_app_is_compared() -> None:
    assert len(APPS) > 110  # every test_tutorial_* module's apps and the examples'
    assert {where.partition(".")[0] for where, _ in APPS} >= {
        "test_tutorial_body", "test_tutorial_sse", "test_tutorial_lifespan_events",
        "fastapi_docs",
    }


def test_the_exclusions_exist_and_are_few() -> None:
    apps = {where for where, _ in APPS}
    assert [where for where in EXCLUDED if where not in apps] == []
    assert all(reason.strip() for reason in EXCLUDED.values())
    assert len(EXCLUDED) <= MOST_EXCLUSIONS


def test_only_the_microready_imports_are_rewritten() -> None:
    source = (
        "from typing import Any\n"
        "from microready import Depends, HTMLResponse, MicroReady, Router as APIRouter\n"
        "from microready import MicroReady as FastAPI\n"
        "from microready.security import (\n"
        "    OAuth2PasswordBearer,\n"
        ")\n"
        "from .helpers import client_for\n"
        "from .fastapi_docs.events.tutorial003 import app\n"
        "\n"
        "def build() -> Any:\n"
        "    from microready.testing import TestClient\n"
        "    return MicroReady()\n"
    )
    rewritten, examples = on_fastapi(source, PACKAGE)
    assert rewritten == (
        "from typing import Any\n"
        "from fastapi import Depends, FastAPI as MicroReady, APIRouter\n"
        "from fastapi.responses import HTMLResponse\n"
        "from fastapi import FastAPI\n"
        "from fastapi.security import OAuth2PasswordBearer\n"
        "from .helpers import client_for\n"
        "from .fastapi_docs.events.tutorial003 import app\n"
        "\n"
        "def build() -> Any:\n"
        "    from fastapi.testclient import TestClient\n"
        "    return MicroReady()\n"
    )
    assert examples == [f"{DOCS_PACKAGE}.events.tutorial003"]


def test_an_imported_example_is_rebuilt_on_fastapi_too() -> None:
    module = rebuilt(f"{PACKAGE}.test_tutorial_lifespan_events")
    assert isinstance(module.app, fastapi.FastAPI)
    # while the tutorial module's original still has microready's app
    from .fastapi_docs.events import tutorial003

    assert isinstance(tutorial003.app, microready.MicroReady)
