"""PNG training curves from `metrics.jsonl` and the in-loop held-out evaluations (matplotlib, Agg backend).

`curves.png` has one panel per signal. The held-out panel puts every stage on the same fixed tasks side
by side: the base model (`eval/base.jsonl`, before the SFT warm-up), after the warm-up (the step-0
evaluation) and each GRPO evaluation, with 95% bootstrap intervals. A panel with nothing to plot says why
instead of staying empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dakota_rl.stats import bootstrap_mean_ci

NOT_COMPUTED = {
    "training reward": "no training steps logged",
    "held-out reward": "not computed:\nno in-loop evaluation\n(set [local.eval] interval)",
    "KL to the reference": "not computed:\nkl_beta = 0 (no reference model)",
    "entropy": "not logged",
    "zero-variance groups": "not logged",
}


@dataclass(frozen=True)
class HeldoutPoint:
    """One held-out evaluation of a run: its stage, the GRPO step it was taken at, the mean reward and CI."""

    stage: str
    """"base", "after SFT" or "GRPO"."""
    step: int
    total: tuple[float, float, float]
    exact_rate: float


def read_metrics(path: Path) -> list[dict]:
    """The rows of a metrics.jsonl merged by step (training and eval rows);
    later values win (after a resume)."""
    rows: dict[int, dict] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.setdefault(int(row["step"]), {}).update(row)
    return [rows[s] for s in sorted(rows)]


def _point(stage: str, step: int, path: Path) -> HeldoutPoint | None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        return None
    exact = sum(float(r.get("exact", 0.0)) for r in rows) / len(rows)
    return HeldoutPoint(stage, step, bootstrap_mean_ci([float(r["total"]) for r in rows]), exact)


def heldout_points(run_dir: Path) -> list[HeldoutPoint]:
    """The run's held-out evaluations in order: base (when the run had an SFT warm-up), after SFT, GRPO steps.
    Without a warm-up the step-0 evaluation is the base model."""
    eval_dir = Path(run_dir) / "eval"
    steps = sorted(eval_dir.glob("step_*.jsonl"))
    base = eval_dir / "base.jsonl"
    points = [_point("base", 0, base)] if base.is_file() else []
    for i, path in enumerate(steps):
        step = int(path.stem.removeprefix("step_"))
        stage = ("after SFT" if base.is_file() else "base") if i == 0 else "GRPO"
        points.append(_point(stage, step, path))
    return [p for p in points if p is not None]


STAGE_STYLE = {
    "base": dict(marker="s", color="0.45"),
    "after SFT": dict(marker="^", color="tab:orange"),
    "GRPO": dict(marker="o", color="tab:blue"),
}


def _plot_heldout(ax: Any, points: list[HeldoutPoint], rows: list[dict]) -> bool:
    """Every stage on one panel with its 95% interval; falls back to `eval/total` rows of metrics.jsonl."""
    if not points:
        xs = [r["step"] for r in rows if r.get("eval/total") is not None]
        ys = [r["eval/total"] for r in rows if r.get("eval/total") is not None]
        if xs:
            ax.plot(xs, ys, marker="o", markersize=3, label="held-out reward")
        return bool(xs)
    grpo = [p for p in points if p.stage == "GRPO"]
    if grpo:  # the line starts at the model GRPO started from (after SFT, or the base model)
        start = [p for p in points if p.step == 0][-1:]
        ax.plot([p.step for p in start + grpo], [p.total[0] for p in start + grpo], color="tab:blue", lw=1.2)
        ax.errorbar(
            [p.step for p in grpo], [p.total[0] for p in grpo],
            yerr=[[p.total[0] - p.total[1] for p in grpo], [p.total[2] - p.total[0] for p in grpo]],
            capsize=3, markersize=5, linestyle="none", **STAGE_STYLE["GRPO"],
            label=f"GRPO, step {grpo[-1].step}: {grpo[-1].total[0]:.3f} (exact {grpo[-1].exact_rate:.0%})",
        )  # fmt: skip
    for stage in ("base", "after SFT"):
        for p in (p for p in points if p.stage == stage):
            ax.errorbar(
                [p.step], [p.total[0]], yerr=[[p.total[0] - p.total[1]], [p.total[2] - p.total[0]]],
                capsize=3, linestyle="none", markersize=8, zorder=3, **STAGE_STYLE[stage],
                label=f"{stage}: {p.total[0]:.3f} (exact {p.exact_rate:.0%})",
            )  # fmt: skip
    ax.set_ylim(bottom=0)
    ax.set_xlabel("GRPO step")
    return True


def _stage_rank(label: str) -> int:
    """Legend order: base, after SFT, GRPO."""
    return next((i for i, stage in enumerate(STAGE_STYLE) if label.startswith(stage)), len(STAGE_STYLE))


def _plot_series(ax: Any, rows: list[dict], keys: list[str]) -> bool:
    plotted = False
    for key in keys:
        points = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=key.removeprefix("reward/"))
            plotted = True
    if len(keys) > 1 and plotted:
        ax.legend(fontsize=7)
    ax.set_xlabel("step")
    return plotted


def _say_why(ax: Any, title: str) -> None:
    ax.text(0.5, 0.5, NOT_COMPUTED[title], ha="center", va="center", transform=ax.transAxes, color="0.35")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")


def plot_training(metrics_path: Path, out: Path) -> Path | None:
    """Write `training_figure` to `out` (PNG); None when the run logged nothing."""
    fig = training_figure(metrics_path)
    if fig is None:
        return None
    import matplotlib.pyplot as plt

    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def training_figure(metrics_path: Path) -> Any:
    """The held-out reward of every stage, the training reward and its components, KL, entropy and the
    zero-variance fraction (a matplotlib Figure); the run folder is the one holding `metrics_path`."""
    if not Path(metrics_path).is_file():
        return None
    rows = read_metrics(metrics_path)
    points = heldout_points(Path(metrics_path).parent)
    if not rows and not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reward_keys = sorted(
        {k for r in rows for k in r if k.startswith("reward/")}, key=lambda k: (k != "reward/total", k)
    )
    panels = {
        "training reward": reward_keys,
        "KL to the reference": ["kl"],
        "entropy": ["entropy"],
        "zero-variance groups": ["frac_zero_std_groups"],
    }
    fractions = {"zero-variance groups"}
    fig, grid = plt.subplots(2, 3, figsize=(13, 6.8))
    axes = list(grid.flat)
    held = axes[0]
    held.set_title(f"held-out reward, same {_n_tasks(Path(metrics_path).parent)} tasks (95% CI)")
    if _plot_heldout(held, points, rows):
        handles, labels = held.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: _stage_rank(labels[i]))
        held.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=7, loc="lower right")
    else:
        _say_why(held, "held-out reward")
    for ax, (title, keys) in zip(axes[1:], panels.items(), strict=False):
        ax.set_title(title)
        if not _plot_series(ax, rows, keys):
            _say_why(ax, title)
        elif title in fractions:
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("fraction of groups")
    from matplotlib.ticker import MaxNLocator

    for ax in axes[:-1]:
        if not ax.texts:  # a panel that says why it is empty keeps no ticks
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    axes[-1].axis("off")
    fig.tight_layout()
    return fig


def _n_tasks(run_dir: Path) -> str:
    files = sorted((run_dir / "eval").glob("*.jsonl"))
    if not files:
        return "fixed"
    return str(sum(1 for line in files[0].read_text(encoding="utf-8").splitlines() if line.strip()))
