"""``python -m microready MODULE:ATTR``: ``main(argv)`` called directly, and as a process.

In-process runs that must serve use ``--limit-max-requests 1`` from a thread, so
they end on their own after one request; the processes
(``tests.support.processes``) are stopped with SIGTERM, by their own PID, and
always killed in teardown if still alive.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import microready
from microready.config import Config
from microready.server.cli import main
from tests.support.processes import fetch, server_process, wait_for_path

REPO = Path(__file__).resolve().parents[2]
WAIT = 15.0  # seconds a process gets to start or to stop before the test fails

APP_SOURCE = """\
import asyncio
import os

from microready import MicroReady

app = MicroReady()


@app.get("/who")
async def who() -> dict[str, object]:
    return {"module": __name__, "pid": os.getpid()}


@app.get("/loop")
async def loop() -> str:
    try:
        import trio

        trio.lowlevel.current_trio_token()
        return "trio"
    except (ImportError, RuntimeError):
        return "asyncio:" + type(asyncio.get_running_loop()).__module__.split(".")[0]


def create_app() -> MicroReady:
    return app


def broken_factory() -> MicroReady:
    raise RuntimeError("the factory failed")
"""


# -- isolation -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def restore_process_state() -> Iterator[None]:
    """``main()`` configures logging and extends sys.path; undo both after each test."""
    root = logging.getLogger("microready")
    access = logging.getLogger("microready.access")
    saved = (list(root.handlers), root.level, root.propagate, access.disabled)
    path, modules = list(sys.path), set(sys.modules)
    yield
    for handler in root.handlers[:]:
        if handler not in saved[0]:
            root.removeHandler(handler)
    root.level, root.propagate, access.disabled = saved[1], saved[2], saved[3]
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith("mr_cli_"):
            del sys.modules[name]


def write_module(directory: Path, source: str = APP_SOURCE) -> str:
    """Write a module with a unique name into ``directory``; return its name."""
    name = f"mr_cli_{uuid.uuid4().hex[:12]}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.py").write_text(source)
    return name


def assert_one_error_line(capfd: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


class RecordList(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def serve_one_request(argv: list[str], path: str) -> tuple[int, int, bytes]:
    """Run ``main(argv)`` in a thread until it has served one GET to ``path``.

    Returns the exit code, and the status and body of the response.
    """
    records = RecordList()
    server_logger = logging.getLogger("microready.server")
    server_logger.addHandler(records)
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(main([*argv, "--port", "0", "--limit-max-requests", "1"])),
        daemon=True,
    )
    try:
        thread.start()
        deadline = time.monotonic() + WAIT
        port = None
        while port is None:
            for message in list(records.messages):
                match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", message)
                if match:
                    port = int(match.group(1))
            assert thread.is_alive() or port is not None, f"main() returned {result}"
            assert time.monotonic() < deadline, "the server never said where it listens"
            time.sleep(0.01)
        response = fetch(port, "GET", path)
        thread.join(WAIT)
        assert not thread.is_alive(), "main() did not return after --limit-max-requests 1"
        return result[0], response.status, response.body
    finally:
        server_logger.removeHandler(records)


# -- --help ----------------------------------------------------------------------------------


def help_text(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def option_help(text: str, flag: str) -> str:
    """The help of ``flag``: from its listing up to the next option's."""
    match = re.search(rf"(?:^| ){re.escape(flag)}\b(.*?)(?= --?[a-z]|$)", text.split("options:")[1])
    assert match is not None, f"{flag} is not in --help"
    return match.group(1)


def test_help_lists_every_option_with_its_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = help_text(capsys, monkeypatch)
    assert "MODULE:ATTR" in text
    for field in dataclasses.fields(Config):
        flag = field.metadata.get("flag", "--" + field.name.replace("_", "-"))
        if isinstance(field.default, bool) or field.name == "use_colors":
            flag = flag.replace("--", "--no-")  # listed as "--x, --no-x help (default: ...)"
        if field.default == ():  # repeatable: nothing given means none
            assert "(default: " not in option_help(text, flag), flag
            continue
        assert f"(default: {field.default})" in option_help(text, flag), flag
    assert "(default: .)" in option_help(text, "--app-dir")
    # The options the issue names, with uvicorn's spelling.
    for flag in ("--host", "--port", "--uds", "--backend", "--loop", "--workers", "--log-level",
                 "--no-access-log", "--factory", "--app-dir", "--timeout-keep-alive",
                 "--timeout-graceful-shutdown", "--max-body-size", "--max-header-size"):
        assert "(default: " in option_help(text, flag), flag
    assert "(default: 127.0.0.1)" in option_help(text, "--host")
    assert "(default: 8000)" in option_help(text, "--port")
    assert "(default: 5.0)" in option_help(text, "--timeout-keep-alive")


