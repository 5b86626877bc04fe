"""The learned reward model: ranked pairs are built as documented, and TRL's RewardTrainer on the tiny Qwen3
learns a knowable preference (reference ≻ its repetition / ASCII folding) well above chance on held-out
pairs; its score then joins the reward as the `learned` component."""

from __future__ import annotations

import pytest

from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.pairs import ascii_fold, corrupted_pairs, sample_pairs
from parallel_translation.rewards import Weights, score

SYSTEM = "Translate."


def test_pairs_are_seeded_and_prefer_the_reference():
    tasks = load_tasks(CorpusOptions(split="heldout", direction="into"))[:60]
    pairs = corrupted_pairs(tasks, SYSTEM, seed=3)
    assert pairs == corrupted_pairs(tasks, SYSTEM, seed=3) and len(pairs) >= 40
    for p in pairs:
        task = next(t for t in tasks if t["prompt"] == p["prompt"][1]["content"])
        assert p["chosen"][0]["content"] == task["answer"] != p["rejected"][0]["content"]
    assert ascii_fold("nićepapi śni") == "nicepapi sni"
    task = tasks[0]
    ranked = sample_pairs(task, [task["answer"], task["answer"][:2], "zzz"], SYSTEM)
    assert all(p["chosen"][0]["content"] != "zzz" for p in ranked)
    assert {p["kind"] for p in ranked} == {"sample", "sample_rank"}
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupted_pairs(tasks, SYSTEM, ["nonsense"])


@pytest.mark.slow
def test_reward_model_beats_chance_on_held_out_pairs(tmp_path, tiny_qwen3):
    from parallel_translation.reward_model import (
        LearnedReward,
        RewardModelSettings,
        pairwise_accuracy,
        train_reward_model,
    )

    kinds = ["repeat", "ascii_fold"]
    train = corrupted_pairs(load_tasks(CorpusOptions(split="train", direction="into")), SYSTEM, kinds, seed=0)
    heldout = corrupted_pairs(load_tasks(CorpusOptions(split="heldout", direction="into")), SYSTEM, kinds, 1)
    settings = RewardModelSettings(steps=40, learning_rate=1e-3, batch_size=8, max_length=96)
    model_dir = train_reward_model(tiny_qwen3, train[:320], tmp_path / "rm", settings)
    scorer = LearnedReward(model_dir, SYSTEM)
    result = pairwise_accuracy(scorer, heldout[:80])
    assert result["n"] == 80
    assert result["accuracy"] >= 0.75, result  # chance is 0.5

    task = load_tasks(CorpusOptions(split="heldout", direction="into"))[0]
    with_rm = score(
        task["answer"], task, Weights(chrf=0.6, special=0.1, sanity=0.1, learned=0.2), learned=scorer
    )
    assert 0.0 < with_rm.learned < 1.0
    assert with_rm.total == pytest.approx(0.8 + 0.2 * with_rm.learned)
