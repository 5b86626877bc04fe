"""The compositional reward (ARCHITECTURE.md, Contract 3). Pure: rapidfuzz, sacrebleu (+ env_kit.Weights).

The parsed answer and the gold are compared in their `match_key` form (canonical orthography, case folded,
punctuation trimmed at the ends). If the answer equals the gold or an accepted alternative, every component
is 1.0. Otherwise, in reward version 1 (the project's first reward, kept so old results reproduce):

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

Version 1 pays for copying. On the 631 held-out morphology tasks (probe suite v2) the lemma the prompt
gives, copied unchanged, scores 0.338 on average (0 exact; character 0.357, morphology 0.293, chrF 0.390),
the lemma with its final a → e 0.299, the lemma with an affix the task does not ask for 0.279, while the gold
minus one letter scores 0.703 (minus its last letter 0.788). A policy can sit on the copy plateau.

Version 2 (the default) measures every component as what the answer adds to that copy. The copy baseline is
the task's lemma (`meta.stem`, the form the prompt gives); a task without one, or whose lemma is an accepted
answer, scores exactly as in version 1.

- character: the share of the edits from the lemma to the gold that the answer has made,
  max(0, 1 − d(answer, gold) / d(lemma, gold)) with d the Levenshtein distance (best over gold and
  alternatives). The lemma scores 0, the gold 1, the gold minus one letter 1 − 1 / d(lemma, gold).
- morphology: only the morphemes the task asks for are credited: affixes and particles in their slots (an
  affix still only on intact stems of its word), stem pieces the lemma does not contain (the stem change:
  ablauted ksape for ksapa, pa for ape before -pi; other words of a phrase), and words of English answers.
  A stem piece inside the lemma, or a word of it, is given by the prompt and earns nothing (a stem still
  gates its affixes). In a task with an ablaut rule (`meta.rule_ids`: ablaut-…) a changed stem counts only
  with the piece after it intact: ablaut is triggered by the particle or suffix that follows (Riggs § 75),
  so an ablauted stem alone is no Dakota form. Same alignment and length factor as version 1; the result is
  then taken as a gain over the lemma's own share, max(0, (m − m_lemma) / (1 − m_lemma)) (m_lemma is 0
  unless the lemma happens to hold an asked-for piece).
  A task with no such piece (its gold is its lemma's stems) credits every piece.
- semantic: chrF gain over the lemma, max(0, (chrF(answer) − chrF(lemma)) / (1 − chrF(lemma))).

So a copy of the lemma scores exactly 0. Same 631 tasks (`python -m dakota_grammar_translation.probes
--split heldout --task-family morphology --compare --per-family 631`): lemma copy 0.338 → 0.000, ablauted
copy 0.299 → 0.032 (at most 0.163), lemma + wrong affix 0.279 → 0.010 (at most 0.233), gold minus one
letter 0.703 → 0.585 (at least 0.115; minus its last letter 0.788 → 0.666); every gold of every split 1.0.
A near miss loses most where the lemma is already close to the gold (uŋḳiŋ from ḳiŋ: one letter short of
the gold is half the edits). The price: an answer no closer to the gold than the lemma gets no character
credit and often nothing at all, so the signal is sparser for a weak policy: another task's gold for the
same lemma (a real form, the wrong inflection) scores 0.385 → 0.176, and 0 for 38% of them. The study
(reward v1 vs v2) decides which trains better.

Options, off by default (the study decides): an `exact_match` component (1.0 for an exact answer, else 0;
weight 0 unless set, e.g. `Weights(0.3, 0.3, 0.2, exact_match=0.2)`) and `format_gate`, the share of every
component an answer without a closed <answer> tag loses (0: none; 1: an untagged answer scores 0).

total = Σ weight × component, in [0, 1]. `score` never raises on any completion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Levenshtein
from sacrebleu.metrics.helpers import extract_all_char_ngrams

from dakota_grammar_translation.orthography import canonicalize, key_of_canonical, match_key, to_riggs
from dakota_grammar_translation.parser import parse_answer
from env_kit import Weights as ComponentWeights

MAX_SCORED_CHARS = 4096
"""Answers are aligned on at most this many characters (their full length still counts in penalties)."""
AFFIX_KINDS = frozenset({"prefix", "infix", "suffix", "enclitic"})
ABLAUT_RULE_PREFIX = "ablaut"
"""A task whose `meta.rule_ids` has a rule starting with this changes a stem by ablaut (ablaut-a-e, § 75)."""

CHRF_ORDER = 6
CHRF_BETA = 1

REWARD_VERSIONS = (1, 2)
DEFAULT_REWARD_VERSION = 2
"""Version 2 is the default: it passes every probe family of suite v2 on every train and held-out task and
keeps every gold of every split at 1.0. Version 1 reproduces earlier runs; the RL-vs-SFT study compares
the two in training."""


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


class Weights(ComponentWeights):
    """Weights of the components; non-negative, summing to at most 1 so the total stays in [0, 1].
    `exact_match` (1.0 for an exact answer, else 0) is off unless given a weight."""

    optional = ("exact_match",)

    character: float = 0.4
    """Edit similarity (v1: normalised Levenshtein; v2: share of the edits from the lemma made)."""
    morphology: float = 0.4
    """Gold pieces reproduced intact, in place (v2: only the affixes and stem change the task asks for)."""
    semantic: float = 0.2
    """Exact match (1.0), else chrF (v2: chrF gained over the lemma)."""
    exact_match: float = 0.0
    """1.0 for an exact answer, else 0; off (0) unless set, e.g. with the others lowered to make room."""


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Scores:
    """The components, their weighted total and what the parser found."""

    character: float
    morphology: float
    semantic: float
    total: float
    exact_match: float
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
class _Copy:
    """Version 2's baseline: the lemma (`meta.stem`), scored against each reference."""

    distances: tuple[int, ...]
    """Levenshtein distance from the lemma to each reference (0: the lemma is that reference)."""
    chrfs: tuple[float, ...]
    """chrF of the lemma against each reference."""
    credited: tuple[bool, ...]
    """Per gold piece: does version 2 credit it (not a stem inside the lemma, not a word of it)."""
    trigger: tuple[int | None, ...]
    """Per gold piece: for a stem changed by ablaut, the piece after it, which must be intact too."""
    morphology: float = 0.0
    """Version 2's morphology share of the lemma itself (before the gain over it)."""


