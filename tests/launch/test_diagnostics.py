"""The RL diagnostics equal a direct computation: pass@k and best-of-k by enumerating every k-subset, the
lemma-copy detector on fixed completions scored by the real env, reward↔exact correlation by hand."""

from __future__ import annotations

from itertools import combinations
from statistics import fmean

import pytest

from dakota_rl.backends.local.heldout import HeldoutEval, summarize
from dakota_rl.backends.local.sampled_eval import pass_ks
from dakota_rl.diagnostics import best_of_k, greedy_diagnostics, pass_at_k, pearson, sample_diagnostics
from dakota_rl.envs import load_env

SAMPLES = [
    {"rewards": [0.2, 1.0, 0.4, 0.4], "exact": [False, True, False, False]},
    {"rewards": [0.1, 0.1, 0.3, 0.9], "exact": [False, False, False, False]},
    {"rewards": [0.9, 1.0, 1.0, 0.5], "exact": [False, True, True, False]},
]


def _direct_pass(exact: list[bool], k: int) -> float:
    subsets = list(combinations(exact, k))
    return sum(any(s) for s in subsets) / len(subsets)


def _direct_best(rewards: list[float], k: int) -> float:
    subsets = list(combinations(rewards, k))
    return sum(max(s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_pass_at_k_and_best_of_k_equal_enumeration(k):
    for s in SAMPLES:
        assert pass_at_k(4, sum(s["exact"]), k) == pytest.approx(_direct_pass(s["exact"], k))
        assert best_of_k(s["rewards"], k) == pytest.approx(_direct_best(s["rewards"], k))


def test_sample_diagnostics_summarise_over_tasks():
    d = sample_diagnostics(SAMPLES, [1, 4])
    assert d["pass@1"] == pytest.approx(fmean([1 / 4, 0, 2 / 4]))
    assert d["pass@4"] == pytest.approx(2 / 3)
    assert d["best_of_4_reward"] == pytest.approx(fmean([1.0, 0.9, 1.0]))
    assert d["sampled_reward"] == pytest.approx(fmean(fmean(s["rewards"]) for s in SAMPLES))
    assert d["tasks_with_an_exact_sample"] == pytest.approx(2 / 3)
    assert d["top_reward_is_exact"] == 1.0  # both solvable tasks rank an exact sample first
    wrong_top = [{"rewards": [1.0, 0.5], "exact": [False, True]}]
    assert sample_diagnostics(wrong_top, [1])["top_reward_is_exact"] == 0.0
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)
    assert pass_ks(16) == [1, 4, 16] and pass_ks(8) == [1, 4, 8]


def test_pearson_by_hand_and_constant_is_none():
    xs, ys = [0.1, 0.5, 0.9, 0.2], [0.0, 1.0, 1.0, 0.0]
    mx, my = fmean(xs), fmean(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = (sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)) ** 0.5
    assert pearson(xs, ys) == pytest.approx(num / den)
    assert pearson([0.1, 0.2], [1.0, 1.0]) is None


def test_lemma_copy_rate_on_fixed_completions():
    """Half the morphology tasks answered with their lemma, half with the gold; syntax tasks never count."""
    env = load_env("dakota_grammar_translation")
    tasks = env.load_tasks("heldout")
    morph = [t for t in tasks if t["family"] == "morphology" and t["answer"] != t["meta"]["stem"]][:10]
    syntax = [t for t in tasks if t["family"] == "syntax"][:4]
    heldout = HeldoutEval(env, morph + syntax, out_dir=None)
    completions = [
        (f"<answer>{t['meta']['stem'] if i % 2 else t['answer']}</answer>", False)
        for i, t in enumerate(morph)
    ] + [(f"<answer>{t['meta']['stem']}</answer>", False) for t in syntax]
    rows = heldout.score(completions)
    assert [r["lemma_copy"] for r in rows[:10]] == [bool(i % 2) for i in range(10)]
    assert all(r["lemma_copy"] is None for r in rows[10:])
    assert summarize(rows, list(env.components))["eval/lemma_copy_rate"] == 0.5
    diag = greedy_diagnostics(rows)
    assert diag["lemma_copy_rate"] == 0.5
    by_hand = pearson([r["total"] for r in rows], [float(r["exact"]) for r in rows])
    assert diag["reward_exact_corr"] == pytest.approx(by_hand)
    assert diag["family"]["morphology"]["n"] == 10


@pytest.mark.slow
def test_in_loop_eval_adds_sampled_diagnostics(tiny_qwen3, tmp_path):
    """`[local.eval] samples`: the held-out eval also samples each of the first tasks and logs pass@k."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dakota_rl.backends.local.heldout import read_rows

    env = load_env("dakota_grammar_translation")
    heldout = HeldoutEval(
        env, env.load_tasks("heldout")[:4], tmp_path, max_tokens=6, samples=2, sample_tasks=3
    )
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3)
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen3)
    rows, summary = heldout.run(model, tokenizer, "step_000000")
    assert len(rows) == 4 and {"eval/pass@1", "eval/pass@2", "eval/best_of_2_reward"} <= set(summary)
    samples = read_rows(tmp_path / "samples" / "step_000000.jsonl")
    assert [s["task_id"] for s in samples] == [r["task_id"] for r in rows[:3]]
    assert all(len(s["rewards"]) == 2 and len(s["completions"]) == 2 for s in samples)
    by_hand = fmean(fmean(s["rewards"]) for s in samples)
    assert summary["eval/sampled_reward"] == pytest.approx(by_hand)


def test_shared_prefix_generation_equals_plain_generate(tiny_qwen3):
    """The prompt's KV cache computed once and repeated gives the same tokens as generating from the
    repeated prompts (what `num_return_sequences` does; greedy, so both are deterministic), left padding
    included."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dakota_rl.backends.local.sampled_eval import generate_shared_prefix

    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen3)
    tokenizer.padding_side = "left"
    enc = tokenizer(
        ["Dakota verb: mani", "A much longer prompt about the verb apa, to strike"],
        return_tensors="pt",
        padding=True,
    )
    kwargs = {"max_new_tokens": 8, "do_sample": False, "pad_token_id": tokenizer.pad_token_id}
    shared = generate_shared_prefix(model, enc, 3, **kwargs)
    repeated = {k: v.repeat_interleave(3, dim=0) for k, v in enc.items()}
    plain = model.generate(**repeated, **kwargs)[:, enc["input_ids"].shape[1] :]
    assert shared.shape == plain.shape and shared.tolist() == plain.tolist()
