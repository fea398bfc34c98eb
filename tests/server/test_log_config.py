"""``--log-config`` (dictConfig in JSON or YAML, or an INI file) and ``--use-colors``.

A log config takes full control: the server adds no handler of its own, so
every line goes where the file says, once. ``--log-level`` only fills in a
level the file left unset. A file that cannot be used stops the start with
one line. Colours are uvicorn's: on when stderr is a terminal, forced on or
off by ``--use-colors`` / ``--no-use-colors``.

Configs that reach ``dictConfig``/``fileConfig`` run in a child process: they
replace the logging of the process they run in (pytest's included).
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from microready.server.access_json import log_json_access
from microready.server.cli import main
from microready.server.config import Config
from microready.server.log import LevelFormatter, configure_logging, log_access
from tests.support.http import request
from tests.support.processes import (
    EXIT_DEADLINE,
    STARTUP_DEADLINE,
    ServerProcess,
    SyncClient,
    app_process,
)

APP = textwrap.dedent(
    """
    from microready import MicroReady

    app = MicroReady()


    @app.get("/hello")
    async def hello() -> str:
        return "hi"
    """
)

GREEN_INFO = "\x1b[32mINFO\x1b[0m:     "


def get(port: int, target: str = "/hello") -> int:
    with SyncClient(port) as client:
        client.send(request("GET", target, "Connection: close"))
        return client.read_response().status


def stopped(server: ServerProcess) -> str:
    """SIGTERM, a clean exit, and the whole stderr."""
    assert server.terminate() == 0, server.log
    return server.log


# -- a config takes full control ---------------------------------------------------------------


@pytest.mark.parametrize(("access_log", "backend"), [(True, "asyncio"), (False, "asyncio"),
                                                     (True, "trio")])
def test_a_json_config_sends_each_line_where_it_says_once(
    tmp_path: Path, access_log: bool, backend: str
) -> None:
    access_file = tmp_path / "access.log"
    config = {
        "version": 1,
        "formatters": {"plain": {"format": "%(name)s|%(levelname)s|%(message)s"}},
        "handlers": {
            "access_file": {"class": "logging.FileHandler", "filename": str(access_file),
                            "formatter": "plain"},
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                       "formatter": "plain"},
        },
        "loggers": {
            "microready.access": {"handlers": ["access_file"], "propagate": False},
            "microready": {"handlers": ["stderr"], "propagate": False},
        },
    }
    (tmp_path / "logging.json").write_text(json.dumps(config))
    # --use-colors cannot reach a plain logging.Formatter: the server says so.
    flags = ["--backend", backend] + ([] if access_log else ["--no-access-log", "--use-colors"])
    with app_process(tmp_path, APP, "--log-config", str(tmp_path / "logging.json"),
                     *flags) as server:
        assert get(server.port) == 200
        log = stopped(server)
    assert "microready.server|INFO|microready listening on http://127.0.0.1:" in log
    assert "INFO:     " not in log  # the server's own handler was never added
    assert "/hello" not in log  # the access line went to its file only
    warned = ("microready.server|WARNING|--use-colors has no effect: the --log-config file "
              "formats no handler with microready.server.log.LevelFormatter")
    assert (warned in log) == (not access_log), log
    lines = access_file.read_text().splitlines()
    if access_log:
        [line] = lines
        assert re.fullmatch(
            r'microready\.access\|INFO\|127\.0\.0\.1:\d+ - "GET /hello HTTP/1\.1" 200 '
            r"\d+\.\dms \d+B", line), line
    else:
        assert lines == []


def test_a_yaml_config_with_microreadys_formatter_and_levels(tmp_path: Path) -> None:
    (tmp_path / "logging.yaml").write_text(textwrap.dedent(
        """
        version: 1
        formatters:
          levels:
            (): microready.server.log.LevelFormatter
        handlers:
          stderr:
            class: logging.StreamHandler
            stream: ext://sys.stderr
            formatter: levels
        loggers:
          microready:
            handlers: [stderr]
            propagate: false
          microready.access:
            level: WARNING
        """
    ))
    with app_process(tmp_path, APP, "--log-config", str(tmp_path / "logging.yaml"),
                     "--log-level", "debug", "--use-colors") as server:
        assert get(server.port) == 200
        with SyncClient(server.port) as client:
            client.send(b"GARBAGE\r\n\r\n")
            assert client.read_response().status == 400
        server.wait_for_log("rejecting request from")
        log = stopped(server)
    # --use-colors reaches microready's formatter in the file (use_colors unset there).
    assert GREEN_INFO + "microready listening on" in log
    assert "has no effect" not in log
    # The file set no level for "microready": --log-level debug fills it in ...
    assert "\x1b[36mDEBUG\x1b[0m:    rejecting request from 127.0.0.1" in log
    # ... but the level the file gave the access logger wins.
    assert "/hello" not in log


def test_an_ini_file_goes_to_file_config(tmp_path: Path) -> None:
    (tmp_path / "logging.ini").write_text(textwrap.dedent(
        """
        [loggers]
        keys = root, microready

        [handlers]
        keys = stderr

        [formatters]
        keys = plain

        [logger_root]
        level = WARNING
        handlers =

        [logger_microready]
        level = INFO
        handlers = stderr
        qualname = microready
        propagate = 0

        [handler_stderr]
        class = StreamHandler
        formatter = plain
        args = (sys.stderr,)

        [formatter_plain]
        format = INI %(name)s %(message)s
        """
    ))
    with app_process(tmp_path, APP, "--log-config", str(tmp_path / "logging.ini")) as server:
        assert get(server.port) == 200
        log = stopped(server)
    assert "INI microready.server microready listening on" in log
    assert re.search(r'^INI microready\.access 127\.0\.0\.1:\d+ - "GET /hello HTTP/1\.1" 200 ',
                     log, re.MULTILINE), log
    assert "INFO:     " not in log


# -- a config that cannot be used: one line, exit 1 --------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``main()`` sets up the ``microready`` loggers before it fails; undo that."""
    loggers = [logging.getLogger(name) for name in ("microready", "microready.access")]
    saved = [(list(lg.handlers), lg.level, lg.propagate, lg.disabled) for lg in loggers]
    colours = LevelFormatter.default_use_colors
    yield
    for logger, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.level, logger.propagate, logger.disabled = level, propagate, disabled
    LevelFormatter.default_use_colors = colours


