"""``--reload``: edit a module of a served app, and the new answer comes.

The server runs for real (``python -m microready ... --reload``) in a temporary
directory, its current one, so that is what the reloader watches. Each watcher
is tried: watchfiles' (installed with the test extra) and the poller, which the
reloader uses when ``import watchfiles`` fails (a small ``-m`` shim puts None
in ``sys.modules`` for it). The filters and the watchers are also tested on
their own, on real files.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import microready
from microready import MicroReady
from microready.config import Config
from microready.server.cli import main
from microready.server.config import ConfigError
from microready.server.reload_watch import (
    FileFilter,
    ReloadSetupError,
    StatWatcher,
    WatchFilesWatcher,
    choose_watcher,
    watched_directories,
)
from tests.support.logging_state import restored_process_state
from tests.support.processes import (
    STARTUP_DEADLINE,
    ServerProcess,
    fetch,
)

DELAY = "0.05"  # --reload-delay: small, so each test is quick

HIDE_WATCHFILES = textwrap.dedent(
    """
    import sys

    sys.modules["watchfiles"] = None  # `import watchfiles` fails as if not installed

    if __name__ == "__main__":  # spawned children import this module again
        from microready.server.cli import main

        sys.exit(main(sys.argv[1:]))
    """
)


def versioned_app(version: str) -> str:
    return textwrap.dedent(
        f"""
        import os

        from microready import MicroReady

        app = MicroReady()


        @app.get("/version")
        async def version() -> dict[str, object]:
            return {{"version": {version!r}, "pid": os.getpid()}}
        """
    )


@contextlib.contextmanager
def reloading(directory: Path, source: str, *args: str,
              watcher: str = "watchfiles") -> Iterator[ServerProcess]:
    """``served_app.py`` written in ``directory`` and served from it with ``--reload``."""
    (directory / "served_app.py").write_text(source)
    module = "microready"
    if watcher == "stat":
        (directory / "hide_watchfiles.py").write_text(HIDE_WATCHFILES)
        module = "hide_watchfiles"
    server = ServerProcess(
        ["served_app:app", "--port", "0", "--reload", "--reload-delay", DELAY, *args],
        directory, module=module,
    )
    try:
        server.port = server.listening_port()
        yield server
    finally:
        server.extra_pids.extend(
            int(line.rsplit(" ", 1)[1]) for line in server.lines
            if line.startswith("INFO:     started server process ")
        )
        server.stop()


def version_served(server: ServerProcess) -> dict[str, object]:
    body: dict[str, object] = fetch(server.port, "GET", "/version").json()
    return body


def wait_for_version(server: ServerProcess, version: str) -> dict[str, object]:
    """Ask until ``version`` answers (the old process answers until the new one listens)."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while (body := version_served(server))["version"] != version:
        assert time.monotonic() < deadline, f"still {body}:\n{server.log}"
        time.sleep(0.02)
    return body


WATCHERS = [
    pytest.param("watchfiles", "asyncio", id="watchfiles"),
    pytest.param("stat", "asyncio", id="polling"),
    pytest.param("watchfiles", "trio", id="watchfiles-trio"),
]


@pytest.mark.parametrize(("watcher", "backend"), WATCHERS)
def test_an_edited_module_is_served_anew(tmp_path: Path, watcher: str, backend: str) -> None:
    name = "WatchFiles" if watcher == "watchfiles" else "StatReload"
    with reloading(tmp_path, versioned_app("one"), "--backend", backend,
                   watcher=watcher) as server:
        first = version_served(server)
        assert first["version"] == "one"
        assert f"Will watch for changes in these directories: ['{tmp_path}']" in server.log
        assert f"using {name}" in server.log
        (tmp_path / "served_app.py").write_text(versioned_app("two"))
        second = wait_for_version(server, "two")
        assert second["pid"] != first["pid"]
        assert f"{name} detected changes in 'served_app.py'. Reloading..." in server.log
        # SIGINT (Ctrl+C) stops the server process gracefully, then the reloader: 0.
        server.send_signal(signal.SIGINT)
        assert server.wait_for_exit() == 0, server.log
        assert "Stopping reloader process" in server.log


@pytest.mark.parametrize("watcher", ["watchfiles", "stat"])
def test_includes_and_excludes_choose_the_files_that_restart(
    tmp_path: Path, watcher: str
) -> None:
    with reloading(tmp_path, versioned_app("one"), "--reload-include", "*.txt",
                   "--reload-exclude", "scratch_*.py", watcher=watcher) as server:
        assert version_served(server)["version"] == "one"
        (tmp_path / "scratch_notes.py").write_text("x = 1\n")  # excluded
        (tmp_path / ".hidden.txt").write_text("x")  # the default .* exclude
        (tmp_path / "notes.txt").write_text("included")
        detected = server.wait_for_log(r"detected changes in (.*)\. Reloading")[0]
        assert detected.group(1) == "'notes.txt'", server.log
        assert server.terminate() == 0, server.log


def test_a_broken_edit_waits_for_the_fix(tmp_path: Path) -> None:
    with reloading(tmp_path, versioned_app("one"), watcher="stat") as server:
        assert version_served(server)["version"] == "one"
        (tmp_path / "served_app.py").write_text("def broken(:\n")
        server.wait_for_log(r"the server process exited with code 1; waiting for a change")
        assert 'could not import module "served_app"' in server.log
        (tmp_path / "served_app.py").write_text(versioned_app("fixed"))
        wait_for_version(server, "fixed")
        assert server.terminate() == 0, server.log


