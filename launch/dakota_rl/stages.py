"""Held-out results by training stage (base → after SFT → after GRPO) with paired-bootstrap 95% intervals.

Every stage is scored on the same fixed tasks (`<run>/eval/*.jsonl` from the in-loop evaluation), so a
change between stages is a paired difference over those tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dakota_rl.backends.local.heldout import read_rows
from dakota_rl.stats import bootstrap_mean_ci, paired_bootstrap_diff_ci

METRICS = {"total": "total", "exact": "exact", "format_ok": "format ok", "truncated": "truncated"}


def stage_files(run_dir: Path) -> dict[str, Path]:
    """{"base", "after SFT", "after GRPO"} → eval file, for those that exist (no SFT: step 0 is the base)."""
    eval_dir = run_dir / "eval"
    steps = sorted(eval_dir.glob("step_*.jsonl"))
    found: dict[str, Path] = {}
    if (eval_dir / "base.jsonl").is_file():
        found["base"] = eval_dir / "base.jsonl"
        if steps:
            found["after SFT"] = steps[0]
    elif steps:
        found["base"] = steps[0]
    if len(steps) > 1:
        found["after GRPO"] = steps[-1]
    best = best_step(steps[1:])
    if best is not None and best != steps[-1]:
        found[f"best GRPO step ({int(best.stem.split('_')[1])}; chosen on these tasks)"] = best
    return found


def best_step(steps: list[Path]) -> Path | None:
    """The eval file with the highest mean reward (the earliest on a tie); None for no files."""
    means = [
        (sum(r["total"] for r in rows) / max(len(rows), 1), -i, p)
        for i, p in enumerate(steps)
        if (rows := read_rows(p))
    ]
    return max(means)[2] if means else None


def stage_table(stages: dict[str, list[dict[str, Any]]], *, seed: int = 0) -> dict[str, Any]:
    """Per stage: mean and 95% CI of each metric; per consecutive pair: the paired difference and its CI."""
    labels = list(stages)
    ids = [r["task_id"] for r in stages[labels[0]]]
    for label in labels:
        if [r["task_id"] for r in stages[label]] != ids:
            raise ValueError(f"stage {label!r} was evaluated on different tasks")
    table: dict[str, Any] = {"n": len(ids), "stages": {}, "changes": {}}
    for label in labels:
        table["stages"][label] = {
            m: bootstrap_mean_ci([float(r[m]) for r in stages[label]], seed=seed) for m in METRICS
        }
    main = [label for label in labels if not label.startswith("best")]  # the best step is shown, not chained
    for before, after in zip(main, main[1:], strict=False):
        table["changes"][f"{after} − {before}"] = {
            m: paired_bootstrap_diff_ci(
                [float(r[m]) for r in stages[before]], [float(r[m]) for r in stages[after]], seed=seed
            )
            for m in METRICS
        }
    return table


def _cell(ci: tuple[float, float, float], signed: bool = False) -> str:
    fmt = "{:+.3f}" if signed else "{:.3f}"
    return f"{fmt.format(ci[0])} [{fmt.format(ci[1])}, {fmt.format(ci[2])}]"


def verdict(ci: tuple[float, float, float]) -> str:
    """ "raised" / "lowered" when the 95% interval excludes 0, else "did not measurably change"."""
    if ci[1] > 0:
        return "raised"
    if ci[2] < 0:
        return "lowered"
    return "did not measurably change"


def stage_markdown(table: dict[str, Any]) -> str:
    """The three-row table, the paired changes, and one plain sentence per change."""
    lines = [
        f"Held-out: {table['n']} fixed tasks, greedy decoding; mean [95% bootstrap CI].",
        "",
        "| stage | " + " | ".join(METRICS.values()) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    for label, cis in table["stages"].items():
        lines.append(f"| {label} | " + " | ".join(_cell(cis[m]) for m in METRICS) + " |")
    if table["changes"]:
        lines += [
            "",
            "Paired differences over the same tasks:",
            "",
            "| change | " + " | ".join(METRICS.values()) + " |",
            "|---|" + "---|" * len(METRICS),
        ]
        for label, cis in table["changes"].items():
            lines.append(f"| {label} | " + " | ".join(_cell(cis[m], signed=True) for m in METRICS) + " |")
        lines.append("")
        for label, cis in table["changes"].items():
            step = label.split(" − ")[0].removeprefix("after ")
            lines.append(
                f"- {step} {verdict(cis['total'])} the held-out reward ({_cell(cis['total'], True)}), "
                f"{verdict(cis['exact'])} exact match ({_cell(cis['exact'], True)}) and "
                f"{verdict(cis['format_ok'])} the share of well-formed answers "
                f"({_cell(cis['format_ok'], True)})."
            )
    return "\n".join(lines) + "\n"


def stage_report(run_dir: Path, *, seed: int = 0) -> tuple[dict[str, Any], str] | None:
    """(table, markdown) for a run's in-loop eval files, or None when it has none."""
    files = stage_files(run_dir)
    if not files:
        return None
    table = stage_table({label: read_rows(path) for label, path in files.items()}, seed=seed)
    return table, stage_markdown(table)


def compare_runs(run_dirs: list[Path], *, seed: int = 0) -> str:
    """Markdown: each run's stage means (reward, format ok) and CPU times, and each run − the first, paired
    over the same held-out tasks at every stage they share (demo variants: `prime-rl demo @ variant.toml`)."""
    import json

    runs = {
        Path(d).name: {label: read_rows(p) for label, p in stage_files(Path(d)).items()} for d in run_dirs
    }
    first_name, first = next(iter(runs.items()))
    lines = ["| run | stage | reward | format ok | reward − " + first_name + " |", "|---|---|---|---|---|"]
    for name, stages in runs.items():
        for label, rows in stages.items():
            reward = bootstrap_mean_ci([float(r["total"]) for r in rows], seed=seed)
            fmt_ok = bootstrap_mean_ci([float(r["format_ok"]) for r in rows], seed=seed)
            diff = "—"
            base = first.get(label)
            if name != first_name and base and [r["task_id"] for r in base] == [r["task_id"] for r in rows]:
                diff = _cell(
                    paired_bootstrap_diff_ci(
                        [float(r["total"]) for r in base], [float(r["total"]) for r in rows], seed=seed
                    ),
                    True,
                )
            lines.append(f"| {name} | {label} | {_cell(reward)} | {_cell(fmt_ok)} | {diff} |")
    lines += ["", "| run | SFT CPU s | GRPO CPU s | GRPO steps | eval CPU s |", "|---|---|---|---|---|"]
    for d in run_dirs:
        t = json.loads((Path(d) / "timings.json").read_text()) if (Path(d) / "timings.json").is_file() else {}
        steps = max((int(p.name.split("_")[1]) for p in (Path(d) / "checkpoints").glob("step_*")), default=0)
        lines.append(
            f"| {Path(d).name} | {t.get('sft_cpu_s', 0):.0f} | {t.get('grpo_cpu_s', 0):.0f} | {steps} | "
            f"{sum(t.get('eval_cpu_s', {}).values()):.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """`python -m dakota_rl.stages RUN [RUN ...]`: one run's stage table, or several runs compared."""
    import sys

    dirs = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    missing = [d for d in dirs if not stage_files(d)] or ([] if dirs else [Path("RUN")])
    if missing:
        print(
            f"stages: error: no in-loop eval files under {missing[0]}/eval "
            "(usage: python -m dakota_rl.stages RUN [RUN ...])",
            file=sys.stderr,
        )
        return 2
    report = stage_report(dirs[0]) if len(dirs) == 1 else None
    print(report[1] if report else compare_runs(dirs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
