"""One run-folder guard for every command that writes a run (`runs.resolve_run_dir` + `runs.claimed_run`):
`experiment`, the prime-rl backend, `demo`, `eval` labels and `export` targets.

| case | before | after |
|---|---|---|
| `experiment --run-name .. --clean` (config: a missing file) | the output dir's parent deleted, then a traceback | exit 2, one line, nothing deleted |
| `experiment --run-name /abs --clean` | `/abs` deleted | exit 2, nothing deleted |
| `experiment --run-name "" --clean` | the whole output dir (every run) deleted | exit 2, nothing deleted |
| `experiment --clean` on a folder that is not a run | deleted (no marker check) | exit 2, kept |
| `experiment --clean` on a marked run, config missing | deleted before the config was read | config error first, run kept |
| `train --backend prime-rl --run-name . --clean` | `--run.name . --clean`: prime-rl deleted the output dir | exit 2, nothing deleted |
| `train --backend prime-rl --run-name /abs` | launcher wrote `/abs-launch/` | exit 2 |
| `train --backend prime-rl --run-name 'x$(touch X)'` | the name reached `rl.sbatch` as shell | exit 2, nothing written |
| `[run] name`/`dir` = `../x`, `a b` in a config | passed to prime-rl | refused where the config is parsed |
| prime-rl backend `--clean` on a folder without our marker | prime-rl's `--clean` deleted it | exit 2 (pre-flight), kept |
| prime-rl backend `--clean` on a marked run | prime-rl's `--clean` | deleted by us after the dry run, under the run lock; `rl` never gets `--clean` |
| `demo --run-name 'a b'` / `$'x\\ny'` (any command) | a folder with a newline in its name | exit 2: names are shell-safe |
| `eval ..` (a model folder named `..`) | results written to the parent of `--output-dir` | a label from the folder's real name, inside `--output-dir` |
| `export RUN --out EXISTING_CHECKPOINT` / `--out` = the base model | replaced silently / SameFileError traceback | exit 2, one line, nothing replaced |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import one_error_line, prime_rl, tiny_run_config
from fake_prime_rl import calls, machine, make_checkout

from dakota_rl.backends.prime_rl import train
from dakota_rl.backends.prime_rl.export import check_export_target
from dakota_rl.config import ConfigError, load_config
from dakota_rl.evaluate import _labels
from dakota_rl.paths import REPO_ROOT
from dakota_rl.runs import RUN_MARKER, is_our_run, mark_run

CONFIGS = REPO_ROOT / "configs"


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """outputs/ with a marked run and a stranger's folder, a precious folder beside it, and configs."""
    out = tmp_path / "outputs"
    mark_run(out / "old-run")
    (out / "old-run" / "metrics.jsonl").write_text('{"step": 1}\n')
    (out / "stranger").mkdir()
    (out / "stranger" / "data.csv").write_text("keep me")
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("keep me")
    tiny_run_config(  # tmp_path / "run.toml": the run config the commands below are given
        tmp_path,
        "smollm2-135m-instruct",
        env="letter_counting",
        source={"env.taskset.num_tasks": 8},
        **{"orchestrator.batch_size": 2},
    )
    (tmp_path / "exp.toml").write_text(f'[experiment]\nconfigs = ["{tmp_path / "run.toml"}"]\n')
    (tmp_path / "missing.toml").write_text(f'[experiment]\nconfigs = ["{tmp_path / "nope.toml"}"]\n')
    return {"root": tmp_path, "out": out}


def intact(tree: dict[str, Path]) -> None:
    assert (tree["out"] / "old-run" / "metrics.jsonl").is_file()
    assert (tree["out"] / "stranger" / "data.csv").read_text() == "keep me"
    assert (tree["root"] / "precious" / "thesis.tex").read_text() == "keep me"


@pytest.mark.parametrize("name", ["..", "/ABS", "", ".", "a b", "x$(touch PWNED)", "x\ny"])
def test_experiment_clean_with_a_hostile_run_name_deletes_nothing(tree, name):
    name = name.replace("/ABS", str(tree["root"] / "precious"))
    exp = tree["root"] / "missing.toml"
    line = one_error_line(
        prime_rl("experiment", "@", str(exp), "--output-dir", str(tree["out"]), "--run-name", name, "--clean",
                 cwd=tree["root"])
    )  # fmt: skip
    assert "run name" in line
    intact(tree)
    assert not (tree["root"] / "PWNED").exists()


def test_experiment_clean_refuses_a_folder_that_is_not_a_run(tree):
    line = one_error_line(
        prime_rl("experiment", "@", str(tree["root"] / "exp.toml"), "--output-dir", str(tree["out"]),
                 "--run-name", "stranger", "--clean", "--extra-split-tasks", "0")
    )  # fmt: skip
    assert RUN_MARKER in line
    intact(tree)


