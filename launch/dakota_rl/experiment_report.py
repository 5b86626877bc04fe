"""The GRPO-vs-SFT report: md + json + png under `<run>/report/`,
from the experiment's per-task eval files."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from dakota_rl.backends.local.heldout import read_rows
from dakota_rl.files import save_figure, write_atomic
from dakota_rl.stages import verdict
from dakota_rl.stats import bootstrap_mean_ci, paired_bootstrap_diff_ci

METRICS = ("total", "exact", "format_ok")


def _pooled(per_seed: list[list[dict[str, Any]]], metric: str) -> list[float]:
    """Each task's metric averaged over seeds (rows are in the same task order in every file)."""
    return [sum(float(rows[i][metric]) for rows in per_seed) / len(per_seed) for i in range(len(per_seed[0]))]


def analyse(
    eval_dir: Path, seeds: list[int], control: str = "sft", treatment: str = "grpo"
) -> dict[str, Any]:
    """Means with CIs per arm, and treatment − control ("grpo_minus_sft") paired differences per seed, pooled,
    and per family (pooled)."""
    warm = read_rows(eval_dir / "warmup.jsonl")
    arms = {
        name: [read_rows(eval_dir / f"seed_{s}_{arm}.jsonl") for s in seeds]
        for name, arm in (("sft", control), ("grpo", treatment))
    }
    for rows in arms["sft"] + arms["grpo"]:
        if [r["task_id"] for r in rows] != [r["task_id"] for r in warm]:
            raise ValueError("arms were evaluated on different tasks")
    out: dict[str, Any] = {
        "control": control,
        "treatment": treatment,
        "n_tasks": len(warm),
        "seeds": seeds,
        "means": {},
        "grpo_minus_sft": {},
        "per_seed": {},
        "per_family": {},
        "vs_warmup": {},
    }
    base = eval_dir / "base.jsonl"
    of_seeds = "" if len(seeds) == 1 else ", mean of seeds"
    rows_by_label = {"warm-up (start of every arm)": [warm]} | {
        f"{control} arm (control){of_seeds}": arms["sft"],
        f"{treatment} arm{of_seeds}": arms["grpo"],
    }
    if base.is_file():
        rows_by_label = {"base model": [read_rows(base)]} | rows_by_label
    for label, per_seed in rows_by_label.items():
        out["means"][label] = {m: bootstrap_mean_ci(_pooled(per_seed, m)) for m in METRICS}
    for m in METRICS:
        a, b = _pooled(arms["sft"], m), _pooled(arms["grpo"], m)
        out["grpo_minus_sft"][m] = paired_bootstrap_diff_ci(a, b)
        w = [float(r[m]) for r in warm]
        out["vs_warmup"][m] = {
            "SFT arm − warm-up": paired_bootstrap_diff_ci(w, a),
            "GRPO arm − warm-up": paired_bootstrap_diff_ci(w, b),
        }
    for i, seed in enumerate(seeds):
        out["per_seed"][seed] = {
            m: paired_bootstrap_diff_ci(
                [float(r[m]) for r in arms["sft"][i]], [float(r[m]) for r in arms["grpo"][i]]
            )
            for m in METRICS
        }
    families = sorted({str(r["family"]) for r in warm})
    a, b = _pooled(arms["sft"], "total"), _pooled(arms["grpo"], "total")
    for family in families:
        idx = [i for i, r in enumerate(warm) if str(r["family"]) == family]
        out["per_family"][family] = {
            "n": len(idx),
            "sft": sum(a[i] for i in idx) / len(idx),
            "grpo": sum(b[i] for i in idx) / len(idx),
            "diff": paired_bootstrap_diff_ci([a[i] for i in idx], [b[i] for i in idx]),
        }
    return out


def _ci(ci: tuple[float, float, float] | list[float], signed: bool = False) -> str:
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"{f.format(ci[0])} [{f.format(ci[1])}, {f.format(ci[2])}]"


