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
from pydantic import model_validator

from env_kit.single_turn import ChatEnv, RecordData, SingleTurnTask, WeightedTaskConfig
from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.rewards import Scores, Weights, score

SYSTEM_PROMPT = (
    "You are a careful translator. Translate the user's text as asked. Reply with the translation only, "
    "on one line, keeping every special letter and accent of the target language's spelling."
)


class TranslationData(RecordData):
    """One pair in one direction: everything scoring needs travels here
    (the env server never calls `load()`)."""

    RECORD_KEYS = ("id", "prompt", "answer", "alternatives", "orthography")
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


class TranslationTaskConfig(WeightedTaskConfig):
    """Scoring knobs (`--env.taskset.task.*`)."""

    weights: Weights = Weights()
    """e.g. `--env.taskset.task.weights.chrf 0.8`; they become verifiers' reward weights. `learned` stays 0
    here: only the launcher loads a reward model."""

    @model_validator(mode="after")
    def _no_reward_model_here(self) -> TranslationTaskConfig:
        if self.weights.learned > 0:
            raise ValueError("weights.learned > 0 needs a reward model, which only the launcher loads")
        return self


class TranslationTask(SingleTurnTask[TranslationData, TranslationTaskConfig]):
    """Single turn; a weighted reward per component (chrf, special, sanity) and the flags as metrics."""

    def score_reply(self, reply: str, truncated: bool) -> Scores:
        return score(reply, self.data, self.config.weights, truncated=truncated)

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
        return score(self.data.answer, self.data).total == 1.0


class ParallelTranslationConfig(vf.TasksetConfig, CorpusOptions):
    """Corpus, split and direction (`--env.taskset.*`, fields of `corpus.CorpusOptions`)."""

    task: TranslationTaskConfig = TranslationTaskConfig()


class ParallelTranslationTaskset(vf.Taskset[TranslationTask, ParallelTranslationConfig]):
    """The corpus's pairs of one split as verifiers tasks."""

    def load(self) -> list[TranslationTask]:
        options = CorpusOptions(**{k: getattr(self.config, k) for k in CorpusOptions.model_fields})
        return [
            TranslationTask(
                TranslationData.from_record(r, i, name=r["direction"], system_prompt=SYSTEM_PROMPT),
                self.config.task,
            )
            for i, r in enumerate(load_tasks(options))
        ]


class ParallelTranslationEnv(ChatEnv):
    """One agent answers each task once (the `null` harness, a subprocess runtime)."""
