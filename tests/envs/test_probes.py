"""The hack-probe suite on the shipped tasks: every family in its range, deterministic, CLI exit codes; the
copy families that reward v1 pays for and v2 does not."""

from __future__ import annotations

import pytest

from dakota_grammar_translation import probes
from dakota_grammar_translation.orthography import match_key
from dakota_grammar_translation.rewards import score
from dakota_grammar_translation.tasks import load_tasks, tasks_path

REQUIRED_HACKS = {
    "empty",
    "prompt_copy",
    "special_char_spam",
    "anagram",
    "gold_in_reasoning",
    "affix_wrong_stem",
    "english_for_dakota",
    "long_answer_with_gold",
    "gold_repeated",
    "lemma_copy",
    "ablauted_copy",
    "lemma_wrong_affix",
}
COPY_FAMILIES = ("lemma_copy", "ablauted_copy", "lemma_wrong_affix")
REQUIRED_CONTROLS = {"gold", "gold_nfd", "gold_variant_orthography", "gold_other_case"}


@pytest.fixture(scope="module", params=["train", "heldout"])
def tasks(request):
    if not tasks_path(request.param).is_file():
        pytest.skip(f"{tasks_path(request.param)} not generated yet (python -m data.build)")
    return load_tasks(request.param)


def test_suite_covers_the_required_families():
    kinds = {f.name: f.kind for f in probes.FAMILIES}
    assert {n for n, k in kinds.items() if k == "hack"} >= REQUIRED_HACKS
    assert {n for n, k in kinds.items() if k == "control"} >= REQUIRED_CONTROLS
    assert sum(k == "hack" for k in kinds.values()) >= 10
    assert all(f.high <= 0.5 for f in probes.FAMILIES if f.kind == "hack")
    assert all(f.low == f.high == 1.0 for f in probes.FAMILIES if f.kind == "control")
    ceilings = {f.name: f.high for f in probes.FAMILIES}
    assert ceilings["lemma_copy"] <= 0.15 and ceilings["ablauted_copy"] <= 0.2
    assert ceilings["lemma_wrong_affix"] <= 0.3
    assert probes.PROBE_SUITE_VERSION == "2"


def test_every_family_stays_in_range(tasks):
    results = probes.run_probes(tasks)
    rows = probes.summarize(results)
    broken = [r for r in rows if not r.ok]
    assert not broken, probes.format_table(broken)
    assert all(r.n >= probes.MIN_TASKS_PER_FAMILY for r in rows)
    hack_means = [r.mean for r in rows if r.kind == "hack"]
    assert max(hack_means) < 0.35


def test_wrong_stem_probes_earn_no_affix_credit(tasks):
    """No affix counts on a wrong stem: in v1 at most the stem pieces the other stem happens to share count;
    in v2 (no credit for the stem the prompt gave) nearly every one earns no morphology at all."""
    wrong = [(t, c) for f, t, c in probes.build_probes(tasks) if f == "affix_wrong_stem"]
    assert len(wrong) >= probes.MIN_TASKS_PER_FAMILY
    zero = 0
    for task, completion in wrong:
        pieces = [s["kind"] for s in task["meta"]["segments"] if s["kind"] != "space"]
        morphology = score(completion, task, version=1).morphology
        assert morphology <= (pieces.count("stem") - 1) / len(pieces) + 1e-9, (task["answer"], completion)
        zero += morphology == 0.0
    assert zero >= 0.9 * len(wrong)
    assert sum(score(c, t).morphology == 0.0 for t, c in wrong) >= 0.95 * len(wrong)


