"""envs.py: each environment package describes itself (`<id>.spec.env_spec`), options checked by it."""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from dakota_rl.backends.local import taskset_path
from dakota_rl.backends.local.settings import settings_from
from dakota_rl.config import load_config
from dakota_rl.envs import EnvSpec, load_env
from dakota_rl.errors import UserError

REPO = Path(__file__).resolve().parents[2]
LETTERS = REPO / "configs" / "letter_counting.toml"


def local_env(*overrides: str) -> EnvSpec:
    """The EnvSpec the local backend builds for `configs/letter_counting.toml` + overrides."""
    resolved = load_config(["@", str(LETTERS), *overrides])
    settings, _ = settings_from(resolved)
    return load_env(settings.env_id, settings.env_options, where=taskset_path(resolved))


def test_letter_counting_mixture_reaches_the_local_trainer():
    key = "--orchestrator.train.source"
    source = (
        '[{"env": {"taskset": {"id": "letter_counting", "mixture": {"1": 1, "6": 3}, "num_tasks": 200}}}]'
    )
    env = local_env(key, source)
    tiers = Counter(task["tier"] for task in env.load_tasks("train"))
    assert set(tiers) == {1, 6}
    assert tiers[6] > tiers[1]  # weights 1 : 3
    assert env.curriculum is None


def test_letter_counting_curriculum_reaches_the_local_trainer():
    options = '{"id": "letter_counting", "curriculum": true, "curriculum_window": 2, "num_tasks": 4}'
    env = local_env("--orchestrator.train.source", f'[{{"env": {{"taskset": {options}}}}}]')
    assert {t["tier"] for t in env.load_tasks("train")} == {3}  # the curriculum's start tier
    assert env.curriculum is not None and env.train_task is not None
    env.curriculum.update([1.0, 1.0])
    env.curriculum.update([1.0, 1.0])  # a full window of successes: one tier up
    assert env.train_task(0)["tier"] == 4


def test_letter_counting_reward_mode_and_eval_tiers_mean_the_same_as_in_verifiers():
    env = load_env("letter-counting", {"task": {"reward_mode": "binary"}, "eval_tiers": [2]})
    task = env.load_tasks(env.heldout_split)[0]
    assert {t["tier"] for t in env.load_tasks("eval")} == {2}
    assert env.score("<answer>999</answer>", task, False).total == 0.0  # binary: no 0.1 format credit
    assert env.score(env.gold_completion(task), task, False).total == 1.0
    assert env.eval_options == {"task": {"reward_mode": "binary"}, "eval_tiers": [2]}


def test_dakota_options_filter_and_weight_like_the_taskset():
    env = load_env(
        "dakota_grammar_translation",
        {
            "families": ["syntax"],
            "limit": 3,
            "task": {"weights": {"semantic": 1.0, "character": 0.0, "morphology": 0.0}},
        },
    )
    tasks = env.load_tasks("train")
    assert len(tasks) == 3 and {t["family"] for t in tasks} == {"syntax"}
    assert env.components == {"character": 0.0, "morphology": 0.0, "semantic": 1.0}
    assert env.score(env.gold_completion(tasks[0]), tasks[0], False).total == pytest.approx(1.0)
    assert env.eval_options["families"] == ["syntax"]


def test_dakota_orthography_option_scores_like_the_verifiers_task():
    modern = load_env("dakota_grammar_translation", {"task": {"orthography": "modern"}})
    riggs = load_env("dakota_grammar_translation")
    task = next(
        t for t in modern.load_tasks("train") if "ḳ" in t["answer"] and t["answer_language"] == "dakota"
    )
    completion = "<answer>" + task["answer"].replace("ḳ", "k'") + "</answer>"
    assert modern.score(completion, task, False).exact and not riggs.score(completion, task, False).exact
    assert riggs.load_tasks("attested")  # every split the taskset knows loads through the spec


def test_dakota_reward_options_score_like_the_verifiers_task():
    from dakota_grammar_translation.rewards import Weights, score

    default = load_env("dakota_grammar_translation", {"families": ["morphology"], "limit": 1})
    v1 = load_env(
        "dakota_grammar_translation", {"families": ["morphology"], "limit": 1, "task": {"reward_version": 1}}
    )
    weights = {"character": 0.3, "morphology": 0.3, "semantic": 0.2, "exact_match": 0.2}
    gated = load_env("dakota_grammar_translation", {"task": {"format_gate": 0.5, "weights": weights}})
    task = default.load_tasks("train")[0]
    copy = f"<answer>{task['meta']['stem']}</answer>"
    assert (
        default.score(copy, task, False) == score(copy, task) and default.score(copy, task, False).total == 0
    )
    assert v1.score(copy, task, False) == score(copy, task, version=1)
    assert default.components == {"character": 0.4, "morphology": 0.4, "semantic": 0.2}
    assert gated.components == weights
    assert gated.score(task["answer"], task, False).total == pytest.approx(0.5)
    assert gated.score(copy, task, False) == score(copy, task, Weights(**weights), format_gate=0.5)