def one_error_line(capfd: pytest.CaptureFixture[str]) -> str:
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR:    "), err
    return lines[0]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        pytest.param("absent.json", None, "no such file", id="missing"),
        pytest.param("broken.json", '{"version": 1,', "is not valid JSON", id="broken-json"),
        pytest.param("list.json", "[1, 2]", "must hold a dictConfig mapping such as",
                     id="not-a-mapping"),
        pytest.param("broken.yaml", "version: [1\nloggers: {",
                     "is not valid YAML: expected ',' or ']', but got ':' (line 2, column 8)",
                     id="broken-yaml"),
        pytest.param("other.ini", "[app]\nkey = 1\n", "missing 'formatters'",
                     id="ini-without-sections"),
    ],
)
def test_a_file_that_cannot_be_used_is_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], restore_logging: None,
    name: str, content: str | None, needle: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    # The app is never looked at: logging is set up first.
    assert main(["mr_log_config_unused:app", "--log-config", str(path)]) == 1
    line = one_error_line(capfd)
    assert f"--log-config {path}" in line and needle in line, line


def test_yaml_without_pyyaml_names_the_extra(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], restore_logging: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "logging.yml").write_text("version: 1\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    assert main(["mr_log_config_unused:app", "--log-config", str(tmp_path / "logging.yml")]) == 1
    assert "pip install 'microready[yaml]'" in one_error_line(capfd)


def test_a_config_logging_rejects_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "logging.json").write_text(json.dumps({
        "version": 1, "handlers": {"h": {"class": "no.such.Handler"}},
        "root": {"handlers": ["h"]},
    }))
    server = ServerProcess(["mr_log_config_unused:app", "--log-config",
                            str(tmp_path / "logging.json")])
    try:
        assert server.wait_for_exit() == 1
    finally:
        server.stop()
    [line] = [line for line in server.lines if line.strip()]
    assert line.startswith("ERROR:    --log-config "), line
    assert "Unable to configure handler 'h'" in line and "no" in line, line


