"""``/docs`` in a real browser: headless Chromium runs Swagger UI against the real server.

The served app (tests/app/docs_app/served.py) is examples/notifications.py's
endpoint with Swagger UI's files from npm's ``swagger-ui-dist`` served by the app
itself (FastAPI's "Custom Docs UI Static Assets"). ``python -m microready`` runs it
as a child process in a temporary directory, where the background task writes
``log.txt``. Playwright drives Debian's ``chromium``: the operation is listed,
"Try it out" sends the request, the page shows the 200 and its body, then the
task's line is in ``log.txt``. A screenshot is left in tests/output/docs.png.

Chromium and Swagger UI's files are system and npm packages, which `.ci/run`
installs. In CI (``CI`` set, as `.ci/run`'s runner sets it) nothing is skipped:
without Chromium, Playwright or the assets the test fails and says to run
.ci/run. Elsewhere, so that the README's test command works on a machine with
only Python and pip, it is skipped with that same message. Every request the
page makes to another host is refused (and the test fails on it), so the page
works offline.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from ..support.processes import server_process, wait_for_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
ASSETS = Path(os.environ.get("SWAGGER_UI_DIST",
                             ROOT / ".ci" / "cache" / "node_modules" / "swagger-ui-dist"))
SCREENSHOT = ROOT / "tests" / "output" / "docs.png"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
DEADLINE_MS = 10_000  # for each wait on the page
RUN_CI = "run `bash .ci/run` (it installs chromium, playwright and swagger-ui-dist)"


def missing(what: str) -> None:
    """Fail in CI, where .ci/run installed everything; skip on a machine without it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}: {RUN_CI}")
    pytest.skip(f"{what}: {RUN_CI}")


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        missing("no chromium on PATH nor at /usr/bin/chromium")
    return path


def assets_dir() -> Path:
    if not all((ASSETS / name).is_file() for name in ("swagger-ui-bundle.js", "swagger-ui.css")):
        missing(f"no swagger-ui-dist at {ASSETS} (or $SWAGGER_UI_DIST)")
    return ASSETS


def descendants(pid: int) -> dict[int, bytes]:
    """Every live process under ``pid``, with its command line (to recognise it later)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, bytes] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                with contextlib.suppress(OSError):
                    found[child] = Path(f"/proc/{child}/cmdline").read_bytes()
                    todo.append(child)
    return found


def kill_if_same(pid: int, cmdline: bytes) -> None:
    """SIGKILL ``pid`` if it is still the process it was (not a stranger reusing the PID)."""
    try:
        if Path(f"/proc/{pid}/cmdline").read_bytes() != cmdline:
            return
        os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Playwright's Chromium; its driver and browser processes are killed by PID after."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed")
    executable = chromium_path()
    ours = set(descendants(os.getpid()))  # whatever ran before, not to be touched here
    spawned: dict[int, bytes] = {}
    try:
        with sync_playwright() as playwright:
            try:
                launched = playwright.chromium.launch(
                    executable_path=executable, args=CHROMIUM_ARGS, headless=True,
                    timeout=DEADLINE_MS * 2)
            except Exception as error:
                pytest.fail(f"{executable} did not start ({error}): {RUN_CI}")
            try:
                yield launched
            finally:
                # Playwright's driver and Chromium's processes (renderers included).
                spawned = {pid: cmd for pid, cmd in descendants(os.getpid()).items()
                           if pid not in ours and (b"chromium" in cmd or b"playwright" in cmd)}
                with contextlib.suppress(Exception):
                    launched.close()
    finally:
        for pid, cmdline in spawned.items():
            kill_if_same(pid, cmdline)


def test_swagger_ui_try_it_out_sends_a_notification(browser: Browser, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import Route, expect

    monkeypatch.setenv("SWAGGER_UI_DIST", str(assets_dir()))
    started = time.monotonic()
    with server_process("tests.app.docs_app.served:app", "--port", "0",
                        "--app-dir", str(ROOT), cwd=tmp_path) as server:
        base = f"http://127.0.0.1:{server.listening_port()}"
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        try:
            page = context.new_page()
            page.set_default_timeout(DEADLINE_MS)
            elsewhere: list[str] = []

            def local_only(route: Route) -> None:
                if urlsplit(route.request.url).netloc == urlsplit(base).netloc:
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", local_only)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            page.goto(f"{base}/docs")
            operation = page.locator(
                ".opblock", has=page.locator('[data-path="/send-notification/{email}"]'))
            expect(operation).to_have_count(1, timeout=DEADLINE_MS)
            method = operation.locator(".opblock-summary-method")
            expect(method).to_have_text("POST", timeout=DEADLINE_MS)
            expect(operation.locator(".opblock-summary-path")).to_contain_text(
                "/send-notification/{email}", timeout=DEADLINE_MS)

            operation.locator(".opblock-summary").first.click()
            operation.get_by_role("button", name="Try it out").click()
            operation.locator('tr[data-param-name="email"] input').fill("foo@example.com")
            operation.get_by_role("button", name="Execute").click()

            live = operation.locator(".live-responses-table tbody")
            expect(live.locator(".response-col_status")).to_have_text("200", timeout=DEADLINE_MS)
            expect(live.locator(".response-col_description")).to_contain_text(
                "Notification sent in the background", timeout=DEADLINE_MS)
            expect(operation.locator(".request-url")).to_contain_text(
                "/send-notification/foo%40example.com", timeout=DEADLINE_MS)

            log = wait_for_path(tmp_path / "log.txt", timeout=DEADLINE_MS / 1000)
            assert log == "notification for foo@example.com: some notification"

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert elsewhere == [], f"the page asked other hosts: {elsewhere}"
            assert errors == [], errors
        finally:
            with contextlib.suppress(Exception):
                context.close()
    assert 'POST /send-notification/foo%40example.com' in server.log
    print(f"docs in a browser: {time.monotonic() - started:.1f}s")
