"""The study's numbers and sentences: per model × domain (reward, logit lens, attention, which spans the
answer rests on, with 95% bootstrap intervals over examples), then the contrasts of the 2×2: Dakota vs
math within each model, and trained (RL, else SFT) vs base within each training domain."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from dakota_interp import trace
from dakota_interp.attribution import bootstrap_mean_ci
from dakota_interp.report import json_safe

CONTENT = {"dakota": ("stem", "vocabulary", "features"), "math": ("numbers", "operations")}
"""The spans that carry the task's content in each domain (the rest: instructions, template, reasoning)."""


def _mean(matrix: Sequence[Sequence[float]]) -> float:
    return statistics.fmean(x for row in matrix for x in row)


def cell(result: Mapping[str, Any], domain: str) -> dict[str, Any]:
    """One model on one domain: the headline numbers."""
    rows = [r for r in result["traces"] if r["domain"] == domain]
    done = [r for r in rows if r.get("attributed")]
    lens, att = result["lens"][domain], result["attention"][domain]
    out: dict[str, Any] = {
        "tasks": len(rows),
        "reward": bootstrap_mean_ci([r["reward"] for r in rows]),
        "answer_tagged": sum(r["answer_tagged"] for r in rows) / max(1, len(rows)),
        "lens_final_top1": lens.get("final_top1_rate"),
        "lens_first_top1_layer": lens.get("first_top1_layer_mean"),
        "lens_median_rank_final": lens["median_rank"][-1] if lens.get("tasks") else None,
        "entropy_norm_mean": _mean(att["entropy_norm"]),
        "sink_mass_mean": _mean(att["sink_mass"]),
        "spans": {m: trace.span_table(done, m).get(domain, {}) for m in ("input_x_grad", "rollout")},
    }
    for method in ("input_x_grad", "rollout"):
        out[f"{method}_content"] = bootstrap_mean_ci(
            [sum(r[f"{method}_spans"].get(s, 0.0) for s in CONTENT[domain]) for r in done]
        )
        out[f"{method}_reasoning"] = bootstrap_mean_ci(
            [r[f"{method}_spans"].get("reasoning", 0.0) for r in done]
        )
    return out


def numbers(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every headline number, per model and domain (JSON-safe)."""
    return json_safe(
        {
            r["label"]: {
                "source": r["source"],
                "domain": r["domain"],
                "stage": r["stage"],
                "seconds": r["seconds"],
                **{d: cell(r, d) for d in r["lens"]},
            }
            for r in results
        }
    )


def _ci(x: Sequence[float]) -> str:
    return f"{x[0]:.3f} [{x[1]:.3f}, {x[2]:.3f}]"


def _table(nums: Mapping[str, Any]) -> list[str]:
    head = (
        "| model | domain | tasks | reward | answer tagged | lens top-1 at output | first top-1 layer | "
        "entropy (norm.) | "
        "sink | content share (I×G) | reasoning share (I×G) | content share (rollout) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for label, per in nums.items():
        for domain in ("dakota", "math"):
            c = per.get(domain)
            if not c:
                continue
            first = c["lens_first_top1_layer"]
            lines.append(
                f"| {label} | {domain} | {c['tasks']} | {_ci(c['reward'])} | "
                f"{100 * c['answer_tagged']:.0f}% | "
                f"{100 * (c['lens_final_top1'] or 0):.0f}% | {'–' if first is None else f'{first:.1f}'} | "
                f"{c['entropy_norm_mean']:.3f} | {c['sink_mass_mean']:.3f} | "
                f"{_ci(c['input_x_grad_content'])} | "
                f"{_ci(c['input_x_grad_reasoning'])} | {_ci(c['rollout_content'])} |"
            )
    return lines


def _spans(nums: Mapping[str, Any]) -> list[str]:
    lines = ["| model | domain | method | span shares, mean [95% CI] |", "|---|---|---|---|"]
    for label, per in nums.items():
        for domain in ("dakota", "math"):
            for method in ("input_x_grad", "rollout"):
                spans = per.get(domain, {}).get("spans", {}).get(method, {})
                ranked = sorted(spans.items(), key=lambda kv: -kv[1][0])
                lines.append(
                    f"| {label} | {domain} | {method} | "
                    + "; ".join(f"{k} {_ci(v)}" for k, v in ranked)
                    + " |"
                )
    return lines


def _contrasts(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """Paired-by-task differences: trained (RL, else SFT) − base for models of one training domain,
    on each task domain."""
    by_cell = {(r["domain"], r["stage"]): r for r in results if r["domain"]}
    lines = []
    for domain in ("dakota", "math"):
        base, rl = by_cell.get((domain, "base")), by_cell.get((domain, "rl")) or by_cell.get((domain, "sft"))
        if not (base and rl):
            continue
        for task_domain in ("dakota", "math"):
            for what, key in (
                ("reward", None),
                ("content share (I×G)", "input_x_grad"),
                ("reasoning share (I×G)", "input_x_grad"),
            ):
                pairs = _paired(base, rl, task_domain, what, key)
                if pairs:
                    mean, lo, hi = bootstrap_mean_ci(pairs)
                    lines.append(
                        f"- {rl['label']} − {base['label']} on {task_domain} tasks, {what}: {mean:+.3f} "
                        f"[{lo:+.3f}, {hi:+.3f}] over {len(pairs)} tasks."
                    )
    return lines


def _paired(base: Mapping, rl: Mapping, task_domain: str, what: str, key: str | None) -> list[float]:
    def value(r: Mapping) -> float | None:
        if key is None:
            return r["reward"]
        if not r.get("attributed"):
            return None
        names = ("reasoning",) if what.startswith("reasoning") else CONTENT[task_domain]
        return sum(r[f"{key}_spans"].get(s, 0.0) for s in names)

    a = {r["id"]: value(r) for r in base["traces"] if r["domain"] == task_domain}
    b = {r["id"]: value(r) for r in rl["traces"] if r["domain"] == task_domain}
    return [b[i] - a[i] for i in a if i in b and a[i] is not None and b[i] is not None]


def markdown(results: Sequence[Mapping[str, Any]], about: str) -> list[str]:
    """The study as markdown lines."""
    nums = numbers(results)
    lines = [
        "# Dakota vs math × base vs trained",
        "",
        about,
        "",
        "Reward: the environment's own scorer on the greedy trace. Lens: the gold answer's first token, "
        "teacher-forced after `<answer>`. Shares: attribution of the generated answer tokens over earlier "
        "tokens (sink excluded), summed per span, 95% bootstrap CI over tasks. I×G = input × gradient.",
        "",
        "## Per model and domain",
        "",
        *_table(nums),
        "",
        "## Spans the answer rests on",
        "",
        *_spans(nums),
    ]
    contrasts = _contrasts(results)
    if contrasts:
        lines += ["", "## Trained vs base (paired by task)", "", *contrasts]
    lines += ["", "## Run time", "", *(f"- {r['label']}: {r['seconds'] / 60:.1f} min" for r in results)]
    return lines
