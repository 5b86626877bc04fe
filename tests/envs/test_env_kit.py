"""env_kit, the glue the environments share: each verifiers rollout is scored once (counted on real traces of
the three real tasks), weights models name and check the components, records round-trip through the typed
task data, and the verifiers rewards are the weights model's components."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from pydantic import ValidationError
from vf_traces import one_turn_trace

from dakota_grammar_translation.rewards import Weights as DakotaWeights
from dakota_grammar_translation.tasks import load_tasks
from dakota_grammar_translation.taskset import DakotaData, DakotaTaskset, DakotaTasksetConfig
from env_kit import ProbeFamily
from letter_counting.taskset import LetterCountingConfig, LetterCountingTaskset
from parallel_translation.rewards import Weights as TranslationWeights
from parallel_translation.taskset import ParallelTranslationConfig, ParallelTranslationTaskset

TASKSETS = {
    "dakota_grammar_translation": (
        "score_in_orthography",
        lambda: DakotaTaskset(DakotaTasksetConfig(id="dakota_grammar_translation", split="heldout", limit=2)),
    ),
    "letter_counting": (
        "score",
        lambda: LetterCountingTaskset(LetterCountingConfig(id="letter_counting", num_tasks=2)),
    ),
    "parallel_translation": (
        "score",
        lambda: ParallelTranslationTaskset(
            ParallelTranslationConfig(id="parallel_translation", split="heldout")
        ),
    ),
}


@pytest.mark.parametrize("env_id", sorted(TASKSETS))
def test_a_rollout_is_scored_once_however_many_rewards_and_metrics_read_it(env_id, monkeypatch):
    scorer_name, make = TASKSETS[env_id]
    module = importlib.import_module(f"{env_id}.taskset")
    real, calls = getattr(module, scorer_name), []

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, scorer_name, counted)
    task = next(iter(make()))
    signals = len(task.hooks("reward")) + len(task.hooks("metric"))
    assert signals >= 2
    first, second = one_turn_trace(task, "<answer>x</answer>"), one_turn_trace(task, "<answer>y</answer>")
    asyncio.run(task.score(first))
    assert calls == ["<answer>x</answer>"]
    asyncio.run(task.score(second))  # the cache is per trace: another rollout of the task is scored anew
    assert calls == ["<answer>x</answer>", "<answer>y</answer>"]
    expected = real("<answer>y</answer>", *_scorer_args(task))
    assert second.reward == pytest.approx(expected.total, abs=1e-9)
    assert all(r is not None for r in second.rewards.values())


def _scorer_args(task) -> tuple:
    """The pure scorer's other arguments, as each env's task passes them (default options)."""
    if hasattr(task.config, "weights"):
        return (task.data.record(), task.config.weights)
    return (task.data.record(), task.config.reward_mode)


def test_the_verifiers_rewards_are_the_weights_models_components():
    dakota = next(iter(TASKSETS["dakota_grammar_translation"][1]()))
    translation = next(iter(TASKSETS["parallel_translation"][1]()))
    assert sorted(f.__name__ for f in dakota.hooks("reward")) == sorted(DakotaWeights.names())
    assert sorted(f.__name__ for f in translation.hooks("reward")) == ["chrf", "sanity", "special"]
    assert {k: v.weight for k, v in dakota.config.rewards.items()} == DakotaWeights().model_dump()
    with pytest.raises(ValidationError, match="reward model"):
        ParallelTranslationConfig(task={"weights": {"chrf": 0.5, "learned": 0.2}})


def test_a_component_may_not_shadow_a_task_attribute():
    from env_kit import Weights
    from env_kit.single_turn import RecordData, SingleTurnTask, WeightedTaskConfig

    class Clashing(Weights):
        score: float = 1.0

    class Config(WeightedTaskConfig):
        weights: Clashing = Clashing()

    with pytest.raises(TypeError, match="shadow vf.Task.score"):

        class Task(SingleTurnTask[RecordData, Config]):
            pass


def test_weights_models_check_their_rule_and_refuse_unknown_components():
    assert DakotaWeights().components() == {"character": 0.4, "morphology": 0.4, "semantic": 0.2}
    assert DakotaWeights(character=0.3, exact_match=0.1).components()["exact_match"] == 0.1
    assert TranslationWeights(chrf=0.5, learned=0.2).components()["learned"] == 0.2
    assert "learned" not in TranslationWeights(chrf=0.5, learned=0.2).verifiers_rewards()
    with pytest.raises(ValidationError, match="at most 1"):
        DakotaWeights(character=0.9)
    with pytest.raises(ValidationError, match="sum to 1"):
        TranslationWeights(chrf=0.5)
    with pytest.raises(ValidationError, match="extra"):
        DakotaWeights(charcter=0.4)


def test_a_record_is_read_once_into_typed_data_that_the_scorer_reads_as_it_is():
    from dakota_grammar_translation.rewards import score

    record = load_tasks("heldout")[0]
    data = DakotaData.from_record(record, 0, system_prompt="s")
    assert data.record() == record and list(data.record()) == list(record)
    assert data.record()["meta"] is not data.meta  # the plain dict is a copy
    assert data["answer"] == record["answer"] and data.get("system_prompt") is None  # not a record key
    with pytest.raises(KeyError):
        data["idx"]
    for reply in (f"<answer>{record['answer']}</answer>", record["meta"]["stem"], "", "<answer>x</answer>"):
        assert score(reply, data) == score(reply, record)


def test_probe_family_range():
    family = ProbeFamily("empty", "hack", 0.0, 0.2, "an empty completion", lambda t, r, o: "")
    assert family.in_range(0.2) and family.in_range(0.0) and not family.in_range(0.21)