@dataclass(frozen=True)
class _Gold:
    keys: frozenset[str]
    refs: tuple[str, ...]
    text: str
    pieces: tuple[_Piece, ...]
    ngrams: tuple[RefGrams, ...]
    copy: _Copy | None
    """None when the task gives no lemma, or its lemma is an accepted answer: version 2 then scores as
    version 1."""


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


def _credited_pieces(
    text: str, pieces: tuple[_Piece, ...], lemma: str, ablaut: bool
) -> tuple[tuple[bool, ...], tuple[int | None, ...]]:
    """Which pieces version 2 credits (not a stem inside the lemma, not a word of the lemma) and, when the
    task applies an ablaut rule, each changed stem's trigger (the piece after it)."""
    words = set(lemma.split())
    given = [
        (p.kind == "stem" and text[p.start : p.end] in lemma)
        or (p.kind == "word" and text[p.start : p.end] in words)
        for p in pieces
    ]
    if all(given):
        return tuple(True for _ in pieces), tuple(None for _ in pieces)
    trigger = tuple(
        i + 1 if ablaut and p.kind == "stem" and not given[i] and i + 1 < len(pieces) else None
        for i, p in enumerate(pieces)
    )
    return tuple(not g for g in given), trigger


def _copy(lemma: str, gold: _Gold, ablaut: bool) -> _Copy | None:
    if not lemma or lemma in gold.refs:
        return None
    credited, trigger = _credited_pieces(gold.text, gold.pieces, lemma, ablaut)
    copy = _Copy(
        distances=tuple(Levenshtein.distance(lemma, ref) for ref in gold.refs),
        chrfs=tuple(chrf(lemma, ngrams) for ngrams in gold.ngrams),
        credited=credited,
        trigger=trigger,
    )
    return replace(copy, morphology=_credited_share(lemma, gold, copy, len(lemma)))


