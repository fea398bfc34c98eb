"""The markdown report of one run (its raw data goes to JSON beside it)."""

from __future__ import annotations

from typing import Any

from .aggregate import Cell, aggregate
from .celery_report import celery_table
from .goals import evaluate
from .targets import BASELINE, FRAMEWORK_ENDPOINTS, SHARED_SERVER_ENDPOINTS

__all__ = ["render"]

ENDPOINTS = FRAMEWORK_ENDPOINTS
# The task endpoints in the background-task table, with their column prefix.
TASKED = (("notify", "notify"), ("notify-sync", "sync"), ("upload", "upload"))
# The endpoints on a server of their own, each with an RSS column: notify-none has no
# task, but it is notify's like-for-like peer, so its memory sits beside notify's.
ALONE = ("notify", "notify-none", "notify-sync", "upload")
# The goal tables, one per issue that set goals (goals.Verdict.issue), in this order.
GOAL_TABLES = ((17, "Issue 17 targets"),
               (6, "Issue 6 goals still checked (background tasks)"))
# The endpoints sharing one server have one RSS column, named after them all.
_SHORT = {"plaintext": "plain"}
Cells = dict[tuple[str, str], Cell]


def _k(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _flags(cell: Cell) -> str:
    flags = ""
    if cell.problems:
        flags += " ✗"  # failed its functional check
    if cell.errors:
        flags += " ⚠"
    return flags


def _rps_cell(cells: Cells, target: str, endpoint: str) -> str:
    cell = cells.get((target, endpoint))
    if cell is None:
        return ""
    median = cell.median_rps
    if median is None:
        return "failed" + _flags(cell)
    text = _k(median)
    base = cells.get((BASELINE, endpoint))
    base_rps = base.median_rps if base else None
    if base_rps:
        text += f" {median / base_rps:.2f}x"
    if len(cell.rps) > 1:
        text += f" ({_k(min(cell.rps))}-{_k(max(cell.rps))})"
    return text + _flags(cell)


def _latency_cell(cells: Cells, target: str, endpoint: str) -> str:
    cell = cells.get((target, endpoint))
    if cell is None or not cell.p50_ms:
        return ""
    text = f"{_ms(cell.median('p50_ms'))} / {_ms(cell.median('p99_ms'))}"
    if cell.errors:
        text += f" ({cell.errors} err)"
    return text


def _drain(cell: Cell) -> str:
    worst = cell.worst_drain_s
    if worst is None:
        return "-"
    return "not drained" if worst == float("inf") else f"{worst:.2f} s"


def _task_cells(cells: Cells, target: str, endpoint: str) -> list[str]:
    cell = cells.get((target, endpoint))
    if cell is None or not cell.backlog:
        return ["", "", ""]
    per = cell.median("tasks_per_response")
    backlog = cell.median("backlog")
    share = cell.median("backlog_share")
    return [
        "-" if per is None else f"{per:.2f}",
        "-" if backlog is None else f"{backlog:.0f} ({share or 0:.1%})",
        _drain(cell),
    ]


def _rss_cell(cells: Cells, target: str, endpoints: tuple[str, ...]) -> str:
    values = [v for e in endpoints if (c := cells.get((target, e))) for v in c.rss_mib]
    return f"{max(values):.0f}" if values else ""


def _header(results: dict[str, Any]) -> list[str]:
    m, s = results["machine"], results["settings"]
    rounds = s["rounds"]
    lines = [
        f"# microready benchmarks: {results['date']} ({results['mode']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}; load average {m['loadavg_start']} at the start, "
        f"{m['loadavg_end']} at the end. Versions: {m['versions']}.",
        "",
        f"Server pinned to CPU 0, one worker, access log off; wrk pinned to CPU 1, "
        f"{s['connections']} keep-alive connections, {s['duration']} s per endpoint after "
        + (f"{s['warmup']} s of warm-up" if s["warmup"] else f"a {s['burst']}-request warm-up")
        + f"; {rounds} round{'' if rounds == 1 else 's'}, targets visited round-robin, "
        f"order rotated each round. The run took {results['elapsed_s'] / 60:.1f} min.",
        "",
    ]
    if rounds == 1:
        lines += [
            "One round only: a cell can be off by ±15% or more. Use the full run for decisions.",
            "",
        ]
    return lines


def _main_tables(results: dict[str, Any], cells: Cells) -> list[str]:
    targets = results["targets"]
    labels = {t["key"]: t["label"] for t in targets}
    # Targets serving none of these (the notify-celery pair) have a table of their own.
    keys = [t["key"] for t in targets if any((t["key"], e) in cells for e in ENDPOINTS)]
    if not keys:  # a run of the notify-celery pair alone
        return []
    median = "median of the rounds (min-max)" if results["settings"]["rounds"] > 1 else "one round"
    lines = [
        f"## Requests/s ({median}), ratio to FastAPI + uvicorn h11",
        "",
        *_table(["target", *ENDPOINTS],
                [[labels[k], *(_rps_cell(cells, k, e) for e in ENDPOINTS)] for k in keys]),
        "",
        "✗: the endpoint failed its functional check (see below); ⚠: wrk counted errors.",
        "",
        "## Latency p50 / p99 (ms) under load",
        "",
        *_table(["target", *ENDPOINTS],
                [[labels[k], *(_latency_cell(cells, k, e) for e in ENDPOINTS)]
                 for k in keys if not k.startswith("ceiling")]),
        "",
        "## Background tasks when the load stops, and peak RSS (MiB)",
        "",
        "Tasks/response: tasks that ran during the load per response. Backlog: tasks still queued "
        "or running as wrk stops (share of responses). Drained: time from then until the last "
        f"task ran (bounded at {results['settings']['drain']:.0f} s).",
        "",
        *_table(
            ["target",
             *(f"{short} {column}" for _, short in TASKED
               for column in ("tasks/resp", "backlog", "drained")),
             f"RSS {'/'.join(_SHORT.get(e, e) for e in SHARED_SERVER_ENDPOINTS)}",
             *(f"RSS {e}" for e in ALONE)],
            [[labels[k], *(c for e, _ in TASKED for c in _task_cells(cells, k, e)),
              _rss_cell(cells, k, SHARED_SERVER_ENDPOINTS),
              *(_rss_cell(cells, k, (e,)) for e in ALONE)]
             for k in keys if not k.startswith("ceiling")],
        ),
        "",
    ]
    return lines


def _slow_table(results: dict[str, Any]) -> list[str]:
    slow = results["slow"]
    if not slow:
        return []
    labels = {t["key"]: t["label"] for t in results["targets"]}
    rows = []
    for s in slow:
        label = labels.get(s["target"], s["target"])
        if s["error"]:
            failed = f"failed: {s['error'].splitlines()[0][:60]}"
            rows.append([label, s["kind"], failed, "", "", "", ""])
            continue
        single = s["single_ms"]
        load = s["load"] or {}
        errors = f", {s['single_errors']} err" if s["single_errors"] else ""
        rows.append([
            label, s["kind"],
            f"{_ms(s['single_median_ms'])} / {_ms(max(single) if single else None)} "
            f"(n={len(single)}{errors})",
            _k(load["rps"]) if load else "-",
            _ms(load.get("p99_ms")),
            str(load.get("errors", "-")),
            f"{_ms(s['probe_ms'])} (backlog {s['backlog_at_probe']})",
        ])
    return [
        "## Slow-task scenario (each task sleeps 1 s)",
        "",
        f"Single: median / max latency of requests one after another on one keep-alive "
        f"connection. Load: {results['settings']['slow_connections']} connections for "
        f"{results['settings']['slow_duration']} s. Probe: one GET /plaintext right after the "
        "load, while the backlog drains.",
        "",
        *_table(
            ["target", "task", "single (ms)", "req/s", "p99 (ms)", "errors", "probe (ms)"], rows
        ),
        "",
    ]


def _core_table(results: dict[str, Any]) -> list[str]:
    if not results["core"]:  # --no-core
        return []
    rows = []
    for c in results["core"]:
        if "error" in c:
            rows.append([c["name"], f"failed: {c['error']}", "", "", ""])
        else:
            rows.append([c["name"], f"{c['cycle_us']:.1f}", f"{c['parse_us']:.1f}",
                         f"{c['serialise_us']:.1f}", _k(c["requests_per_s"])])
    return [
        "## Connection core: parse a request + serialise a response, one core, no I/O",
        "",
        *_table(["implementation", "µs/request", "parse µs", "serialise µs", "requests/s"], rows),
        "",
    ]


def _goal_table(results: dict[str, Any], cells: Cells) -> list[str]:
    mark = {True: "yes", False: "**no**", None: "n/a"}
    verdicts = evaluate(cells, results["slow"])
    if all(v.met is None for v in verdicts):  # none of the goals' endpoints was run
        return []
    lines = []
    for issue, title in GOAL_TABLES:
        of_issue = [v for v in verdicts if v.issue == issue]
        rows = [[v.goal, v.measured, mark[v.met]] for v in of_issue]
        if any(v.met is not None for v in of_issue):  # else the run measured none of them
            lines += [f"## {title}", "", *_table(["goal", "measured", "met"], rows), ""]
    return lines


def _problems(results: dict[str, Any], cells: Cells) -> list[str]:
    lines = []
    labels = {t["key"]: t["label"] for t in results["targets"]}
    for (target, endpoint), cell in cells.items():
        for problem in cell.problems:
            lines.append(f"- {labels[target]}, {endpoint}: wrong answer: {problem}")
        for failure in cell.failures:
            first = failure.splitlines()[0]
            lines.append(f"- {labels[target]}, {endpoint}: measurement failed: {first}")
        if cell.errors:
            lines.append(f"- {labels[target]}, {endpoint}: wrk counted {cell.errors} errors "
                         f"in {cell.requests} responses")
    for s in results["slow"]:
        label = labels.get(s["target"], s["target"])
        if s.get("first_error"):
            lines.append(f"- {label}, slow {s['kind']} tasks: {s['single_errors']} of "
                         f"{len(s['single_ms'])} single requests failed, first: {s['first_error']}")
        detail = (s["load"] or {}).get("error_detail") or {}
        if any(detail.values()):
            counted = ", ".join(f"{n} {k}" for k, n in detail.items() if n)
            lines.append(f"- {label}, slow {s['kind']} tasks under load: wrk errors: {counted}")
    for skipped in results["skipped"]:
        lines.append(f"- skipped {skipped}")
    if not lines:
        return []
    return ["## Problems seen", "", *lines, ""]


def render(results: dict[str, Any]) -> str:
    cells = aggregate(results["samples"])
    lines = _header(results)
    lines += _main_tables(results, cells)
    lines += celery_table(results, cells)
    lines += _slow_table(results)
    lines += _core_table(results)
    lines += _goal_table(results, cells)
    lines += _problems(results, cells)
    lines.append(f"Raw data: `{results['json_name']}`; chart: `{results['png_name']}`.")
    return "\n".join(lines) + "\n"
