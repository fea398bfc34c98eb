"""examples/upload.py: a 20 MiB upload answered 202 at once, counted by a background task.

In-process (the real server in the test's loop), the task is held until the
test has seen the 202, so "the response came before the task finished" is a
fact, not a race. Then as a user runs it, ``python -m microready`` with httpx
sending the file from disk: the server's peak memory stays within 40 MiB of
its idle size, and no temporary file is left behind.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import examples.upload as example

from ..support.http import request
from ..support.live import IO_TIMEOUT, connect, serving
from ..support.processes import server_process
from .test_forms import BOUNDARY

TWENTY_MIB = 20 * 1024 * 1024
LINE = b"0123456789abcdef" * 3 + b"\n"  # 49 bytes
MAX_BODY = str(64 * 1024 * 1024)


def content_of(size: int) -> bytes:
    return (LINE * (size // len(LINE) + 1))[:size]


def open_fds_under(pid: int | str, directory: Path) -> list[str]:
    """What the process's file descriptors point to inside ``directory`` (deleted or not)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    found = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed while we looked
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


@pytest.mark.anyio
async def test_202_before_the_task_and_every_byte_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    release = threading.Event()
    real_count = example.count_lines

    def held_count(upload_id: int, upload: Any) -> None:
        release.wait(IO_TIMEOUT)  # in the runner's worker thread; the test lets it go
        real_count(upload_id, upload)

    monkeypatch.setattr(example, "count_lines", held_count)
    content = content_of(TWENTY_MIB)
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.log"\r\nContent-Type: text/plain\r\n\r\n').encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + len(content) + len(tail)
    async with serving(example.app, max_body_size=int(MAX_BODY)) as server, \
            connect(server.port) as client:
        await client.send(request(
            "POST", "/uploads/", f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
            f"Content-Length: {length}") + head)
        for start in range(0, len(content), 256 * 1024):
            await client.send(content[start:start + 256 * 1024])
        await client.send(tail)
        accepted = await client.read_response("POST")
        assert accepted.status == 202
        upload_id = accepted.json()["id"]
        assert accepted.json() == {"id": upload_id, "status": "processing",
                                   "result": f"/uploads/{upload_id}"}
        await client.send(request("GET", f"/uploads/{upload_id}"))
        assert (await client.read_response()).json()["status"] == "processing"
        # The file is spooled on disk, anonymous, and still open for the task.
        assert os.listdir(tmp_path) == []
        assert len(open_fds_under("self", tmp_path)) == 1
        release.set()
        with anyio.fail_after(IO_TIMEOUT):
            await server.server.app.background.join()
        await client.send(request("GET", f"/uploads/{upload_id}"))
        result = (await client.read_response()).json()
    assert result == {"id": upload_id, "filename": "big.log", "status": "done",
                      "bytes": TWENTY_MIB, "lines": content.count(b"\n")}
    assert os.listdir(tmp_path) == []
    assert open_fds_under("self", tmp_path) == []  # closed after the task: nothing left


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@pytest.fixture
def big_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "big.log"
    path.write_bytes(content_of(TWENTY_MIB))
    yield path


def test_20_mib_through_the_cli_stays_within_40_mib(
        tmp_path: Path, big_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    root = Path(example.__file__).resolve().parent.parent
    with server_process("examples.upload:app", "--port", "0", "--app-dir", str(root),
                        "--max-body-size", MAX_BODY) as server:
        port = server.listening_port()
        idle = memory_kib(server.pid, "VmRSS")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=IO_TIMEOUT * 4) as client, \
                big_file.open("rb") as file:
            accepted = client.post("/uploads/", files={"file": ("big.log", file, "text/plain")})
            assert accepted.status_code == 202, accepted.text
            upload_id = accepted.json()["id"]
            deadline = time.monotonic() + IO_TIMEOUT * 4
            while (result := client.get(f"/uploads/{upload_id}").json())["status"] != "done":
                assert time.monotonic() < deadline, result
                time.sleep(0.02)  # polling a result under a deadline, not timing anything
        peak = memory_kib(server.pid, "VmHWM")
        assert result["bytes"] == TWENTY_MIB
        assert result["lines"] == TWENTY_MIB // len(LINE)  # the last line is cut, no newline
        print(f"upload RSS: idle {idle} KiB, peak {peak} KiB, +{peak - idle} KiB")
        assert (peak - idle) < 40 * 1024, f"peak {peak} KiB, idle {idle} KiB"
        deadline = time.monotonic() + IO_TIMEOUT
        while open_fds_under(server.pid, spool):  # the cleanup runs just after the task
            assert time.monotonic() < deadline, open_fds_under(server.pid, spool)
            time.sleep(0.01)
        assert os.listdir(spool) == []
