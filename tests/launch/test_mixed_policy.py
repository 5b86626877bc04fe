"""Mixed-policy GRPO and backend parity on real TRL trainers over a tiny Qwen3: the gold in the group gets the
advantage its reward implies, the SFT term adds λ·NLL(gold), both off is TRL's GRPO, and the local default
advantage is prime-rl's (reward − group mean)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dakota_rl.backends.local.mixed_policy import first_rows, gold_slots, gold_token_ids, mixed_policy_trainer
from dakota_rl.backends.local.rewards import RewardBank
from dakota_rl.backends.local.settings import LocalTrainSettings
from dakota_rl.backends.local.trainer import grpo_config, train_dataset
from dakota_rl.config import PRIME_RL_PARITY, LocalConfig
from dakota_rl.envs import load_env

pytestmark = pytest.mark.slow

GROUP = 4


def test_gold_slots_and_first_rows_follow_each_task():
    keys = ["a", "a", "a", "b", "b", "b"]
    assert gold_slots(keys) == [2, 5]
    assert first_rows(keys) == [0, 3]


def test_gold_token_ids_end_in_eos_and_respect_the_budget(tiny_qwen3):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_qwen3)
    ids = gold_token_ids("<answer>mawani</answer>", tok, tok.eos_token_id, 64)
    assert ids[-1] == tok.eos_token_id
    assert tok.decode(ids[:-1]) == "<answer>mawani</answer>"
    assert gold_token_ids("<answer>mawani</answer>", tok, tok.eos_token_id, 2) is None


def test_both_options_off_is_trls_grpo_trainer():
    from trl import GRPOTrainer

    assert mixed_policy_trainer(lambda t: "", False, 0.0) is GRPOTrainer
    assert mixed_policy_trainer(lambda t: "", True, 0.0) is not GRPOTrainer


def test_local_defaults_are_prime_rl_parity():
    local = LocalConfig()
    assert local.grpo.scale_rewards == "none" and local.grpo.loss_type == "dapo" and local.kl_beta == 0
    assert not local.mixed_policy.gold_in_group and local.mixed_policy.sft_weight == 0
    assert "group mean" in PRIME_RL_PARITY["advantage"]


def _trainer(tmp_path: Path, model: Path, *, gold_in_group: bool = False, sft_weight: float = 0.0):
    env = load_env("dakota_grammar_translation", {"families": ["morphology"]})
    tasks = env.load_tasks("train")[:2]
    settings = LocalTrainSettings(
        model=str(model),
        max_steps=1,
        batch_size=2 * GROUP,
        group_size=GROUP,
        max_completion_tokens=24,
        lr=1e-5,
        local={"device": "cpu", "mixed_policy": {"gold_in_group": gold_in_group, "sft_weight": sft_weight}},
    )
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    bank = RewardBank(env, settings.max_completion_tokens, [tok.eos_token_id])
    funcs, weights = bank.functions()
    mixed = settings.local.mixed_policy
    cls = mixed_policy_trainer(env.gold_completion, mixed.gold_in_group, mixed.sft_weight)
    trainer = cls(
        model=str(model),
        reward_funcs=funcs,
        args=grpo_config(settings, tmp_path, weights, "t"),
        train_dataset=train_dataset(settings, env, tasks, bank),
        processing_class=tok,
    )
    trainer.model.train()
    rows = [row for row in train_dataset(settings, env, tasks, bank) for _ in range(GROUP)]
    return trainer, env, rows


def _rewards(env, trainer, out, rows) -> list[float]:
    texts = trainer.processing_class.batch_decode(out["completion_ids"], skip_special_tokens=True)
    return [env.score(t, json.loads(r["task_json"]), False).total for t, r in zip(texts, rows, strict=True)]


def test_local_default_advantage_is_reward_minus_group_mean(tmp_path, tiny_qwen3):
    torch.manual_seed(0)
    trainer, env, rows = _trainer(tmp_path, tiny_qwen3)
    out = trainer._generate_and_score_completions(rows)
    rewards = torch.tensor(_rewards(env, trainer, out, rows))
    expected = rewards - rewards.view(-1, GROUP).mean(dim=1).repeat_interleave(GROUP)
    assert torch.allclose(out["advantages"], expected, atol=1e-5)


def test_gold_in_group_gets_the_advantage_its_reward_implies(tmp_path, tiny_qwen3):
    torch.manual_seed(0)
    trainer, env, rows = _trainer(tmp_path, tiny_qwen3, gold_in_group=True)
    out = trainer._generate_and_score_completions(rows)
    texts = trainer.processing_class.batch_decode(out["completion_ids"], skip_special_tokens=True)
    rewards = torch.tensor(_rewards(env, trainer, out, rows))
    for g in range(len(rows) // GROUP):
        slot = g * GROUP + GROUP - 1
        task = json.loads(rows[slot]["task_json"])
        assert texts[slot] == env.gold_completion(task)
        assert rewards[slot] == pytest.approx(1.0)
        sampled = [texts[i] for i in range(g * GROUP, slot)]
        assert env.gold_completion(task) not in sampled  # a tiny random model never samples the gold
        mean = rewards[g * GROUP : slot + 1].mean()
        assert out["advantages"][slot] == pytest.approx(float(1.0 - mean), abs=1e-5)
        assert out["advantages"][slot] > 0


def test_sft_weight_adds_lambda_times_gold_nll(tmp_path, tiny_qwen3):
    lam = 0.5
    torch.manual_seed(0)
    trainer, env, rows = _trainer(tmp_path, tiny_qwen3, sft_weight=lam)
    out = trainer._generate_and_score_completions(rows)
    assert out["gold_mask"].sum(dim=1).gt(0).sum() == len(rows) // GROUP  # once per prompt
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.training_step in a real step
    total = trainer._compute_loss(trainer.model, out)
    from trl import GRPOTrainer

    plain = GRPOTrainer._compute_loss(trainer, trainer.model, out)
    nll = _direct_gold_nll(trainer, env, rows)
    assert float(total) == pytest.approx(float(plain) + lam * nll, rel=1e-4)
    assert trainer._metrics["train"]["sft_nll"][-1] == pytest.approx(nll, rel=1e-4)


def _direct_gold_nll(trainer, env, rows) -> float:
    """Mean token NLL of each task's gold after its chat prompt, computed with a plain forward pass."""
    tok, model = trainer.processing_class, trainer.model
    losses, counts = 0.0, 0
    seen = set()
    for row in rows:
        if row["task_json"] in seen:
            continue
        seen.add(row["task_json"])
        prompt = tok.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        gold = gold_token_ids(env.gold_completion(json.loads(row["task_json"])), tok, tok.eos_token_id, 64)
        ids = torch.tensor([p_ids + gold])
        with torch.no_grad():
            logits = model(ids).logits[0, len(p_ids) - 1 : -1].float()
        losses += float(torch.nn.functional.cross_entropy(logits, torch.tensor(gold), reduction="sum"))
        counts += len(gold)
    return losses / counts