def markdown(a: dict[str, Any], cfg: Any, settings: Any, timings: dict[str, float]) -> str:
    d = a["grpo_minus_sft"]
    lines = [
        f"# {treatment_name(cfg)} versus the {getattr(cfg, 'control', 'sft')} control",
        "",
        f"{a['n_tasks']} fixed held-out tasks, greedy decoding; seeds {a['seeds']}; "
        f"each arm {cfg.steps} steps "
        f"from one {cfg.warmup_steps}-step SFT warm-up of {settings.model}; mean [95% bootstrap CI].",
        "",
        "**Result:** compared with continuing SFT on the same prompts for the same steps, GRPO "
        f"{verdict(d['total'])} the held-out reward (GRPO − SFT {_ci(d['total'], True)}) and "
        f"{verdict(d['exact'])} exact match ({_ci(d['exact'], True)}).",
        "",
        "![Held-out reward of every stage, and GRPO − SFT paired over tasks](experiment.png)",
        "",
        "| model | reward | exact | format ok |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {label} | " + " | ".join(_ci(m[k]) for k in METRICS) + " |" for label, m in a["means"].items()
    ]
    lines += [
        "",
        "## Paired differences (same tasks)",
        "",
        "| difference | reward | exact | format ok |",
        "|---|---|---|---|",
        "| GRPO − SFT, pooled | " + " | ".join(_ci(d[k], True) for k in METRICS) + " |",
    ]
    lines += [
        f"| GRPO − SFT, seed {s} | " + " | ".join(_ci(v[k], True) for k in METRICS) + " |"
        for s, v in a["per_seed"].items()
    ]
    for name in ("SFT arm − warm-up", "GRPO arm − warm-up"):
        lines.append(f"| {name} | " + " | ".join(_ci(a["vs_warmup"][k][name], True) for k in METRICS) + " |")
    lines += [
        "",
        "## Per family (reward; GRPO − SFT paired)",
        "",
        "| family | n | SFT | GRPO | GRPO − SFT |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {f} | {v['n']} | {v['sft']:.3f} | {v['grpo']:.3f} | {_ci(v['diff'], True)} |"
        for f, v in a["per_family"].items()
    ]
    for split, extra in a.get("splits", {}).items():
        lines += _split_section(split, extra)
    lines += [
        "",
        "## Run",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPU(s), {platform.system()}",
        f"- configs: {' '.join('@ ' + c for c in cfg.configs)}",
        f"- prompts per step: {settings.batch_size // settings.group_size}; GRPO completions per prompt: "
        f"{settings.group_size}; GRPO lr {settings.lr}; SFT lr {settings.local.sft.lr}; "
        f"kl_beta {settings.local.kl_beta} (the configs' values; an arm's overrides are in `config.arms` of "
        "experiment.json)",
    ]
    lines += [f"- {name}: {secs:.0f} s" for name, secs in timings.items()]
    return "\n".join(lines) + "\n"


def _split_section(split: str, a: dict[str, Any]) -> list[str]:
    """The same comparison on one further held-out split (its own task sample)."""
    d = a["grpo_minus_sft"]
    lines = [
        "",
        f"## The {split} split ({a['n_tasks']} tasks)",
        "",
        f"GRPO {verdict(d['total'])} the reward on this split (GRPO − SFT {_ci(d['total'], True)}) and "
        f"{verdict(d['exact'])} exact match ({_ci(d['exact'], True)}).",
        "",
        "| model | reward | exact | format ok |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {label} | " + " | ".join(_ci(m[k]) for k in METRICS) + " |" for label, m in a["means"].items()
    ]
    lines += ["", "| difference | reward | exact | format ok |", "|---|---|---|---|"]
    lines.append("| GRPO − SFT, pooled | " + " | ".join(_ci(d[k], True) for k in METRICS) + " |")
    for name in ("SFT arm − warm-up", "GRPO arm − warm-up"):
        lines.append(f"| {name} | " + " | ".join(_ci(a["vs_warmup"][k][name], True) for k in METRICS) + " |")
    return lines


