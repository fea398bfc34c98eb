"""The architecture's rules, checked by reading every module's imports.

microready has three wings: ``server/`` (with the sans-IO ``server/protocol/``
inside), the app layer, and ``background/``. What each may import is written
once, as the table ``RULES`` below; README.md's "How the code is laid out"
says the same in prose.

Every ``microready/**/*.py`` is parsed (never imported). Relative imports are
resolved to absolute module names, and ``from package import name`` counts as
an import of ``package.name`` when that is a module. The rules see every
import: at module level, inside functions and under ``TYPE_CHECKING``. The
cycle check sees only the imports that run when a module is imported (module
and class level, not in a function, not under ``TYPE_CHECKING``).

A package's parent packages are imported before it, but that is no edge here:
``microready/__init__.py`` imports ``.app``, and counting ``microready.app ->
microready`` would make every re-exporting ``__init__`` a cycle. So an edge is
only what a statement names: ``from . import status`` in ``microready/__init__``
is ``microready -> microready.status``; ``from . import Server`` in a module of
``microready/server/`` is an edge to ``microready.server`` itself, and a real
cycle if that ``__init__`` imports the module back.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

import microready

PACKAGE = "microready"
ROOT = Path(microready.__file__).resolve().parent

# -- reading imports -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Import:
    importer: str  # module name, e.g. "microready.server.transport"
    path: str  # file path relative to the package's parent, e.g. "microready/server/x.py"
    line: int
    statement: str  # the source line, for the message
    target: str  # absolute module name, e.g. "microready.responses" or "anyio.abc"
    at_import_time: bool  # runs when the importer is imported (not in a function/TYPE_CHECKING)


def module_names(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root``, by name."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(node: ast.ImportFrom, package: str, importer: str) -> str:
    """The absolute module a ``from ... import`` statement names before its names."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        raise ValueError(f"{importer}:{node.lineno}: relative import beyond the top")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _statements_with_imports(
    body: Iterable[ast.AST], deferred: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in ``body``, and whether it runs only later (in a
    function body, or under ``TYPE_CHECKING``, which only type checkers see).

    Only statements are walked, never expressions (no import is an expression),
    which keeps the scan fast under coverage's tracer.
    """
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, deferred
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _statements_with_imports(node.body, True)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements_with_imports(node.body, True)
            yield from _statements_with_imports(node.orelse, deferred)
        else:  # a class body, if/else, try/except/finally, with, for, while, match
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                yield from _statements_with_imports(getattr(node, field, ()), deferred)


def read_imports(root: Path) -> list[Import]:
    """Every import statement of the package at ``root``, resolved."""
    modules = module_names(root)
    known = set(modules)
    found: list[Import] = []
    for module, path in modules.items():
        source = path.read_text(encoding="utf-8")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        shown = path.relative_to(root.parent).as_posix()
        lines = source.splitlines()
        for node, deferred in _statements_with_imports(ast.parse(source, str(path)).body):
            statement = " ".join(" ".join(lines[node.lineno - 1:node.end_lineno]).split())
            if len(statement) > 90:
                statement = statement[:87] + "..."
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(node, package, module)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                           for alias in node.names]
            found.extend(Import(module, shown, node.lineno, statement, target, not deferred)
                         for target in targets)
    return found


# -- the rules ---------------------------------------------------------------------------


def within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def is_stdlib(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


APP_LAYER = tuple(f"{PACKAGE}.{name}" for name in (
    "app", "routing", "_route", "_route_table", "_route_options", "_route_handler", "_events",
    "_lifespan",
    "_mount", "_exception_handling",
    "_path_template", "params", "_depends", "_fastapi_keywords",
    "_response_model", "requests",
    "responses", "_ranges", "_streaming", "sse", "staticfiles", "templating", "formparsers",
    "datastructures", "status", "exceptions", "exception_handlers", "encoders", "_inject",
    "_convert", "security", "openapi", "_asgi", "_middleware_stack", "middleware", "websockets",
    "_websocket_route",
))
PROTOCOL = f"{PACKAGE}.server.protocol"
SERVER = f"{PACKAGE}.server"
BACKGROUND = f"{PACKAGE}.background"
UTILS = f"{PACKAGE}._utils"
# What server/ may use of the app: the bridge and the request/response data classes.
SERVER_REACHES_APP_THROUGH = tuple(f"{PACKAGE}.{name}" for name in (
    "_exchange", "requests", "responses", "datastructures", "_asgi",
))


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    applies_to: Callable[[str], bool]  # importer -> whether the rule covers it
    allows: Callable[[str], bool]  # target -> whether the import is fine
    what: str  # what the importer may import
    instead: str  # what to do instead


RULES = [
    Rule(
        "protocol core is sans-IO",
        lambda m: within(m, PROTOCOL),
        lambda t: is_stdlib(t) or within(t, "h11", "wsproto", PROTOCOL, UTILS),
        "microready/server/protocol/ may import only h11, wsproto, the standard library and "
        "microready._utils",
        "keep the core pure: take plain values (bytes, the time, status and header pairs) as "
        "arguments and let microready/server/transport.py do the I/O and speak to the app",
    ),
    Rule(
        "app layer never imports the server",
        lambda m: within(m, *APP_LAYER),
        lambda t: not within(t, SERVER, f"{PACKAGE}.testing"),
        "the app layer may not import microready.server or microready.testing",
        "put what both sides need in microready/_exchange.py (the app <-> server bridge) or in "
        "microready/_utils.py, and let the server import the app's data classes, not the "
        "other way round",
    ),
    Rule(
        "background wing stands alone",
        lambda m: within(m, BACKGROUND),
        lambda t: not within(t, PACKAGE) or within(t, BACKGROUND, UTILS),
        "microready/background/ may import nothing of microready but itself and "
        "microready._utils",
        "take what a task needs as an argument (a callable, a Reply's task list), or move the "
        "shared piece into microready/_utils.py (standard library only)",
    ),
    Rule(
        "server reaches the app only through the bridge",
        lambda m: within(m, SERVER) and not within(m, PROTOCOL),
        lambda t: within(t, *SERVER_REACHES_APP_THROUGH)
        or (t != PACKAGE and not within(t, *APP_LAYER, f"{PACKAGE}.testing")),
        "microready/server/ may use the app only through microready._exchange, "
        "microready.requests, microready.responses and microready.datastructures "
        "(and microready._utils, microready._version), never the public face `microready`",
        "add what the server needs to the ServedApp protocol or Reply in "
        "microready/_exchange.py, and import the module that defines a name, not the package",
    ),
    Rule(
        "_utils is a standard-library leaf",
        lambda m: m == UTILS,
        is_stdlib,
        "microready/_utils.py may import only the standard library",
        "every wing imports _utils, so it must import none of them: keep the helper that needs "
        "more in the wing that uses it",
    ),
]


def violations(rule: Rule, imports: Iterable[Import]) -> list[str]:
    return list(dict.fromkeys(  # once per statement and target, however many names
        f"{imp.path}:{imp.line}: `{imp.statement}` imports {imp.target}: {rule.what}. "
        f"Instead, {rule.instead}."
        for imp in imports
        if rule.applies_to(imp.importer) and not rule.allows(imp.target)
    ))


# -- import cycles ----------------------------------------------------------------------


def import_graph(imports: Iterable[Import]) -> dict[str, dict[str, Import]]:
    """Module -> the package modules it imports when it is imported (first statement each)."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, {})
        if imp.at_import_time and within(imp.target, PACKAGE) and imp.target != imp.importer:
            graph[imp.importer].setdefault(imp.target, imp)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm: the components with more than one module (each one a cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, {}):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycle_messages(imports: Iterable[Import]) -> list[str]:
    graph = import_graph(imports)
    messages = []
    for component in strongly_connected(graph):
        members = set(component)
        edges = [imp for module in component for target, imp in graph[module].items()
                 if target in members]
        listed = "; ".join(f"{imp.path}:{imp.line} `{imp.statement}`" for imp in edges)
        messages.append(
            f"import cycle among {', '.join(component)}: {listed}. Instead, break it: hand one "
            "side what it needs as an argument (as uvicorn hands its supervisor the worker "
            "function), or move the shared code into a module both can import."
        )
    return messages


