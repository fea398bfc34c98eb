"""After the README's ``pip install -e .``, type checkers see microready from anywhere.

setuptools' editable install of a flat layout is an import hook, which mypy and
pyright cannot follow: a user's ``mypy --strict`` then says "Cannot find
implementation or library stub for module named microready", and the typing of
``add_task`` that the README promises is lost. pyproject.toml's
``package-dir = {"" = "."}`` makes the install a static path entry instead.

These tests run mypy in a subprocess, in a temporary folder (so only the
installed package can satisfy the import), on a user's snippet.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import microready

REPO = Path(microready.__file__).resolve().parent.parent

SNIPPET = '''\
from microready import BackgroundTasks


def send_email(address: str, retries: int = 1) -> None: ...


tasks = BackgroundTasks()
tasks.add_task(send_email, 42)
tasks.add_task(send_email, "ann@example.com", retries=2)
tasks.add_task(send_email, "bob@example.com", retries="twice")
'''
WRONG_ARGUMENT_LINE = 8
RIGHT_CALL_LINE = 9
WRONG_KEYWORD_LINE = 10


def _clean_env() -> dict[str, str]:
    # Nothing but the installed package may point at the repo.
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "MYPYPATH"}}


def test_microready_is_found_from_another_folder_as_this_checkout(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import microready; print(microready.__file__)"],
        cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found = result.stdout.strip()
    assert Path(found).resolve().parent == REPO / "microready", (
        f"microready is imported from {found}, not this checkout: run "
        "`python -m pip install -e .` here"
    )


def test_the_editable_install_is_a_static_path_entry() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"])
    pth_files = sorted(site_packages.glob("__editable__*microready*.pth"))
    assert pth_files, f"no editable install of microready in {site_packages}"
    lines = [line.strip() for pth in pth_files for line in pth.read_text().splitlines()]
    # An import hook would be a line starting with "import"; mypy reads only path lines.
    assert lines and all(not line.startswith("import") for line in lines if line), lines
    assert {Path(line).resolve() for line in lines if line} == {REPO}, lines


def test_mypy_checks_add_task_arguments_against_the_installed_package(tmp_path: Path) -> None:
    (tmp_path / "snippet.py").write_text(SNIPPET)
    (tmp_path / "mypy.ini").write_text("[mypy]\n")  # no config from any folder above
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini",
         "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-color-output", "snippet.py"],
        cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=120,
    )
    output = result.stdout + result.stderr
    assert "import-not-found" not in output and "Cannot find implementation" not in output, (
        "mypy cannot see the installed microready: " + output
    )
    errors = {
        int(match["line"]): match["code"]
        for match in re.finditer(r"^snippet\.py:(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$",
                                 output, re.MULTILINE)
    }
    assert RIGHT_CALL_LINE not in errors, output
    assert errors == {WRONG_ARGUMENT_LINE: "arg-type", WRONG_KEYWORD_LINE: "arg-type"}, output
    assert result.returncode == 1, output
