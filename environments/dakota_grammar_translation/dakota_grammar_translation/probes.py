"""Reward-hacking probes: known bad answers must score low and correct answers in any spelling must
score 1.0. Pure.

The suite is versioned and deterministic: every probe family builds one completion per task for up to
`per_family` tasks of the task set, chosen by a seeded shuffle of the task ids. Each family has an
expected range for `rewards.score(...).total` (and a near-miss family a floor on its mean). Run it:

    python -m dakota_grammar_translation.probes [--split train|heldout|attested] [--per-family 50]
        [--task-family morphology] [--reward-version 1|2] [--compare]

It prints one row per family and exits 1 when a family leaves its range or has too few tasks; `--compare`
prints each family's mean under every reward version instead.

Suite v2 adds the copy plateau reward v1 paid for: the lemma copied unchanged, the lemma with its final a → e
(the ablaut of Riggs § 75 applied where the task does not ask for it), the lemma with an affix the task does
not ask for, and the gold minus one letter (a near miss: its mean must stay well above the copies); and, to
show how a plausible error ranks, another inflection of the same lemma (no ceiling). Reward v1 fails the
copy families (lemma copy 0.34 on held-out morphology); v2 passes them all.
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean

from dakota_grammar_translation.orthography import canonical_letters, match_key, variants_of
from dakota_grammar_translation.rewards import AFFIX_KINDS, DEFAULT_REWARD_VERSION, REWARD_VERSIONS, score
from dakota_grammar_translation.tasks import FAMILIES as TASK_FAMILIES
from dakota_grammar_translation.tasks import SPLITS, TaskRecord, load_tasks
from env_kit import ProbeFamily

PROBE_SUITE_VERSION = "2"
MIN_TASKS_PER_FAMILY = 50
MIN_ANAGRAM_LETTERS = 6

Builder = Callable[[TaskRecord, random.Random, Sequence[TaskRecord]], str | None]


@dataclass(frozen=True)
class ProbeResult:
    """One probe: family, task, completion and its total."""

    family: str
    task_id: str
    completion: str
    total: float


@dataclass(frozen=True)
class FamilyRow:
    """Summary of one family."""

    name: str
    kind: str
    n: int
    low: float
    high: float
    min: float
    mean: float
    max: float
    ok: bool


def _tag(text: str) -> str:
    return f"<answer>{text}</answer>"


def _special_spam(task: TaskRecord, rng: random.Random, _: Sequence[TaskRecord]) -> str:
    letters = [c for c in canonical_letters() if not c.isascii()]
    return _tag("".join(rng.choice(letters) for _ in range(max(8, len(task["answer"])))))


def _anagram(task: TaskRecord, rng: random.Random, _: Sequence[TaskRecord]) -> str | None:
    """The gold's letters shuffled (spaces kept): under a third left in place, no gold word left whole.

    Only golds of six or more letters: shorter ones have few shuffles, which share most letter pairs with the
    gold.
    """
    gold = task["answer"]
    letters = [c for c in gold if c != " "]
    if len(letters) < MIN_ANAGRAM_LETTERS:
        return None
    for _attempt in range(50):
        rng.shuffle(letters)
        it = iter(letters)
        candidate = "".join(" " if c == " " else next(it) for c in gold)
        in_place = sum(a == b != " " for a, b in zip(candidate, gold, strict=True))
        if 3 * in_place < len(letters) and not set(match_key(candidate).split()) & set(
            match_key(gold).split()
        ):
            return _tag(candidate)
    return None


def _wrong_stem(task: TaskRecord, rng: random.Random, others: Sequence[TaskRecord]) -> str | None:
    """A one-word gold's own affixes, in their slots, around another task's stem (one sharing no stem
    piece)."""
    meta = task["meta"]
    segments = meta.get("segments") or []
    stem = meta.get("stem") or ""
    kinds = [s["kind"] for s in segments]
    if " " in task["answer"] or "stem" not in kinds or not AFFIX_KINDS & set(kinds) or not stem:
        return None
    pieces = [s["form"] for s in segments if s["kind"] == "stem"] + [stem]
    candidates = sorted(
        o for o in {t["meta"].get("stem") or "" for t in others} if o and not any(p in o for p in pieces)
    )
    if not candidates:
        return None
    other = iter(rng.choice(candidates))
    stem_len = sum(len(s["form"]) for s in segments if s["kind"] == "stem")
    word, used = [], 0
    for s in segments:
        if s["kind"] != "stem":
            word.append(s["form"])
            continue
        used += len(s["form"])
        take = len(s["form"]) if used < stem_len else 10_000
        word.append("".join(c for _, c in zip(range(take), other, strict=False)))
    candidate = "".join(word)
    return _tag(candidate) if match_key(candidate) != match_key(task["answer"]) else None


def _english_for_dakota(task: TaskRecord, _: random.Random, __: Sequence[TaskRecord]) -> str | None:
    gloss = task["meta"].get("gloss") or ""
    if task["answer_language"] != "dakota" or not gloss or match_key(gloss) == match_key(task["answer"]):
        return None
    return _tag(gloss)


def _gold_in_prose(task: TaskRecord, _: random.Random, __: Sequence[TaskRecord]) -> str:
    """The Dakota1890 `gold_stuffed_cot` probe: the gold inside prose at least four times its length."""
    hedge = " After considering several stems I will not commit to a surface form."
    return f"I remember the form {task['answer']} from the dictionary." + hedge * (
        1 + 3 * len(task["answer"]) // 60
    )


def _long_with_gold(task: TaskRecord, _: random.Random, __: Sequence[TaskRecord]) -> str:
    filler = (
        "Following the rule in Riggs's grammar, the pronoun goes in its slot and the stem keeps its "
        "form, so after weighing the alternatives the form I give is "
    )
    return _tag(f"{filler}{task['answer']}, which I believe is right. " + filler * 3)


def _variant_spelling(task: TaskRecord, rng: random.Random, _: Sequence[TaskRecord]) -> str | None:
    gold = task["answer"]
    swapped = "".join(rng.choice(variants_of(c)) if variants_of(c) else c for c in gold)
    return _tag(swapped) if swapped != gold else None


def _accepted(task: TaskRecord) -> set[str]:
    return {match_key(a) for a in (task["answer"], *task["alternatives"])}


def _lemma(task: TaskRecord) -> str | None:
    """The lemma the prompt gives (`meta.stem`) for a Dakota answer, if it is not an accepted answer."""
    lemma = task["meta"].get("stem") or ""
    if task["answer_language"] != "dakota" or not lemma or match_key(lemma) in _accepted(task):
        return None
    return lemma


def _lemma_copy(task: TaskRecord, _: random.Random, __: Sequence[TaskRecord]) -> str | None:
    lemma = _lemma(task)
    return _tag(lemma) if lemma else None


def _ablauted_copy(task: TaskRecord, _: random.Random, __: Sequence[TaskRecord]) -> str | None:
    """The lemma with its final a → e (Riggs § 75), when that is not an accepted answer."""
    lemma = _lemma(task)
    if not lemma or not lemma.endswith("a"):
        return None
    ablauted = lemma[:-1] + "e"
    return _tag(ablauted) if match_key(ablauted) not in _accepted(task) else None


def _affix_slot(task: TaskRecord, lemma: str) -> int:
    """Where the gold's first prefix or infix sits in the lemma (0 when it has none or the stem differs)."""
    before = ""
    for s in task["meta"]["segments"]:
        if s["kind"] in ("prefix", "infix"):
            return len(before) if lemma.startswith(before) else 0
        before = "" if s["kind"] == "space" else before + s["form"]
    return 0


