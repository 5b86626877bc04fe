"""Smaller faults: what an eval failure says, eval ports, scorer memory and time on hostile completions.

| case | before | after |
|---|---|---|
| vf-eval against a dead server | "episode not ok" | the trace's real error (connection refused) |
| `prime-rl eval` without `--port` | fixed 8000: two evals collide | a free port |
| 20,000 distinct long golds | gold cache grew to ~1.4 GB | LRU of 16,384 short golds; long ones uncached |
| gold + U+200B (zero-width space) / bidi marks | scored 0.91 | exact (1.0) |
| letter_counting on a 10 MB completion | 1.2 s parsing | format failure without parsing |
"""

from __future__ import annotations

import pytest

from dakota_rl.evaluate import EvalFailed, check_episodes


def test_eval_failure_names_the_traces_real_error():
    episode = {
        "id": 0,
        "ok": False,
        "errors": [],
        "traces": [
            {"ok": False, "errors": [], "calls": [{"error": "APIConnectionError: Connection refused"}]}
        ],
    }
    with pytest.raises(EvalFailed, match="first: APIConnectionError: Connection refused"):
        check_episodes([episode])
    with pytest.raises(EvalFailed, match="first: episode not ok"):
        check_episodes([{"id": 0, "ok": False, "errors": [], "traces": []}])


def test_eval_port_defaults_to_a_free_one():
    from dakota_rl.cli import _parser

    assert _parser().parse_args(["eval", "some-checkpoint"]).port is None  # serving() then picks a free port


def test_gold_cache_is_bounded_and_long_golds_are_not_cached():
    from dakota_grammar_translation import rewards

    assert rewards._gold.cache_info().maxsize == rewards.GOLD_CACHE_SIZE <= 16_384
    rewards._gold.cache_clear()
    long_gold = "mani " * 600
    scores = rewards.score(
        f"<answer>{long_gold}</answer>", {"id": "t", "answer": long_gold}, rewards.DEFAULT_WEIGHTS
    )
    assert scores.exact and rewards._gold.cache_info().currsize == 0
    for i in range(200):
        rewards.score("mani", {"id": "t", "answer": f"mani {i}"}, rewards.DEFAULT_WEIGHTS)
    assert rewards._gold.cache_info().currsize == 200


@pytest.mark.parametrize(
    "mark", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u202e", "\u2067", "\u00ad"]
)
def test_invisible_marks_do_not_change_the_score(mark):
    from dakota_grammar_translation import rewards
    from dakota_grammar_translation.orthography import canonicalize

    gold = "wićhášta"
    task = {"id": "t", "answer": gold}
    assert canonicalize(f"wi{mark}ćhášta{mark}") == canonicalize(gold)
    assert rewards.score(f"<answer>wi{mark}ćhá{mark}šta</answer>", task, rewards.DEFAULT_WEIGHTS).total == 1.0


def test_letter_counting_refuses_a_huge_completion_without_parsing_it():
    from letter_counting.rewards import MAX_COMPLETION_CHARS, score

    task = {"counts": {"r": 3}, "tier": 1}
    huge = "<answer>3</answer>" + "x" * 10_000_000
    result = score(huge, task)
    assert (result.total, result.format_ok, result.error) == (
        0.0,
        False,
        f"completion longer than {MAX_COMPLETION_CHARS} characters",
    )
    assert score("<answer>3</answer>", task).exact
