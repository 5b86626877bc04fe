"""What on-policy RL can still gain, measured from samples (pure: no torch).

For each task, n completions sampled at the training temperature, each scored by the env: the unbiased pass@k
(Chen et al. 2021) and expected best-of-k reward are the ceiling GRPO can sharpen the policy toward; the
within-group reward spread is the signal a group carries; "top-reward sample is exact" says whether the reward
ranks the right answer first. From greedy rows: how often the answer is a copy of the form the prompt gave
(the lemma), and how well reward tracks exact match per family.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from math import comb, sqrt
from statistics import fmean, pstdev
from typing import Any


def pass_at_k(n: int, correct: int, k: int) -> float:
    """P(at least one of k draws without replacement from n samples is correct)."""
    if k > n:
        raise ValueError(f"k={k} > n={n} samples")
    if n - correct < k:
        return 1.0
    return 1.0 - comb(n - correct, k) / comb(n, k)


def best_of_k(rewards: Sequence[float], k: int) -> float:
    """Expected maximum reward of k draws without replacement from these n samples."""
    n = len(rewards)
    if k > n:
        raise ValueError(f"k={k} > n={n} samples")
    ordered = sorted(rewards)
    return sum(r * comb(i, k - 1) for i, r in enumerate(ordered)) / comb(n, k)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation; None when either side is constant or there are fewer than two points."""
    if len(xs) < 2 or pstdev(xs) == 0 or pstdev(ys) == 0:
        return None
    mx, my = fmean(xs), fmean(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def sample_diagnostics(samples: Sequence[Mapping[str, Any]], ks: Sequence[int]) -> dict[str, float]:
    """Means over tasks of pass@k, best-of-k reward, sampled reward, reward spread and top-is-exact.

    `samples`: one row per task with `rewards` and `exact` lists (the same n for every task)."""
    out: dict[str, float] = {}
    if not samples:
        return out
    for k in ks:
        out[f"pass@{k}"] = fmean(pass_at_k(len(s["exact"]), sum(map(bool, s["exact"])), k) for s in samples)
        out[f"best_of_{k}_reward"] = fmean(best_of_k(s["rewards"], k) for s in samples)
    out["sampled_reward"] = fmean(fmean(s["rewards"]) for s in samples)
    out["reward_spread"] = fmean(pstdev(s["rewards"]) for s in samples)
    solvable = [s for s in samples if any(s["exact"])]
    out["tasks_with_an_exact_sample"] = len(solvable) / len(samples)
    if solvable:
        out["top_reward_is_exact"] = fmean(float(_top_is_exact(s)) for s in solvable)
    return out


def _top_is_exact(sample: Mapping[str, Any]) -> bool:
    top = max(sample["rewards"])
    return any(bool(e) for r, e in zip(sample["rewards"], sample["exact"], strict=True) if r == top)


def greedy_diagnostics(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Lemma-copy rate (over rows whose task gives a form) and reward↔exact correlation, overall and per
    family."""
    given = [r for r in rows if r.get("lemma_copy") is not None]
    out: dict[str, Any] = {
        "lemma_copy_rate": fmean(float(r["lemma_copy"]) for r in given) if given else None,
        "reward_exact_corr": pearson([r["total"] for r in rows], [float(r["exact"]) for r in rows]),
        "family": {},
    }
    by_family: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_family[str(r.get("family"))].append(r)
    for family, members in sorted(by_family.items()):
        out["family"][family] = {
            "n": len(members),
            "reward_exact_corr": pearson([r["total"] for r in members], [float(r["exact"]) for r in members]),
        }
    return out