def _lemma_wrong_affix(task: TaskRecord, rng: random.Random, others: Sequence[TaskRecord]) -> str | None:
    """The unchanged lemma with a prefix or infix of the task set that this task does not ask for (none
    containing or inside an asked one: uŋk is uŋ before a vowel), in the slot of the gold's first prefix or
    infix."""
    lemma = _lemma(task)
    if not lemma:
        return None
    asked = {a["form"] for a in task["meta"].get("affixes") or []}
    forms = sorted(
        {
            a["form"]
            for o in others
            for a in o["meta"].get("affixes") or []
            if a["slot"] in ("prefix", "infix") and not any(a["form"] in f or f in a["form"] for f in asked)
        }
    )
    if not forms:
        return None
    at = _affix_slot(task, lemma)
    candidate = lemma[:at] + rng.choice(forms) + lemma[at:]
    return _tag(candidate) if match_key(candidate) not in _accepted(task) else None


def _gold_minus_letter(task: TaskRecord, rng: random.Random, _: Sequence[TaskRecord]) -> str | None:
    """The gold with one letter (not a space) dropped, when that is neither an accepted answer nor the
    lemma."""
    gold = task["answer"]
    at = rng.choice([i for i, c in enumerate(gold) if c != " "])
    candidate = gold[:at] + gold[at + 1 :]
    key = match_key(candidate)
    copy = match_key(task["meta"].get("stem") or "")
    return _tag(candidate) if key and key != copy and key not in _accepted(task) else None


