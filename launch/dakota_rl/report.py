"""Evaluation reports: a markdown table (one column per checkpoint), the same numbers as JSON, and a PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dakota_rl.files import save_figure, write_atomic

HEADLINE = ("reward", "exact", "format_fail", "truncated")


def _metric_rows(results: dict[str, dict[str, Any]]) -> list[str]:
    first = next(iter(results.values()))
    keys = [
        k for k in first if isinstance(first[k], int | float) and k not in ("n", "tasks", "scorer_mismatches")
    ]
    keys = [k for k in HEADLINE if k in keys] + [k for k in keys if k not in HEADLINE]
    return keys


def markdown(results: dict[str, dict[str, Any]], title: str) -> str:
    """Overall metrics side by side, then reward and exact rate by group."""
    labels = list(results)
    first = next(iter(results.values()))
    lines = [
        f"# {title}",
        "",
        f"{first['n']} rollouts over {first['tasks']} held-out tasks per checkpoint.",
        "",
    ]
    lines += [
        "| metric | " + " | ".join(labels) + (" | change |" if len(labels) == 2 else " |"),
        "|---|" + "---|" * len(labels) + ("---|" if len(labels) == 2 else ""),
    ]
    for key in _metric_rows(results):
        values = [results[label].get(key) for label in labels]
        cells = [f"{v:.3f}" if isinstance(v, int | float) else "—" for v in values]
        if len(labels) == 2 and all(isinstance(v, int | float) for v in values):
            cells.append(f"{values[1] - values[0]:+.3f}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    groups = sorted({g for r in results.values() for g in r.get("by_group", {})})
    if groups:
        lines += [
            "",
            "## By group (reward / exact, n)",
            "",
            "| group | " + " | ".join(labels) + " |",
            "|---|" + "---|" * len(labels),
        ]
        for g in groups:
            cells = []
            for label in labels:
                b = results[label].get("by_group", {}).get(g)
                cells.append(f"{b['reward']:.3f} / {b['exact']:.2f} (n={b['n']})" if b else "—")
            lines.append(f"| {g} | " + " | ".join(cells) + " |")
    mismatches = sum(r.get("scorer_mismatches", 0) for r in results.values())
    lines += [
        "",
        f"Scorer check: {mismatches} rollout(s) where vf-eval's recorded reward differs from the "
        "environment's scorer on the returned text.",
    ]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, dict[str, Any]], out: Path) -> Path:
    """Grouped bars of the overall metrics, one colour per checkpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = _metric_rows(results)
    width = 0.8 / max(len(results), 1)
    fig, ax = plt.subplots(figsize=(1.1 * len(keys) + 2, 3.4))
    for i, (label, r) in enumerate(results.items()):
        ax.bar(
            [k + i * width for k in range(len(keys))],
            [r.get(key, 0) or 0 for key in keys],
            width,
            label=label,
        )
    ax.set_xticks(
        [k + width * (len(results) - 1) / 2 for k in range(len(keys))], keys, rotation=30, ha="right"
    )
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        save_figure(fig, out)
    finally:
        plt.close(fig)
    return out


def write_report(
    results: dict[str, dict[str, Any]], out_dir: Path, *, title: str, extra_markdown: str = ""
) -> dict[str, Path]:
    """Write report.md / report.json / report.png into `out_dir`."""
    paths = {
        "markdown": out_dir / "report.md",
        "json": out_dir / "report.json",
        "png": out_dir / "report.png",
    }
    write_atomic(paths["markdown"], markdown(results, title) + extra_markdown)
    write_atomic(paths["json"], json.dumps(results, indent=2))
    plot(results, paths["png"])
    return paths
