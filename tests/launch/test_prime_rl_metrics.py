"""prime-rl's metrics.jsonl read in our names (Contract 5). The keys below are the ones prime-rl @ 559b447
writes: trainer/rl/train.py (loss, entropy, optim, time), orchestrator/metrics.py (`train/agg/all/<agent>/…`,
`eval/<source>/{all,effective}/<agent>/…`), verifiers' `rewards/<fn>` and `metrics/<key>` from our taskset."""

from __future__ import annotations

import json

import pytest

from dakota_rl.backends.prime_rl.metrics import UNMAPPED, merge_steps, read_metrics, to_contract

TRAINER_ROW = {
    "step": 3,
    "time": 1.0,
    "loss/mean": 0.12,
    "entropy/all/mean": 0.8,
    "entropy/dakota/mean": 0.7,
    "optim/lr": 1e-6,
    "optim/grad_norm": 0.4,
    "time/step": 12.5,
    "mismatch_kl/mean": 0.001,
    "perf/throughput": 900.0,
}
ORCHESTRATOR_ROW = {
    "step": 3,
    "train/agg/all/agent/reward/mean": 0.41,
    "train/agg/all/agent/reward/p90": 0.9,
    "train/agg/effective/agent/reward/mean": 0.55,
    "train/dakota_grammar_translation/all/agent/reward/mean": 0.41,
    "train/agg/all/agent/rewards/character/mean": 0.6,
    "train/agg/all/agent/rewards/morphology/mean": 0.3,
    "train/agg/all/agent/rewards/semantic/mean": 0.2,
    "train/agg/all/agent/metrics/exact/mean": 0.05,
    "train/agg/all/agent/metrics/format_ok/mean": 0.75,
    "train/agg/all/agent/is_truncated/mean": 0.125,
    "train/agg/all/agent/num_output_tokens/mean": 37.0,
    "train/agg/all/solved_none": 0.1,
}
EVAL_ROW = {
    "step": 50,
    "eval/dakota_heldout/all/agent/reward/mean": 0.33,
    "eval/dakota_heldout/all/agent/avg@4": 0.33,
    "eval/dakota_heldout/all/agent/rewards/character/mean": 0.5,
    "eval/dakota_heldout/all/agent/metrics/format_ok/mean": 0.9,
    "eval/dakota_heldout/effective/agent/pass@1": 0.04,
    "eval/dakota_heldout/effective/agent/pass@4": 0.11,
    "eval/dakota_heldout/policy_version": 50.0,
}


def test_trainer_and_rollout_rows_map_to_contract_names():
    row = merge_steps([TRAINER_ROW, ORCHESTRATOR_ROW])[0]
    assert row == {
        "step": 3,
        "loss": 0.12,
        "entropy": 0.8,
        "lr": 1e-6,
        "grad_norm": 0.4,
        "step_time_s": 12.5,
        "reward/total": 0.41,
        "reward/character": 0.6,
        "reward/morphology": 0.3,
        "reward/semantic": 0.2,
        "exact_rate": 0.05,
        "format_fail_rate": pytest.approx(0.25),
        "truncated_rate": 0.125,
        "completion_len": 37.0,
    }


def test_eval_rows_keep_their_source_and_pass_at_k():
    row = to_contract(EVAL_ROW)
    assert row["eval/dakota_heldout/reward/total"] == 0.33
    assert row["eval/dakota_heldout/reward/character"] == 0.5
    assert row["eval/dakota_heldout/format_fail_rate"] == pytest.approx(0.1)
    assert row["eval/dakota_heldout/pass@1"] == 0.04 and row["eval/dakota_heldout/pass@4"] == 0.11
    assert "eval/dakota_heldout/policy_version" not in row


def test_unmappable_names_are_documented_and_never_produced():
    produced = set(merge_steps([TRAINER_ROW, ORCHESTRATOR_ROW, EVAL_ROW])[0]) | set(to_contract(EVAL_ROW))
    assert set(UNMAPPED) == {"kl", "reward_std", "frac_zero_std_groups"}
    assert not produced & set(UNMAPPED), "mismatch_kl is not our kl; solved_none is not frac_zero_std_groups"


def test_read_metrics_merges_one_row_per_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    rows = [ORCHESTRATOR_ROW, TRAINER_ROW, {**TRAINER_ROW, "step": 4, "loss/mean": 0.1}, EVAL_ROW]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    steps = read_metrics(path)
    assert [r["step"] for r in steps] == [3, 4, 50]
    assert steps[0]["loss"] == 0.12 and steps[0]["reward/total"] == 0.41
    assert steps[1] == {
        "step": 4,
        "loss": 0.1,
        "entropy": 0.8,
        "lr": 1e-6,
        "grad_norm": 0.4,
        "step_time_s": 12.5,
    }
