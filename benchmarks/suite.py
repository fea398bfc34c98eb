"""Run the whole benchmark: every target, every endpoint, several rounds, then report.

Usually started by ``python benchmarks/run.py [--quick]``, which prepares the
environment first; ``python -m benchmarks.suite`` runs it in an environment
that is already prepared.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from . import chart, machine, readme, report
from .endpoints import ENDPOINTS
from .endpoints import by_key as endpoint
from .measure import Sample, measure
from .servers import REPO, ServerFailed, running
from .settings import FULL, QUICK, SERVER_CPU, Settings
from .slow_tasks import run_slow_scenario
from .targets import SHARED_SERVER_ENDPOINTS, TARGETS, Target, available, by_key

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results"


def _rotate(items: Sequence[Any], by: int) -> list[Any]:
    by %= max(len(items), 1)
    return [*items[by:], *items[:by]]


def _endpoints(target: Target, only: Sequence[str] | None) -> list[str]:
    """The target's endpoints, or those of them in ``only`` (``--endpoints``)."""
    return [e for e in target.endpoints if only is None or e in only]


def _groups(
    target: Target, round_: int, only: Sequence[str] | None = None
) -> list[tuple[str, ...]]:
    """Endpoints served by one server process. Task endpoints get a fresh server
    each, so neither their backlog nor their memory spills into another cell."""
    endpoints = _endpoints(target, only)
    shared = SHARED_SERVER_ENDPOINTS
    stateless = tuple(_rotate([e for e in endpoints if e in shared], round_))
    tasked = [(e,) for e in endpoints if e not in shared]
    return [g for g in (stateless, *tasked) if g]


def _visit(
    target: Target, settings: Settings, round_: int, only: Sequence[str] | None = None
) -> list[Sample]:
    samples: list[Sample] = []
    for group in _groups(target, round_, only):
        print(f"  {target.key}: {', '.join(group)}", flush=True)
        try:
            with running(target, cpu=SERVER_CPU) as server:
                for key in group:
                    sample = measure(server, endpoint(key), settings, round_)
                    samples.append(sample)
                    _echo(sample)
        except ServerFailed as exc:
            print(f"    server failed: {exc}", flush=True)
            samples += [Sample(target.key, key, round_, error=str(exc)) for key in group]
    return samples


def _echo(sample: Sample) -> None:
    load = sample.load
    text = f"    {sample.endpoint:12}"
    if load:
        text += f" {load['rps']:8.0f} req/s  p50 {load['p50_ms']:6.2f} ms"
        text += f"  p99 {load['p99_ms']:7.2f} ms"
        text += f"  errors {load['errors']}" if load["errors"] else ""
    if sample.backlog_at_stop is not None:
        text += f"  backlog {sample.backlog_at_stop}"
    if sample.problems:
        text += f"  WRONG: {'; '.join(sample.problems)[:160]}"
    if sample.error:
        text += f"  FAILED: {sample.error.splitlines()[0]}"
    print(text, flush=True)


def _core(settings: Settings) -> list[dict[str, Any]]:
    print("connection core micro-benchmark", flush=True)
    command = [
        "taskset", "-c", str(SERVER_CPU), sys.executable, "-m", "benchmarks.core_bench",
        "--iterations", str(settings.core_iterations), "--repeats", str(settings.core_repeats),
    ]
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
        result: list[dict[str, Any]] = json.loads(done.stdout)
    except (subprocess.TimeoutExpired, ValueError) as exc:
        return [{"name": "connection core", "error": f"{type(exc).__name__}: {exc}"}]
    return result


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the quick mode (about 4 minutes)")
    parser.add_argument("--targets", help="comma-separated target keys (default: the mode's)")
    parser.add_argument("--endpoints", help="comma-separated endpoint keys, e.g. upload "
                        "(default: all); targets serving none of them are left out")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--duration", type=int, help="seconds of load per endpoint")
    parser.add_argument("--warmup", type=int, help="seconds of wrk warm-up (0: a short burst)")
    parser.add_argument("--no-slow", action="store_true", help="skip the slow-task scenario")
    parser.add_argument("--no-core", action="store_true", help="skip the core micro-benchmark")
    parser.add_argument("--update-readme", action=argparse.BooleanOptionalAction, default=None,
                        help="put the table into README.md (default: only for the full mode)")
    parser.add_argument("--name", help="results/<date>-<name>.md (default: the mode, quick or "
                        "full); name a partial run so it leaves the full one alone")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    return parser.parse_args(argv)