@lru_cache(maxsize=GOLD_CACHE_SIZE)
def _gold(
    answer: str,
    alternatives: tuple[str, ...],
    segments: tuple[tuple[str, str], ...],
    stem: str = "",
    ablaut: bool = False,
) -> _Gold:
    key = match_key(answer)
    refs = tuple(dict.fromkeys(k for k in (key, *map(match_key, alternatives)) if k))
    gold = _Gold(
        keys=frozenset(refs),
        refs=refs,
        text=key,
        pieces=_pieces(key, segments),
        ngrams=tuple(ref_grams(ref) for ref in refs),
        copy=None,
    )
    return replace(gold, copy=_copy(match_key(stem), gold, ablaut))


def _gold_of(task: Mapping[str, Any]) -> _Gold:
    answer = task.get("answer")
    if not isinstance(answer, str) or not match_key(answer):
        raise ValueError(f"task {task.get('id', '?')!r} has no gold answer (empty or only punctuation)")
    meta = task.get("meta") or {}
    segments = tuple((str(s.get("form", "")), str(s.get("kind", ""))) for s in meta.get("segments") or ())
    alternatives = tuple(task.get("alternatives") or ())
    stem = meta.get("stem")
    stem = stem if isinstance(stem, str) else ""
    ablaut = any(str(r).startswith(ABLAUT_RULE_PREFIX) for r in meta.get("rule_ids") or ())
    if len(answer) + sum(len(str(a)) for a in alternatives) + len(stem) > GOLD_CACHE_MAX_CHARS:
        return _gold.__wrapped__(answer, alternatives, segments, stem, ablaut)
    return _gold(answer, alternatives, segments, stem, ablaut)


def _edit_gain(answer: str, ref: str, copy_distance: int) -> float:
    """Share of the lemma's edits towards `ref` that `answer` has made (similarity when the lemma is
    `ref`)."""
    if not copy_distance:
        return Levenshtein.normalized_similarity(answer, ref)
    return max(0.0, 1.0 - Levenshtein.distance(answer, ref, score_cutoff=copy_distance) / copy_distance)


def score_character(answer: str, gold: _Gold, version: int = 1) -> float:
    """Version 1: best normalised Levenshtein similarity to the gold or an alternative. Version 2: best
    share of the edits from the lemma to a reference that the answer has made."""
    if version == 1 or gold.copy is None:
        return max(Levenshtein.normalized_similarity(answer, ref) for ref in gold.refs)
    return max(_edit_gain(answer, r, d) for r, d in zip(gold.refs, gold.copy.distances, strict=True))


def _counted_pieces(answer: str, gold: _Gold) -> list[bool]:
    """Per gold piece: reproduced intact in aligned position (an affix also needs its word's stems intact)."""
    blocks = [
        (s, e) for tag, s, e, _, _ in Levenshtein.opcodes(gold.text, answer).as_list() if tag == "equal"
    ]
    intact = [any(s <= p.start and p.end <= e for s, e in blocks) for p in gold.pieces]
    stems_ok: dict[int, bool] = {}
    for piece, ok in zip(gold.pieces, intact, strict=True):
        if piece.kind == "stem":
            stems_ok[piece.word] = stems_ok.get(piece.word, True) and ok
    return [
        ok and (piece.kind not in AFFIX_KINDS or stems_ok.get(piece.word, True))
        for piece, ok in zip(gold.pieces, intact, strict=True)
    ]


def score_morphology(answer: str, gold: _Gold, answer_len: int, version: int = 1) -> float:
    """Share of gold pieces reproduced intact in aligned position (affixes only on intact stems); version 2
    counts only the pieces the task asks for (no stem the lemma gives; a changed stem with its trigger)."""
    if not answer or not gold.pieces:
        return 0.0
    counted = _counted_pieces(answer, gold)
    length_factor = min(1.0, len(gold.text) / answer_len)
    if version == 1 or gold.copy is None:
        return sum(counted) / len(gold.pieces) * length_factor
    return _gain(_credited_share(answer, gold, gold.copy, answer_len), gold.copy.morphology)