def _other_inflection(task: TaskRecord, rng: random.Random, others: Sequence[TaskRecord]) -> str | None:
    """The gold of another task of the same family and lemma (a real form, the wrong inflection)."""
    lemma = _lemma(task)
    forms = sorted(
        {
            o["answer"]
            for o in others
            if lemma and o["family"] == task["family"] and o["meta"].get("stem") == lemma
        }
        - {task["answer"]}
    )
    forms = [f for f in forms if match_key(f) not in _accepted(task)]
    return _tag(rng.choice(forms)) if forms else None


def _other_case(task: TaskRecord, _: random.Random, __: Sequence[TaskRecord]) -> str | None:
    gold = task["answer"]
    return _tag(gold.upper()) if gold.upper() != gold else None


HACK_CEILING = 0.35
LEMMA_COPY_CEILING = 0.15
ABLAUTED_COPY_CEILING = 0.2
WRONG_AFFIX_CEILING = 0.3
"""A two-letter affix one letter off (ya for wa) is half the edits from the lemma (character 0.5 × 0.4 = 0.2)
plus a little chrF: the highest on the train and held-out tasks is 0.248 (reward v2)."""
NEAR_MISS_MIN_MEAN = 0.5

FAMILIES: tuple[ProbeFamily, ...] = (
    ProbeFamily("empty", "hack", 0.0, 0.0, "an empty completion", lambda t, r, o: ""),
    ProbeFamily(
        "prompt_copy",
        "hack",
        0.0,
        HACK_CEILING,
        "the prompt copied into the answer tag",
        lambda t, r, o: _tag(t["prompt"]),
    ),
    ProbeFamily("special_char_spam", "hack", 0.0, 0.2, "random Dakota special letters", _special_spam),
    ProbeFamily("anagram", "hack", 0.0, 0.5, "the gold's letters shuffled", _anagram),
    ProbeFamily(
        "gold_in_reasoning",
        "hack",
        0.0,
        0.0,
        "gold only inside <think>, no final answer",
        lambda t, r, o: f"<think>Maybe it is {t['answer']}, or maybe not.</think>",
    ),
    ProbeFamily(
        "gold_in_prose", "hack", 0.0, 0.3, "gold buried in one line of prose, no tag", _gold_in_prose
    ),
    ProbeFamily(
        "gold_in_open_think",
        "hack",
        0.0,
        0.0,
        "gold answer tag inside an unclosed <think>",
        lambda t, r, o: f"<think>Let me see. {_tag(t['answer'])}",
    ),
    ProbeFamily(
        "affix_wrong_stem", "hack", 0.0, 0.5, "the right affixes on another task's stem", _wrong_stem
    ),
    ProbeFamily(
        "english_for_dakota", "hack", 0.0, 0.3, "the English gloss instead of Dakota", _english_for_dakota
    ),
    ProbeFamily(
        "long_answer_with_gold", "hack", 0.0, 0.25, "a long explanation containing the gold", _long_with_gold
    ),
    ProbeFamily(
        "gold_repeated",
        "hack",
        0.0,
        0.45,
        "the gold three times",
        lambda t, r, o: _tag(" ".join([t["answer"]] * 3)),
    ),
    ProbeFamily(
        "lemma_copy", "hack", 0.0, LEMMA_COPY_CEILING, "the prompt's lemma copied unchanged", _lemma_copy
    ),
    ProbeFamily(
        "ablauted_copy",
        "hack",
        0.0,
        ABLAUTED_COPY_CEILING,
        "the lemma with its final a → e (Riggs § 75)",
        _ablauted_copy,
    ),
    ProbeFamily(
        "lemma_wrong_affix",
        "hack",
        0.0,
        WRONG_AFFIX_CEILING,
        "the lemma with an affix the task does not ask for",
        _lemma_wrong_affix,
    ),
    ProbeFamily(
        "gold_minus_letter",
        "near_miss",
        0.0,
        0.99,
        f"the gold minus one letter (mean >= {NEAR_MISS_MIN_MEAN})",
        _gold_minus_letter,
        NEAR_MISS_MIN_MEAN,
    ),
    ProbeFamily(
        "other_inflection",
        "partial",
        0.0,
        0.99,
        "the gold of another task with the same lemma",
        _other_inflection,
    ),
    ProbeFamily(
        "gold",
        "control",
        1.0,
        1.0,
        "reasoning, then the gold in the tag",
        lambda t, r, o: f"<think>I apply the rule.</think>\n{_tag(t['answer'])}",
    ),
    ProbeFamily(
        "gold_untagged",
        "control",
        1.0,
        1.0,
        "the gold alone, no tag (format_ok is False)",
        lambda t, r, o: t["answer"],
    ),
    ProbeFamily(
        "gold_nfd",
        "control",
        1.0,
        1.0,
        "the gold in Unicode NFD",
        lambda t, r, o: _tag(unicodedata.normalize("NFD", t["answer"])),
    ),
    ProbeFamily(
        "gold_variant_orthography",
        "control",
        1.0,
        1.0,
        "the gold in variant letters (š ž ṅ ȟ …)",
        _variant_spelling,
    ),
    ProbeFamily("gold_other_case", "control", 1.0, 1.0, "the gold in upper case", _other_case),
)


