"""Dakota grammar and translation, from Riggs's grammar (verifiers v1 glue).

The model gets one task (inflect a verb, translate a word or sentence either way, apply a rule) and must
put its final answer inside <answer>…</answer>, optionally after thinking. The answer is scored by the
pure `rewards.score`: 0.4 character + 0.4 morphology + 0.2 semantic, the total in [0, 1]. Reward version 2
(the default) credits what the answer adds to a copy of the prompt's lemma (edits made, the affixes and
stem change the task asks for, chrF gained); version 1 (normalised Levenshtein, gold pieces intact, chrF)
reproduces earlier runs. `--env.taskset.task.reward-version`, `.weights.*` and `.format-gate` set it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Literal

import verifiers.v1 as vf
from pydantic import Field

from dakota_grammar_translation.rewards import (
    DEFAULT_REWARD_VERSION,
    REWARD_VERSIONS,
    Scores,
    Weights,
    score,
    score_in_orthography,
)
from dakota_grammar_translation.tasks import (
    DIFFICULTIES,
    FAMILIES,
    RECORD_KEYS,
    Split,
    TaskRecord,
    load_tasks,
    read_tasks,
    validate_record,
)
from env_kit.single_turn import ChatEnv, RecordData, SingleTurnTask, WeightedTaskConfig

SYSTEM_PROMPT = (
    "You are learning the Dakota language from Stephen R. Riggs's grammar and dictionary. "
    "Solve the task. You may think first, but end with the final answer alone between <answer> and "
    "</answer>, with nothing else inside the tags. Write Dakota in Riggs's letters: ć ċ ġ ḣ ḳ ŋ ṗ ś ṭ ź, "
    "stress accents á é í ó ú, and ʼ for a hiatus."
)

Family = Literal[FAMILIES]  # the vocabulary lives in tasks.py (Contract 1)
Difficulty = Literal[DIFFICULTIES]


class DakotaData(RecordData):
    """One task row: everything scoring needs travels here (the env server never calls `load()`)."""

    RECORD_KEYS = RECORD_KEYS
    answer: str
    """Gold answer, NFC in the canonical orthography."""
    alternatives: list[str] = []
    """Other answers accepted as exact."""
    split: str = ""
    """train | heldout."""
    family: str = ""
    """morphology | translation | reverse_translation | syntax | pattern."""
    difficulty: str = ""
    """easy | medium | hard | advanced."""
    answer_language: str = "dakota"
    """dakota | english."""
    meta: dict[str, Any] = {}
    """Contract 1 `meta`: segments, affixes, rule and lexeme ids, source, review status."""


class DakotaTaskConfig(WeightedTaskConfig):
    """Scoring knobs (`--env.taskset.task.*`)."""

    orthography: Literal["riggs", "modern", "either"] = "riggs"
    """How a Dakota answer is read: `riggs` (Riggs's letters; single-letter variants such as š or č are
    already mapped), `modern` (modern Santee-Sisseton spelling, converted to Riggs's first: k' → ḳ, kh → k, bd
    → md), or `either` (the better of the two scores)."""
    weights: Weights = Weights()
    """Component weights, e.g. `--env.taskset.task.weights.semantic 0.5`; they become verifiers' reward
    weights (an explicit `--env.taskset.task.rewards.<name>.weight` still wins)."""
    reward_version: int = Field(DEFAULT_REWARD_VERSION, ge=min(REWARD_VERSIONS), le=max(REWARD_VERSIONS))
    """2 (default): components measure what the answer adds to a copy of the prompt's lemma, so copying
    earns ~0 (rewards.py has the numbers); 1: the first reward, to reproduce earlier results."""
    format_gate: float = Field(0.0, ge=0.0, le=1.0)
    """Share of every component an answer without a closed <answer> tag loses (0: off; 1: it scores 0)."""


class DakotaTask(SingleTurnTask[DakotaData, DakotaTaskConfig]):
    """Single turn; a weighted reward per component (character, morphology, semantic, exact_match) and the
    parser's findings as metrics."""

    def score_reply(self, reply: str, truncated: bool) -> Scores:
        """`rewards.score` on the reply, read in the configured orthography."""
        return score_in_orthography(
            reply,
            self.data,
            self.config.weights,
            orthography=self.config.orthography,
            truncated=truncated,
            version=self.config.reward_version,
            format_gate=self.config.format_gate,
        )

    @vf.metric
    async def answer_metrics(self, trace: vf.Trace) -> dict[str, float]:
        """exact, format_ok, truncated, answer_chars, plus family_<f> and difficulty_<d> tags."""
        s = self.scores(trace)
        return {
            "exact": float(s.exact),
            "format_ok": float(s.format_ok),
            "truncated": float(s.truncated),
            "answer_chars": float(s.answer_chars),
            f"family_{s.family}": 1.0,
            f"difficulty_{s.difficulty}": 1.0,
        }

    async def validate(self, runtime: Any = None) -> bool:
        """Model-free check for `vf-validate`: the record is valid and its gold scores 1.0 everywhere."""
        record = self.data.record()
        if validate_record(record):
            return False
        s = score(f"<answer>{record['answer']}</answer>", record, version=self.config.reward_version)
        return s.exact and s.character == s.morphology == s.semantic == 1.0


class DakotaTasksetConfig(vf.TasksetConfig):
    """Which tasks load (`--env.taskset.*`); `system_prompt` (a file) overrides the system prompt."""

    task: DakotaTaskConfig = DakotaTaskConfig()
    split: Split = "train"
    """Packaged split to load: train, heldout (lexeme-disjoint), or attested (UniMorph Dakota verb forms,
    lemma-disjoint from both; CC BY-SA 3.0)."""
    data_file: Path | None = None
    """Load this task JSONL (Contract 1, e.g. from `python -m data.import_dakota1890`) instead of `split`."""
    families: list[Family] = []
    """Keep only these task families (empty: all)."""
    difficulties: list[Difficulty] = []
    """Keep only these difficulties (empty: all)."""
    limit: int | None = Field(None, ge=1)
    """Keep at most this many tasks (after filtering and shuffling)."""
    shuffle_seed: int | None = None
    """Shuffle the tasks with this seed before `limit` (None: file order)."""


def task_records(config: DakotaTasksetConfig) -> list[TaskRecord]:
    """The records `config` selects: its split (or `data_file`), filtered, shuffled, cut to `limit`."""
    records = read_tasks(config.data_file) if config.data_file else load_tasks(config.split)
    if config.families:
        records = [r for r in records if r["family"] in config.families]
    if config.difficulties:
        records = [r for r in records if r["difficulty"] in config.difficulties]
    if config.shuffle_seed is not None:
        random.Random(config.shuffle_seed).shuffle(records)
    return records[: config.limit]


class DakotaTaskset(vf.Taskset[DakotaTask, DakotaTasksetConfig]):
    """The packaged Dakota tasks as verifiers tasks."""

    def load(self) -> list[DakotaTask]:
        return [
            DakotaTask(
                DakotaData.from_record(
                    r, i, name=f"{r['family']}/{r['difficulty']}", system_prompt=SYSTEM_PROMPT
                ),
                self.config.task,
            )
            for i, r in enumerate(task_records(self.config))
        ]


class DakotaEnv(ChatEnv):
    """One agent answers each task once (the `null` harness, a subprocess runtime)."""