def _credited_share(answer: str, gold: _Gold, copy: _Copy, answer_len: int) -> float:
    """Version 2's share of credited pieces counted (a changed stem with its trigger) × the length factor."""
    if not answer or not gold.pieces:
        return 0.0
    counted = _counted_pieces(answer, gold)
    credited = [i for i, c in enumerate(copy.credited) if c]
    hits = sum(counted[i] and (copy.trigger[i] is None or counted[copy.trigger[i]]) for i in credited)
    return hits / len(credited) * min(1.0, len(gold.text) / answer_len)


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


def _gain(value: float, copy_value: float) -> float:
    """What `value` adds to the lemma's `copy_value`, rescaled to [0, 1] (the value itself if the lemma
    already scores 1)."""
    return value if copy_value >= 1.0 else max(0.0, (value - copy_value) / (1.0 - copy_value))


def score_semantic(answer: str, gold: _Gold, version: int = 1) -> float:
    """chrF (β = 1) against the best of gold and alternatives, in [0, 1]; version 2: its gain over the
    lemma's chrF."""
    if version == 1 or gold.copy is None:
        return min(1.0, max(chrf(answer, ref) for ref in gold.ngrams))
    gains = (_gain(chrf(answer, ref), c) for ref, c in zip(gold.ngrams, gold.copy.chrfs, strict=True))
    return min(1.0, max(gains))


def _check_options(version: int, format_gate: float) -> None:
    if version not in REWARD_VERSIONS:
        raise ValueError(f"reward version must be one of {REWARD_VERSIONS}, not {version!r}")
    if not 0.0 <= format_gate <= 1.0:
        raise ValueError(f"format_gate must be in [0, 1], not {format_gate!r}")


def score(
    completion: str | None,
    task: Mapping[str, Any],
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    truncated: bool = False,
    version: int = DEFAULT_REWARD_VERSION,
    format_gate: float = 0.0,
) -> Scores:
    """Score one completion against one task record (Contract 1) with reward `version` (module docstring);
    never raises on the completion. An answer without a closed <answer> tag keeps 1 − `format_gate` of
    every component."""
    _check_options(version, format_gate)
    gold = _gold_of(task)
    parsed = parse_answer(completion)
    family, difficulty = str(task.get("family", "")), str(task.get("difficulty", ""))
    key = key_of_canonical(parsed.answer) if parsed.answer else ""
    answer_chars = len(parsed.answer or "")
    exact = bool(key) and key in gold.keys
    if exact:
        character = morphology = semantic = 1.0
    elif key:
        scored = key[:MAX_SCORED_CHARS]
        character = score_character(scored, gold, version)
        morphology = score_morphology(scored, gold, len(key), version)
        semantic = score_semantic(scored, gold, version)
    else:
        character = morphology = semantic = 0.0
    keep = 1.0 if parsed.format_ok else 1.0 - format_gate
    character, morphology, semantic = character * keep, morphology * keep, semantic * keep
    exact_match = float(exact) * keep
    total = (
        weights.character * character
        + weights.morphology * morphology
        + weights.semantic * semantic
        + weights.exact_match * exact_match
    )
    return Scores(
        character=character,
        morphology=morphology,
        semantic=semantic,
        total=min(1.0, max(0.0, total)),
        exact_match=exact_match,
        exact=exact,
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
    version: int = DEFAULT_REWARD_VERSION,
    format_gate: float = 0.0,
) -> Scores:
    """`score` (same `version` and `format_gate`), reading a Dakota answer in Riggs's letters (`riggs`, the
    default: exactly `score`), in modern Santee-Sisseton spelling converted first (`modern`: k' → ḳ,
    kh → k, bd → md), or the better of both (`either`). English answers are always scored as they are."""
    if orthography not in ORTHOGRAPHIES:
        raise ValueError(f"orthography must be one of {', '.join(ORTHOGRAPHIES)}, not {orthography!r}")
    options = {"truncated": truncated, "version": version, "format_gate": format_gate}
    riggs = score(completion, task, weights, **options)
    if orthography == "riggs" or task.get("answer_language") != "dakota" or not isinstance(completion, str):
        return riggs
    modern = score(modern_answer_in_riggs(completion), task, weights, **options)
    return modern if orthography == "modern" else max(riggs, modern, key=lambda s: s.total)