def _choose_targets(args: argparse.Namespace, settings: Settings) -> tuple[list[Target], list[str]]:
    if args.targets:
        chosen = [by_key(k.strip()) for k in args.targets.split(",") if k.strip()]
    else:
        chosen = [t for t in TARGETS if t.quick or not settings.targets_quick_only]
    skipped = [f"{t.key}: `{t.requires}` is not installed" for t in chosen if not available(t)]
    return [t for t in chosen if available(t)], skipped


def _choose_endpoints(args: argparse.Namespace) -> tuple[str, ...] | None:
    if not args.endpoints:
        return None
    chosen = tuple(k.strip() for k in args.endpoints.split(",") if k.strip())
    known = [e.key for e in ENDPOINTS]
    unknown = [k for k in chosen if k not in known]
    if unknown:
        raise SystemExit(f"no endpoint {', '.join(unknown)}; the endpoints are: {', '.join(known)}")
    return chosen


def _estimate(
    targets: list[Target], settings: Settings, only: Sequence[str] | None = None
) -> float:
    cells = sum(len(_endpoints(t, only)) for t in targets)
    servers = sum(len(_groups(t, 0, only)) for t in targets)
    per_cell = settings.duration + (settings.warmup or 0.2) + 0.3
    per_slow = 4 + settings.slow_single_seconds + settings.slow_duration
    slow = len(settings.slow_targets) * 2 * per_slow
    return settings.rounds * (cells * per_cell + servers * 1.2) + slow + 10


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SIGTERM would end the suite without running its ``finally`` blocks and
    # leave the server under test running; exiting this way stops it first.
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = _parse(argv)
    if args.list:
        for t in TARGETS:
            print(f"{t.key:30} {t.label}{'' if available(t) else '  (not installed)'}")
        return 0
    settings = (QUICK if args.quick else FULL).with_overrides(
        rounds=args.rounds, duration=args.duration, warmup=args.warmup
    )
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"error: `{tool}` is not installed; run benchmarks/run.py, which installs it",
                  file=sys.stderr)
            return 2
    targets, skipped = _choose_targets(args, settings)
    only = _choose_endpoints(args)
    targets = [t for t in targets if _endpoints(t, only)]
    started = time.monotonic()
    print(f"{settings.name} run: {len(targets)} targets, {settings.rounds} round(s); "
          f"about {_estimate(targets, settings, only) / 60:.1f} min", flush=True)
    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "mode": settings.name,
        "settings": {**vars(settings)},
        "machine": machine.describe(),
        "targets": [{"key": t.key, "label": t.label, "ceiling": t.ceiling} for t in targets],
        "endpoints": list(only) if only else None,  # None: every endpoint
        "skipped": skipped,
        "samples": [],
        "slow": [],
        "core": [],
    }
    for round_ in range(settings.rounds):
        print(f"round {round_ + 1}/{settings.rounds}", flush=True)
        for target in _rotate(targets, round_):
            results["samples"] += [s.as_dict() for s in _visit(target, settings, round_, only)]
    if not args.no_slow:
        print("slow-task scenario", flush=True)
        slow_targets = [t for t in targets if t.key in settings.slow_targets]
        results["slow"] = [s.as_dict() for s in run_slow_scenario(slow_targets, settings)]
    if not args.no_core:
        results["core"] = _core(settings)
    results["machine"]["loadavg_end"] = machine.loadavg()
    results["elapsed_s"] = time.monotonic() - started
    return _write(results, args.update_readme if args.update_readme is not None
                  else settings.name == "full", args.name or settings.name)


def _write(results: dict[str, Any], update_readme: bool, name: str) -> int:
    RESULTS.mkdir(exist_ok=True)
    stem = f"{results['date']}-{name}"
    results["json_name"], results["png_name"] = f"{stem}.json", f"{stem}.png"
    (RESULTS / results["json_name"]).write_text(json.dumps(results, indent=1) + "\n")
    chart.draw(results, RESULTS / results["png_name"])
    markdown = report.render(results)
    (RESULTS / f"{stem}.md").write_text(markdown)
    if update_readme:
        readme.update(markdown, f"results/{stem}.md")
    print(markdown)
    print(f"written: benchmarks/results/{stem}.md, .json, .png "
          f"({results['elapsed_s'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
