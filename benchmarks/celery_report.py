"""The report's ``notify-celery`` table: microready's offload against FastAPI's ``.delay()``.

One task per request, enqueued to a Celery worker over the same kind of Redis
(a fresh one per server, AOF on). The last line says whether microready is
ahead of FastAPI + uvicorn in both requests/s and p99, the issue's goal.
"""

from __future__ import annotations

from typing import Any

from .aggregate import Cell

__all__ = ["CELERY_ENDPOINT", "OURS", "THEIRS", "celery_table"]

CELERY_ENDPOINT = "notify-celery"
OURS, THEIRS = "microready-celery", "fastapi-celery-uvicorn"


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def celery_table(results: dict[str, Any], cells: dict[tuple[str, str], Cell]) -> list[str]:
    labels = {t["key"]: t["label"] for t in results["targets"]}
    rows = []
    for key in (OURS, THEIRS):
        cell = cells.get((key, CELERY_ENDPOINT))
        if cell is None:
            continue
        share = cell.median("backlog_share")
        rows.append("| " + " | ".join([
            labels.get(key, key),
            _fmt(cell.median_rps, ".0f") + _spread(cell.rps, ".0f")
            + (" ✗" if cell.problems else ""),
            f"{_fmt(cell.median('p50_ms'), '.2f')} / {_fmt(cell.median('p99_ms'), '.2f')}"
            + _spread(cell.p99_ms, ".1f"),
            _fmt(cell.median("tasks_per_response"), ".2f"),
            "-" if share is None else f"{share:.1%}",
            str(cell.errors),
        ]) + " |")
    if not rows:
        return []
    lines = [
        "## Offloading to Celery over Redis (notify-celery)",
        "",
        "One task per request, run by one `celery worker --pool solo` on CPU 1 beside wrk "
        "and Redis. microready: `add_task` with `MicroReady(offload=CeleryOffload(...))`, "
        "published before the response on its own threads; FastAPI: `.delay()` in an "
        "`async def` handler, on the event loop.",
        "",
        "| target | req/s (min-max) | p50 / p99 ms (p99 min-max) | tasks/resp | backlog "
        "| errors |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    ours, theirs = cells.get((OURS, CELERY_ENDPOINT)), cells.get((THEIRS, CELERY_ENDPOINT))
    if ours and theirs and ours.median_rps and theirs.median_rps:
        ahead = (ours.median_rps > theirs.median_rps and not ours.problems
                 and (ours.median("p99_ms") or 0) < (theirs.median("p99_ms") or 0))
        lines += [f"microready ahead in requests/s and p99: {'yes' if ahead else '**no**'} "
                  f"({ours.median_rps / theirs.median_rps:.2f}x requests/s).", ""]
        lines += _rounds(results, ours, theirs)
    return lines


def _spread(values: list[float], spec: str) -> str:
    return f" ({min(values):{spec}}-{max(values):{spec}})" if len(values) > 1 else ""


def _rounds(results: dict[str, Any], ours: Cell, theirs: Cell) -> list[str]:
    """Each round's pair, visited back to back: is microready ahead in every one?"""
    by_round: dict[int, dict[str, dict[str, float]]] = {}
    for sample in results["samples"]:
        if sample["endpoint"] == CELERY_ENDPOINT and sample["load"]:
            by_round.setdefault(sample["round"], {})[sample["target"]] = sample["load"]
    rows = []
    for number, pair in sorted(by_round.items()):
        mine, peer = pair.get(OURS), pair.get(THEIRS)
        if mine is None or peer is None:
            continue
        ahead = mine["rps"] > peer["rps"] and mine["p99_ms"] < peer["p99_ms"]
        rows.append(f"| {number + 1} | {mine['rps']:.0f}, {mine['p99_ms']:.1f} ms | "
                    f"{peer['rps']:.0f}, {peer['p99_ms']:.1f} ms | "
                    f"{mine['rps'] / peer['rps']:.2f}x | {'yes' if ahead else '**no**'} |")
    if len(rows) < 2:
        return []
    return ["Round by round (req/s, p99):", "",
            "| round | microready | FastAPI | req/s ratio | ahead in both |",
            "|---|---|---|---|---|", *rows, ""]