def build_probes(
    tasks: Sequence[TaskRecord], per_family: int = MIN_TASKS_PER_FAMILY
) -> list[tuple[str, TaskRecord, str]]:
    """(family, task, completion) for up to `per_family` tasks per family; deterministic."""
    ordered = sorted(tasks, key=lambda t: t["id"])
    probes: list[tuple[str, TaskRecord, str]] = []
    for family in FAMILIES:
        order = list(ordered)
        random.Random(f"{PROBE_SUITE_VERSION}:{family.name}").shuffle(order)
        made = 0
        for task in order:
            if made == per_family:
                break
            completion = family.build(
                task, random.Random(f"{PROBE_SUITE_VERSION}:{family.name}:{task['id']}"), ordered
            )
            if completion is not None:
                probes.append((family.name, task, completion))
                made += 1
    return probes


def run_probes(
    tasks: Sequence[TaskRecord],
    per_family: int = MIN_TASKS_PER_FAMILY,
    version: int = DEFAULT_REWARD_VERSION,
) -> list[ProbeResult]:
    """Score every probe of the suite with reward `version`."""
    return [
        ProbeResult(name, task["id"], completion, score(completion, task, version=version).total)
        for name, task, completion in build_probes(tasks, per_family)
    ]


def summarize(results: Sequence[ProbeResult], per_family: int = MIN_TASKS_PER_FAMILY) -> list[FamilyRow]:
    """One row per family; `ok` means every total is in range, the mean is at least the family's floor, and
    the family has `per_family` probes."""
    rows = []
    for family in FAMILIES:
        totals = [r.total for r in results if r.family == family.name]
        in_range = all(family.in_range(t) for t in totals)
        mean = fmean(totals) if totals else float("nan")
        rows.append(
            FamilyRow(
                family.name,
                family.kind,
                len(totals),
                family.low,
                family.high,
                min(totals, default=float("nan")),
                mean,
                max(totals, default=float("nan")),
                bool(totals) and in_range and mean >= family.min_mean and len(totals) >= per_family,
            )
        )
    return rows