# -- the rules on microready itself --------------------------------------------------------


@pytest.fixture(scope="module")
def microready_imports() -> list[Import]:
    return read_imports(ROOT)


def test_the_scan_sees_the_whole_package(microready_imports: list[Import]) -> None:
    importers = {imp.importer for imp in microready_imports}
    assert {PACKAGE, f"{PROTOCOL}.connection", f"{SERVER}.transport", f"{BACKGROUND}.tasks",
            f"{PACKAGE}.app", UTILS} <= importers
    assert len(module_names(ROOT)) > 30


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_architecture_rule(rule: Rule, microready_imports: list[Import]) -> None:
    found = violations(rule, microready_imports)
    assert not found, "\n".join(found)


def test_no_import_cycle(microready_imports: list[Import]) -> None:
    found = cycle_messages(microready_imports)
    assert not found, "\n".join(found)


# -- the checker itself, on small synthetic packages -----------------------------------------


def make_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A throwaway ``microready`` package under ``tmp_path`` with the given modules."""
    root = tmp_path / PACKAGE
    for name, source in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
        path.write_text(source, encoding="utf-8")
    return root


BAD_IMPORTS = {
    "protocol core is sans-IO": (
        "server/protocol/events.py", "import h11\nimport anyio\n", 2, "anyio"),
    "app layer never imports the server": (
        "routing.py", "def f():\n    from .server.run import run, serve\n", 2,
        "microready.server.run"),
    "background wing stands alone": (
        "background/runner.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..responses import R\n",
        3, "microready.responses"),
    "server reaches the app only through the bridge": (
        "server/transport.py", "import anyio\nfrom ..app import MicroReady\n", 2,
        "microready.app"),
    "_utils is a standard-library leaf": (
        "_utils.py", "import functools\nimport anyio\n", 2, "anyio"),
}


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_each_rule_can_fail(rule: Rule, tmp_path: Path) -> None:
    name, source, line, target = BAD_IMPORTS[rule.name]
    found = violations(rule, read_imports(make_package(tmp_path, {name: source})))
    assert len(found) == 1, found
    assert found[0].startswith(f"microready/{name}:{line}: `")
    assert f" imports {target}: " in found[0]
    assert "Instead, " in found[0]
    # ...and no other rule objects to the same file.
    others = [r for r in RULES if r is not rule]
    assert not [v for r in others for v in violations(r, read_imports(tmp_path / PACKAGE))]


@pytest.mark.parametrize(("name", "source"), [
    ("server/protocol/framing.py", "import re\nimport h11\nimport wsproto\n"
                                   "from ..._utils import NO_CONTENT_STATUSES\nfrom . import x\n"),
    ("server/transport.py", "from .. import requests, responses, _exchange, _utils, _version\n"
                            "from ..datastructures import Address\nfrom ..background import B\n"
                            "from .protocol import connection\nimport anyio\n"),
    ("background/tasks.py", "from .._utils import is_async_callable\nfrom . import x\n"
                            "import anyio.to_thread\n"),
    ("app.py", "from .responses import Response\nfrom .background import B\nimport anyio\n"),
], ids=lambda value: value if value.endswith(".py") else "")
def test_allowed_imports_pass(name: str, source: str, tmp_path: Path) -> None:
    stubs = {f"{module}.py": "" for module in (
        "requests", "responses", "_exchange", "_utils", "_version", "datastructures")}
    imports = read_imports(make_package(tmp_path, {**stubs, name: source}))
    assert not [v for rule in RULES for v in violations(rule, imports)]


def test_relative_imports_resolve_to_module_names(tmp_path: Path) -> None:
    root = make_package(tmp_path, {
        "a/__init__.py": "from . import b\nfrom .b import thing\n",
        "a/b.py": "from .. import c, name\nfrom ..a import b\nimport microready.c as cc\n",
        "a/c/__init__.py": "from ... import c\nfrom .. import b\n",
        "c.py": "",
    })
    targets = {(imp.importer, imp.target) for imp in read_imports(root)}
    assert targets == {
        ("microready.a", "microready.a.b"),
        ("microready.a.b", "microready.c"),
        ("microready.a.b", "microready"),  # `name` is no module: the package's __init__
        ("microready.a.b", "microready.a.b"),
        ("microready.a.c", "microready.c"),
        ("microready.a.c", "microready.a.b"),
    }


def test_a_relative_import_beyond_the_top_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="beyond the top"):
        read_imports(make_package(tmp_path, {"x.py": "from ... import y\n"}))


def test_the_cycle_check_finds_a_cycle_and_names_its_imports(tmp_path: Path) -> None:
    root = make_package(tmp_path, {
        "server/run.py": "from .supervisor import supervise\n",
        "server/supervisor.py": "import os\n\nfrom . import run\n",
        "app.py": "from .server import run\n",  # into the cycle, not part of it
    })
    found = cycle_messages(read_imports(root))
    assert len(found) == 1
    assert found[0].startswith("import cycle among microready.server.run, "
                               "microready.server.supervisor: ")
    assert "microready/server/run.py:1 `from .supervisor import supervise`" in found[0]
    assert "microready/server/supervisor.py:3 `from . import run`" in found[0]
    assert "app.py" not in found[0]
    assert "Instead, " in found[0]


def test_a_longer_cycle_through_a_package_init_is_found(tmp_path: Path) -> None:
    root = make_package(tmp_path, {
        "server/__init__.py": "from .server import Server\n",
        "server/server.py": "from .cli import main\n",
        "server/cli.py": "from . import Server\n",  # needs the package, which needs cli
    })
    assert strongly_connected(import_graph(read_imports(root))) == [
        ["microready.server", "microready.server.cli", "microready.server.server"]]


@pytest.mark.parametrize("second", [
    "def later():\n    from . import run\n",  # runs only when called
    "class K:\n    def m(self):\n        from . import run\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import run\n",
    "import typing\nif typing.TYPE_CHECKING:\n    from . import run\nelse:\n    import os\n",
])
def test_imports_that_do_not_run_at_import_time_make_no_cycle(second: str,
                                                             tmp_path: Path) -> None:
    root = make_package(tmp_path, {
        "server/run.py": "from .supervisor import supervise\n",
        "server/supervisor.py": second,
    })
    imports = read_imports(root)
    assert not cycle_messages(imports)
    # ...but the rules still see them.
    assert any(imp.target == "microready.server.run" and not imp.at_import_time
               for imp in imports)


def test_a_class_body_import_runs_at_import_time(tmp_path: Path) -> None:
    root = make_package(tmp_path, {
        "a.py": "from . import b\n",
        "b.py": "class K:\n    from . import a\n",
    })
    assert strongly_connected(import_graph(read_imports(root))) == [["microready.a",
                                                                    "microready.b"]]


def test_a_package_init_re_exporting_its_submodules_is_no_cycle(tmp_path: Path) -> None:
    root = make_package(tmp_path, {
        "__init__.py": "from . import status\nfrom .app import App\n",
        "app.py": "from . import status\nfrom .background import Task\n",
        "status.py": "",
        "background/__init__.py": "from .tasks import Task\nfrom . import tasks\n",
        "background/tasks.py": "from .._utils import x\n",
        "_utils.py": "import functools\n",
    })
    assert not cycle_messages(read_imports(root))


def test_every_rule_has_a_failing_example() -> None:
    assert {rule.name for rule in RULES} == set(BAD_IMPORTS)
