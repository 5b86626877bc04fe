"""prime-rl's metric names mapped to ours (ARCHITECTURE.md Contract 5), to read a prime-rl run like a local one.

prime-rl @ 559b447 appends to `<run>/metrics.jsonl` from two processes: trainer rows (`loss/mean`,
`entropy/all/mean`, `optim/lr`, `optim/grad_norm`, `time/step`; trainer/rl/train.py) and orchestrator rows
(`train/{agg|<env>}/{all|effective}/<agent>/…` and `eval/<source>/{all|effective}/<agent>/…`;
orchestrator/metrics.py), each with `step`. We read the `agg` / `all` cohort: every rollout of the step, as the
local backend counts them. Rewards and metrics are named by the environment (verifiers records each
`@vf.reward` as `rewards/<name>` and each key of a `@vf.metric` dict as `metrics/<key>`).

Not mappable (absent from the dict this module returns; see UNMAPPED for why): `kl`, `reward_std`,
`frac_zero_std_groups`.

Pure: imports nothing beyond the standard library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TRAINER_NAMES = {
    "loss/mean": "loss",
    "entropy/all/mean": "entropy",
    "optim/lr": "lr",
    "optim/grad_norm": "grad_norm",
    "time/step": "step_time_s",
}
"""Trainer keys → Contract 5 names."""

ROLLOUT_NAMES = {
    "reward/mean": "reward/total",
    "is_truncated/mean": "truncated_rate",
    "num_output_tokens/mean": "completion_len",
    "metrics/exact/mean": "exact_rate",
}
"""Per-rollout keys (after `train/agg/all/<agent>/`) → Contract 5 names; `rewards/<fn>/mean` → `reward/<fn>`."""

UNMAPPED = {
    "kl": "prime-rl logs mismatch_kl (inference vs trainer policy of the same step), not a KL to a reference "
    "model; they measure different things",
    "reward_std": "prime-rl logs reward mean/min/max/p10/p90 per step, no standard deviation",
    "frac_zero_std_groups": "prime-rl's solved_none/solved_all count only groups of all-0 or all-1 rewards; with "
    "our partial-credit rewards a group can have zero spread at any value",
}
"""Contract 5 names a prime-rl run cannot fill, and why."""

TRAIN = re.compile(r"train/agg/all/[^/]+/(?P<key>.+)")
EVAL = re.compile(r"eval/(?P<source>[^/]+)/(?P<subset>all|effective)/[^/]+/(?P<key>.+)")
PASS_AT_K = re.compile(r"pass@\d+")


def _rollout_name(key: str) -> str | None:
    """Our name for a per-rollout key (`reward/mean`, `rewards/<fn>/mean`, …), or None."""
    if key in ROLLOUT_NAMES:
        return ROLLOUT_NAMES[key]
    if key.startswith("rewards/") and key.endswith("/mean"):
        return "reward/" + key[len("rewards/") : -len("/mean")]
    if key == "metrics/format_ok/mean":
        return "format_ok"
    return None


def _with_derived(out: dict[str, float], prefix: str = "") -> dict[str, float]:
    """`format_fail_rate` = 1 - the mean of the environment's `format_ok` metric."""
    if f"{prefix}format_ok" in out:
        out[f"{prefix}format_fail_rate"] = 1.0 - out.pop(f"{prefix}format_ok")
    return out


def to_contract(row: Mapping[str, Any]) -> dict[str, float]:
    """One prime-rl metrics row → our names (`step` kept). Eval keys become `eval/<source>/<our name>`, plus
    `eval/<source>/pass@k` (binary rewards only, as prime-rl computes it)."""
    out: dict[str, float] = {}
    eval_prefixes = set()
    for key, value in row.items():
        if key == "step":
            out["step"] = value
        elif key in TRAINER_NAMES:
            out[TRAINER_NAMES[key]] = value
        elif match := TRAIN.fullmatch(key):
            name = _rollout_name(match["key"])
            if name:
                out[name] = value
        elif match := EVAL.fullmatch(key):
            prefix = f"eval/{match['source']}/"
            if match["subset"] == "effective" and PASS_AT_K.fullmatch(match["key"]):
                out[prefix + match["key"]] = value
            elif match["subset"] == "all" and (name := _rollout_name(match["key"])):
                out[prefix + name] = value
                eval_prefixes.add(prefix)
    _with_derived(out)
    for prefix in eval_prefixes:
        _with_derived(out, prefix)
    return out


def merge_steps(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, float]]:
    """Rows of one run (trainer and orchestrator rows of the same step side by side) → one mapped row per step."""
    by_step: dict[int, dict[str, float]] = {}
    for row in rows:
        mapped = to_contract(row)
        if "step" in mapped:
            by_step.setdefault(int(mapped["step"]), {}).update(mapped)
    return [by_step[step] for step in sorted(by_step)]


def read_metrics(path: Path) -> list[dict[str, float]]:
    """`<run>/metrics.jsonl` of a prime-rl run, in Contract 5 names, one row per step."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return merge_steps(json.loads(line) for line in lines if line.strip())
