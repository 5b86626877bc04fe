"""The compositional reward: golds score 1.0, wrong answers score by how wrong, hacks don't pay, never
raises; reward v1 reproduces the first reward exactly, v2 pays for what an answer adds to the lemma copy."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein
from sacrebleu.metrics import CHRF

from dakota_grammar_translation.rewards import (
    DEFAULT_REWARD_VERSION,
    DEFAULT_WEIGHTS,
    REWARD_VERSIONS,
    Weights,
    chrf,
    ref_grams,
    score,
    score_in_orthography,
)
from dakota_grammar_translation.tasks import SPLITS, load_tasks, tasks_path


def seg(*pieces: tuple[str, str]) -> list[dict[str, str]]:
    return [{"form": form, "kind": kind} for form, kind in pieces]


def record(
    answer: str,
    segments: list[dict[str, str]],
    *,
    language: str = "dakota",
    alternatives=(),
    family: str = "morphology",
    stem: str | None = None,
    rule_ids: tuple[str, ...] = (),
) -> dict:
    meta = {"segments": segments, "source": "test", "review_status": "unverified", "rule_ids": list(rule_ids)}
    return {
        "id": f"test-{answer}",
        "split": "train",
        "family": family,
        "difficulty": "easy",
        "prompt": "test prompt",
        "answer": answer,
        "alternatives": list(alternatives),
        "answer_language": language,
        "meta": meta if stem is None else {"stem": stem, **meta},
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


@pytest.mark.parametrize("version", REWARD_VERSIONS)
@pytest.mark.parametrize("split", SPLITS)
def test_every_shipped_gold_scores_one(split, version):
    if not tasks_path(split).is_file():
        pytest.skip(f"{tasks_path(split)} not generated yet (python -m data.build)")
    tasks = load_tasks(split)
    assert tasks
    failures = []
    for task in tasks:
        for gold in (task["answer"], *task["alternatives"]):
            s = score(f"<think>x</think><answer>{gold}</answer>", task, version=version)
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
    assert Weights(character=0.4, morphology=0.4, semantic=0.2) == DEFAULT_WEIGHTS
    metrics = d.as_metrics()
    assert set(metrics) == {
        "character",
        "morphology",
        "semantic",
        "total",
        "exact_match",
        "exact",
        "format_ok",
        "truncated",
        "answer_chars",
    }
    assert all(isinstance(v, float) for v in metrics.values())
    assert score("<answer>mawanu</answer>", MAWANI, truncated=True).truncated
    with pytest.raises(ValueError, match="sum to at most 1"):
        Weights(character=0.5, morphology=0.5, semantic=0.5)
    with pytest.raises(ValueError, match=">= 0"):
        Weights(character=-0.1, morphology=0.5, semantic=0.5)


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


# -- reward versions ------------------------------------------------------------------------------------
# Five shipped tasks (held-out and attested splits), copied here so a data rebuild cannot move them.
V1_RECORDS = {
    "uŋḳupi": record("uŋḳupi", seg(("uŋ", "prefix"), ("ḳu", "stem"), ("pi", "suffix")), stem="ḳu"),
    "awape śni": record(
        "awape śni",
        seg(("a", "stem"), ("wa", "infix"), ("pe", "stem"), (" ", "space"), ("śni", "particle")),
        stem="apa",
        rule_ids=("pron-agent-1sg", "ablaut-a-e", "negation-sni"),
    ),
    "amayapapi": record(
        "amayapapi",
        seg(("a", "stem"), ("ma", "infix"), ("ya", "infix"), ("pa", "stem"), ("pi", "suffix")),
        stem="apa",
    ),
    "he remembers you": record(
        "he remembers you",
        seg(("he", "word"), (" ", "space"), ("remembers", "word"), (" ", "space"), ("you", "word")),
        stem="kiksuya",
        language="english",
        alternatives=["it remembers you", "she remembers you"],
    ),
    "ćaźe oniʼćʼiwapi": record("ćaźe oniʼćʼiwapi", seg(("ćaźe oniʼćʼiwapi", "word")), stem="ćaźe oićʼiwa"),
}


def v1_probes(gold: str, lemma: str) -> list[str]:
    """The fixed answers each V1_GOLDEN row scores, in row order: the lemma, the lemma with its last letter
    changed to e, gold minus its last / first letter, the lemma with a wrong prefix, the untagged gold,
    nonsense, the gold twice."""
    answers = [lemma, lemma[:-1] + "e", gold[:-1], gold[1:], f"wa{lemma}"]
    return [
        *(f"<answer>{a}</answer>" for a in answers),
        gold,
        "<answer>ŋŋŋŋŋ</answer>",
        f"<answer>{gold} {gold}</answer>",
    ]


V1_GOLDEN = {  # gold: (character, morphology, semantic, total) for each of its v1_probes, in order
    "uŋḳupi": [
        (0.33333333333333337, 0.3333333333333333, 0.4210526315789474, 0.35087719298245623),
        (0.16666666666666663, 0.0, 0.125, 0.09166666666666665),
        (0.8333333333333334, 0.6666666666666666, 0.8304093567251462, 0.7660818713450294),
        (0.8333333333333334, 0.6666666666666666, 0.8304093567251462, 0.7660818713450294),
        (0.33333333333333337, 0.3333333333333333, 0.16260162601626016, 0.29918699186991876),
        (1.0, 1.0, 1.0, 1.0),
        (0.16666666666666663, 0.0, 0.03636363636363636, 0.07393939393939393),
        (0.46153846153846156, 0.46153846153846156, 0.5149867409530442, 0.4722281174213781),
    ],
    "awape śni": [
        (0.2222222222222222, 0.25, 0.2566371681415929, 0.24021632251720745),
        (0.33333333333333337, 0.5, 0.432348367029549, 0.4198030067392432),
        (0.8888888888888888, 0.75, 0.8870486916197416, 0.832965293879504),
        (0.8888888888888888, 0.5, 0.8870486916197416, 0.7329652938795039),
        (0.2222222222222222, 0.0, 0.1958904109589041, 0.12806697108066972),
        (1.0, 1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0, 0.0),
        (0.4736842105263158, 0.47368421052631576, 0.569028983953397, 0.49275316521173207),
    ],
    "amayapapi": [
        (0.33333333333333337, 0.4, 0.38977635782747594, 0.3712886048988286),
        (0.2222222222222222, 0.2, 0.17838939857288483, 0.2045667686034659),
        (0.8888888888888888, 0.8, 0.9095236378060654, 0.8574602831167688),
        (0.8888888888888888, 0.2, 0.9095236378060654, 0.6174602831167687),
        (0.4444444444444444, 0.2, 0.22141556911874932, 0.30206089160152766),
        (1.0, 1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0, 0.0),
        (0.4736842105263158, 0.47368421052631576, 0.5837237712054731, 0.49569212266214735),
    ],
    "he remembers you": [
        (0.125, 0.0, 0.06349206349206349, 0.0626984126984127),
        (0.125, 0.0, 0.07936507936507937, 0.06587301587301587),
        (0.9375, 0.6666666666666666, 0.9534544338641343, 0.8323575534394935),
        (0.9375, 0.6666666666666666, 0.9534544338641343, 0.8323575534394935),
        (0.125, 0.0, 0.057971014492753624, 0.06159420289855073),
        (1.0, 1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0, 0.0),
        (0.5151515151515151, 0.48484848484848486, 0.6192598682171083, 0.5238519736434217),
    ],
    "ćaźe oniʼćʼiwapi": [
        (0.75, 0.0, 0.44695667938276906, 0.38939133587655383),
        (0.6875, 0.0, 0.369846867221964, 0.3489693734443928),
        (0.9375, 0.0, 0.9574952808696219, 0.5664990561739244),
        (0.9375, 0.0, 0.9574952808696219, 0.5664990561739244),
        (0.625, 0.0, 0.4108214577390591, 0.3321642915478118),
        (1.0, 1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0, 0.0),
        (0.48484848484848486, 0.48484848484848486, 0.6229950625580825, 0.5124778003904045),
    ],
}
V1_CASES = [
    (gold, completion, expected)
    for gold, rows in V1_GOLDEN.items()
    for completion, expected in zip(v1_probes(gold, V1_RECORDS[gold]["meta"]["stem"]), rows, strict=True)
]


@pytest.mark.parametrize(
    ("gold", "completion", "expected"), V1_CASES, ids=[f"{g}|{c}" for g, c, _ in V1_CASES]
)
def test_reward_v1_reproduces_the_first_reward_exactly(gold, completion, expected):
    """Values of the reward before versions existed (the project at 3f033b1), on fixed answers."""
    s = score(completion, V1_RECORDS[gold], version=1)
    assert (s.character, s.morphology, s.semantic, s.total) == expected


def sacrebleu_chrf(hyp: str, ref: str) -> float:
    return CHRF(beta=1).sentence_score(hyp, [ref]).score / 100


def v2_character(answer: str, gold: str, lemma: str) -> float:
    return max(0.0, 1 - Levenshtein.distance(answer, gold) / Levenshtein.distance(lemma, gold))


def v2_semantic(answer: str, gold: str, lemma: str) -> float:
    copy = sacrebleu_chrf(lemma, gold)
    return max(0.0, (sacrebleu_chrf(answer, gold) - copy) / (1 - copy))


def test_reward_v2_is_the_default_and_v1_stays_selectable():
    task = V1_RECORDS["uŋḳupi"]
    assert DEFAULT_REWARD_VERSION == 2
    assert score("<answer>ḳu</answer>", task) == score("<answer>ḳu</answer>", task, version=2)
    assert score("<answer>ḳu</answer>", task, version=1).total > 0.3
    with pytest.raises(ValueError, match="reward version"):
        score("ḳu", task, version=3)
    reply = "<answer>ḳu</answer>"
    assert score_in_orthography(reply, task, version=1) == score(reply, task, version=1)


def test_v2_copy_of_the_lemma_earns_nothing():
    for task in V1_RECORDS.values():
        lemma = task["meta"]["stem"]
        s = score(f"<answer>{lemma}</answer>", task)
        assert components(s) == (0.0, 0.0, 0.0) and s.total == 0.0, task["answer"]


def test_v2_gold_minus_a_letter_keeps_a_dense_signal():
    """uŋḳupi from ḳu: 1 of the 4 edits left undone, the prefix uŋ in its slot, the suffix pi broken."""
    s = score("<answer>uŋḳup</answer>", V1_RECORDS["uŋḳupi"])
    assert s.character == pytest.approx(v2_character("uŋḳup", "uŋḳupi", "ḳu")) == pytest.approx(0.75)
    assert s.morphology == pytest.approx(1 / 2)
    assert s.semantic == pytest.approx(v2_semantic("uŋḳup", "uŋḳupi", "ḳu"), abs=1e-9)
    assert s.total == pytest.approx(0.4 * 0.75 + 0.4 * 0.5 + 0.2 * s.semantic)
    assert s.total > 0.5


def test_v2_lemma_with_a_wrong_affix_earns_little():
    s = score("<answer>waḳu</answer>", V1_RECORDS["uŋḳupi"])
    assert s.morphology == 0.0 and s.character == 0.0  # as far from uŋḳupi as the lemma: no edit made
    assert s.total == pytest.approx(0.2 * v2_semantic("waḳu", "uŋḳupi", "ḳu"), abs=1e-9)
    assert s.total < 0.1
    infix = score("<answer>awapa</answer>", V1_RECORDS["amayapapi"])  # wa in the slot of ma-ya
    assert infix.morphology == 0.0 and infix.total < 0.15
    one_right = score("<answer>amawapa</answer>", V1_RECORDS["amayapapi"])  # ma right, wa for ya, no pi
    assert one_right.morphology == pytest.approx(1 / 3) and infix.total < one_right.total < 0.5


def test_v2_ablaut_counts_only_with_the_particle_that_triggers_it():
    """awape śni (I do not strike) from apa: wa in its slot, pe (Riggs § 75 ablaut before śni), śni."""
    task = V1_RECORDS["awape śni"]
    assert score("<answer>ape</answer>", task).morphology == 0.0  # the ablauted lemma alone
    assert score("<answer>ape</answer>", task).total <= 0.2
    assert score("<answer>awape</answer>", task).morphology == pytest.approx(1 / 3)  # wa only
    assert score("<answer>awapa śni</answer>", task).morphology == pytest.approx(1 / 3)  # śni; wa needs pe
    assert score("<answer>awape śni</answer>", task).total == 1.0
    phrase = record(  # a train task: He eats the wild rice (no ablaut: psiŋ needs no trigger)
        "psiŋ kiŋ yuta",
        seg(("psiŋ", "stem"), (" ", "space"), ("kiŋ", "particle"), (" ", "space"), ("yuta", "stem")),
        stem="yuta",
        rule_ids=("article-definite-kin", "pron-3sg-zero", "word-order-sov"),
    )
    assert score("<answer>psiŋ yuta</answer>", phrase).morphology == pytest.approx(1 / 2)
    assert score("<answer>yuta</answer>", phrase).total == 0.0


def test_v2_ranks_gold_above_near_misses_above_copies():
    for gold, task in V1_RECORDS.items():
        lemma = task["meta"]["stem"]
        totals = [
            score(f"<answer>{answer}</answer>", task).total
            for answer in (gold, gold[:-1], f"wa{lemma}", lemma[:-1] + "e", lemma)
        ]
        assert totals[0] == 1.0 > totals[1] > max(totals[2:]), (gold, totals)
        assert totals[1] > 0.4 and totals[-1] == 0.0, (gold, totals)


@pytest.mark.parametrize("task", SAMPLES, ids=lambda t: t["answer"])
def test_without_a_lemma_v2_scores_as_v1(task):
    for reply in ("mawanu", "mani", "the man", "wićaśta kiŋ", "ŋŋŋ", task["answer"][:-1]):
        assert score(reply, task) == score(reply, task, version=1)


def test_format_gate_and_exact_match_are_off_by_default():
    task = V1_RECORDS["uŋḳupi"]
    assert score("uŋḳupi", task).total == 1.0  # untagged gold: no gate by default
    gated = score("uŋḳupi", task, format_gate=0.25)
    assert gated.exact and not gated.format_ok and gated.total == pytest.approx(0.75)
    assert components(gated) == (0.75, 0.75, 0.75)
    assert score("<answer>uŋḳupi</answer>", task, format_gate=1.0).total == 1.0
    assert score("uŋḳup", task, format_gate=1.0, version=1).total == 0.0
    with pytest.raises(ValueError, match="format_gate"):
        score("uŋḳupi", task, format_gate=1.5)
    with_exact = Weights(character=0.3, morphology=0.3, semantic=0.2, exact_match=0.2)
    near = score("<answer>uŋḳup</answer>", task, with_exact)
    assert near.exact_match == 0.0
    assert near.total == pytest.approx(0.3 * near.character + 0.3 * near.morphology + 0.2 * near.semantic)
    assert score("<answer>uŋḳupi</answer>", task, with_exact).total == 1.0
    assert DEFAULT_WEIGHTS.exact_match == 0.0
    with pytest.raises(ValueError, match="sum to at most 1"):
        Weights(exact_match=0.2)


@settings(max_examples=300, deadline=None)
@given(NASTY, st.sampled_from(sorted(V1_RECORDS)), st.sampled_from(REWARD_VERSIONS))
def test_every_version_never_raises_and_stays_in_range(completion, gold, version):
    s = score(completion, V1_RECORDS[gold], version=version)
    for value in (*components(s), s.total):
        assert 0.0 <= value <= 1.0


def test_megabyte_completion_against_a_lemma():
    task = V1_RECORDS["amayapapi"]
    for text in ("ś" * 1_000_000, "<answer>" + "apa " * 250_000 + "</answer>"):
        s = score(text, task)
        assert 0.0 <= s.total < 0.1
    assert score("x\n" * 500_000 + "amayapapi", task).total == 1.0
