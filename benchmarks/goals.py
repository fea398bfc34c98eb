"""The performance targets of issue 6, checked against one run's numbers.

Each goal compares medians from the same run. "met" is True/False, or None
when a number it needs is missing (a target skipped or failed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .aggregate import Cell

__all__ = ["Verdict", "evaluate"]

Cells = dict[tuple[str, str], Cell]
STATELESS = ("plaintext", "json", "items")
MICROREADY = ("microready-asyncio", "microready-uvloop", "microready-trio")


@dataclass(frozen=True)
class Verdict:
    goal: str
    measured: str
    met: bool | None


def _rps(cells: Cells, target: str, endpoint: str) -> float | None:
    cell = cells.get((target, endpoint))
    return cell.median_rps if cell else None


def _ratio_goal(
    cells: Cells, ours: str, theirs: str, endpoint: str, at_least: float, goal: str
) -> Verdict:
    a, b = _rps(cells, ours, endpoint), _rps(cells, theirs, endpoint)
    if a is None or b is None or b == 0:
        return Verdict(goal, "n/a", None)
    ratio = a / b
    if _wrong(cells, ours, endpoint):
        return Verdict(goal, f"{ratio:.2f}x, but wrong answers", False)
    return Verdict(goal, f"{ratio:.2f}x", ratio >= at_least)


def _wrong(cells: Cells, target: str, endpoint: str) -> bool:
    """The cell failed its functional check: its speed is not a result."""
    cell = cells.get((target, endpoint))
    return bool(cell and cell.problems)


def _stateless_ratios(cells: Cells) -> list[Verdict]:
    verdicts = []
    for endpoint in STATELESS:
        verdicts.append(_ratio_goal(
            cells, "microready-asyncio", "fastapi-uvicorn-h11", endpoint, 2.5,
            f"{endpoint}: microready (asyncio) ≥ 2.5x FastAPI+uvicorn h11",
        ))
        verdicts.append(_ratio_goal(
            cells, "microready-uvloop", "fastapi-uvicorn-httptools", endpoint, 1.0,
            f"{endpoint}: microready (uvloop) ≥ 1.0x FastAPI+uvicorn httptools",
        ))
    return verdicts


def _ceiling(cells: Cells) -> list[Verdict]:
    ours = _rps(cells, "microready-asyncio", "plaintext")
    h11_built = _rps(cells, "ceiling-h11", "plaintext")
    prebuilt = _rps(cells, "ceiling-h11-prebuilt", "plaintext")
    goal = "plaintext: microready (asyncio) ≥ 80% of the bare h11 ceiling"
    if ours is None or not h11_built:
        return [Verdict(goal, "n/a", None)]
    measured = f"{ours / h11_built:.0%} (of pre-built-bytes variant: "
    measured += f"{ours / prebuilt:.0%})" if prebuilt else "n/a)"
    return [Verdict(goal, measured, ours / h11_built >= 0.8)]


def _notify(cells: Cells) -> list[Verdict]:
    verdicts = [_ratio_goal(
        cells, "microready-uvloop", "fastapi-uvicorn-httptools", "notify", 1.2,
        "notify: microready (uvloop) ≥ 1.2x FastAPI+uvicorn httptools",
    )]
    for target in MICROREADY[:2]:
        plain, tasked = _rps(cells, target, "json"), _rps(cells, target, "notify")
        goal = f"notify: the async task adds < 10% over /json ({target.split('-')[1]})"
        if plain is None or not tasked:
            verdicts.append(Verdict(goal, "n/a", None))
            continue
        extra = plain / tasked - 1  # cost per request is 1/rps
        verdicts.append(Verdict(goal, f"{extra:+.0%}", extra < 0.10))
    return verdicts


def _notify_sync(cells: Cells) -> list[Verdict]:
    verdicts = [_ratio_goal(
        cells, "microready-uvloop", "fastapi-uvicorn-httptools", "notify-sync", 2.0,
        "notify-sync: microready (uvloop) ≥ 2x FastAPI+uvicorn httptools",
    )]
    for target in MICROREADY:
        cell = cells.get((target, "notify-sync"))
        name = target.split("-")[1]
        if cell is None or not cell.backlog_share:
            verdicts.append(Verdict(f"notify-sync ({name}): backlog, drain, RSS", "n/a", None))
            continue
        share = max(cell.backlog_share)
        drain = cell.worst_drain_s
        rss = max(cell.rss_mib) if cell.rss_mib else None
        verdicts.append(Verdict(
            f"notify-sync ({name}): backlog at stop < 1% of responses", f"{share:.2%}", share < 0.01
        ))
        verdicts.append(Verdict(
            f"notify-sync ({name}): every task run ≤ 1 s after the load",
            "not drained in time" if drain == float("inf") else f"{drain:.2f} s",
            drain is not None and drain <= 1.0,
        ))
        verdicts.append(Verdict(
            f"notify-sync ({name}): peak RSS < 80 MiB",
            "n/a" if rss is None else f"{rss:.0f} MiB",
            None if rss is None else rss < 80,
        ))
    return verdicts


def _trio(cells: Cells) -> list[Verdict]:
    ratios = []
    for endpoint in ("plaintext", "json", "items", "notify", "notify-sync"):
        a, b = _rps(cells, "microready-trio", endpoint), _rps(cells, "fastapi-hypercorn", endpoint)
        if a is not None and b:
            ratios.append((a / b, endpoint))
    goal = "trio: microready (trio) ≥ 2x FastAPI+hypercorn (worst endpoint)"
    if not ratios:
        return [Verdict(goal, "n/a", None)]
    worst = min(ratios)
    return [Verdict(goal, f"{worst[0]:.2f}x ({worst[1]})", worst[0] >= 2.0)]


def _slow(slow: list[dict[str, Any]]) -> list[Verdict]:
    verdicts = []
    for s in slow:
        if not s["target"].startswith("microready"):
            continue
        variant = s["target"].split("-")[1]
        goal = f"slow {s['kind']} tasks ({variant}): single request < 5 ms, no errors"
        median = s["single_median_ms"]
        if s["error"] or median is None or s["load"] is None:
            verdicts.append(Verdict(goal, s["error"] or "n/a", False if s["error"] else None))
            continue
        errors = s["single_errors"] + s["load"]["errors"]
        worst = max(s["single_ms"])
        verdicts.append(Verdict(
            goal, f"median {median:.1f} ms, max {worst:.1f} ms, {errors} errors",
            median < 5.0 and errors == 0,
        ))
    return verdicts


RULES: tuple[Callable[[Cells], list[Verdict]], ...] = (
    _stateless_ratios, _ceiling, _notify, _notify_sync, _trio,
)


def evaluate(cells: Cells, slow: list[dict[str, Any]]) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for rule in RULES:
        verdicts.extend(rule(cells))
    verdicts.extend(_slow(slow))
    return verdicts
