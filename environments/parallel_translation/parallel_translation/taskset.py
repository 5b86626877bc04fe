"""Translation from a parallel corpus, either way between a language and another (verifiers v1 glue only).

The model gets one sentence and replies with its translation alone (an `<answer>…</answer>` wrapper and
`<think>…</think>` reasoning are accepted). The pure `rewards.score` pays 0.7 chrF++ + 0.15 special-letter
preservation + 0.15 length/format sanity (side terms scaled by chrF++); the total is in [0, 1]. Tasks come
from `corpus.load_tasks`: the embedded Dakota ⇄ English corpus by default, or any chat / source-target
corpus (`--env.taskset.data`), split by a seeded hash of the source.
"""

from __future__ import annotations

from typing import Any

import verifiers.v1 as vf
from pydantic import BaseModel, model_validator
from verifiers.v1.harnesses.null import NullHarnessConfig

from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.rewards import DEFAULT_WEIGHTS, Scores, Weights, score

SYSTEM_PROMPT = (
    "You are a careful translator. Translate the user's text as asked. Reply with the translation only, "
    "on one line, keeping every special letter and accent of the target language's spelling."
)


class TranslationData(vf.TaskData):
    """One pair in one direction: everything scoring needs travels here
    (the env server never calls `load()`)."""

    answer: str
    """Reference translation."""
    alternatives: list[str] = []
    """Other references (other targets of the same source)."""
    source: str = ""
    """The text to translate."""
    direction: str = ""
    """into (the learned language) | out_of."""
    split: str = ""
    source_language: str = ""
    target_language: str = ""
    orthography: dict[str, Any] = {}
    """The target language's table: special letters and variant spellings."""
    meta: dict[str, Any] = {}
    """Provenance carried from the corpus row."""

    def record(self) -> dict[str, Any]:
        """The task record `rewards.score` reads."""
        return {
            "id": self.id or "",
            "prompt": self.prompt_text,
            "answer": self.answer,
            "alternatives": list(self.alternatives),
            "orthography": dict(self.orthography),
        }


class RewardWeights(BaseModel):
    """Component weights (non-negative, summing to 1); the learned signal is configured in the launcher."""

    chrf: float = DEFAULT_WEIGHTS.chrf
    special: float = DEFAULT_WEIGHTS.special
    sanity: float = DEFAULT_WEIGHTS.sanity


class TranslationTaskConfig(vf.TaskConfig):
    """Scoring knobs (`--env.taskset.task.*`)."""

    weights: RewardWeights = RewardWeights()
    """e.g. `--env.taskset.task.weights.chrf 0.8`; they become verifiers' reward weights."""

    @model_validator(mode="after")
    def _weights_become_reward_weights(self) -> TranslationTaskConfig:
        Weights(**self.weights.model_dump())
        for name, weight in self.weights.model_dump().items():
            self.rewards.setdefault(name, vf.RewardFunctionConfig(weight=weight))
        return self


class TranslationTask(vf.Task[TranslationData, vf.State, TranslationTaskConfig]):
    """Single turn; three weighted rewards and the flags as metrics."""

    @property
    def key(self) -> str:
        return self.data.id or self.hash

    def scores(self, trace: vf.Trace) -> Scores:
        weights = Weights(**self.config.weights.model_dump())
        return score(trace.last_reply, self.data.record(), weights, truncated=trace.is_truncated)

    @vf.stop
    async def single_turn(self, trace: vf.Trace) -> bool:
        return trace.num_turns >= 1

    @vf.reward(weight=DEFAULT_WEIGHTS.chrf)
    async def chrf(self, trace: vf.Trace) -> float:
        return self.scores(trace).chrf

    @vf.reward(weight=DEFAULT_WEIGHTS.special)
    async def special(self, trace: vf.Trace) -> float:
        return self.scores(trace).special

    @vf.reward(weight=DEFAULT_WEIGHTS.sanity)
    async def sanity(self, trace: vf.Trace) -> float:
        return self.scores(trace).sanity

    @vf.metric
    async def translation_metrics(self, trace: vf.Trace) -> dict[str, float]:
        """exact, format_ok, truncated, raw_special, raw_sanity, plus a direction tag."""
        s = self.scores(trace)
        return {
            "exact": float(s.exact),
            "format_ok": float(s.format_ok),
            "truncated": float(s.truncated),
            "raw_special": s.raw_special,
            "raw_sanity": s.raw_sanity,
            f"direction_{self.data.direction}": 1.0,
        }

    async def validate(self, runtime: Any = None) -> bool:
        """Model-free check for `vf-validate`: the reference scores 1.0."""
        return score(self.data.answer, self.data.record()).total == 1.0


class ParallelTranslationConfig(vf.TasksetConfig, CorpusOptions):
    """Corpus, split and direction (`--env.taskset.*`, fields of `corpus.CorpusOptions`)."""

    task: TranslationTaskConfig = TranslationTaskConfig()


class ParallelTranslationTaskset(vf.Taskset[TranslationTask, ParallelTranslationConfig]):
    """The corpus's pairs of one split as verifiers tasks."""

    def load(self) -> list[TranslationTask]:
        options = CorpusOptions(**{k: getattr(self.config, k) for k in CorpusOptions.model_fields})
        return [
            TranslationTask(
                TranslationData(
                    idx=i,
                    id=r["id"],
                    name=r["direction"],
                    prompt=r["prompt"],
                    system_prompt=SYSTEM_PROMPT,
                    answer=r["answer"],
                    alternatives=r["alternatives"],
                    source=r["source"],
                    direction=r["direction"],
                    split=r["split"],
                    source_language=r["source_language"],
                    target_language=r["target_language"],
                    orthography=r["orthography"],
                    meta=r["meta"],
                ),
                self.config.task,
            )
            for i, r in enumerate(load_tasks(options))
        ]


class ParallelTranslationEnvConfig(vf.EnvConfig):
    agent: vf.AgentConfig = vf.AgentConfig(
        harness=NullHarnessConfig(id="null"), runtime=vf.SubprocessConfig()
    )
    """One chat agent: the `null` harness (a plain chat call) in a local subprocess runtime."""


class ParallelTranslationEnv(vf.Env[ParallelTranslationEnvConfig]):
    async def run(self, task: vf.Task, agents: vf.Agents) -> None:
        await agents.agent.run(task)
