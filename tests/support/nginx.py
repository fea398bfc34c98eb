"""The README's nginx block, run by a real nginx as a child process.

``readme_block()`` takes the ```nginx fenced block under "### Behind a reverse
proxy" from README.md (or from the file named by ``MICROREADY_README``, for a
draft of that section not merged yet). ``run_nginx()`` changes in it only what
cannot run as written on a test machine, each change exactly once (else the
test fails and says which line the README lost):

* ``server unix:/run/microready.sock;`` -> the test's socket (or a TCP address);
* ``listen 443 ssl;`` -> ``listen 127.0.0.1:PORT ssl;``, a free loopback port;
* ``ssl_certificate`` and ``ssl_certificate_key`` -> a certificate made by
  trustme for ``localhost``.

Everything else, comments included, is used verbatim, inside a minimal main
configuration: ``daemon off`` (nginx stays our child, stopped by its PID),
one worker process (so "connections per worker" is "connections"), and every
path nginx writes (pid, logs, request-body and proxy temp files) in a
temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

__all__ = ["Nginx", "nginx_binary", "readme_block", "run_nginx"]

ROOT = Path(__file__).resolve().parents[2]
HEADING = "### Behind a reverse proxy"
START_DEADLINE = 10.0
STOP_DEADLINE = 10.0
RUN_CI = "run `bash .ci/run` (it installs nginx)"

MAIN_CONFIG = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
{user}
events {{ worker_connections 512; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

# -- README.md's block, with the substitutions above --
{block}
}}
"""


def nginx_binary() -> str:
    """nginx's path; skipped without it outside CI, failed in CI (where .ci/run installs it)."""
    path = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(path, os.X_OK):
        message = f"no nginx on PATH nor at /usr/sbin/nginx: {RUN_CI}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def readme_block() -> str:
    """The ```nginx block of README.md's "Behind a reverse proxy" section."""
    readme = Path(os.environ.get("MICROREADY_README") or ROOT / "README.md")
    text = readme.read_text()
    section = text.partition(f"\n{HEADING}\n")[2]
    assert section, f"{readme} has no {HEADING!r} section"
    section = re.split(r"\n#{1,3} ", section, maxsplit=1)[0]
    found = re.search(r"^```nginx\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert found, f"{readme}'s {HEADING!r} section has no ```nginx block"
    return found.group(1)


def _substitute(block: str, pattern: str, replacement: str) -> str:
    changed, count = re.subn(pattern, lambda _: replacement, block, flags=re.MULTILINE)
    assert count == 1, (
        f"the README's nginx block should have exactly one line matching {pattern!r} "
        f"(it has {count}); update tests/support/nginx.py if the block changed on purpose"
    )
    return changed


@dataclass
class Nginx:
    """A running nginx: its HTTPS port on 127.0.0.1, and a client context that trusts it."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    client_context: ssl.SSLContext

    @property
    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text() if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _configure(block: str, directory: Path, upstream: str, port: int,
               certificate: tuple[Path, Path]) -> Path:
    block = _substitute(block, r"\bserver\s+unix:/run/microready\.sock;", f"server {upstream};")
    block = _substitute(block, r"^\s*listen 443 ssl;", f"    listen 127.0.0.1:{port} ssl;")
    block = _substitute(block, r"^\s*ssl_certificate\s+\S+;",
                        f"    ssl_certificate {certificate[0]};")
    block = _substitute(block, r"^\s*ssl_certificate_key\s+\S+;",
                        f"    ssl_certificate_key {certificate[1]};")
    # As root, nginx's workers would run as nobody, who cannot enter pytest's
    # temporary directories (mode 0700); anyone else's workers run as themselves.
    user = "user root root;" if os.geteuid() == 0 else ""
    config = directory / "nginx.conf"
    config.write_text(MAIN_CONFIG.format(dir=directory, user=user, block=block))
    return config


def _worker_pids(master: int) -> list[int]:
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{master}/task/{master}/children").read_text()
        return [int(pid) for pid in children.split()]
    return []


def _wait_until_serving(nginx: Nginx) -> bool:
    """True once nginx accepts on its port; False if it exited (say, the port was taken)."""
    deadline = time.monotonic() + START_DEADLINE
    while nginx.process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(
            ("127.0.0.1", nginx.port), timeout=START_DEADLINE
        ):
            return True
        assert time.monotonic() < deadline, f"nginx did not listen:\n{nginx.error_log}"
        time.sleep(0.01)
    return False


def _stop(nginx: Nginx) -> None:
    """SIGTERM (nginx's fast shutdown) to the master by PID; SIGKILL it and its workers
    if it outstays the deadline (a killed master leaves its workers running)."""
    workers = _worker_pids(nginx.process.pid)
    if nginx.process.poll() is None:
        nginx.process.send_signal(signal.SIGTERM)
        try:
            nginx.process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            nginx.process.kill()
            nginx.process.wait()
    for pid in workers:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"nginx: worker"):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def run_nginx(directory: Path, upstream: str, *, block: str | None = None) -> Iterator[Nginx]:
    """nginx with the README's block (or ``block``) in front of ``upstream``
    (``unix:/path`` or ``127.0.0.1:port``), for the length of the ``with``."""
    binary = nginx_binary()
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    issued = authority.issue_cert("localhost", "127.0.0.1")
    certificate = (directory / "cert.pem", directory / "key.pem")
    certificate[0].write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(certificate[1]))
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    for _attempt in range(3):  # the free port may be taken between probe and bind
        port = _free_port()
        config = _configure(block if block is not None else readme_block(), directory,
                            upstream, port, certificate)
        (directory / "error.log").write_text("")
        # Errors before nginx has read its configuration go to stderr: the same file.
        with (directory / "error.log").open("ab") as output:
            process = subprocess.Popen(
                [binary, "-p", str(directory), "-c", str(config),
                 "-e", str(directory / "error.log")],
                stdin=subprocess.DEVNULL, stdout=output, stderr=output,
            )
        nginx = Nginx(process, port, directory, client_context)
        try:
            if _wait_until_serving(nginx):
                yield nginx
                return
            if "Address already in use" not in nginx.error_log:
                raise AssertionError(f"nginx exited at start:\n{nginx.error_log}")
        finally:
            _stop(nginx)
    raise AssertionError(f"nginx found no free port in 3 tries:\n{nginx.error_log}")