STAGE_COLOURS = ("0.45", "tab:orange", "tab:green", "tab:blue")
"""base model, warm-up (SFT), SFT arm, GRPO arm."""


def _plot_stages(ax: Any, a: dict[str, Any]) -> None:
    """Held-out reward of every stage (base, warm-up, each arm) with its 95% CI, per split."""
    splits = {"held-out": a} | {name: v for name, v in a.get("splits", {}).items()}
    width = 0.8 / max(len(a["means"]), 1)
    for i, label in enumerate(a["means"]):
        cis = [split["means"][label]["total"] for split in splits.values() if label in split["means"]]
        xs = [j + (i - (len(a["means"]) - 1) / 2) * width for j in range(len(cis))]
        ax.errorbar(
            xs, [c[0] for c in cis], yerr=[[c[0] - c[1] for c in cis], [c[2] - c[0] for c in cis]],
            fmt="o", capsize=3, color=STAGE_COLOURS[(i - len(a["means"])) % len(STAGE_COLOURS)], label=label,
        )  # fmt: skip
    ax.set_xticks(range(len(splits)), [f"{name} split" for name in splits])
    top = max(split["means"][label]["total"][2] for split in splits.values() for label in split["means"])
    ax.set_ylim(0, max(top, 0.05) * 1.35)  # room for the legend above the points
    ax.set_ylabel("reward (mean, 95% CI)")
    ax.set_title(f"reward by stage ({a['n_tasks']} tasks per split)")
    ax.legend(fontsize=7, loc="upper center", ncol=2)


def _plot_arms(ax: Any, a: dict[str, Any], arms: list[str]) -> None:
    """Every arm − the control (reward, paired, 95% CI) on the held-out sample and each extra split."""
    control = a.get("control", "sft")
    screens = {"held-out": a["screen"]} | a.get("screen_splits", {})
    width = 0.6 / max(len(screens), 1)
    for j, (split, sc) in enumerate(screens.items()):
        cis = [sc[arm]["minus_control"]["total"] for arm in arms if arm in sc]
        xs = [i + (j - (len(screens) - 1) / 2) * width for i in range(len(cis))]
        ax.errorbar(
            xs, [c[0] for c in cis], yerr=[[c[0] - c[1] for c in cis], [c[2] - c[0] for c in cis]],
            fmt="os^"[j % 3], capsize=3, label=split,
        )  # fmt: skip
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(arms)), arms, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"reward, arm − {control}")
    ax.set_title(f"every arm − {control}, paired (95% CI)")
    if len(screens) > 1:
        ax.legend(fontsize=7)


def plot(a: dict[str, Any], out: Path) -> Path:
    """Write `experiment_figure(a)` to `out` (PNG)."""
    import matplotlib.pyplot as plt

    fig = experiment_figure(a)
    try:
        save_figure(fig, out)  # whole or not at all
    finally:
        plt.close(fig)
    return out


