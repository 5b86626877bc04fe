"""PNG training curves from `metrics.jsonl` (matplotlib, Agg backend)."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path: Path) -> list[dict]:
    """The rows of a metrics.jsonl; later rows for the same step (after a resume) replace earlier ones."""
    rows: dict[int, dict] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[int(row["step"])] = row
    return [rows[s] for s in sorted(rows)]


def plot_training(metrics_path: Path, out: Path) -> Path | None:
    """Reward total + components, KL, entropy and zero-variance fraction against step; None without data."""
    if not Path(metrics_path).is_file():
        return None
    rows = read_metrics(metrics_path)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    reward_keys = sorted({k for r in rows for k in r if k.startswith("reward/")}, key=lambda k: k != "reward/total")
    panels = [("reward", reward_keys), ("KL", ["kl"]), ("entropy", ["entropy"]),
              ("zero-variance groups", ["frac_zero_std_groups"])]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    for ax, (title, keys) in zip(axes, panels, strict=True):
        for key in keys:
            ys = [r.get(key) for r in rows]
            if any(y is not None for y in ys):
                ax.plot(steps, [float("nan") if y is None else y for y in ys], label=key.removeprefix("reward/"))
        ax.set_title(title)
        ax.set_xlabel("step")
        if len(keys) > 1:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
