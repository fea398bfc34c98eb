#!/usr/bin/env python3
"""One command for the whole benchmark: ``python3 benchmarks/run.py [--quick]``.

1. creates ``benchmarks/.venv`` if it is missing;
2. installs the pinned peers (``requirements.txt``), the optional ones that
   install here (``requirements-optional.txt``) and this checkout of microready
   (editable, with its ``forms`` extra for the upload endpoint), again whenever
   one of those files changes;
3. installs ``wrk`` and ``redis-server`` (for notify-celery) from Debian's packages
   if they are missing (needs root);
4. runs ``python -m benchmarks.suite`` in that venv, passing every option on.

Standard library only, so any Python 3.10+ can start it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed"
INPUTS = (HERE / "requirements.txt", HERE / "requirements-optional.txt", REPO / "pyproject.toml")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in INPUTS:
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def _pip(*args: str, check: bool = True) -> bool:
    command = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    print("+", " ".join(command[2:]), flush=True)
    return subprocess.run(command, cwd=HERE, check=check).returncode == 0


def ensure_venv() -> None:
    if not PYTHON.exists():
        print(f"creating {VENV.relative_to(REPO)}", flush=True)
        venv.create(VENV, with_pip=True)
    fingerprint = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    _pip("-r", "requirements.txt")
    for line in (HERE / "requirements-optional.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement and not _pip(requirement, check=False):
            print(f"note: {requirement} did not install; its targets will be skipped")
    # forms: python-multipart; celery: the notify-celery targets
    _pip("-e", f"{os.path.relpath(REPO, HERE)}[forms,celery]")
    STAMP.write_text(fingerprint)


def ensure_debian(program: str, package: str) -> None:
    if shutil.which(program):
        return
    if os.geteuid() != 0:
        sys.exit(f"{program} is missing: install it with `sudo apt-get install {package}`, "
                 "then rerun")
    print(f"installing {package} from Debian's packages", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", package], env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", package], env=env, check=True)


def main() -> None:
    if sys.platform != "linux":
        sys.exit("the benchmark pins processes with taskset and reads /proc: Linux only")
    if (os.cpu_count() or 1) < 2:
        sys.exit("the benchmark needs 2 CPUs: one for the server, one for wrk")
    ensure_venv()
    ensure_debian("wrk", "wrk")
    ensure_debian("redis-server", "redis-server")
    os.chdir(REPO)
    os.execv(str(PYTHON), [str(PYTHON), "-m", "benchmarks.suite", *sys.argv[1:]])


if __name__ == "__main__":
    main()