def experiment_figure(a: dict[str, Any]) -> Any:
    """Left: every stage on the held-out (and each extra) split; middle: treatment − control, paired, with its
    CI, overall and per family; right (with more than one arm besides the control): every arm − control."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = a.get("splits", {})
    labels = ["overall"] + list(a["per_family"]) + [f"{name} split" for name in splits]
    cis = (
        [a["grpo_minus_sft"]["total"]]
        + [v["diff"] for v in a["per_family"].values()]
        + [v["grpo_minus_sft"]["total"] for v in splits.values()]
    )
    arms = [arm for arm, e in a.get("screen", {}).items() if "minus_control" in e]
    panels = 3 if len(arms) > 1 else 2
    fig, axes = plt.subplots(
        1,
        panels,
        figsize=(5.5 + 1.1 * len(labels) + (1.0 + 0.45 * len(arms) if panels == 3 else 0), 3.8),
        gridspec_kw={"width_ratios": [1, 1.2, 1.2][:panels]},
    )
    left, ax = axes[0], axes[1]
    _plot_stages(left, a)
    if panels == 3:
        _plot_arms(axes[2], a, arms)
    ax.errorbar(
        range(len(labels)),
        [c[0] for c in cis],
        yerr=[[c[0] - c[1] for c in cis], [c[2] - c[0] for c in cis]],
        fmt="o",
        capsize=4,
    )
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    name = f"{a.get('treatment', 'GRPO')} − {a.get('control', 'SFT')}"
    ax.set_ylabel(f"reward, {name}")
    ax.set_title(f"{name} control, paired (95% CI)")
    fig.tight_layout()
    return fig


def write_experiment_report(
    run_dir: Path, cfg: Any, settings: Any, timings: dict[str, float]
) -> dict[str, Any]:
    """Write `report/experiment.{md,json,png}`; return the analysis."""
    control, treatment = getattr(cfg, "control", "sft"), getattr(cfg, "treatment", "grpo")
    a = analyse(run_dir / "eval", list(cfg.seeds), control, treatment)
    a["splits"] = {
        folder.name.removeprefix("eval_"): analyse(folder, list(cfg.seeds), control, treatment)
        for folder in sorted(run_dir.glob("eval_*"))
        if (folder / "warmup.jsonl").is_file()
    }
    arms = getattr(cfg, "arm_names", ["sft", "grpo"])
    matched = getattr(cfg, "matched_pairs", {})
    a["screen"] = screen(run_dir / "eval", list(cfg.seeds), arms, control, timings, matched)
    a["screen_splits"] = {
        split: screen(run_dir / f"eval_{split}", list(cfg.seeds), arms, control, timings, matched)
        for split in a["splits"]
    }
    a["diagnostics"] = read_diagnostics(run_dir, list(cfg.seeds), arms)
    a["timings"] = timings
    a["config"] = cfg.model_dump()
    out = run_dir / "report"
    text = markdown(a, cfg, settings, timings) + screen_markdown(a["screen"], control)
    for split, sc in a["screen_splits"].items():
        text += screen_markdown(sc, control, split=split)
    text += diagnostics_markdown(a["diagnostics"])
    plot(a, out / "experiment.png")  # each file whole or not at all; a full disk is one line
    write_atomic(out / "experiment.json", json.dumps(a, indent=2))
    write_atomic(out / "experiment.md", text)
    print(text)
    return a


def treatment_name(cfg: Any) -> str:
    return getattr(cfg, "treatment", "grpo")


def screen(
    eval_dir: Path,
    seeds: list[int],
    arms: list[str],
    control: str,
    timings: dict[str, float],
    matched: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Every arm on one task sample (`eval/`, or an extra split's `eval_<split>/`): mean reward and exact,
    arm − control paired (pooled over seeds), arm − its `matched` arm where it has one, greedy diagnostics
    (lemma copies, reward↔exact correlation), and training CPU seconds (mean of seeds)."""
    from dakota_rl.diagnostics import greedy_diagnostics

    matched = matched or {}
    rows = {"warmup": [read_rows(eval_dir / "warmup.jsonl")]}
    rows |= {arm: [read_rows(eval_dir / f"seed_{s}_{arm}.jsonl") for s in seeds] for arm in arms}
    out: dict[str, Any] = {}
    for arm, per_seed in rows.items():
        entry: dict[str, Any] = {m: bootstrap_mean_ci(_pooled(per_seed, m)) for m in ("total", "exact")}
        if arm not in (control, "warmup"):
            entry["minus_control"] = _paired(rows[control], per_seed)
        if arm in matched:
            entry["minus_matched"] = {"arm": matched[arm]} | _paired(rows[matched[arm]], per_seed)
        entry["greedy"] = greedy_diagnostics([r for seed_rows in per_seed for r in seed_rows])
        cpu = [timings.get(f"cpu: seed {s}: {arm} arm") for s in seeds]
        entry["train_cpu_s"] = (
            sum(cpu) / len(cpu) if arm != "warmup" and all(c is not None for c in cpu) else None
        )
        out[arm] = entry
    return out


