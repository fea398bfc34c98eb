"""Run wrk, pinned to its own CPU, and read back its summary as numbers."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["LoadError", "WrkResult", "run_wrk"]

SCRIPT = Path(__file__).resolve().parent / "wrk" / "report.lua"
MARKER = "WRK_JSON "


class LoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkResult:
    requests: int  # responses received, of any status
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # connect + read + write + timeout + non-2xx/3xx responses
    error_detail: dict[str, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rps": self.rps}


def _header_lines(headers: Sequence[tuple[str, str]]) -> str:
    """``Name: value`` lines for ``WRK_HEADERS``; refuses what would not survive the trip."""
    lines = []
    for name, value in headers:
        if not name or any(c in name for c in ":\r\n \t") or any(c in value for c in "\r\n"):
            raise ValueError(f"header {name!r}: {value!r} cannot be passed to wrk")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def run_wrk(
    port: int,
    method: str,
    path: str,
    *,
    seconds: int,
    connections: int,
    cpu: int,
    timeout: int = 5,
    body: bytes | None = None,
    content_type: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> WrkResult:
    """``seconds`` of load on 127.0.0.1:``port`` from ``connections`` kept-alive connections.

    A ``body`` goes to wrk through a temporary file (``WRK_BODY_FILE``, read by
    ``report.lua``), removed when wrk is done; wrk adds its Content-Length.
    ``headers`` go in ``WRK_HEADERS``, one ``Name: value`` a line, which
    ``report.lua`` puts into ``wrk.headers``: every request sends them.
    """
    command = [
        "taskset", "-c", str(cpu), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
        f"--timeout={timeout}s", "--latency", "-s", str(SCRIPT), f"http://127.0.0.1:{port}{path}",
    ]
    env = {**os.environ, "WRK_METHOD": method}
    for name in ("WRK_BODY_FILE", "WRK_CONTENT_TYPE", "WRK_HEADERS"):
        env.pop(name, None)
    if headers:
        env["WRK_HEADERS"] = _header_lines(headers)
    body_file: str | None = None
    try:
        if body is not None:
            with tempfile.NamedTemporaryFile(prefix="wrk-body-", delete=False) as file:
                body_file = file.name
                file.write(body)
            env["WRK_BODY_FILE"] = body_file
            if content_type:
                env["WRK_CONTENT_TYPE"] = content_type
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + timeout + 30
        )
    except subprocess.TimeoutExpired as exc:
        raise LoadError(f"wrk did not finish: {exc}") from exc
    finally:
        if body_file is not None:
            os.unlink(body_file)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            break
    else:
        said = done.stderr.strip() or done.stdout[-300:]
        raise LoadError(f"wrk exited {done.returncode}: {said}")
    detail = {k: int(raw[k]) for k in ("connect", "read", "write", "timeout", "status")}
    return WrkResult(
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=sum(detail.values()),
        error_detail=detail,
    )