# -- colours ---------------------------------------------------------------------------------


def test_no_colours_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    with app_process(tmp_path, APP) as server:
        assert get(server.port) == 200
        log = stopped(server)
    assert "INFO:     microready listening on" in log
    assert "\x1b[" not in log


def test_use_colors_forces_uvicorns_colours(tmp_path: Path) -> None:
    with app_process(tmp_path, APP, "--use-colors") as server:
        assert get(server.port) == 200
        assert get(server.port, "/nowhere") == 404
        log = stopped(server)
    assert GREEN_INFO + "microready listening on" in log
    # As uvicorn's access line: the request line in bold, the status by its class.
    assert re.search(r'\x1b\[1m"GET /hello HTTP/1\.1"\x1b\[0m \x1b\[32m200\x1b\[0m \d', log), log
    assert re.search(r'\x1b\[1m"GET /nowhere HTTP/1\.1"\x1b\[0m \x1b\[31m404\x1b\[0m', log), log


def serve_on_a_terminal(tmp_path: Path, *args: str) -> str:
    """Serve with stderr on a pseudo-terminal until it says it listens; its output."""
    (tmp_path / "served_app.py").write_text(APP)
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "microready", "served_app:app", "--app-dir", str(tmp_path),
         "--port", "0", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal,
    )
    os.close(terminal)
    output = b""
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while b"listening on" not in output:
            remaining = deadline - time.monotonic()
            assert remaining > 0 and process.poll() is None, output
            readable, _, _ = select.select([controller], [], [], remaining)
            if readable:
                output += os.read(controller, 4096)
        process.terminate()
        assert process.wait(EXIT_DEADLINE) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return output.decode()


def test_colours_by_default_on_a_terminal(tmp_path: Path) -> None:
    assert GREEN_INFO + "microready listening on" in serve_on_a_terminal(tmp_path)


def test_no_use_colors_on_a_terminal(tmp_path: Path) -> None:
    output = serve_on_a_terminal(tmp_path, "--no-use-colors")
    assert "INFO:     microready listening on" in output
    assert "\x1b[" not in output


def test_the_default_handlers_follow_each_configuration(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    # In this process, as `serve()` does it before a server starts (and again,
    # as a test that serves twice would): handlers of ours are replaced, never
    # stacked, and a JSON run leaves nothing behind.
    configure_logging(Config(use_colors=True))
    logging.getLogger("microready.server").warning("careful")
    log_access(None, None, 404, 0.0012, 10)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "\x1b[33mWARNING\x1b[0m:  careful",
        '\x1b[32mINFO\x1b[0m:     - - \x1b[1m"-"\x1b[0m \x1b[31m404\x1b[0m 1.2ms 10B',
    ]
    configure_logging(Config(access_log_format="json", use_colors=False))
    log_json_access(None, None, 0, 0.5, 0, "the client disconnected")
    logging.getLogger("microready.server").info("plain")
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert (json.loads(line)["status"], json.loads(line)["error"]) == (
        None, "the client disconnected")
    assert err == "INFO:     plain\n"
    configure_logging(Config())
    log_access(None, None, 200, 0.0, 0)
    out, err = capsys.readouterr()
    assert (out, err) == ("", 'INFO:     - - "-" 200 0.0ms 0B\n')
