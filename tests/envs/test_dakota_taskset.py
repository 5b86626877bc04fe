"""The verifiers v1 glue: loading, filters, durable keys, offline scoring equal to the pure scorer,
defaults."""

from __future__ import annotations

import asyncio
import json

import pytest
import verifiers.v1 as vf
from pydantic import ValidationError
from verifiers.v1.utils.loaders import environment_class, taskset_class
from vf_traces import scored

from dakota_grammar_translation import DakotaEnv, DakotaTaskset
from dakota_grammar_translation.orthography import match_key
from dakota_grammar_translation.rewards import Weights, score
from dakota_grammar_translation.tasks import load_tasks, tasks_path
from dakota_grammar_translation.taskset import (
    SYSTEM_PROMPT,
    DakotaData,
    DakotaTask,
    DakotaTaskConfig,
    DakotaTasksetConfig,
)
from env_kit.single_turn import ChatEnvConfig

TASKSET_ID = "dakota_grammar_translation"


@pytest.fixture(scope="module")
def heldout():
    if not tasks_path("heldout").is_file():
        pytest.skip(f"{tasks_path('heldout')} not generated yet (python -m data.build)")
    return load_tasks("heldout")


def taskset(**kwargs) -> DakotaTaskset:
    return DakotaTaskset(DakotaTasksetConfig(id=TASKSET_ID, **kwargs))


def test_package_exports_one_taskset_and_the_env():
    assert taskset_class(TASKSET_ID) is DakotaTaskset
    assert environment_class(TASKSET_ID) is DakotaEnv
    agent = ChatEnvConfig().agent
    assert agent.harness.id == "null" and isinstance(agent.runtime, vf.SubprocessConfig)


def test_load_matches_the_shipped_split(heldout):
    tasks = list(taskset(split="heldout"))
    assert len(tasks) == len(heldout)
    assert [t.data.idx for t in tasks] == list(range(len(tasks)))
    assert [t.key for t in tasks] == [r["id"] for r in heldout]
    first = tasks[0].data
    assert first.system_prompt == SYSTEM_PROMPT and "<answer>" in SYSTEM_PROMPT
    assert first.prompt == heldout[0]["prompt"] and first.answer == heldout[0]["answer"]


def test_filters_limit_and_shuffle(heldout):
    fams = list(taskset(split="heldout", families=["morphology"], difficulties=["hard", "easy"]))
    assert fams and {t.data.family for t in fams} == {"morphology"}
    assert {t.data.difficulty for t in fams} <= {"hard", "easy"}
    a = [t.key for t in taskset(split="heldout", shuffle_seed=3, limit=7)]
    b = [t.key for t in taskset(split="heldout", shuffle_seed=3, limit=7)]
    assert a == b and len(a) == 7 and a != [r["id"] for r in heldout[:7]]
    with pytest.raises(ValidationError):
        DakotaTasksetConfig(families=["poetry"])
    with pytest.raises(ValidationError):
        DakotaTasksetConfig(limit=0)


