"""The compositional reward (ARCHITECTURE.md, Contract 3). Pure: rapidfuzz and sacrebleu only.

The parsed answer and the gold are compared in their `match_key` form (canonical orthography, case folded,
punctuation trimmed at the ends). If the answer equals the gold or an accepted alternative, every component
is 1.0. Otherwise:

- character (0.4): normalised Levenshtein similarity, 1 − distance / max(length), best over gold and
  alternatives. Order-sensitive: anagrams, letter spam and padding do not pay.
- morphology (0.4): the gold's `meta.segments` (stems, affixes, particles; words for English answers) are
  aligned to the answer by Levenshtein opcodes; a piece counts when it is reproduced intact inside one
  aligned block (right piece, right place). An affix counts only if every stem of its word is intact too
  (right affix on the right stem). Score = counted pieces / pieces × min(1, gold length / answer length).
- semantic (0.2): chrF (character 1- to 6-grams, whitespace ignored, β = 1 so padding costs as much as
  omission), best over gold and alternatives, in [0, 1]. The n-grams come from sacrebleu; the F-score is
  sacrebleu's sentence-level CHRF formula, computed here on cached gold n-grams (a test checks it equals
  `sacrebleu.metrics.CHRF(beta=1).sentence_score(...) / 100`).

total = Σ weight × component, in [0, 1]. `score` never raises on any completion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Levenshtein
from sacrebleu.metrics.helpers import extract_all_char_ngrams

from dakota_grammar_translation.orthography import canonicalize, key_of_canonical, match_key, to_riggs
from dakota_grammar_translation.parser import parse_answer

MAX_SCORED_CHARS = 4096
"""Answers are aligned on at most this many characters (their full length still counts in penalties)."""
AFFIX_KINDS = frozenset({"prefix", "infix", "suffix", "enclitic"})

CHRF_ORDER = 6
CHRF_BETA = 1


RefGrams = tuple[tuple[tuple[str, ...], tuple[tuple[str, int], ...], int], ...]
"""Per n-gram order: the reference's n-grams seen once, those seen more often (with counts), its total."""


def ref_grams(ref: str) -> RefGrams:
    """The cached side of chrF: a reference's character n-grams (sacrebleu's extraction,
    whitespace removed)."""
    return tuple(
        (
            tuple(g for g, c in grams.items() if c == 1),
            tuple((g, c) for g, c in grams.items() if c > 1),
            grams.total(),
        )
        for grams in extract_all_char_ngrams(ref, CHRF_ORDER)
    )


@dataclass(frozen=True)
class Weights:
    """Weights of the three components; non-negative, summing to at most 1 so the total stays in [0, 1]."""

    character: float = 0.4
    morphology: float = 0.4
    semantic: float = 0.2

    def __post_init__(self) -> None:
        values = (self.character, self.morphology, self.semantic)
        if min(values) < 0 or sum(values) > 1 + 1e-9:
            raise ValueError(f"reward weights must be >= 0 and sum to at most 1, got {values}")


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Scores:
    """The three components, their weighted total and what the parser found."""

    character: float
    morphology: float
    semantic: float
    total: float
    exact: bool
    format_ok: bool
    truncated: bool
    answer: str | None
    answer_chars: int
    family: str
    difficulty: str

    def as_metrics(self) -> dict[str, float]:
        """The numeric fields as floats (for logs and verifiers metrics)."""
        data = asdict(self)
        return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    kind: str
    word: int


@dataclass(frozen=True)
class _Gold:
    keys: frozenset[str]
    refs: tuple[str, ...]
    text: str
    pieces: tuple[_Piece, ...]
    ngrams: tuple[RefGrams, ...]


