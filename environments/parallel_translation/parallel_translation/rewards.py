"""The multi-signal translation reward. Pure: sacrebleu only, plus an optional learned signal passed in.

    total = w_chrf · chrF++ + w_special · chrF++ · special + w_sanity · chrF++ · sanity
            [+ w_learned · learned]

- `chrf`: sentence chrF++ (sacrebleu `CHRF(word_order=2)`) against the best reference, on canonical text;
  1.0 for an exact match (canonical, case-folded, end punctuation stripped).
- `special`: multiset F1 of the target language's special letters (its orthography table) between answer and
  reference; 1.0 when neither has any. Catches ASCII-folded answers (nicepapi for nićepapi).
- `sanity`: 0 for a multi-line answer to a one-line reference or leaked chat tokens; otherwise the length
  ratio answer/reference scored 1 inside [0.5, 1.6], falling linearly to 0 at 0.2 and 2.5.
- The side terms are paid in proportion to chrF++, so nothing earns reward without translating.
- A truncated completion, an empty answer or an open `<think>` scores 0 everywhere.
Weights sum to 1 and every component is in [0, 1], so the total is in [0, 1] and a perfect answer scores 1.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from env_kit import Weights as ComponentWeights
from parallel_translation.orthography import Orthography, from_dict

MAX_SCORED_CHARS = 4096
SHORT_RATIO, LOW_RATIO, HIGH_RATIO, LONG_RATIO = 0.2, 0.5, 1.6, 2.5
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_CHAT_TOKENS = re.compile(r"<\|[a-z_]+\|>|</?s>|\[INST\]")

LearnedScorer = Callable[[str, Mapping[str, Any]], float]
"""(answer, task) → a learned reward in [0, 1] (the reward model); injected by the caller."""


class Weights(ComponentWeights):
    """Component weights; they must sum to 1 so the total stays in [0, 1]."""

    sum_to_one = True
    optional = ("learned",)
    external = ("learned",)

    chrf: float = 0.7
    """Sentence chrF++ against the best reference."""
    special: float = 0.15
    """Special letters of the target orthography kept (paid in proportion to chrF++)."""
    sanity: float = 0.15
    """One line, no chat tokens, a plausible length (paid in proportion to chrF++)."""
    learned: float = 0.0
    """Weight of the optional reward-model signal (0 = off; only the launcher loads a reward model)."""


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Scores:
    """Every component, the weighted total and the flags the trainers log."""

    chrf: float
    special: float
    sanity: float
    learned: float
    total: float
    exact: bool
    format_ok: bool
    truncated: bool
    answer: str | None
    raw_special: float
    raw_sanity: float

    def as_metrics(self) -> dict[str, float]:
        """Numeric view for logging (booleans as 0/1, the answer left out)."""
        return {k: float(v) for k, v in asdict(self).items() if k != "answer"}


def parse_answer(completion: str | None) -> str | None:
    """Reasoning removed; the last closed `<answer>…</answer>` if any, else the whole text;
    None if empty/open."""
    text = _THINK.sub("", completion or "")
    if "<think>" in text:
        return None
    tagged = _ANSWER.findall(text)
    answer = (tagged[-1] if tagged else text).strip()
    return answer[:MAX_SCORED_CHARS] or None


@lru_cache(maxsize=1)
def _chrf_metric() -> Any:
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=2)


def chrf_plus_plus(hypothesis: str, references: list[str]) -> float:
    """Sentence chrF++ in [0, 1] against the best of `references`."""
    metric = _chrf_metric()
    return max(metric.sentence_score(hypothesis, [ref]).score for ref in references) / 100.0


def _key(text: str) -> str:
    return text.casefold().strip(" .,!?;:\"'ʼ")


def special_f1(answer: str, reference: str, table: Orthography) -> float:
    """Multiset F1 of special letters; 1.0 when neither text has one."""
    hyp, ref = Counter(table.special_chars(answer)), Counter(table.special_chars(reference))
    if not hyp and not ref:
        return 1.0
    overlap = sum((hyp & ref).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / sum(hyp.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def sanity(answer: str, reference: str) -> float:
    """Format (one line, no chat tokens) and a two-sided length-ratio score."""
    if _CHAT_TOKENS.search(answer) or ("\n" in answer and "\n" not in reference):
        return 0.0
    ratio = len(answer) / max(len(reference), 1)
    if ratio < LOW_RATIO:
        return max(0.0, (ratio - SHORT_RATIO) / (LOW_RATIO - SHORT_RATIO))
    if ratio > HIGH_RATIO:
        return max(0.0, (LONG_RATIO - ratio) / (LONG_RATIO - HIGH_RATIO))
    return 1.0


def _zero(answer: str | None, truncated: bool) -> Scores:
    return Scores(0.0, 0.0, 0.0, 0.0, 0.0, False, answer is not None, truncated, answer, 0.0, 0.0)


def score(
    completion: str | None,
    task: Mapping[str, Any],
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    truncated: bool = False,
    learned: LearnedScorer | None = None,
) -> Scores:
    """Score one completion against a task record (`answer`, `alternatives`, `orthography`). Never raises."""
    answer = parse_answer(completion)
    if answer is None or truncated:
        return _zero(answer, truncated)
    table = from_dict(task.get("orthography"))
    refs = [table.canonicalize(r) for r in [task.get("answer", ""), *(task.get("alternatives") or [])] if r]
    hyp = table.canonicalize(answer)
    if not refs or not hyp:
        return _zero(answer, truncated)
    exact = any(_key(hyp) == _key(r) for r in refs)
    best = max(refs, key=lambda r: chrf_plus_plus(hyp, [r]))
    chrf = 1.0 if exact else chrf_plus_plus(hyp, [best])
    raw_special, raw_sanity = special_f1(hyp, best, table), sanity(hyp, best)
    learned_value = _clip(learned(answer, task)) if learned is not None and weights.learned > 0 else 0.0
    special, sane = chrf * raw_special, chrf * raw_sanity
    total = (
        weights.chrf * chrf
        + weights.special * special
        + weights.sanity * sane
        + weights.learned * learned_value
    )
    return Scores(
        chrf,
        special,
        sane,
        learned_value,
        min(1.0, total),
        exact,
        True,
        False,
        answer,
        raw_special,
        raw_sanity,
    )


def _clip(value: float) -> float:
    return min(1.0, max(0.0, float(value)))
