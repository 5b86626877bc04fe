"""backends/local/settings.py: the local backend's settings are read from the typed tree; a prime-rl key the
user did not set keeps the local (CPU) default, one the user set is used and named in errors, and every set
key no setting reads is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from dakota_rl.backends.local.settings import LocalTrainSettings, prime_rl_keys, settings_from
from dakota_rl.config import ConfigError, RunConfig, load_config

REPO = Path(__file__).resolve().parents[2]
SOURCE = '[[orchestrator.train.source]]\n[orchestrator.train.source.env.taskset]\nid = "letter_counting"\n'


def test_unset_keys_keep_the_local_defaults_not_prime_rls(tmp_path):
    path = tmp_path / "bare.toml"
    path.write_text(SOURCE)
    settings, ignored = settings_from(load_config(["@", str(path)]))
    defaults = LocalTrainSettings()
    assert RunConfig().orchestrator.group_size == 1, "prime-rl's default, which the local backend cannot use"
    assert (settings.group_size, settings.batch_size, settings.max_steps, settings.max_completion_tokens) == (
        defaults.group_size,
        defaults.batch_size,
        defaults.max_steps,
        defaults.max_completion_tokens,
    )
    assert settings.env_id == "letter_counting" and ignored == []


def test_set_keys_are_read_and_the_rest_reported(tmp_path):
    path = tmp_path / "bare.toml"
    path.write_text(SOURCE)
    tokens = [
        "@",
        str(path),
        "--orchestrator.group-size",
        "2",
        "--trainer.optim.lr",
        "3e-6",
        "--ckpt.interval",
        "2",
    ]
    resolved = load_config([*tokens, "--deployment.num-train-gpus", "1", "--run.dir", "d"])
    settings, ignored = settings_from(resolved)
    assert (settings.group_size, settings.lr, settings.ckpt_interval) == (2, 3e-6, 2)
    assert ignored == ["deployment.num_train_gpus", "deployment.type"], (
        "run.dir names the folder (runs.run_dir)"
    )
    assert set(prime_rl_keys(resolved.config)) <= set(LocalTrainSettings.model_fields)


def test_errors_name_the_prime_rl_key(tmp_path):
    path = tmp_path / "bare.toml"
    path.write_text(SOURCE)
    with pytest.raises(
        ConfigError, match=r"`orchestrator.group_size`: Input should be greater than or equal to 2"
    ):
        settings_from(load_config(["@", str(path), "--orchestrator.group-size", "1"]))
    with pytest.raises(ConfigError, match="divisible by group_size"):
        settings_from(load_config(["@", str(path), "--orchestrator.batch-size", "5"]))