def _pieces(key: str, segments: tuple[tuple[str, str], ...]) -> tuple[_Piece, ...]:
    """Segment spans inside the gold key; one `word` piece per token when the segments do not line up."""
    pieces: list[_Piece] = []
    parts: list[str] = []
    pos = word = 0
    for form, kind in segments:
        folded = " " if kind == "space" else canonicalize(form).casefold()
        if kind == "space":
            word += 1
        elif folded:
            pieces.append(_Piece(pos, pos + len(folded), kind, word))
        parts.append(folded)
        pos += len(folded)
    joined = "".join(parts)
    offset = joined.find(key) if key else -1
    outside = joined[:offset] + joined[offset + len(key) :] if offset >= 0 else ""
    if pieces and offset >= 0 and not match_key(outside.replace(" ", ".")):
        clipped = (
            _Piece(max(p.start, offset) - offset, min(p.end, offset + len(key)) - offset, p.kind, p.word)
            for p in pieces
        )
        return tuple(p for p in clipped if p.end > p.start)
    spans, pos = [], 0
    for i, token in enumerate(key.split(" ")):
        if token:
            spans.append(_Piece(pos, pos + len(token), "word", i))
        pos += len(token) + 1
    return tuple(spans)


GOLD_CACHE_SIZE = 16_384
"""Golds kept (LRU): both packaged splits fit; a long run over a big `data_file` cannot grow without bound."""
GOLD_CACHE_MAX_CHARS = 2_000
"""A longer gold (answer + alternatives) is scored uncached, so no single entry can be large."""


@lru_cache(maxsize=GOLD_CACHE_SIZE)
def _gold(answer: str, alternatives: tuple[str, ...], segments: tuple[tuple[str, str], ...]) -> _Gold:
    key = match_key(answer)
    refs = tuple(dict.fromkeys(k for k in (key, *map(match_key, alternatives)) if k))
    return _Gold(
        keys=frozenset(refs),
        refs=refs,
        text=key,
        pieces=_pieces(key, segments),
        ngrams=tuple(ref_grams(ref) for ref in refs),
    )


def _gold_of(task: Mapping[str, Any]) -> _Gold:
    answer = task.get("answer")
    if not isinstance(answer, str) or not match_key(answer):
        raise ValueError(f"task {task.get('id', '?')!r} has no gold answer (empty or only punctuation)")
    meta = task.get("meta") or {}
    segments = tuple((str(s.get("form", "")), str(s.get("kind", ""))) for s in meta.get("segments") or ())
    alternatives = tuple(task.get("alternatives") or ())
    if len(answer) + sum(len(str(a)) for a in alternatives) > GOLD_CACHE_MAX_CHARS:
        return _gold.__wrapped__(answer, alternatives, segments)
    return _gold(answer, alternatives, segments)


def score_character(answer: str, gold: _Gold) -> float:
    """Best normalised Levenshtein similarity to the gold or an alternative."""
    return max(Levenshtein.normalized_similarity(answer, ref) for ref in gold.refs)


def score_morphology(answer: str, gold: _Gold, answer_len: int) -> float:
    """Share of gold pieces reproduced intact in aligned position (affixes only on intact stems)."""
    if not answer or not gold.pieces:
        return 0.0
    blocks = [
        (s, e) for tag, s, e, _, _ in Levenshtein.opcodes(gold.text, answer).as_list() if tag == "equal"
    ]
    intact = [any(s <= p.start and p.end <= e for s, e in blocks) for p in gold.pieces]
    stems_ok: dict[int, bool] = {}
    for piece, ok in zip(gold.pieces, intact, strict=True):
        if piece.kind == "stem":
            stems_ok[piece.word] = stems_ok.get(piece.word, True) and ok
    counted = sum(
        ok and (piece.kind not in AFFIX_KINDS or stems_ok.get(piece.word, True))
        for piece, ok in zip(gold.pieces, intact, strict=True)
    )
    return counted / len(gold.pieces) * min(1.0, len(gold.text) / answer_len)


def _count_up_to(text: str, gram: str, limit: int) -> int:
    """Overlapping occurrences of `gram` in `text`, counting no further than `limit`."""
    found, at = 0, text.find(gram)
    while at >= 0 and found < limit:
        found += 1
        at = text.find(gram, at + 1)
    return found