def test_data_file_option_and_clear_errors(tmp_path, heldout):
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in heldout[:3]), encoding="utf-8")
    assert [t.key for t in taskset(data_file=path)] == [r["id"] for r in heldout[:3]]
    with pytest.raises(FileNotFoundError, match="task file missing"):
        list(taskset(data_file=tmp_path / "absent.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: invalid task record"):
        list(taskset(data_file=bad))


def test_offline_rewards_equal_the_pure_scorer(heldout):
    tasks = list(taskset(split="heldout", shuffle_seed=0, limit=12))
    by_id = {r["id"]: r for r in heldout}
    for task in tasks:
        record = by_id[task.key]
        gold = scored(task, f"<answer>{record['answer']}</answer>")
        assert gold.reward == pytest.approx(1.0) and gold.metrics["exact"] == 1.0
        assert gold.metrics[f"family_{record['family']}"] == 1.0
        for reply in (f"<answer>{record['answer'][:-2]}</answer>", "no idea", ""):
            trace = scored(task, reply)
            pure = score(reply, record)
            assert trace.reward == pytest.approx(pure.total, abs=1e-9)
            assert trace.rewards["character"].score == pytest.approx(pure.character)
            assert trace.metrics["format_ok"] == float(pure.format_ok)


def test_reasoning_content_is_not_scored(heldout):
    task = next(iter(taskset(split="heldout", limit=1)))
    answer = heldout[0]["answer"]
    assert scored(task, "I give up.", reasoning=f"<answer>{answer}</answer>").reward < 0.5
    assert scored(task, f"<answer>{answer}</answer>", reasoning="thinking").reward == pytest.approx(1.0)


def test_weights_are_configurable(heldout):
    cfg = DakotaTaskConfig(weights={"character": 1.0, "morphology": 0.0, "semantic": 0.0})
    task = next(iter(DakotaTaskset(DakotaTasksetConfig(id=TASKSET_ID, split="heldout", limit=1, task=cfg))))
    reply = f"<answer>{heldout[0]['answer']}x</answer>"
    trace = scored(task, reply)
    assert trace.reward == pytest.approx(
        score(reply, heldout[0], Weights(character=1.0, morphology=0.0, semantic=0.0)).character
    )
    with pytest.raises(ValidationError, match="sum to at most 1"):
        DakotaTaskConfig(weights={"character": 0.9})


def test_task_rebuilt_from_wire_data_scores_the_same(heldout):
    """The env server rebuilds a task from its TaskData dump alone (it never calls load())."""
    task = next(iter(taskset(split="heldout", limit=1)))
    wire = json.loads(task.data.model_dump_json())
    rebuilt = DakotaTask(DakotaData.model_validate(wire), DakotaTaskConfig())
    reply = f"<answer>{heldout[0]['answer'][:-1]}</answer>"
    assert scored(rebuilt, reply).reward == pytest.approx(scored(task, reply).reward)
    assert rebuilt.key == task.key


def test_validate_checks_golds_without_a_model(heldout):
    tasks = list(taskset(split="heldout", shuffle_seed=1, limit=20))
    assert all(asyncio.run(t.validate(None)) for t in tasks)
    broken = tasks[0].with_data(meta={**tasks[0].data.meta, "segments": [{"form": "zzz", "kind": "stem"}]})
    assert asyncio.run(broken.validate(None)) is False


def test_system_prompt_leaks_no_gold(heldout):
    words = set(match_key(SYSTEM_PROMPT).replace(",", " ").replace(".", " ").split())
    golds = {match_key(r["answer"]) for r in (*heldout, *load_tasks("train"))}
    assert not words & golds


def test_orthography_option_accepts_modern_spelling_only_when_asked():
    record = {
        "id": "o1",
        "split": "train",
        "family": "morphology",
        "difficulty": "easy",
        "prompt": "Inflect kaġa for I.",
        "answer": "wakaġa",
        "alternatives": [],
        "answer_language": "dakota",
        "meta": {"segments": [{"form": "wa", "kind": "prefix"}, {"form": "kaġa", "kind": "stem"}]},
    }

    def task(orthography: str) -> DakotaTask:
        data = DakotaData(
            idx=0,
            id="o1",
            prompt=record["prompt"],
            answer="wakaġa",
            split="train",
            family="morphology",
            difficulty="easy",
            meta=record["meta"],
        )
        return DakotaTask(data, DakotaTaskConfig(orthography=orthography))

    modern = "<answer>wakhaǧa</answer>"  # modern aspiration kh, which Riggs does not write
    assert scored(task("riggs"), modern).reward < 1.0
    assert scored(task("modern"), modern).reward == pytest.approx(1.0)
    assert scored(task("either"), modern).reward == pytest.approx(1.0)
    assert scored(task("either"), "<answer>wakaġa</answer>").reward == pytest.approx(1.0)
    assert DakotaTaskConfig().orthography == "riggs"
    with pytest.raises(ValidationError):
        DakotaTaskConfig(orthography="latin")


def test_reward_version_format_gate_and_exact_match_reach_the_task(heldout):
    """`--env.taskset.task.reward-version`, `.format-gate` and `.weights.exact-match` score like the pure
    scorer with the same options; v2 and no gate by default."""
    record = next(r for r in heldout if r["family"] == "morphology")
    lemma_copy = f"<answer>{record['meta']['stem']}</answer>"

    def first(config: DakotaTaskConfig) -> DakotaTask:
        return next(iter(DakotaTaskset(DakotaTasksetConfig(id=TASKSET_ID, split="heldout", task=config))))

    assert DakotaTaskConfig().reward_version == 2 and DakotaTaskConfig().format_gate == 0.0
    assert first(DakotaTaskConfig()).key == record["id"]
    for version in (1, 2):
        trace = scored(first(DakotaTaskConfig(reward_version=version)), lemma_copy)
        assert trace.reward == pytest.approx(score(lemma_copy, record, version=version).total, abs=1e-12)
    assert scored(first(DakotaTaskConfig()), lemma_copy).reward == 0.0
    assert scored(first(DakotaTaskConfig(reward_version=1)), lemma_copy).reward > 0.1
    untagged = record["answer"]
    assert scored(first(DakotaTaskConfig()), untagged).reward == pytest.approx(1.0)
    assert scored(first(DakotaTaskConfig(format_gate=0.5)), untagged).reward == pytest.approx(0.5)
    weights = {"character": 0.3, "morphology": 0.3, "semantic": 0.2, "exact_match": 0.2}
    near = f"<answer>{record['answer'][:-1]}</answer>"
    trace = scored(first(DakotaTaskConfig(weights=weights)), near)
    pure = score(near, record, Weights(**weights))
    assert trace.reward == pytest.approx(pure.total, abs=1e-12) and trace.rewards["exact_match"].score == 0.0
    assert scored(first(DakotaTaskConfig(weights=weights)), untagged).reward == pytest.approx(1.0)
    for bad in ({"reward_version": 3}, {"format_gate": 1.5}, {"weights": {"exact_match": 0.2}}):
        with pytest.raises(ValidationError):
            DakotaTaskConfig(**bad)
