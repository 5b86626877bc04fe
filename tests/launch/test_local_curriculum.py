"""`[local.curriculum]` drives the environment's own curriculum (the one its EnvSpec exposes): the lazy train
rows follow its level and move with the group rewards the trainer reports; an env without one, or settings
the curriculum refuses, is one ConfigError line. (The full training run is in test_local_heldout.py.)"""

from __future__ import annotations

import json

import pytest

from dakota_rl.backends.local.curriculum import curriculum_dataset
from dakota_rl.backends.local.rewards import RewardBank
from dakota_rl.backends.local.settings import settings_from
from dakota_rl.config import ConfigError, load_config
from dakota_rl.envs import load_env
from letter_counting.generate import train_task

CONFIG = """
[[orchestrator.train.source]]
name = "{env}"
[orchestrator.train.source.env.taskset]
id = "{env}"
{options}
[local.curriculum]
start_tier = {start}
window = 2
up = 0.9
down = {down}
"""


def dataset_for(tmp_path, env_id="letter_counting", options="seed = 7\nnum_tasks = 6", start=4, down=0.5):
    path = tmp_path / "run.toml"
    path.write_text(CONFIG.format(env=env_id, options=options, start=start, down=down))
    settings, _ = settings_from(load_config(["@", str(path)]))
    env = load_env(settings.env_id, settings.env_options)
    bank = RewardBank(env, 8, [0])
    return curriculum_dataset(settings, env, bank), bank


def test_rows_follow_the_curriculum_level_and_move_with_group_rewards(tmp_path):
    dataset, bank = dataset_for(tmp_path)
    assert len(dataset) == 6
    rows = dataset[0:2]
    tasks = [json.loads(t) for t in rows["task_json"]]
    assert tasks == [train_task(7, i, 4) for i in range(2)], "seed and start tier from the config"
    assert rows["prompt"][0][-1]["content"] == tasks[0]["prompt"]
    (observe,) = bank.observers
    failed = [json.dumps({"id": "a"})] * 2 + [json.dumps({"id": "b"})] * 2
    assert observe(failed, [0.1, 0.1, 0.1, 0.1]) == {"curriculum_tier": 3.0}, "a full window of failures"
    assert [json.loads(t) for t in dataset[2:4]["task_json"]] == [train_task(7, i, 3) for i in (2, 3)]
    assert observe(failed, [1.0, 1.0, 1.0, 1.0]) == {"curriculum_tier": 4.0}


def test_an_env_without_a_curriculum_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="env 'dakota_grammar_translation' has none"):
        dataset_for(tmp_path, env_id="dakota_grammar_translation", options="")


def test_settings_the_curriculum_refuses_are_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"^\[local.curriculum\]: curriculum needs .*down < up"):
        dataset_for(tmp_path, down=0.95)
