"""``--env-file``: a .env file's variables, loaded before the app is imported.

Served for real (the app reads the variable at import time and per request),
in one process and with ``--workers``; a missing file and a missing
python-dotenv each fail at start-up with one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from microready.server.cli import main
from microready.server.env_file import EnvFile, EnvFileError
from tests.support.logging_state import restored_process_state
from tests.support.processes import app_process, fetch

APP = textwrap.dedent(
    """
    import os

    from microready import MicroReady

    AT_IMPORT = os.environ.get("MR_GREETING")
    app = MicroReady()


    @app.get("/env")
    async def env() -> dict[str, object]:
        return {"at_import": AT_IMPORT, "now": os.environ.get("MR_GREETING"),
                "shell": os.environ.get("MR_FROM_SHELL"), "pid": os.getpid()}
    """
)


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    return lines[0]


@pytest.mark.parametrize(("workers", "backend"), [("1", "asyncio"), ("2", "asyncio"),
                                                  ("1", "trio")])
def test_the_app_sees_the_variables_from_its_import_on(
    tmp_path: Path, workers: str, backend: str
) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("# settings\nMR_GREETING='hello from the file'\nMR_FROM_SHELL=file\n")
    os.environ["MR_FROM_SHELL"] = "shell"  # inherited by the server: the real environment wins
    try:
        with app_process(tmp_path, APP, "--env-file", str(env_file),
                         "--workers", workers, "--backend", backend) as server:
            body = fetch(server.port, "GET", "/env").json()
            assert body["at_import"] == body["now"] == "hello from the file", server.log
            assert body["shell"] == "shell"
            assert f"Loading environment from '{env_file}'" in server.log
            assert server.terminate() == 0, server.log
    finally:
        del os.environ["MR_FROM_SHELL"]


def test_a_missing_file_is_one_error_line(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "mr_env_app.py").write_text(APP)
    with restored_process_state():
        code = main(["mr_env_app:app", "--app-dir", str(tmp_path), "--port", "0",
                     "--env-file", str(tmp_path / "nope.env")])
    assert code == 1
    line = one_error_line(capfd.readouterr().err)
    assert line == f"ERROR:    --env-file {tmp_path / 'nope.env'}: no such file"
    assert "MR_GREETING" not in os.environ


def test_without_python_dotenv_the_error_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "mr_env_app.py").write_text(APP)
    (tmp_path / ".env").write_text("MR_GREETING=hi\n")
    # With None in sys.modules, `import dotenv` fails as if it were not installed.
    code = (
        "import sys; sys.modules['dotenv'] = None\n"
        "from microready.server.cli import main\n"
        "sys.exit(main(['mr_env_app:app', '--port', '0', '--env-file', '.env']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 1
    assert one_error_line(done.stderr) == (
        "ERROR:    --env-file .env: python-dotenv is not installed; "
        "install it with: pip install 'microready[dotenv]'"
    )


def test_loading_again_takes_back_what_the_file_no_longer_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the supervisor does before a rolling restart, and the reloader before
    # each restart: an edited file reaches the processes started after it.
    for name in ("MR_A", "MR_B", "MR_SHELL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MR_SHELL", "shell")
    path = tmp_path / ".env"
    path.write_text("MR_A=1\nMR_B=${MR_A}2\nMR_SHELL=file\nMR_NO_VALUE\n")
    env_file = EnvFile(str(path))
    try:
        env_file.load()
        assert (os.environ["MR_A"], os.environ["MR_B"], os.environ["MR_SHELL"]) == (
            "1", "12", "shell")
        assert "MR_NO_VALUE" not in os.environ
        path.write_text("MR_B=3\n")
        env_file.load()
        assert "MR_A" not in os.environ
        assert (os.environ["MR_B"], os.environ["MR_SHELL"]) == ("3", "shell")
        path.unlink()
        with pytest.raises(EnvFileError, match="no such file"):
            env_file.load()
        assert os.environ["MR_B"] == "3"  # a failed load leaves things as they were
    finally:
        for name in ("MR_A", "MR_B"):
            os.environ.pop(name, None)