def chrf(hyp: str, ref: RefGrams, beta: float = CHRF_BETA) -> float:
    """Sentence chrF in [0, 1]: sacrebleu's CHRF formula (character n-grams without whitespace,
    effective-order averaging). Matches are counted per reference n-gram, clipped at its count,
    so the cost does not grow with the length of a rambling hypothesis."""
    text = "".join(hyp.split())
    avg_precision = avg_recall = 0.0
    orders = 0
    for n, (singles, repeated, n_ref) in enumerate(ref, start=1):
        n_hyp = len(text) - n + 1
        if n_hyp <= 0 or not n_ref:
            continue
        matches = sum(map(text.__contains__, singles))
        matches += sum(_count_up_to(text, gram, count) for gram, count in repeated)
        avg_precision += matches / n_hyp
        avg_recall += matches / n_ref
        orders += 1
    if not orders or not avg_precision + avg_recall:
        return 0.0
    avg_precision, avg_recall = avg_precision / orders, avg_recall / orders
    factor = beta**2
    return (1 + factor) * avg_precision * avg_recall / (factor * avg_precision + avg_recall)


def score_semantic(answer: str, gold: _Gold) -> float:
    """chrF (β = 1) against the best of gold and alternatives, in [0, 1]."""
    return min(1.0, max(chrf(answer, ref) for ref in gold.ngrams))


def score(
    completion: str | None,
    task: Mapping[str, Any],
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    truncated: bool = False,
) -> Scores:
    """Score one completion against one task record (Contract 1); never raises on the completion."""
    gold = _gold_of(task)
    parsed = parse_answer(completion)
    family, difficulty = str(task.get("family", "")), str(task.get("difficulty", ""))
    key = key_of_canonical(parsed.answer) if parsed.answer else ""
    answer_chars = len(parsed.answer or "")
    if key and key in gold.keys:
        character = morphology = semantic = 1.0
    elif key:
        scored = key[:MAX_SCORED_CHARS]
        character = score_character(scored, gold)
        morphology = score_morphology(scored, gold, len(key))
        semantic = score_semantic(scored, gold)
    else:
        character = morphology = semantic = 0.0
    total = weights.character * character + weights.morphology * morphology + weights.semantic * semantic
    return Scores(
        character=character,
        morphology=morphology,
        semantic=semantic,
        total=min(1.0, max(0.0, total)),
        exact=bool(key) and key in gold.keys,
        format_ok=parsed.format_ok,
        truncated=truncated or parsed.truncated,
        answer=parsed.answer,
        answer_chars=answer_chars,
        family=family,
        difficulty=difficulty,
    )


# -- answers in modern spelling (`--env.taskset.task.orthography`) -------------------------------------------
ORTHOGRAPHIES = ("riggs", "modern", "either")
_ANSWER_TAG = re.compile(r"(<answer>)(.*?)(</answer>)", re.DOTALL)


def modern_answer_in_riggs(completion: str) -> str:
    """The completion with the text of its <answer> tags converted from modern spelling to Riggs's letters
    (reasoning and English outside the tags untouched); without a tag, its last line is converted."""
    if _ANSWER_TAG.search(completion):
        return _ANSWER_TAG.sub(lambda m: m.group(1) + to_riggs(m.group(2)) + m.group(3), completion)
    head, _, last = completion.rstrip().rpartition("\n")
    return f"{head}\n{to_riggs(last)}" if head else to_riggs(last)


def score_in_orthography(
    completion: str | None,
    task: Mapping[str, Any],
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    orthography: str = "riggs",
    truncated: bool = False,
) -> Scores:
    """`score`, reading a Dakota answer in Riggs's letters (`riggs`, the default: exactly `score`), in modern
    Santee-Sisseton spelling converted first (`modern`: k' → ḳ, kh → k, bd → md),
    or the better of both (`either`). English answers are always scored as they are."""
    if orthography not in ORTHOGRAPHIES:
        raise ValueError(f"orthography must be one of {', '.join(ORTHOGRAPHIES)}, not {orthography!r}")
    riggs = score(completion, task, weights, truncated=truncated)
    if orthography == "riggs" or task.get("answer_language") != "dakota" or not isinstance(completion, str):
        return riggs
    modern = score(modern_answer_in_riggs(completion), task, weights, truncated=truncated)
    return modern if orthography == "modern" else max(riggs, modern, key=lambda s: s.total)