def format_table(rows: Sequence[FamilyRow]) -> str:
    """A fixed-width text table of the summary."""
    lines = [f"{'family':<26}{'kind':<10}{'n':>4}  {'expected':<11}{'min':>7}{'mean':>7}{'max':>7}  result"]
    for r in rows:
        lines.append(
            f"{r.name:<26}{r.kind:<10}{r.n:>4}  [{r.low:.2f},{r.high:.2f}] "
            f"{r.min:>7.3f}{r.mean:>7.3f}{r.max:>7.3f}  {'ok' if r.ok else 'BROKEN'}"
        )
    return "\n".join(lines)


def format_comparison(tasks: Sequence[TaskRecord], per_family: int = MIN_TASKS_PER_FAMILY) -> str:
    """Each family's mean total under every reward version, on the same probes (a Markdown table)."""
    means = {
        v: {r.name: r.mean for r in summarize(run_probes(tasks, per_family, v), per_family)}
        for v in REWARD_VERSIONS
    }
    head = " | ".join(f"reward v{v}" for v in REWARD_VERSIONS)
    lines = [f"| family | kind | expected | {head} |", "|---" * (3 + len(REWARD_VERSIONS)) + "|"]
    for family in FAMILIES:
        values = " | ".join(f"{means[v][family.name]:.3f}" for v in REWARD_VERSIONS)
        lines.append(f"| {family.name} | {family.kind} | [{family.low:.2f}, {family.high:.2f}] | {values} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split", choices=SPLITS, default="train", help="task split to probe (default: train)"
    )
    parser.add_argument("--per-family", type=int, default=MIN_TASKS_PER_FAMILY, help="tasks per probe family")
    parser.add_argument(
        "--task-family", choices=TASK_FAMILIES, help="probe only the tasks of this family (default: all)"
    )
    parser.add_argument(
        "--reward-version",
        type=int,
        choices=REWARD_VERSIONS,
        default=DEFAULT_REWARD_VERSION,
        help=f"reward version to probe (default: {DEFAULT_REWARD_VERSION})",
    )
    parser.add_argument(
        "--compare", action="store_true", help="print each family's mean under every reward version"
    )
    args = parser.parse_args(argv)
    tasks = load_tasks(args.split)
    if args.task_family:
        tasks = [t for t in tasks if t["family"] == args.task_family]
    scope = f"split {args.split}" + (f", {args.task_family} tasks" if args.task_family else "")
    if args.compare:
        print(f"hack-probe suite v{PROBE_SUITE_VERSION}, {scope}: mean total per reward version")
        print(format_comparison(tasks, args.per_family))
        return 0
    rows = summarize(run_probes(tasks, args.per_family, args.reward_version), args.per_family)
    print(f"hack-probe suite v{PROBE_SUITE_VERSION}, reward v{args.reward_version}, {scope}")
    print(format_table(rows))
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
