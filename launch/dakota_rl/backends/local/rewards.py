"""TRL reward functions that call the environment's own scorer: one function per reward component.

TRL multiplies each function's output by `GRPOConfig.reward_weights` and sums, so the logged `reward` is the
same weighted total the env's scorer returns (the scalar GRPO optimises). Format failures, truncations and
exact answers are logged beside the components through TRL's `log_metric`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from dakota_rl.envs import EnvSpec


def completion_text(completion: Any) -> str:
    """TRL passes conversational completions as a list of messages; plain ones as a string."""
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


class RewardBank:
    """Scores each (completion, task) once and serves every component from the cache."""

    def __init__(self, env: EnvSpec, max_completion_tokens: int, eos_token_ids: Sequence[int]) -> None:
        self.env = env
        self.max_completion_tokens = max_completion_tokens
        self.eos_token_ids = set(eos_token_ids)
        self._cache: dict[tuple[str, str, bool], Any] = {}
        self.observers: list[Callable[[list[str], list[float]], dict[str, float]]] = []
        """Called once per batch with (task JSON, total reward) per completion; returns metrics to log."""

    def is_truncated(self, ids: Sequence[int] | None) -> bool:
        """Hit the token cap without emitting EOS."""
        return bool(ids) and len(ids) >= self.max_completion_tokens and ids[-1] not in self.eos_token_ids

    def scores(
        self, completions: list[Any], task_json: list[str], completion_ids: list[Any] | None
    ) -> list[Any]:
        out = []
        for i, (completion, task) in enumerate(zip(completions, task_json, strict=True)):
            truncated = self.is_truncated(completion_ids[i] if completion_ids else None)
            key = (completion_text(completion), task, truncated)
            if key not in self._cache:
                self._cache[key] = self.env.score(key[0], json.loads(task), truncated)
            out.append(self._cache[key])
        return out

    def functions(self) -> tuple[list[Callable[..., list[float]]], list[float]]:
        """The TRL reward functions (named after the components) and their weights."""
        funcs = []
        names = list(self.env.components)
        for index, name in enumerate(names):
            funcs.append(self._component_fn(name, log_rates=index == 0))
        return funcs, [self.env.components[n] for n in names]

    def _component_fn(self, name: str, *, log_rates: bool) -> Callable[..., list[float]]:
        def reward(completions, task_json, completion_ids=None, log_metric=None, **_: Any) -> list[float]:
            if log_rates:
                self._cache.clear()
            scores = self.scores(completions, task_json, completion_ids)
            if log_rates and log_metric is not None:
                n = max(len(scores), 1)
                log_metric("format_fail_rate", sum(not s.format_ok for s in scores) / n)
                log_metric("truncated_rate", sum(bool(s.truncated) for s in scores) / n)
                log_metric("exact_rate", sum(bool(s.exact) for s in scores) / n)
            if log_rates:
                for observe in self.observers:
                    for key, value in observe(list(task_json), [float(s.total) for s in scores]).items():
                        if log_metric is not None:
                            log_metric(key, value)
            return [float(getattr(s, name)) for s in scores]

        reward.__name__ = name
        return reward