@pytest.mark.parametrize(
    ("env_id", "options", "message"),
    [
        ("letter_counting", {"mixtrue": {1: 1}}, "unknown key `taskset.mixtrue`"),
        ("letter_counting", {"task": {"reward_mod": "binary"}}, "unknown key `taskset.task.reward_mod`"),
        ("letter_counting", {"tier": 11}, "`taskset.tier`"),
        ("letter_counting", {"mixture": {1: 1}, "curriculum": True}, "either mixture or curriculum"),
        ("dakota_grammar_translation", {"families": ["poetry"]}, "`taskset.families[0]`"),
        ("dakota_grammar_translation", {"famlies": ["syntax"]}, "unknown key `taskset.famlies`"),
        ("dakota_grammar_translation", {"task": {"reward_version": 3}}, "`taskset.task.reward_version`"),
        ("dakota_grammar_translation", {"task": {"format_gate": 2}}, "`taskset.task.format_gate`"),
        ("no_such_env", {}, "unknown env id 'no_such_env'"),
        ("../etc", {}, "unknown env id '../etc'"),
    ],
)
def test_bad_options_are_refused_with_their_path(env_id, options, message):
    with pytest.raises(UserError) as err:
        load_env(env_id, options)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_taskset_key_in_a_config_names_the_full_path():
    with pytest.raises(
        UserError, match=r"unknown key `orchestrator\.train\.source\[0\]\.env\.taskset\.seeed`"
    ):
        local_env(
            "--orchestrator.train.source", '[{"env": {"taskset": {"id": "letter_counting", "seeed": 1}}}]'
        )


def write_spec(tmp_path, body: str) -> None:
    package = tmp_path / "echo_env"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "spec.py").write_text(textwrap.dedent(body))


@pytest.fixture
def echo_env(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("echo_env.spec", None)
    sys.modules.pop("echo_env", None)


ECHO_SPEC = """
    from types import SimpleNamespace
    from env_kit import EnvSpec

    def env_spec(options):
        return {kind}(
            id="echo_env", system_prompt="Repeat.", components={{"total": 1.0}},
            score=lambda completion, task, truncated: SimpleNamespace(
                total=float(completion == task["answer"])),
            load_tasks=lambda split: [{{"prompt": "a", "answer": "a"}}],
            gold_completion=lambda t: t["answer"],
            group_keys=(), heldout_split="test", eval_options={{}}{extra})
"""


def test_a_new_environment_needs_only_its_own_spec(echo_env):
    write_spec(echo_env, ECHO_SPEC.format(kind="EnvSpec", extra=""))
    env = load_env("echo_env")
    assert env.score("a", env.load_tasks("train")[0], False).total == 1.0
    assert env.curriculum is None and env.with_curriculum is None


def test_a_misspelt_spec_field_is_refused_not_dropped(echo_env):
    write_spec(echo_env, ECHO_SPEC.format(kind="EnvSpec", extra=", curriculm=None"))
    with pytest.raises(TypeError, match="curriculm"):
        load_env("echo_env")


def test_a_spec_of_another_type_is_one_user_error(echo_env):
    write_spec(echo_env, ECHO_SPEC.format(kind="SimpleNamespace", extra=""))
    with pytest.raises(UserError, match="returned SimpleNamespace, not env_kit.EnvSpec"):
        load_env("echo_env")


def test_each_split_is_read_once(echo_env):
    body = ECHO_SPEC.format(kind="EnvSpec", extra="").replace(
        'load_tasks=lambda split: [{"prompt": "a", "answer": "a"}]',
        "load_tasks=lambda split: READS.append(split) or [{'prompt': 'a', 'answer': 'a'}]",
    )
    assert "READS.append" in body
    write_spec(echo_env, "\n    READS = []" + body)
    env = load_env("echo_env")
    first, second = env.load_tasks("train"), env.load_tasks("train")
    env.load_tasks("test")
    assert first == second and first is not second
    assert sys.modules["echo_env.spec"].READS == ["train", "test"]