def test_experiment_reads_its_config_before_cleaning(tree):
    line = one_error_line(
        prime_rl("experiment", "@", str(tree["root"] / "missing.toml"), "--output-dir", str(tree["out"]),
                 "--run-name", "old-run", "--clean")
    )  # fmt: skip
    assert "nope.toml" in line
    intact(tree)


@pytest.mark.parametrize("name", [".", "..", "/ABS", "x$(touch PWNED)", "a b", "x\ty"])
def test_prime_rl_backend_refuses_hostile_run_names(tree, name):
    name = name.replace("/ABS", str(tree["root"] / "precious"))
    line = one_error_line(
        prime_rl("train", "@", str(CONFIGS / "dakota_400_slurm.toml"), "--backend", "prime-rl",
                 "--output-dir", str(tree["out"]), "--run-name", name, "--clean", "--dry-run",
                 cwd=tree["root"])
    )  # fmt: skip
    assert "run name" in line
    intact(tree)
    assert not (tree["root"] / "PWNED").exists() and not list(tree["root"].glob("*-launch"))


@pytest.mark.parametrize(
    ("key", "value"), [("name", "../x"), ("dir", "/abs"), ("name", "a b"), ("dir", "x`id`")]
)
def test_run_table_names_are_checked_where_the_config_is_parsed(key, value):
    with pytest.raises(ConfigError, match=rf"\[run\] {key}"):
        load_config(["@", str(CONFIGS / "dakota_400_2gpu.toml"), f"--run.{key}", value])


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "rl-calls.jsonl"))
    return make_checkout(tmp_path / "prime-rl")


def run_2gpu(checkout, out: Path, *options: str) -> int:
    env = {"CUDA_VISIBLE_DEVICES": "0,1", "WANDB_MODE": "offline"}
    return train(
        load_config(["@", str(CONFIGS / "dakota_400_2gpu.toml"), "--output-dir", str(out), *options]),
        prime_rl_dir=checkout.root,
        machine=machine(environ=env),
    )


def test_prime_rl_backend_clean_keeps_a_folder_without_our_marker(checkout, tmp_path, capsys):
    stranger = tmp_path / "o" / "dakota-400-2gpu"
    (stranger / "logs").mkdir(parents=True)
    (stranger / "logs" / "keep.txt").write_text("keep me")
    assert run_2gpu(checkout, tmp_path / "o", "--launch.clean") == 2
    assert "--clean refused" in capsys.readouterr().err
    assert (stranger / "logs" / "keep.txt").read_text() == "keep me"
    assert calls(tmp_path / "rl-calls.jsonl") == [], "nothing started"


def test_prime_rl_backend_cleans_a_marked_run_itself(checkout, tmp_path, capsys):
    run_dir = tmp_path / "o" / "dakota-400-2gpu"
    mark_run(run_dir, "configs")
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "old.log").write_text("old")
    assert run_2gpu(checkout, tmp_path / "o", "--launch.clean") == 0, capsys.readouterr()
    dry, real = calls(tmp_path / "rl-calls.jsonl")
    assert "--clean" not in dry["argv"] and "--clean" not in real["argv"], "prime-rl never deletes a folder"
    assert not (run_dir / "logs").exists() and is_our_run(run_dir)
    assert (run_dir / "configs" / RUN_MARKER).is_file()


def test_names_with_newlines_or_spaces_are_refused_by_every_command(tree):
    for command in (["demo"], ["train", "@", str(tree["root"] / "run.toml"), "--backend", "local"]):
        for name in ("x\ny", "a b", "q'uote"):
            line = one_error_line(prime_rl(*command, "--output-dir", str(tree["out"]), "--run-name", name))
            assert "run name" in line
    assert sorted(p.name for p in tree["out"].iterdir()) == ["old-run", "stranger"]


def test_eval_labels_stay_inside_the_output_dir(tmp_path):
    model = tmp_path / "models" / "step_5"
    model.mkdir(parents=True)
    labels = _labels([str(model / "sub" / ".."), "..", "Qwen/Qwen3-0.6B", 'x" y'])
    assert labels[0] == "step_5" and labels[2] == "Qwen3-0.6B" and labels[3] == "x__y"
    assert all(label not in ("", ".", "..") and "/" not in label for label in labels)


def test_export_never_replaces_a_model_it_did_not_write(tmp_path):
    base, ckpt = tmp_path / "base", tmp_path / "ckpt"
    for folder in (base, ckpt):
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
    with pytest.raises(ConfigError, match="no export wrote"):
        check_export_target(ckpt, base)
    with pytest.raises(ConfigError, match="base model's folder"):
        check_export_target(base, base)
    (ckpt / "export.json").write_text("{}")
    check_export_target(ckpt, base)  # an earlier export of ours may be refreshed
    check_export_target(tmp_path / "new", base)
