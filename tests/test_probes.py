"""The hack-probe suite on the shipped tasks: every family in its range, deterministic, CLI exit codes."""

from __future__ import annotations

import pytest

from dakota_grammar_translation import probes
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
}
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


def test_every_family_stays_in_range(tasks):
    results = probes.run_probes(tasks)
    rows = probes.summarize(results)
    broken = [r for r in rows if not r.ok]
    assert not broken, probes.format_table(broken)
    assert all(r.n >= probes.MIN_TASKS_PER_FAMILY for r in rows)
    hack_means = [r.mean for r in rows if r.kind == "hack"]
    assert max(hack_means) < 0.35


def test_wrong_stem_probes_earn_no_affix_credit(tasks):
    """No affix counts on a wrong stem: at most the stem pieces the other stem happens to share count."""
    wrong = [(t, c) for f, t, c in probes.build_probes(tasks) if f == "affix_wrong_stem"]
    assert len(wrong) >= probes.MIN_TASKS_PER_FAMILY
    zero = 0
    for task, completion in wrong:
        pieces = [s["kind"] for s in task["meta"]["segments"] if s["kind"] != "space"]
        morphology = score(completion, task).morphology
        assert morphology <= (pieces.count("stem") - 1) / len(pieces) + 1e-9, (task["answer"], completion)
        zero += morphology == 0.0
    assert zero >= 0.9 * len(wrong)


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
    assert f"suite v{probes.PROBE_SUITE_VERSION}" in out and "affix_wrong_stem" in out and "BROKEN" not in out
    assert probes.main(["--split", "heldout", "--per-family", "100000"]) == 1