def _paired(base: list[list[dict[str, Any]]], rows: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """rows − base (reward and exact), paired over tasks and pooled over seeds, with 95% CIs."""
    return {m: paired_bootstrap_diff_ci(_pooled(base, m), _pooled(rows, m)) for m in ("total", "exact")}


def screen_markdown(sc: dict[str, Any], control: str, split: str = "") -> str:
    """The all-arms table (equal steps; CPU seconds beside each arm for the equal-compute reading)."""
    where = f"the {split} split" if split else "the held-out sample"
    lines = [
        "",
        f"## Every arm on {where} (equal steps unless the arm sets its own; CPU s = training CPU time, "
        "mean of seeds)",
        "",
        f"| arm | reward | exact | reward − {control} | exact − {control} | CPU s | lemma copies "
        "| reward↔exact r |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm, e in sc.items():
        diff = e.get("minus_control")
        g = e["greedy"]
        lines.append(
            f"| {arm} | {_ci(e['total'])} | {_ci(e['exact'])} | "
            + (f"{_ci(diff['total'], True)} | {_ci(diff['exact'], True)}" if diff else "— | —")
            + f" | {_num(e['train_cpu_s'], '{:.0f}')} | {_num(g['lemma_copy_rate'], '{:.1%}')} | "
            f"{_num(g['reward_exact_corr'], '{:.2f}')} |"
        )
    return "\n".join(lines) + "\n" + matched_markdown(sc, where)


def matched_markdown(sc: dict[str, Any], where: str) -> str:
    """Arm − the arm it is matched with (e.g. GRPO and SFT at the same lr), paired; empty without pairs."""
    pairs = {arm: e["minus_matched"] for arm, e in sc.items() if "minus_matched" in e}
    if not pairs:
        return ""
    lines = [
        "",
        f"### Matched pairs on {where} (arm − the arm it is matched with, paired over tasks)",
        "",
        "| arm | matched with | reward | exact |",
        "|---|---|---|---|",
    ]
    for arm, d in pairs.items():
        lines.append(f"| {arm} | {d['arm']} | {_ci(d['total'], True)} | {_ci(d['exact'], True)} |")
    return "\n".join(lines) + "\n"


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def read_diagnostics(run_dir: Path, seeds: list[int], arms: list[str]) -> dict[str, Any]:
    """`diag/<label>.json` of the warm-up and each arm (mean over seeds), where they were computed."""
    out: dict[str, Any] = {}
    labels = {"warmup": ["warmup"]} | {arm: [f"seed_{s}_{arm}" for s in seeds] for arm in arms}
    for arm, files in labels.items():
        found = [json.loads(p.read_text()) for f in files if (p := run_dir / "diag" / f"{f}.json").is_file()]
        if not found:
            continue
        out[arm] = {
            split: {
                k: sum(d[split][k] for d in found) / len(found)
                for k in found[0][split]
                if all(k in d[split] for d in found)
            }
            for split in found[0]
        }
    return out


def diagnostics_markdown(diag: dict[str, Any]) -> str:
    """pass@k and best-of-k at the training temperature, per arm and split."""
    if not diag:
        return ""
    first = next(iter(diag.values()))
    keys = [
        k
        for k in next(iter(first.values()))
        if k.startswith(("pass@", "best_of", "sampled", "reward_spread", "top"))
    ]
    lines = [
        "",
        "## What sampling finds (at the training temperature; mean over tasks and seeds)",
        "",
        "| arm | prompts | " + " | ".join(keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    for arm, splits in diag.items():
        for split, values in splits.items():
            lines.append(
                f"| {arm} | {split} | " + " | ".join(_num(values.get(k), "{:.3f}") for k in keys) + " |"
            )
    return "\n".join(lines) + "\n"
