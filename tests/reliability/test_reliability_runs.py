"""Faults the run folder survives: hostile run names, `--clean` on things that are not ours,
a mistyped model with `--clean`, and two runs launched with the same name at once.

| case | before | after |
|---|---|---|
| `--run-name .. --clean` | deleted the output dir's parent | exit 2, one line, nothing deleted |
| `--run-name . --clean` | deleted every sibling run | exit 2, nothing deleted |
| `--run-name /abs --clean` | deleted `/abs` | exit 2, nothing deleted |
| run name = symlink out of the output dir | followed it | exit 2 |
| `--clean` on a folder without our marker | deleted it | exit 2, kept |
| `--clean` + mistyped `--model.name` | old run deleted, nothing started | exit 2 before any deletion |
| two runs with the same name at once | both ran, interleaved | the second exits 2 with one line |
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PRIME_RL, local_train_args, one_error_line, prime_rl, tiny_run_config

from dakota_rl.config import ConfigError
from dakota_rl.runs import RUN_MARKER, clean_run_dir, mark_run, resolve_run_dir, run_lock


def run_config(tmp_path: Path, model: Path | str) -> Path:
    """The tiny run (tests/configs/tiny_run.toml): one small step on letter_counting."""
    return tiny_run_config(
        tmp_path,
        model,
        env="letter_counting",
        source={"env.taskset.num_tasks": 4},
        **{"orchestrator.batch_size": 2, "orchestrator.train.sampling.max_completion_tokens": 4},
    )


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """outputs/ with one real run and one precious sibling file, and a precious folder beside outputs/."""
    out = tmp_path / "outputs"
    mark_run(out / "old-run")
    (out / "old-run" / "metrics.jsonl").write_text('{"step": 1}\n')
    (out / "notes.txt").write_text("keep me")
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("keep me")
    cfg = run_config(tmp_path, "smollm2-135m-instruct")
    return {"root": tmp_path, "out": out, "cfg": cfg}


def survivors(tree: dict[str, Path]) -> None:
    assert (tree["out"] / "old-run" / "metrics.jsonl").is_file()
    assert (tree["out"] / "notes.txt").read_text() == "keep me"
    assert (tree["root"] / "precious" / "thesis.tex").read_text() == "keep me"


def clean_run(tree: dict[str, Path], name: str, *extra: str) -> str:
    """`prime-rl train` of the tree's config as run `name` with `--clean` and `extra`: its one error line."""
    return one_error_line(prime_rl(*local_train_args(tree["cfg"], tree["out"], name, "--clean", *extra)))


@pytest.mark.parametrize("name", ["..", ".", "../precious", "/ABS", "a/b"])
def test_run_name_outside_output_dir_is_refused_and_clean_deletes_nothing(tree, name):
    name = name.replace("/ABS", str(tree["root"] / "precious"))
    line = clean_run(tree, name)
    assert "run name" in line or "outside" in line
    survivors(tree)


def test_symlinked_run_folder_escaping_output_dir_is_refused(tree):
    (tree["out"] / "link").symlink_to(tree["root"] / "precious")
    with pytest.raises(ConfigError, match="outside the output directory"):
        resolve_run_dir(tree["out"], "link")
    line = clean_run(tree, "link")
    assert "outside" in line
    survivors(tree)


def test_clean_refuses_a_folder_that_is_not_a_run(tree):
    stranger = tree["out"] / "stranger"
    stranger.mkdir()
    (stranger / "data.csv").write_text("keep me")
    line = clean_run(tree, "stranger")
    assert RUN_MARKER in line
    assert (stranger / "data.csv").read_text() == "keep me"
    with pytest.raises(ConfigError, match="not a dakota-rl run folder"):
        clean_run_dir(stranger)


def test_clean_with_a_mistyped_model_deletes_nothing(tree):
    line = clean_run(tree, "old-run", "--model.name", "no-such/model-typo")
    assert "no-such/model-typo" in line
    survivors(tree)


def test_clean_deletes_a_marked_run(tree):
    clean_run_dir(tree["out"] / "old-run")
    assert not (tree["out"] / "old-run").exists()
    assert (tree["out"] / "notes.txt").is_file()


def test_lock_is_exclusive_across_processes(tmp_path):
    run_dir = tmp_path / "out" / "r"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from dakota_rl.runs import run_lock\n"
            f"with run_lock(Path({str(run_dir)!r})):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match="in use by another process"), run_lock(run_dir):
            pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock(run_dir):  # released when its holder dies, even by SIGKILL
        pass


@pytest.mark.slow
def test_two_concurrent_runs_with_the_same_name(tmp_path, tiny_qwen3):
    """Two real trainings launched together under one name: one trains, the other exits 2 with one line."""
    cfg = run_config(tmp_path, tiny_qwen3)
    out = tmp_path / "out"
    args = [PRIME_RL, *local_train_args(cfg, out, "same")]
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    time.sleep(0.2)
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    codes = sorted(r[2] for r in results)
    assert codes == [0, 2], results
    loser = next(r for r in results if r[2] == 2)
    assert loser[1].strip().splitlines()[-1].startswith("prime-rl: error:")
    assert "not empty" in loser[1] or "in use by another process" in loser[1]
    steps = [line for line in (out / "same" / "metrics.jsonl").read_text().splitlines()]
    assert len(steps) == 1
