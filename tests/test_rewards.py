"""The compositional reward: golds score 1.0, wrong answers score by how wrong, hacks don't pay, never
raises."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import CHRF

from dakota_grammar_translation.rewards import DEFAULT_WEIGHTS, Weights, chrf, ref_grams, score
from dakota_grammar_translation.tasks import load_tasks, tasks_path


def seg(*pieces: tuple[str, str]) -> list[dict[str, str]]:
    return [{"form": form, "kind": kind} for form, kind in pieces]


def record(
    answer: str,
    segments: list[dict[str, str]],
    *,
    language: str = "dakota",
    alternatives=(),
    family: str = "morphology",
) -> dict:
    return {
        "id": f"test-{answer}",
        "split": "train",
        "family": family,
        "difficulty": "easy",
        "prompt": "test prompt",
        "answer": answer,
        "alternatives": list(alternatives),
        "answer_language": language,
        "meta": {"segments": segments, "source": "test", "review_status": "unverified"},
    }


MAWANI = record("mawani", seg(("ma", "stem"), ("wa", "infix"), ("ni", "stem")))
WASTE = record("waśté", seg(("waśté", "stem")))
SENTENCE = record(
    "wićaśta kiŋ mani kte",
    seg(
        ("wićaśta", "stem"),
        (" ", "space"),
        ("kiŋ", "particle"),
        (" ", "space"),
        ("mani", "stem"),
        (" ", "space"),
        ("kte", "particle"),
    ),
)
ENGLISH = record(
    "the man walks",
    seg(("the", "word"), (" ", "space"), ("man", "word"), (" ", "space"), ("walks", "word")),
    language="english",
    alternatives=["a man walks"],
    family="translation",
)
SAMPLES = [MAWANI, WASTE, SENTENCE, ENGLISH]


def components(s) -> tuple[float, float, float]:
    return s.character, s.morphology, s.semantic


@pytest.mark.parametrize("task", SAMPLES, ids=lambda t: t["answer"])
def test_gold_scores_one_everywhere(task):
    s = score(f"<answer>{task['answer']}</answer>", task)
    assert components(s) == (1.0, 1.0, 1.0) and s.total == 1.0 and s.exact and s.format_ok


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_every_shipped_gold_scores_one(split):
    if not tasks_path(split).is_file():
        pytest.skip(f"{tasks_path(split)} not generated yet (python -m data.build)")
    tasks = load_tasks(split)
    assert tasks
    failures = []
    for task in tasks:
        for gold in (task["answer"], *task["alternatives"]):
            s = score(f"<think>x</think><answer>{gold}</answer>", task)
            if components(s) != (1.0, 1.0, 1.0) or s.total != 1.0:
                failures.append((task["id"], gold, components(s)))
    assert not failures, failures[:5]


def test_spelling_variants_case_and_nfd_are_exact():
    for reply in ("MAWANI", "Mawani.", unicodedata.normalize("NFD", "mawani")):
        assert score(reply, MAWANI).exact
    assert score("<answer>wašté</answer>", WASTE).exact
    assert score("<answer>WAṠTÉ</answer>", WASTE).exact
    assert score("<answer>" + unicodedata.normalize("NFD", "waśté") + "</answer>", WASTE).total == 1.0


def test_a_missing_stress_accent_is_close_but_not_exact():
    s = score("<answer>waśte</answer>", WASTE)
    assert not s.exact and s.character == pytest.approx(0.8) and s.morphology == 0.0
    assert 0.3 < s.total < score("<answer>waśtéé</answer>", WASTE).total < 1.0


def test_alternative_answers_are_exact():
    s = score("<answer>A man walks.</answer>", ENGLISH)
    assert s.exact and s.total == 1.0


def test_affix_on_the_wrong_stem_earns_no_morphology():
    assert score("<answer>yawaha</answer>", MAWANI).morphology == 0.0


def test_morphology_credits_intact_pieces_in_order():
    assert score("<answer>mani</answer>", MAWANI).morphology == pytest.approx(2 / 3)
    assert score("<answer>wićaśta kiŋ mani kta</answer>", SENTENCE).morphology == pytest.approx(3 / 4)
    assert score("<answer>the man walked</answer>", ENGLISH).morphology == pytest.approx(2 / 3 * 13 / 14)
    assert score("<answer>walks man the</answer>", ENGLISH).morphology < 2 / 3


def test_partial_answers_rank_below_gold_and_above_nonsense():
    near = score("<answer>mawanu</answer>", MAWANI).total
    far = score("<answer>ŋŋŋŋŋŋ</answer>", MAWANI).total
    assert 0.0 <= far < near < 1.0


def test_anagram_and_padding_do_not_pay():
    assert score("<answer>nawima</answer>", MAWANI).total < 0.35
    padded = "<answer>" + "mawani " + "the verb takes the pronoun inside the stem " * 5 + "</answer>"
    assert score(padded, MAWANI).total < 0.2


def test_no_answer_scores_zero():
    for reply in (None, "", "<think>mawani", "<answer></answer>"):
        s = score(reply, MAWANI)
        assert s.total == 0.0 and not s.exact and s.answer is None


def test_weights_and_metrics():
    s = score("<answer>mawanu</answer>", MAWANI, Weights(character=1.0, morphology=0.0, semantic=0.0))
    assert s.total == pytest.approx(s.character)
    d = score("<answer>mawanu</answer>", MAWANI)
    assert d.total == pytest.approx(sum(w * c for w, c in zip((0.4, 0.4, 0.2), components(d), strict=True)))
    assert Weights(0.4, 0.4, 0.2) == DEFAULT_WEIGHTS
    metrics = d.as_metrics()
    assert set(metrics) == {
        "character",
        "morphology",
        "semantic",
        "total",
        "exact",
        "format_ok",
        "truncated",
        "answer_chars",
    }
    assert all(isinstance(v, float) for v in metrics.values())
    assert score("<answer>mawanu</answer>", MAWANI, truncated=True).truncated
    with pytest.raises(ValueError, match="sum to at most 1"):
        Weights(0.5, 0.5, 0.5)
    with pytest.raises(ValueError, match=">= 0"):
        Weights(-0.1, 0.5, 0.5)


def test_task_without_gold_is_a_clear_error():
    for task in ({"id": "bad"}, {"id": "bad", "answer": " ?! "}):
        with pytest.raises(ValueError, match="has no gold answer"):
            score("x", task)


SMALL_ALPHABET = st.text(alphabet="aabŋś \t", max_size=60)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.text(max_size=40), SMALL_ALPHABET),
    st.lists(st.one_of(st.text(min_size=1, max_size=30), SMALL_ALPHABET), min_size=1, max_size=3),
)
def test_chrf_equals_sacrebleu(hyp, refs):
    ours = max(chrf(hyp, ref_grams(r)) for r in refs)
    assert ours == pytest.approx(CHRF(beta=1).sentence_score(hyp, refs).score / 100, abs=1e-9)


NASTY = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)),
    st.builds(lambda a, b: f"<think>{a}</think><answer>{b}</answer>", st.text(), st.text()),
    st.sampled_from(
        ["\ud800", "a\udfffb", "\x00\x01\x1b[31m", "ŋ" * 5000, "مرحبا 你好 mawani Ωmega", "\u0301" * 50]
    ),
)


@settings(max_examples=400, deadline=None)
@given(NASTY, st.sampled_from(SAMPLES))
def test_never_raises_and_stays_in_range(completion, task):
    s = score(completion, task)
    for value in (*components(s), s.total):
        assert 0.0 <= value <= 1.0


def test_megabyte_completion():
    for text in ("ś" * 1_000_000, "<answer>" + "mawani " * 150_000 + "</answer>", "x\n" * 500_000 + "mawani"):
        s = score(text, MAWANI)
        assert 0.0 <= s.total <= 1.0
    assert score("x\n" * 500_000 + "mawani", MAWANI).total == 1.0


def _probe_task(probe: dict) -> dict:
    """A Contract 1 record from a Dakota1890 probe: its base form is the stem, its affixes the suffixes."""
    info = probe["info"]
    pieces = []
    for i, word in enumerate(probe["answer"].split(" ")):
        if i:
            pieces.append((" ", "space"))
        if info["base_form"] and word.startswith(info["base_form"]):
            pieces.append((info["base_form"], "stem"))
            rest = word[len(info["base_form"]) :]
            for affix in info["required_affixes"]:
                if rest.startswith(affix.strip("-")):
                    pieces.append((affix.strip("-"), "suffix"))
                    rest = rest[len(affix.strip("-")) :]
            assert not rest, word
        else:
            pieces.append((word, "word"))
    return record(probe["answer"], seg(*pieces), family="morphology")


def test_dakota1890_hack_probes_score_as_intended(shared_reference):
    """Pass = total >= 0.9; every probe must pass exactly when `expect_train_pass` says so."""
    probes = [
        json.loads(line)
        for line in (shared_reference / "dakota1890" / "hack_probes.jsonl").read_text().splitlines()
    ]
    assert len(probes) == 5
    for probe in probes:
        s = score(probe["model_output"], _probe_task(probe))
        assert (s.total >= 0.9) == probe["expect_train_pass"], (probe["probe_id"], s)
