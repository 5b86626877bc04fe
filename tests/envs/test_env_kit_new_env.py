"""A new environment is its pure modules + one small glue file + a config: a fourth, toy environment written
into a temporary folder trains one GRPO step with the local backend, scores its verifiers rollouts once, and
its components reach the metrics and the model card, with no launcher change."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import tiny_run_config

from dakota_rl.backends.local import train
from dakota_rl.config import load_config

pytestmark = pytest.mark.slow

PURE = '''
"""Echo the word in the prompt (pure: the tasks and the scorer)."""
from dataclasses import dataclass

from env_kit import Weights as ComponentWeights

WORDS = ["river", "stone", "cloud", "maple", "otter", "cedar", "prairie", "heron", "ember", "willow"]


class Weights(ComponentWeights):
    exact: float = 0.5
    length: float = 0.5


@dataclass(frozen=True)
class Scores:
    exact: float
    length: float
    total: float
    format_ok: bool
    truncated: bool


def load_tasks(split):
    words = WORDS[:8] if split == "train" else WORDS[8:]
    return [{"id": f"echo-{w}", "prompt": f"Repeat: {w}", "answer": w, "split": split} for w in words]


def score(completion, task, weights, truncated=False):
    answer = (completion or "").strip()
    exact = float(answer == task["answer"] and not truncated)
    length = max(0.0, 1 - abs(len(answer) - len(task["answer"])) / len(task["answer"]))
    total = weights.exact * exact + weights.length * length
    return Scores(exact, length, total, bool(answer), truncated)
'''

GLUE = '''
"""The toy env's one glue file: the verifiers task and taskset, and the launcher's EnvSpec."""
import verifiers.v1 as vf
from env_kit import EnvSpec
from env_kit.single_turn import ChatEnv, RecordData, SingleTurnTask, WeightedTaskConfig

from toy_echo import echo

WEIGHTS = echo.Weights


class EchoData(RecordData):
    answer: str
    split: str = ""


class EchoTaskConfig(WeightedTaskConfig):
    weights: echo.Weights = echo.Weights()


class EchoTask(SingleTurnTask[EchoData, EchoTaskConfig]):
    def score_reply(self, reply, truncated):
        return echo.score(reply, self.data.record(), self.config.weights, truncated)


class EchoConfig(vf.TasksetConfig):
    task: EchoTaskConfig = EchoTaskConfig()
    split: str = "train"


class EchoTaskset(vf.Taskset[EchoTask, EchoConfig]):
    def load(self):
        records = echo.load_tasks(self.config.split)
        return [EchoTask(EchoData.from_record(r, i), self.config.task) for i, r in enumerate(records)]


class EchoEnv(ChatEnv):
    pass


def env_spec(options):
    config = EchoConfig.model_validate({**options, "id": "toy_echo"})
    weights = config.task.weights
    return EnvSpec(
        id="toy_echo",
        config=config,
        system_prompt="Repeat the word.",
        components=weights.components(),
        score=lambda completion, task, truncated: echo.score(completion, task, weights, truncated),
        load_tasks=echo.load_tasks,
        gold_completion=lambda task: task["answer"],
        group_keys=("split",),
        heldout_split="heldout",
        eval_options={},
    )
'''

# The toy env's config: the tiny run (tests/configs/tiny_run.toml) on toy_echo with its own weights, and
# an eval every step.
TOY_SOURCE = {"env.taskset.task.weights.exact": 0.7, "env.taskset.task.weights.length": 0.3}
TOY_RUN = {
    "orchestrator.train.sampling.temperature": 1.0,
    "orchestrator.train.sampling.max_completion_tokens": 4,
    "local.num_train_tasks": 4,
    "local.eval.interval": 1,
    "local.eval.num_tasks": 2,
    "local.eval.batch_size": 2,
}


@pytest.fixture
def toy_env(tmp_path, monkeypatch) -> Path:
    package = tmp_path / "envs" / "toy_echo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "echo.py").write_text(textwrap.dedent(PURE))
    (package / "spec.py").write_text(textwrap.dedent(GLUE))
    monkeypatch.syspath_prepend(str(package.parent))
    yield package
    for name in [m for m in sys.modules if m == "toy_echo" or m.startswith("toy_echo.")]:
        del sys.modules[name]


def test_a_fourth_env_trains_one_step_with_no_launcher_change(toy_env, tiny_qwen3, tmp_path):
    model = Path(shutil.copytree(tiny_qwen3, tmp_path / "base"))
    cfg = tiny_run_config(tmp_path, model, env="toy_echo", source=TOY_SOURCE, name="toy.toml", **TOY_RUN)
    out = tmp_path / "out"
    assert train(load_config(["@", str(cfg), "--output-dir", str(out), "--run.name", "toy"])) == 0
    run = out / "toy"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    step = next(r for r in rows if r.get("step") == 1 and "reward/total" in r)
    assert step["reward/total"] == pytest.approx(
        0.7 * step["reward/exact"] + 0.3 * step["reward/length"], abs=1e-5
    )
    card = (run / "checkpoints" / "step_1" / "README.md").read_text()
    assert "| reward (total) | exact | length |" in card  # the toy's weights model names the columns


def test_the_toy_envs_verifiers_rollout_is_scored_once(toy_env, monkeypatch):
    from toy_echo import echo, spec
    from vf_traces import scored

    calls = []
    real = echo.score
    monkeypatch.setattr(echo, "score", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    task = next(iter(spec.EchoTaskset(spec.EchoConfig(id="toy_echo"))))
    trace = scored(task, "river")
    assert calls == ["river"] and set(trace.rewards) == {"exact", "length"}
    assert trace.reward == pytest.approx(1.0)