def test_sighup_restarts_the_server_process_now(tmp_path: Path) -> None:
    with reloading(tmp_path, versioned_app("one")) as server:
        before = version_served(server)["pid"]
        server.send_signal(signal.SIGHUP)
        server.wait_for_log(r"received SIGHUP\. Reloading\.\.\.")
        deadline = time.monotonic() + STARTUP_DEADLINE
        while version_served(server)["pid"] == before:
            assert time.monotonic() < deadline, server.log
            time.sleep(0.02)
        assert server.terminate() == 0, server.log


# -- what --reload refuses -------------------------------------------------------


def test_reload_needs_an_import_string(capfd: pytest.CaptureFixture[str]) -> None:
    with restored_process_state(), pytest.raises(SystemExit) as exit_info:
        microready.run(MicroReady(), reload=True)
    assert exit_info.value.code == 1
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        "ERROR:    reload needs the app as an import string, so that each restart imports "
        'it afresh: run("main:app", reload=True), not run(app, reload=True)'
    ]


def test_reload_with_several_workers_is_refused() -> None:
    # uvicorn warns and reloads one process; an option that does nothing is an error.
    with pytest.raises(ConfigError, match=r"right: --reload \(in development\), or --workers 4"):
        Config(reload=True, workers=4)


@pytest.mark.parametrize("options", [
    {"reload_dirs": ["src"]}, {"reload_includes": ["*.txt"]}, {"reload_excludes": ["x"]},
    {"reload_delay": 1.0},
])
def test_reload_options_without_reload_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=r"only with reload on:\n    right: --reload"):
        Config(**options)  # type: ignore[arg-type]


def test_a_missing_reload_dir_is_one_error_line(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "mr_reload_app.py").write_text(versioned_app("one"))
    with restored_process_state():
        code = main(["mr_reload_app:app", "--app-dir", str(tmp_path), "--port", "0",
                     "--reload", "--reload-dir", str(tmp_path / "nope")])
    assert code == 1
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert lines == [f"ERROR:    --reload-dir {tmp_path / 'nope'}: no such directory "
                     f"(relative paths start at {Path.cwd()})"]


# -- the filter and the watchers, on real files ------------------------------------------


@pytest.mark.parametrize(("name", "includes", "excludes", "watched"), [
    ("app.py", (), (), True),
    ("pkg/deep/mod.py", (), (), True),
    ("notes.txt", (), (), False),
    ("notes.txt", ("*.txt",), (), True),
    (".hidden.py", (), (), False),  # .*
    ("app.pyc", (), (), False),
    (".app.py.swp", (), (), False),
    ("~app.py", (), (), False),
    (".venv/lib/site.py", (), (), False),  # inside a directory the .* exclude matches
    (".env", (".env",), (), True),  # a whole file name beats the excludes
    ("test_app.py", (), ("test_*.py",), False),
    ("app.py", (), ("*.py",), False),  # a default include dropped by an exclude
    ("build/gen.py", (), ("build",), False),  # an existing directory: all under it
])
def test_the_filter_follows_uvicorns_rules(
    tmp_path: Path, name: str, includes: tuple[str, ...], excludes: tuple[str, ...],
    watched: bool
) -> None:
    (tmp_path / "build").mkdir()
    file_filter = FileFilter(includes, excludes, [tmp_path], cwd=tmp_path)
    assert file_filter(tmp_path / name) is watched


def test_watched_directories_are_checked_and_nested_ones_dropped(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    config = Config(reload=True, reload_dirs=("src", "src/pkg"))
    assert watched_directories(config, cwd=tmp_path) == [tmp_path / "src"]
    assert watched_directories(Config(reload=True), cwd=tmp_path) == [tmp_path]
    with pytest.raises(ReloadSetupError, match="--reload-dir nope: no such directory"):
        watched_directories(Config(reload=True, reload_dirs=("nope",)), cwd=tmp_path)


def test_without_watchfiles_the_reloader_polls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(reload=True)
    assert isinstance(choose_watcher(config, [tmp_path], threading.Event()), WatchFilesWatcher)
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    assert isinstance(choose_watcher(config, [tmp_path], threading.Event()), StatWatcher)


@pytest.mark.parametrize("hide_watchfiles", [False, True], ids=["watchfiles", "polling"])
def test_a_watcher_reports_changed_created_and_deleted_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hide_watchfiles: bool
) -> None:
    if hide_watchfiles:
        monkeypatch.setitem(sys.modules, "watchfiles", None)
    (tmp_path / "pkg").mkdir()
    edited, created, ignored = tmp_path / "a.py", tmp_path / "pkg" / "b.py", tmp_path / "c.txt"
    edited.write_text("a = 1\n")
    watcher = choose_watcher(Config(reload=True, reload_delay=0.01), [tmp_path],
                             threading.Event())

    def next_changes(*expected: Path) -> None:
        seen: set[Path] = set()
        deadline = time.monotonic() + STARTUP_DEADLINE
        while seen != set(expected):
            assert time.monotonic() < deadline, f"saw {seen}, not {expected}"
            seen |= set(watcher.changes())
        assert ignored not in seen

    if not hide_watchfiles:
        watcher.changes()  # watchfiles starts watching when first asked
    edited.write_text("a = 2\n")
    ignored.write_text("not watched")
    created.write_text("b = 1\n")
    next_changes(edited, created)
    created.unlink()
    next_changes(created)


def test_a_woken_watcher_returns_at_once(tmp_path: Path) -> None:
    wake = threading.Event()
    watcher = StatWatcher([tmp_path], FileFilter((), (), [tmp_path]), 60.0, wake)
    wake.set()
    started = time.monotonic()
    assert watcher.changes() == []
    assert time.monotonic() - started < 5.0
