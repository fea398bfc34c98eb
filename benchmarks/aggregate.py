"""Turn the raw samples of every round into one summary per (target, endpoint)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Cell", "aggregate"]


@dataclass
class Cell:
    target: str
    endpoint: str
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0
    requests: int = 0
    rss_mib: list[float] = field(default_factory=list)
    tasks_per_response: list[float] = field(default_factory=list)
    backlog: list[int] = field(default_factory=list)
    backlog_share: list[float] = field(default_factory=list)  # backlog / responses
    drain_s: list[float | None] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def median_rps(self) -> float | None:
        return statistics.median(self.rps) if self.rps else None

    def median(self, name: str) -> float | None:
        values: list[float] = getattr(self, name)
        return statistics.median(values) if values else None

    @property
    def worst_drain_s(self) -> float | None:
        """The slowest drain; +inf when some run did not drain within the bound."""
        if not self.drain_s:
            return None
        return max(float("inf") if d is None else d for d in self.drain_s)


def aggregate(samples: Iterable[dict[str, Any]]) -> dict[tuple[str, str], Cell]:
    cells: dict[tuple[str, str], Cell] = {}
    for s in samples:
        cell = cells.setdefault((s["target"], s["endpoint"]), Cell(s["target"], s["endpoint"]))
        for problem in s["problems"]:
            if problem not in cell.problems:
                cell.problems.append(problem)
        if s["error"]:
            cell.failures.append(s["error"])
        load = s["load"]
        if load is None:
            continue
        cell.rps.append(load["rps"])
        cell.p50_ms.append(load["p50_ms"])
        cell.p99_ms.append(load["p99_ms"])
        cell.errors += load["errors"]
        cell.requests += load["requests"]
        if s["rss_mib"] is not None:
            cell.rss_mib.append(s["rss_mib"])
        if s["tasks_per_response"] is not None:
            cell.tasks_per_response.append(s["tasks_per_response"])
        if s["backlog_at_stop"] is not None:
            cell.backlog.append(s["backlog_at_stop"])
            if load["requests"]:
                cell.backlog_share.append(s["backlog_at_stop"] / load["requests"])
            cell.drain_s.append(s["drain_seconds"])
    return cells
