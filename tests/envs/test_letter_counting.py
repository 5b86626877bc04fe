"""letter_counting pure modules: generation (determinism, tiers, disjointness, frozen sets), parsing, scoring,
curriculum. No verifiers import here (see test_letter_counting_taskset.py)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from letter_counting import generate
from letter_counting.curriculum import AdaptiveCurriculum, FixedMixture
from letter_counting.generate import ALPHABET, TIERS, load_eval_tasks, train_task
from letter_counting.parser import parse_answer
from letter_counting.rewards import score

TRAIN_PER_TIER = 150


@pytest.fixture(scope="module")
def eval_tasks() -> list[dict]:
    return load_eval_tasks()


@pytest.fixture(scope="module")
def train_tasks() -> list[dict]:
    return [
        train_task(seed, i, tier) for tier in TIERS for seed in (0, 1) for i in range(TRAIN_PER_TIER // 2)
    ]


# --- generation -------------------------------------------------------------------------------------------


def test_same_seed_same_tasks_and_other_seed_other_tasks():
    first = [train_task(7, i, 1 + i % 10) for i in range(40)]
    assert first == [train_task(7, i, 1 + i % 10) for i in range(40)]
    other = [train_task(8, i, 1 + i % 10) for i in range(40)]
    assert sum(a["id"] != b["id"] for a, b in zip(first, other, strict=True)) >= 35


def test_frozen_eval_sets_rebuild_byte_identical():
    rebuilt = generate.build_frozen()
    assert sorted(rebuilt) == sorted(
        p.name for p in generate.DATA_DIR.iterdir() if p.suffix in {".jsonl", ".json"}
    )
    for name, data in rebuilt.items():
        assert (generate.DATA_DIR / name).read_bytes() == data, f"{name} differs from a rebuild"
    manifest = json.loads(generate.MANIFEST.read_text())
    for name, entry in manifest["files"].items():
        data = (generate.DATA_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry["tasks"] == generate.EVAL_TASKS_PER_TIER


def test_eval_sets_have_200_distinct_tasks_per_tier(eval_tasks):
    assert Counter(t["tier"] for t in eval_tasks) == dict.fromkeys(TIERS, 200)
    assert len({t["id"] for t in eval_tasks}) == len(eval_tasks)
    assert all(t["split"] == "eval" for t in eval_tasks)


def test_train_never_overlaps_eval(eval_tasks, train_tasks):
    eval_text = {t["text"] for t in eval_tasks}
    assert not eval_text & {t["text"] for t in train_tasks}
    for lo, hi in {(s.min_chars, s.max_chars) for s in TIERS.values() if s.source == "word"}:
        assert not set(generate.word_pool("train", lo, hi)) & set(generate.word_pool("eval", lo, hi))


def test_train_redraws_a_text_that_is_in_an_eval_set(monkeypatch):
    first = train_task(3, 0, 6)
    monkeypatch.setattr(generate, "eval_texts", lambda: frozenset({first["text"]}))
    redrawn = train_task(3, 0, 6)
    assert redrawn["text"] != first["text"] and redrawn["tier"] == 6


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_every_tier_respects_its_length_letter_and_count_ranges(tier, eval_tasks, train_tasks):
    spec = TIERS[tier]
    tasks = [t for t in eval_tasks + train_tasks if t["tier"] == tier]
    words = set(generate.all_words())
    n_letters = Counter()
    zero = total = 0
    for t in tasks:
        text, letters = t["text"], t["letters"]
        assert spec.min_chars <= len(text) <= spec.max_chars
        assert set(text) <= set(ALPHABET)
        assert letters == sorted(set(letters)) and set(letters) <= set(ALPHABET)
        assert t["counts"] == {c: text.count(c) for c in letters}
        assert t["prompt"] == generate.render_prompt(text, letters) and text in t["prompt"]
        n = len(letters)
        assert n == 1 or min(max(2, spec.min_letters), 26) <= n <= min(spec.max_letters, 26)
        n_letters[n > 1] += 1
        zero += sum(v == 0 for v in t["counts"].values())
        total += n
    if spec.source == "word":
        assert all(t["text"] in words for t in tasks)
    multi_share = n_letters[True] / len(tasks)
    assert abs(multi_share - spec.multi_probability) < 0.12
    if tier <= 6:  # from tier 7 on, random strings of 80+ chars contain nearly every letter: few zeros remain
        assert 0.05 < zero / total < 0.8, f"absent-letter share {zero / total:.2f}"


def test_prompts_follow_the_documented_wording():
    assert generate.render_prompt("banana", ["a"]) == (
        "How many 'a's are in the string banana?\n\nProvide your answer in the format: "
        "<answer>{number}</answer>"
    )
    assert generate.render_prompt("banana", ["a", "b"]).startswith(
        "Count the occurrences of the letters 'a' and 'b' "
    )
    three = generate.render_prompt("banana", ["a", "b", "n"])
    assert "'a', 'b', and 'n' in the string banana\n" in three
    assert three.endswith('<answer>{"a": 0, "b": 0, "n": 0}</answer>')


# --- parsing and scoring ----------------------------------------------------------------------------------

BANANA = {"counts": {"a": 3}, "tier": 1}
MULTI = {"counts": {"a": 2, "b": 0, "c": 1}, "tier": 3}


@pytest.mark.parametrize(
    ("completion", "partial", "binary"),
    [
        ("<answer>3</answer>", 1.0, 1.0),
        ("<ANSWER> 3 </ANSWER>", 1.0, 1.0),
        ("<answer>03</answer>", 1.0, 1.0),
        ("<answer>2</answer>", 0.1, 0.0),
        ("<think>b-a-n-a-n-a: three a's</think>\n<answer>3</answer>", 1.0, 1.0),
        ("b-a-n-a-n-a</think><answer>3</answer>", 1.0, 1.0),  # <think> opened by the chat template
        ("<think>b-a-n-a-n-a, so <answer>3</answer>", 0.0, 0.0),  # unterminated thinking: no answer
        ("<think>x</think><think>still thinking <answer>3</answer>", 0.0, 0.0),
        ("<answer>3</answer>", 1.0, 1.0),
        ("The answer is 3.", 0.0, 0.0),
        ("<answer>3</answer> <answer>3</answer>", 0.0, 0.0),  # several answer tags
        ("<answer>3</answer> <answer>", 0.0, 0.0),
        ("<answer>3", 0.0, 0.0),
        ("<answer>3.0</answer>", 0.0, 0.0),  # non-integer
        ("<answer>three</answer>", 0.0, 0.0),
        ("<answer>-3</answer>", 0.0, 0.0),
        ("<answer>1234567890</answer>", 0.0, 0.0),
        ('<answer>{"a": 3}</answer>', 0.0, 0.0),  # JSON for a single letter
        ("<answer></answer>", 0.0, 0.0),
        ("", 0.0, 0.0),
        (None, 0.0, 0.0),
    ],
)
def test_single_letter_rewards(completion, partial, binary):
    assert score(completion, BANANA, "partial").total == pytest.approx(partial)
    assert score(completion, BANANA, "binary").total == pytest.approx(binary)


@pytest.mark.parametrize(
    ("completion", "partial", "binary", "format_ok"),
    [
        ('<answer>{"a": 2, "b": 0, "c": 1}</answer>', 1.0, 1.0, True),
        ('<answer>\n{"c": 1,\n "a": 2, "b": 0}\n</answer>', 1.0, 1.0, True),
        ('<answer>{"a": 2, "b": 1, "c": 1}</answer>', 0.1 + 0.9 * 2 / 3, 0.0, True),
        ('<answer>{"a": 0, "b": 1, "c": 0}</answer>', 0.1, 0.0, True),
        ('<answer>{"a": 2, "b": 0}</answer>', 0.1, 0.0, True),  # missing key: well-formed, all wrong
        ('<answer>{"a": 2, "b": 0, "c": 1, "d": 0}</answer>', 0.1, 0.0, True),  # extra key
        ('<answer>{"a": 2, "b": 0, "c": 1</answer>', 0.0, 0.0, False),  # malformed JSON
        ("<answer>{'a': 2, 'b': 0, 'c': 1}</answer>", 0.0, 0.0, False),  # not JSON
        ('<answer>{"a": 2.0, "b": 0, "c": 1}</answer>', 0.0, 0.0, False),  # non-integer count
        ('<answer>{"a": "2", "b": 0, "c": 1}</answer>', 0.0, 0.0, False),
        ('<answer>{"a": true, "b": 0, "c": 1}</answer>', 0.0, 0.0, False),
        ('<answer>{"a": 2, "a": 2, "b": 0, "c": 1}</answer>', 0.0, 0.0, False),  # duplicate key
        ("<answer>[2, 0, 1]</answer>", 0.0, 0.0, False),
        ("<answer>3</answer>", 0.0, 0.0, False),
        (
            '<answer>{"a": 2, "b": 0, "c": 1}</answer><answer>{"a": 2, "b": 0, "c": 1}</answer>',
            0.0,
            0.0,
            False,
        ),
        ('<think>a a, c</think><answer>{"a": 2, "b": 0, "c": 1}</answer>', 1.0, 1.0, True),
        ('<think>a a, c <answer>{"a": 2, "b": 0, "c": 1}</answer>', 0.0, 0.0, False),
    ],
)
def test_multi_letter_rewards(completion, partial, binary, format_ok):
    scores = score(completion, MULTI, "partial")
    assert scores.total == pytest.approx(partial)
    assert scores.format_ok is format_ok
    assert score(completion, MULTI, "binary").total == pytest.approx(binary)


def test_truncated_completion_scores_zero_in_both_modes():
    for mode in ("partial", "binary"):
        scores = score("<answer>3</answer>", BANANA, mode, truncated=True)
        assert scores.total == 0.0 and scores.truncated and not scores.exact
        assert scores.as_metrics()["truncated"] == 1.0


def test_scores_metrics_and_errors():
    good = score('<answer>{"a": 2, "b": 1, "c": 1}</answer>', MULTI)
    assert good.as_metrics() == {
        "exact": 0.0,
        "format_ok": 1.0,
        "truncated": 0.0,
        "fraction_correct": pytest.approx(2 / 3),
        "tier": 3.0,
    }
    assert good.answer == {"a": 2, "b": 1, "c": 1} and good.error is None
    assert parse_answer("<answer>1</answer><answer>2</answer>", ["a"]).error == "not exactly one answer tag"
    assert parse_answer("<think>never closed", ["a"]).error == "unterminated <think>"
    with pytest.raises(ValueError, match="unknown reward mode"):
        score("<answer>3</answer>", BANANA, "fractional")


@pytest.mark.parametrize(
    ("completion", "error"),
    [
        ("<answer>" * 20_000, "not exactly one answer tag"),
        ("<answer>{" * 20_000, "not exactly one answer tag"),
        ("<think>" * 20_000, "unterminated <think>"),
        ("<answer>" + "[" * 50_000 + "</answer>", "malformed JSON"),
        ("</answer> <answer>", "not exactly one answer tag"),
        ("</think>" * 20_000 + '<answer>{"a": 2, "b": 0, "c": 1}</answer>', None),
    ],
)
def test_long_tag_heavy_completions_parse_to_the_right_verdict(completion, error):
    assert parse_answer(completion, ["a", "b", "c"]).error == error


FRAGMENTS = st.sampled_from(
    [
        "<answer>",
        "</answer>",
        "<ANSWER>",
        "<think>",
        "</think>",
        "{",
        "}",
        '"a"',
        '"b"',
        ":",
        ",",
        " ",
        "\n",
        "0",
        "1",
        "2",
        "3",
        "9" * 30,
        "-",
        ".",
        "e5",
        "[",
        "]",
        "null",
        "true",
        "\\u0000",
        "\x00",
        "ß",
        "🙂",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(FRAGMENTS, max_size=40).map("".join)), st.booleans())
def test_score_never_raises_and_stays_in_range(completion, truncated):
    for task in (BANANA, MULTI):
        partial = score(completion, task, "partial", truncated=truncated)
        binary = score(completion, task, "binary", truncated=truncated)
        assert partial.total == 0.0 or 0.1 <= partial.total <= 1.0
        assert binary.total in (0.0, 1.0)
        assert binary.exact == (binary.total == 1.0) == partial.exact == (partial.total == 1.0)
        if truncated or not partial.format_ok:
            assert partial.total == binary.total == 0.0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.sampled_from(sorted(TIERS)))
def test_the_gold_answer_always_scores_one(seed, index, tier):
    task = train_task(seed, index, tier)
    counts = task["counts"]
    body = str(counts[task["letters"][0]]) if len(counts) == 1 else json.dumps(counts)
    assert score(f"<think>counting</think><answer>{body}</answer>", task, "binary").total == 1.0


# --- curriculum -------------------------------------------------------------------------------------------


def test_curriculum_moves_up_only_when_a_full_window_succeeds():
    cur = AdaptiveCurriculum()
    assert cur.current_tier == 3
    for _ in range(149):
        assert cur.update([1.0] * 8) == 3
    assert cur.update([1.0] * 8) == 4
    for _ in range(149):
        cur.update([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.1])  # 7/8 = 0.875 > 0.8, window refills first
    assert cur.current_tier == 4
    assert cur.update([1.0] * 8) == 5


def test_curriculum_moves_down_below_threshold_and_holds_in_between():
    cur = AdaptiveCurriculum(start_tier=3, window=10)
    for _ in range(10):
        cur.update([1.0, 0.7, 0.1, 0.1, 0.1, 0.0, 0.1, 0.1])  # partial credit is not success: 1/8 < 0.2
    assert cur.current_tier == 2
    for _ in range(30):
        cur.update([1.0, 1.0, 0.1, 0.1])  # 0.5: stays
    assert cur.current_tier == 2
    for _ in range(30):
        cur.update([0.0])
    assert cur.current_tier == 1  # clamped at the bottom
    top = AdaptiveCurriculum(start_tier=10, window=1)
    assert top.update([1.0]) == 10
    assert cur.update([]) == 1
    with pytest.raises(ValueError):
        AdaptiveCurriculum(start_tier=11)


def test_fixed_mixture_is_seeded_and_follows_its_weights():
    mix = FixedMixture({1: 1.0, 6: 3.0, 9: 0.0}, seed=5)
    draws = [mix.tier_for(i) for i in range(4000)]
    assert draws == [FixedMixture({1: 1.0, 6: 3.0, 9: 0.0}, seed=5).tier_for(i) for i in range(4000)]
    counts = Counter(draws)
    assert set(counts) == {1, 6} and 0.70 < counts[6] / 4000 < 0.80
    with pytest.raises(ValueError):
        FixedMixture({0: 1.0})


def test_bench_prints_its_figures(capsys):
    from letter_counting import bench_scorer_and_generator

    assert bench_scorer_and_generator.main(["--n", "500"]) == 0
    out = capsys.readouterr().out
    assert "scorings/s:" in out and "train tasks/s:" in out and "adversarial" in out