def test_switches_have_both_spellings_as_in_uvicorn(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "(default: True)" next to --no-access-log alone would read as "the log is
    # off"; listed with both spellings, it says which one is in force.
    text = help_text(capsys, monkeypatch)
    for name in ("access-log", "proxy-headers", "server-header", "date-header", "use-colors",
                 "reload"):
        assert f"--{name}, --no-{name}" in text, name
    assert "(default: True)" in option_help(text, "--no-access-log")
    assert "(default: False)" in option_help(text, "--no-reload")


# -- failures: one line, no traceback, non-zero --------------------------------------------------


def test_a_module_that_does_not_exist(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["mr_cli_no_such_module:app", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, '"mr_cli_no_such_module"', "no such module")


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        pytest.param(
            "raise RuntimeError('boom at import')\n", "RuntimeError: boom at import", id="raises"
        ),
        pytest.param("import mr_cli_missing_dependency\n", "mr_cli_missing_dependency",
                     id="missing-dependency"),
        pytest.param("def broken(:\n", "SyntaxError", id="syntax-error"),
    ],
)
def test_a_module_that_fails_to_import(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, source: str, needle: str
) -> None:
    module = write_module(tmp_path, source)
    assert main([f"{module}:app", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, f'"{module}"', needle)


@pytest.mark.parametrize(("package", "extra"), [("celery", "celery"), ("jinja2", "templates"),
                                              ("kombu.utils", "celery")])
def test_an_app_that_imports_a_missing_extra_is_told_which_extra_to_install(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    package: str, extra: str,
) -> None:
    # examples/offload_celery.py imports celery at its top, before microready
    # could say anything: the loader names the extra.
    monkeypatch.setitem(sys.modules, package.partition(".")[0], None)  # as if not installed
    module = write_module(tmp_path, f"import {package}\n")
    assert main([f"{module}:app", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, f'"{module}"', f"pip install 'microready[{extra}]'")


def test_a_missing_attribute(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    module = write_module(tmp_path)
    assert main([f"{module}:nope", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, f'"{module}"', '"nope"')


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        pytest.param("app = {'not': 'an app'}\n", "dict", id="dict"),
        pytest.param("app = 42\n", "int", id="int"),
    ],
)
def test_an_attribute_that_is_not_an_app(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, source: str, needle: str
) -> None:
    module = write_module(tmp_path, source)
    assert main([f"{module}:app", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, f"{module}:app", needle, "not a microready app")


def test_a_spec_without_an_attribute(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["examples.notifications"]) != 0
    assert_one_error_line(capfd, "MODULE:ATTR", "examples.notifications")


@pytest.mark.parametrize(
    "options",
    [
        pytest.param([], id="asyncio"),
        pytest.param(["--backend", "trio"], id="trio"),
        pytest.param(["--workers", "2"], id="workers"),
    ],
)
def test_a_port_in_use(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, options: list[str]
) -> None:
    module = write_module(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main([f"{module}:app", "--app-dir", str(tmp_path), "--port", str(port), *options])
    assert code != 0
    assert_one_error_line(capfd, f"127.0.0.1:{port}", "in use")


def test_a_bad_option_value(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    module = write_module(tmp_path)
    assert main([f"{module}:app", "--app-dir", str(tmp_path), "--port", "70000"]) != 0
    assert_one_error_line(capfd, "port", "70000")


def test_loop_uvloop_without_uvloop_says_so(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With None in sys.modules, `import uvloop` fails as if it were not installed.
    monkeypatch.setitem(sys.modules, "uvloop", None)
    module = write_module(tmp_path)
    assert main([f"{module}:app", "--app-dir", str(tmp_path), "--loop", "uvloop"]) != 0
    assert_one_error_line(capfd, "uvloop", "not installed", "pip install")


def test_run_fails_the_same_way_from_python(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = write_module(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        microready.run(f"{module}:nope", app_dir=str(tmp_path))
    assert exit_info.value.code != 0
    assert_one_error_line(capfd, f'"{module}"', '"nope"')


def test_run_names_an_unknown_option() -> None:
    with pytest.raises(microready.ConfigError, match="prot"):
        microready.run("examples.notifications:app", prot=8000)


# -- --factory and --app-dir -----------------------------------------------------------------


def test_factory_calls_attr_to_get_the_app(tmp_path: Path) -> None:
    module = write_module(tmp_path / "apps")
    code, status, body = serve_one_request(
        [f"{module}:create_app", "--factory", "--app-dir", str(tmp_path / "apps")], "/who"
    )
    assert (code, status) == (0, 200)
    assert json.loads(body)["module"] == module


def test_a_factory_without_factory_flag_is_explained(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = write_module(tmp_path)
    assert main([f"{module}:create_app", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, f"{module}:create_app", "--factory")


def test_factory_that_raises(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    module = write_module(tmp_path)
    assert main([f"{module}:broken_factory", "--factory", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, f"{module}:broken_factory", "the factory failed")


def test_factory_on_something_not_callable(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = write_module(tmp_path, "app = 42\n")
    assert main([f"{module}:app", "--factory", "--app-dir", str(tmp_path)]) != 0
    assert_one_error_line(capfd, f"{module}:app", "--factory")


def test_app_dir_is_where_the_module_is_imported_from(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = write_module(tmp_path / "elsewhere")
    assert main([f"{module}:app"]) != 0  # not on sys.path without --app-dir
    assert_one_error_line(capfd, f'"{module}"', "no such module")
    code, status, body = serve_one_request(
        [f"{module}:app", "--app-dir", str(tmp_path / "elsewhere")], "/who"
    )
    assert (code, status, json.loads(body)["module"]) == (0, 200, module)


def test_app_dir_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = write_module(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, status, body = serve_one_request([f"{module}:app"], "/who")
    assert (code, status, json.loads(body)["module"]) == (0, 200, module)


# -- as a process --------------------------------------------------------------------------------


def test_serve_the_notifications_example(tmp_path: Path) -> None:
    # Run from a scratch directory (the example writes log.txt into the current
    # one), with --app-dir pointing at the repository.
    args = ["examples.notifications:app", "--port", "0", "--app-dir", str(REPO)]
    with server_process(*args, cwd=tmp_path) as server:
        port = server.listening_port()
        response = fetch(port, "POST", "/send-notification/foo@example.com")
        assert (response.status, response.header(b"content-type")) == (200, b"application/json")
        assert response.json() == {"message": "Notification sent in the background"}
        log = wait_for_path(tmp_path / "log.txt", WAIT)
        assert log == "notification for foo@example.com: some notification"
        assert server.terminate() == 0
    assert "Traceback" not in server.log
    assert re.search(
        r'127\.0\.0\.1:\d+ - "POST /send-notification/foo@example.com HTTP/1\.1" 200',
        server.log,
    ), server.log


def test_serve_on_trio(tmp_path: Path) -> None:
    module = write_module(tmp_path)
    args = [f"{module}:app", "--port", "0", "--backend", "trio"]
    with server_process(*args, cwd=tmp_path) as server:
        response = fetch(server.listening_port(), "GET", "/loop")
        assert (response.status, response.json()) == (200, "trio")
        assert server.terminate() == 0
    assert "Traceback" not in server.log


def test_loop_uvloop(tmp_path: Path) -> None:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        has_uvloop = False
    else:
        has_uvloop = True
    module = write_module(tmp_path)
    args = [f"{module}:app", "--port", "0", "--loop", "uvloop", "--no-access-log"]
    with server_process(*args, cwd=tmp_path) as server:
        if not has_uvloop:
            assert server.process.wait(WAIT) != 0
            server.wait_for_log(r"uvloop is not installed")
            return
        response = fetch(server.listening_port(), "GET", "/loop")
        assert (response.status, response.json()) == (200, "asyncio:uvloop")
        assert server.terminate() == 0
    assert "GET /loop" not in server.log  # --no-access-log
    assert "Traceback" not in server.log


def test_workers_serve_and_all_exit_on_sigterm(tmp_path: Path) -> None:
    module = write_module(tmp_path)
    args = [f"{module}:app", "--port", "0", "--workers", "2"]
    with server_process(*args, cwd=tmp_path) as server:
        started = server.wait_for_log(r"started worker process (\d+)", count=2)
        workers = {int(match.group(1)) for match in started}
        server.extra_pids.extend(workers)
        assert len(workers) == 2 and server.process.pid not in workers
        match = server.wait_for_log(
            r"supervisor process (\d+) listening on http://127\.0\.0\.1:(\d+)"
        )
        assert int(match[0].group(1)) == server.process.pid
        port = int(match[0].group(2))
        server.wait_for_log(r"microready listening on http://127\.0\.0\.1:" + str(port), count=2)
        served_by = set()
        for _ in range(6):
            response = fetch(port, "GET", "/who")
            assert response.status == 200
            served_by.add(response.json()["pid"])
        assert served_by <= workers, (served_by, workers)
        code = server.terminate()
        assert code == 0, server.log
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # gone, and reaped
    assert "Traceback" not in server.log
