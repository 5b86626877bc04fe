"""letter_counting verifiers glue: loading train/eval tasks, config knobs, and offline scoring of traces
with the real `Task.score` (no model, no runtime), which must equal the pure scorer."""

from __future__ import annotations

import itertools
import json

import pytest
import verifiers.v1 as vf
import vf_traces

from letter_counting import LetterCountingEnv, LetterCountingTaskset
from letter_counting.generate import TIERS, eval_texts
from letter_counting.rewards import score
from letter_counting.taskset import LetterCountingConfig, LetterCountingTaskConfig


def taskset(**config) -> LetterCountingTaskset:
    return LetterCountingTaskset(LetterCountingConfig(id="letter_counting", **config))


def scored(task, reply: str, finish_reason: str = "stop") -> vf.Trace:
    """The scored trace of `reply`, its model call ended by `finish_reason`."""
    return vf_traces.scored(task, reply, finish_reason=finish_reason)


def gold_reply(task) -> str:
    counts = task.data.counts
    return f"<answer>{json.dumps(counts) if len(counts) > 1 else next(iter(counts.values()))}</answer>"


def test_package_exports_one_taskset_and_an_env_that_defaults_to_null_and_subprocess():
    config = vf.resolve_env_config({"taskset": {"id": "letter_counting"}})
    env = vf.load_environment(config)
    assert isinstance(env, LetterCountingEnv)
    assert config.agent.harness.id == "null"
    assert config.agent.runtime.type == "subprocess"
    assert isinstance(env.taskset, LetterCountingTaskset)


def test_eval_split_loads_the_frozen_sets_and_train_is_endless_unless_bounded():
    ev = taskset(split="eval")
    tasks = list(ev)
    assert ev.bounded and len(tasks) == 200 * len(TIERS)
    assert [t.data.idx for t in tasks] == list(range(len(tasks)))
    assert len({t.data.id for t in tasks}) == len(tasks)
    assert {t.data.tier for t in taskset(split="eval", eval_tiers=[2, 7])} == {2, 7}
    train = taskset(seed=4, tier=5)
    assert not train.bounded
    first = [t.data for t in itertools.islice(train, 30)]
    assert first == [t.data for t in itertools.islice(taskset(seed=4, tier=5), 30)]
    assert all(t.tier == 5 and t.split == "train" and t.text not in eval_texts() for t in first)
    assert len(list(taskset(num_tasks=7))) == 7 and taskset(num_tasks=7).bounded
    assert first[0].system_prompt.startswith("You are a helpful assistant.")


def test_mixture_and_config_validation():
    tiers = {t.data.tier for t in itertools.islice(taskset(mixture={1: 1, 8: 1}), 60)}
    assert tiers == {1, 8}
    with pytest.raises(ValueError, match="either mixture or curriculum"):
        LetterCountingConfig(mixture={1: 1.0}, curriculum=True)
    with pytest.raises(ValueError):
        LetterCountingConfig(tier=11)
    with pytest.raises(ValueError):
        LetterCountingTaskConfig(reward_mode="fractional")


def test_curriculum_reported_by_the_trainer_moves_the_next_tasks_tier_in_every_view():
    ts = taskset(curriculum=True, curriculum_window=2, tier=3)
    view = ts.take(100)
    stream = iter(view)
    assert next(stream).data.tier == 3
    for _ in range(2):
        ts.curriculum.update([1.0, 1.0, 1.0, 0.1])  # 0.75: holds
    assert next(stream).data.tier == 3
    for _ in range(2):
        ts.curriculum.update([1.0, 1.0, 1.0, 1.0])
    assert next(stream).data.tier == 4
    assert view.curriculum is ts.curriculum


@pytest.mark.parametrize("mode", ["partial", "binary"])
def test_task_rewards_and_metrics_equal_the_pure_scorer(mode):
    tasks = list(taskset(split="eval", eval_tiers=[1, 4], task=LetterCountingTaskConfig(reward_mode=mode)))[
        ::40
    ]
    for task in tasks:
        gold = {"counts": task.data.counts, "tier": task.data.tier}
        for reply in [gold_reply(task), "<answer>999</answer>", '<answer>{"a": 1}</answer>', "no idea"]:
            trace = scored(task, reply)
            expected = score(reply, gold, mode)
            assert trace.reward == pytest.approx(expected.total)
            assert trace.metrics == pytest.approx(expected.as_metrics())
        assert scored(task, gold_reply(task)).reward == 1.0


def test_a_length_truncated_reply_scores_zero():
    task = next(iter(taskset(split="eval", eval_tiers=[1])))
    trace = scored(task, gold_reply(task), finish_reason="length")
    assert trace.is_truncated and trace.reward == 0.0 and trace.metrics["truncated"] == 1.0
    assert scored(task, gold_reply(task)).reward == 1.0
