"""The performance targets of issue 17, checked against one run's numbers, and the
background-task goals of issue 6 that still hold.

Each goal compares medians from the same run. "met" is True/False, or None
when a number it needs is missing (a target skipped or failed). A cell that
failed its functional check never meets a goal: its speed is not a result.
Issue 6's speed goals are gone (issue 17 sets higher ones on the same
endpoints); its notify-sync and slow-task goals stay, since issue 17 loosens
no background-task guarantee.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .aggregate import Cell
from .targets import FRAMEWORK_ENDPOINTS

__all__ = ["Verdict", "evaluate"]

Cells = dict[tuple[str, str], Cell]
Key = tuple[str, str]  # (target, endpoint)
STATELESS = ("plaintext", "json", "items")
MICROREADY = ("microready-asyncio", "microready-uvloop", "microready-trio")
H11 = "fastapi-uvicorn-h11"
HTTPTOOLS = "fastapi-uvicorn-httptools"
STARLETTE_HTTPTOOLS = "starlette-uvicorn-httptools"
HYPERCORN_TRIO = "fastapi-hypercorn-trio"
CEILING = "ceiling-h11-prebuilt"  # serves plaintext only


@dataclass(frozen=True)
class Verdict:
    goal: str
    measured: str
    met: bool | None
    issue: int = 17  # the issue that set the goal: the report has a table per issue


def _rps(cells: Cells, target: str, endpoint: str) -> float | None:
    cell = cells.get((target, endpoint))
    return cell.median_rps if cell else None


def _wrong(cells: Cells, target: str, endpoint: str) -> bool:
    """The cell failed its functional check: its speed is not a result."""
    cell = cells.get((target, endpoint))
    return bool(cell and cell.problems)


def _compare(
    cells: Cells, ours: Key, theirs: Key, at_least: float, goal: str,
    *, percent: bool = False, issue: int = 17,
) -> Verdict:
    """rps(ours) / rps(theirs) ≥ at_least; shown as ``2.50x``, or ``85%`` with ``percent``."""
    a, b = _rps(cells, *ours), _rps(cells, *theirs)
    if a is None or not b:
        return Verdict(goal, "n/a", None, issue=issue)
    ratio = a / b
    measured = f"{ratio:.0%}" if percent else f"{ratio:.2f}x"
    if _wrong(cells, *ours):
        return Verdict(goal, f"{measured}, but wrong answers", False, issue=issue)
    return Verdict(goal, measured, ratio >= at_least, issue=issue)


def _asyncio_stateless(cells: Cells) -> list[Verdict]:
    verdicts = []
    for endpoint in STATELESS:
        ours = ("microready-asyncio", endpoint)
        against = "" if endpoint == "plaintext" else "'s plaintext (all it serves)"
        verdicts.append(_compare(
            cells, ours, (CEILING, "plaintext"), 0.8,
            f"{endpoint}: microready (asyncio) ≥ 80% of the pre-built h11 ceiling{against}",
            percent=True,
        ))
        verdicts.append(_compare(
            cells, ours, (H11, endpoint), 2.5,
            f"{endpoint}: microready (asyncio) ≥ 2.5x FastAPI+uvicorn h11",
        ))
    return verdicts


def _uvloop(cells: Cells) -> list[Verdict]:
    verdicts = [
        _compare(
            cells, ("microready-uvloop", endpoint), (STARLETTE_HTTPTOOLS, endpoint), 1.0,
            f"{endpoint}: microready (uvloop) ≥ 1.0x Starlette+uvicorn httptools+uvloop",
        )
        for endpoint in ("items", "notify")
    ]
    verdicts.append(_compare(
        cells, ("microready-uvloop", "notify"), (HTTPTOOLS, "notify"), 1.2,
        "notify: microready (uvloop) ≥ 1.2x FastAPI+uvicorn httptools+uvloop",
    ))
    return verdicts


def _task_cost(cells: Cells) -> list[Verdict]:
    """notify against notify-none on the same target: what one async task costs."""
    verdicts = []
    for target in MICROREADY[:2]:
        tasked, untasked = _rps(cells, target, "notify"), _rps(cells, target, "notify-none")
        goal = f"notify vs notify-none ({target.split('-')[1]}): one async task adds < 10%"
        if not tasked or not untasked:
            verdicts.append(Verdict(goal, "n/a", None))
            continue
        # What the task adds to each request's time (the issue's words), which is a
        # little more than the share of requests/s it takes: 1/tasked over 1/untasked.
        cost = untasked / tasked - 1
        measured = f"{cost:+.0%} ({tasked:.0f} vs {untasked:.0f} req/s)"
        if _wrong(cells, target, "notify") or _wrong(cells, target, "notify-none"):
            verdicts.append(Verdict(goal, f"{measured}, but wrong answers", False))
            continue
        verdicts.append(Verdict(goal, measured, cost < 0.10))
    return verdicts


def _trio(cells: Cells) -> list[Verdict]:
    ratios, wrong = [], []
    for endpoint in FRAMEWORK_ENDPOINTS:
        a, b = _rps(cells, "microready-trio", endpoint), _rps(cells, HYPERCORN_TRIO, endpoint)
        if a is not None and b:
            ratios.append((a / b, endpoint))
            if _wrong(cells, "microready-trio", endpoint):
                wrong.append(endpoint)
    goal = "every endpoint: microready (trio) ≥ 2.5x FastAPI+hypercorn (trio worker)"
    if not ratios:
        return [Verdict(goal, "n/a", None)]
    worst = min(ratios)
    measured = f"worst {worst[0]:.2f}x ({worst[1]}), of {len(ratios)} endpoints"
    if wrong:
        return [Verdict(goal, f"{measured}; wrong answers on {', '.join(wrong)}", False)]
    return [Verdict(goal, measured, worst[0] >= 2.5)]


def _notify_sync(cells: Cells) -> list[Verdict]:
    verdicts = [_compare(
        cells, ("microready-uvloop", "notify-sync"), (HTTPTOOLS, "notify-sync"), 2.0,
        "notify-sync: microready (uvloop) ≥ 2x FastAPI+uvicorn httptools+uvloop", issue=6,
    )]
    for target in MICROREADY:
        cell = cells.get((target, "notify-sync"))
        name = f"notify-sync ({target.split('-')[1]})"
        if cell is None or not cell.backlog_share:
            verdicts.append(Verdict(f"{name}: backlog, drain, RSS", "n/a", None, issue=6))
            continue
        share = max(cell.backlog_share)
        drain = cell.worst_drain_s
        rss = max(cell.rss_mib) if cell.rss_mib else None
        verdicts += [
            Verdict(f"{name}: backlog at stop < 1% of responses", f"{share:.2%}", share < 0.01,
                    issue=6),
            Verdict(f"{name}: every task run ≤ 1 s after the load",
                    "not drained in time" if drain == float("inf") else f"{drain:.2f} s",
                    drain is not None and drain <= 1.0, issue=6),
            Verdict(f"{name}: peak RSS < 80 MiB", "n/a" if rss is None else f"{rss:.0f} MiB",
                    None if rss is None else rss < 80, issue=6),
        ]
    return verdicts


def _slow(slow: list[dict[str, Any]]) -> list[Verdict]:
    verdicts = []
    for s in slow:
        if not s["target"].startswith("microready"):
            continue
        variant = s["target"].split("-")[1]
        goal = f"slow {s['kind']} tasks ({variant}): single request < 5 ms, no errors"
        median = s["single_median_ms"]
        if s["error"] or median is None or s["load"] is None:
            met = False if s["error"] else None
            verdicts.append(Verdict(goal, s["error"] or "n/a", met, issue=6))
            continue
        errors = s["single_errors"] + s["load"]["errors"]
        worst = max(s["single_ms"])
        verdicts.append(Verdict(
            goal, f"median {median:.1f} ms, max {worst:.1f} ms, {errors} errors",
            median < 5.0 and errors == 0, issue=6,
        ))
    return verdicts


RULES: tuple[Callable[[Cells], list[Verdict]], ...] = (
    _asyncio_stateless, _uvloop, _task_cost, _trio, _notify_sync,
)


def evaluate(cells: Cells, slow: list[dict[str, Any]]) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for rule in RULES:
        verdicts.extend(rule(cells))
    verdicts.extend(_slow(slow))
    return verdicts