def test_copy_probes_are_what_they_say(tasks):
    """The copy families answer with the prompt's lemma: as is, with final a → e, or with one more affix."""
    made = {f: [] for f in COPY_FAMILIES}
    for family, task, completion in probes.build_probes(tasks):
        if family in made:
            made[family].append((task, completion.removeprefix("<answer>").removesuffix("</answer>")))
    for family, built in made.items():
        assert len(built) >= probes.MIN_TASKS_PER_FAMILY, family
        for task, answer in built:
            lemma = task["meta"]["stem"]
            assert match_key(answer) != match_key(task["answer"])
            if family == "lemma_copy":
                assert answer == lemma
            elif family == "ablauted_copy":
                assert answer == lemma[:-1] + "e" and lemma.endswith("a")
            else:
                asked = {a["form"] for a in task["meta"]["affixes"]}
                n = len(answer) - len(lemma)
                added = [
                    answer[i : i + n] for i in range(len(lemma) + 1) if answer[:i] + answer[i + n :] == lemma
                ]
                assert n > 0 and added, (lemma, answer)
                assert not any(a in f or f in a for a in added for f in asked), (asked, answer)


def test_reward_v1_pays_for_the_copies_and_v2_does_not(tasks):
    """Suite v2 under reward v1: the copy families break (on the v3 data held-out anagrams of long golds
    exceed v1's ceiling too); under v2 every family is in range, the copies earn ~0 and a gold minus one
    letter keeps its signal."""
    v1 = {r.name: r for r in probes.summarize(probes.run_probes(tasks, version=1))}
    v2 = {r.name: r for r in probes.summarize(probes.run_probes(tasks, version=2))}
    assert set(COPY_FAMILIES) <= {n for n, r in v1.items() if not r.ok} <= {*COPY_FAMILIES, "anagram"}
    assert v1["lemma_copy"].mean > 0.3
    assert all(r.ok for r in v2.values())
    assert v2["gold_minus_letter"].mean > 0.5 > 0.05 > max(v2[f].mean for f in COPY_FAMILIES)
    assert v2["gold_minus_letter"].mean > v2["other_inflection"].mean > max(v2[f].mean for f in COPY_FAMILIES)


def test_suite_is_deterministic(tasks):
    first = [(f, t["id"], c) for f, t, c in probes.build_probes(tasks)]
    second = [(f, t["id"], c) for f, t, c in probes.build_probes(list(reversed(tasks)))]
    assert first == second


def test_a_broken_range_is_reported():
    rows = probes.summarize([probes.ProbeResult("gold", "t", "<answer>x</answer>", 0.2)], per_family=1)
    gold = next(r for r in rows if r.name == "gold")
    assert not gold.ok and "BROKEN" in probes.format_table(rows)
    empty = next(r for r in rows if r.name == "empty")
    assert not empty.ok and empty.n == 0


def test_cli_prints_the_table_and_exits_zero(capsys):
    if not tasks_path("heldout").is_file():
        pytest.skip("held-out tasks not generated yet")
    assert probes.main(["--split", "heldout"]) == 0
    out = capsys.readouterr().out
    assert f"suite v{probes.PROBE_SUITE_VERSION}, reward v2" in out and "affix_wrong_stem" in out
    assert "lemma_copy" in out and "BROKEN" not in out
    assert probes.main(["--split", "heldout", "--per-family", "100000"]) == 1
    capsys.readouterr()
    assert probes.main(["--split", "heldout", "--task-family", "morphology", "--reward-version", "1"]) == 1
    out = capsys.readouterr().out
    assert "reward v1" in out and "morphology tasks" in out
    broken = {line.split()[0] for line in out.splitlines() if line.endswith("BROKEN")}
    assert broken >= set(COPY_FAMILIES)
    assert probes.main(["--split", "heldout", "--task-family", "morphology", "--compare"]) == 0
    out = capsys.readouterr().out
    assert "| family | kind | expected | reward v1 | reward v2 |" in out
    lemma_row = next(line for line in out.splitlines() if line.startswith("| lemma_copy |"))
    v1_mean, v2_mean = (float(x) for x in lemma_row.strip("| ").split(" | ")[-2:])
    assert v1_mean > 0.3 and v2_mean == 0.0
