"""The PNG: requests/s per endpoint (groups) and target (bars), min-max whiskers.

Ceilings only serve /plaintext; they are drawn as labelled lines across the
plaintext group instead of bars, so the bare-asyncio ceiling (often 10x the
rest) does not flatten every other bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.typing import LineStyleType

from .aggregate import aggregate
from .targets import CELERY_ENDPOINTS, FRAMEWORK_ENDPOINTS

__all__ = ["draw"]

# One line style per ceiling (dashed, dotted, dash-dot, long dashes).
STYLES: tuple[LineStyleType, ...] = ("--", ":", "-.", (0, (8, 3)))


def draw(results: dict[str, Any], path: Path) -> None:
    cells = aggregate(results["samples"])
    targets = [t for t in results["targets"] if not t["ceiling"]]
    ceilings = [t for t in results["targets"] if t["ceiling"]]
    # The groups the run measured: notify-celery's pair serves only its own.
    endpoints = [e for e in (*FRAMEWORK_ENDPOINTS, *CELERY_ENDPOINTS)
                 if any((t["key"], e) in cells for t in targets)]
    width = 0.8 / max(len(targets), 1)
    fig, ax = plt.subplots(figsize=(13, 6.5), dpi=110)
    colors = [plt.get_cmap("tab20")(i) for i in range(20)]
    tallest = 0.0
    for i, target in enumerate(targets):
        xs, heights, low, high = [], [], [], []
        for j, endpoint in enumerate(endpoints):
            cell = cells.get((target["key"], endpoint))
            if cell is None or cell.median_rps is None:
                continue
            median = cell.median_rps
            xs.append(j - 0.4 + width * (i + 0.5))
            heights.append(median)
            low.append(median - min(cell.rps))
            high.append(max(cell.rps) - median)
            tallest = max(tallest, max(cell.rps))
        if not xs:
            continue
        whiskers = [low, high] if any(low) or any(high) else None  # none with one round
        color = colors[(2 * i) % 20 + (i // 10) % 2]  # the dark shades, then the light ones
        ax.bar(xs, heights, width, label=target["label"], color=color,
               yerr=whiskers, capsize=2, error_kw={"lw": 0.8})
    top = tallest * 1.25 if tallest else 1.0
    labelled: list[float] = []  # where the ceilings' labels are, so none covers another
    for k, ceiling in enumerate(ceilings):
        cell = cells.get((ceiling["key"], "plaintext"))
        if cell is None or cell.median_rps is None:
            continue
        value = cell.median_rps
        y = min(value, top * 0.97)
        ax.hlines(y, -0.45, 0.45, colors="black", linestyles=STYLES[k % len(STYLES)], lw=1.2)
        text = f"{ceiling['label'].split(' (')[0]}: {value / 1000:.1f}k"
        text += " (off scale)" if value > top * 0.97 else ""
        text_y = y
        while any(abs(text_y - other) < top * 0.035 for other in labelled):
            text_y -= top * 0.035
        labelled.append(text_y)
        ax.annotate(text, (0.47, text_y), fontsize=7.5, va="center")
    ax.set_ylim(0, top)
    ax.set_xticks(range(len(endpoints)), endpoints)
    ax.set_ylabel("requests/s (one core)")
    rounds = results["settings"]["rounds"]
    ax.set_title(
        f"microready vs peers, {results['date']} ({results['mode']}: "
        f"{rounds} round{'s' if rounds > 1 else ''} x {results['settings']['duration']} s, "
        f"{results['settings']['connections']} connections)"
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
