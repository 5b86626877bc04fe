"""PNG training curves from `metrics.jsonl` (matplotlib, Agg backend)."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path: Path) -> list[dict]:
    """The rows of a metrics.jsonl merged by step (training and eval rows);
    later values win (after a resume)."""
    rows: dict[int, dict] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.setdefault(int(row["step"]), {}).update(row)
    return [rows[s] for s in sorted(rows)]


def plot_training(metrics_path: Path, out: Path) -> Path | None:
    """Reward total + components, held-out eval, KL, entropy and zero-variance fraction against step."""
    if not Path(metrics_path).is_file():
        return None
    rows = read_metrics(metrics_path)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    reward_keys = sorted(
        {k for r in rows for k in r if k.startswith("reward/")}, key=lambda k: k != "reward/total"
    )
    eval_keys = ["eval/total", "eval/exact_rate", "eval/format_fail_rate"]
    panels = [
        ("training reward", reward_keys),
        ("held-out eval", eval_keys),
        ("KL", ["kl"]),
        ("entropy", ["entropy"]),
        ("zero-variance groups", ["frac_zero_std_groups"]),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    for ax, (title, keys) in zip(axes, panels, strict=True):
        for key in keys:
            points = [(s, r[key]) for s, r in zip(steps, rows, strict=True) if r.get(key) is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(
                    xs,
                    ys,
                    marker="o" if key.startswith("eval/") else None,
                    markersize=3,
                    label=key.removeprefix("reward/").removeprefix("eval/"),
                )
        ax.set_title(title)
        ax.set_xlabel("step")
        if len(keys) > 1:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
