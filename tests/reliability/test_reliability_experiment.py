"""The experiment folder under faults: two processes on one folder, kill -9 while eval rows are written, a
full disk while the report is written.

| case | before | after |
|---|---|---|
| two `experiment` processes on one folder (the second with `--resume`, same seeds) | no lock: both ran the warm-up; one died with a traceback; files last-writer-wins | the second exits 2: "in use by another process" (the folder lock; each seed has its own lock) |
| kill -9 while a seed's eval rows are written | a half-written `seed_S_grpo.jsonl` counted as scored; `--report-only` → JSONDecodeError | rows go to `….jsonl.tmp` and are renamed when whole: the seed is not scored; `--report-only` says so on one line |
| `--report-only` with an empty or truncated eval file (an older writer) | ValueError / JSONDecodeError traceback | not counted as scored: one line |
| `--report-only` on a full disk | ENOSPC traceback; `report/` left with json+md and no png | exit 2, one line naming the file; no partial report file |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PRIME_RL, one_error_line, prime_rl, tiny_run_config

from dakota_rl.backends.local.heldout import HeldoutEval, complete_rows, write_rows
from dakota_rl.envs import load_env
from dakota_rl.files import write_atomic
from dakota_rl.runs import RUN_MARKER

EXPERIMENT = "configs/experiments/grpo_vs_sft.toml"
WRITER = """
import sys, time
from pathlib import Path
from dakota_rl.backends.local.heldout import write_rows
rows = [{"task_id": str(i), "total": 0.5} for i in range(1000)]
def slow():
    for i, row in enumerate(rows):
        if i == 500:
            print("half written", flush=True)
            time.sleep(120)
        yield row
write_rows(slow(), Path(sys.argv[1]))
"""


def report_only(out: Path) -> subprocess.CompletedProcess:
    return prime_rl(
        "experiment", "@", EXPERIMENT, "--report-only", "--seeds", "0", "--output-dir", str(out),
        "--run-name", "exp",
    )  # fmt: skip


@pytest.fixture
def scored_run(tmp_path: Path) -> Path:
    """`exp/eval/` with the warm-up and seed 0's SFT arm scored for real (the scorer on gold answers)."""
    env = load_env("dakota_grammar_translation")
    heldout = HeldoutEval(env, env.load_tasks("heldout")[:20], tmp_path / "scratch")
    rows = heldout.score([(f"<answer>{t['answer']}</answer>", False) for t in heldout.tasks])
    for label in ("warmup", "seed_0_sft"):
        write_rows(rows, tmp_path / "out" / "exp" / "eval" / f"{label}.jsonl")
    return tmp_path / "out"


def test_kill_9_while_eval_rows_are_written_leaves_no_scored_seed(scored_run):
    target = scored_run / "exp" / "eval" / "seed_0_grpo.jsonl"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "half written"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert not target.exists(), "the half-written rows are not under the scored name"
    assert target.with_name(target.name + ".tmp").is_file(), "the rows were being written beside it"
    assert not complete_rows(target)
    line = one_error_line(report_only(scored_run))
    assert "no seed has every arm scored" in line


@pytest.mark.parametrize("text", ["", '{"task_id": "1", "to'])
def test_an_empty_or_truncated_eval_file_is_not_scored(scored_run, text):
    (scored_run / "exp" / "eval" / "seed_0_grpo.jsonl").write_text(text)
    assert "no seed has every arm scored" in one_error_line(report_only(scored_run))


def test_report_on_a_full_disk_is_one_line_and_leaves_no_partial_report(scored_run):
    shutil.copy(
        scored_run / "exp" / "eval" / "seed_0_sft.jsonl", scored_run / "exp" / "eval" / "seed_0_grpo.jsonl"
    )
    report = scored_run / "exp" / "report"
    report.mkdir()
    (report / "experiment.tmp.png").symlink_to("/dev/full")  # every write to the figure: ENOSPC
    line = one_error_line(report_only(scored_run))
    assert "experiment.png: the disk is full" in line
    assert sorted(p.name for p in report.iterdir()) == [], "no partial report"
    assert report_only(scored_run).returncode == 0, "with space, the same command writes the report"
    assert {p.name for p in report.iterdir()} == {"experiment.md", "experiment.json", "experiment.png"}


def test_write_atomic_keeps_the_previous_file_on_a_full_disk(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("old")
    (tmp_path / "summary.json.tmp").symlink_to("/dev/full")
    with pytest.raises(Exception, match="summary.json: the disk is full"):
        write_atomic(path, "new" * 10_000)
    assert path.read_text() == "old" and not (tmp_path / "summary.json.tmp").exists()


@pytest.mark.slow
def test_a_second_experiment_on_the_same_folder_is_refused(tiny_qwen3, tmp_path):
    model = shutil.copytree(tiny_qwen3, tmp_path / "base")
    run_toml = tiny_run_config(  # the tiny run (tests/configs/tiny_run.toml) as the experiment's config
        tmp_path,
        model,
        **{"local.num_train_tasks": 16, "local.sft.batch_size": 2, "local.eval.max_tokens": 6},
    )
    exp_toml = tmp_path / "exp.toml"
    exp_toml.write_text(
        f'[experiment]\nconfigs = ["{run_toml}"]\nwarmup_steps = 500\nsteps = 1\nseeds = [0]\n'
    )
    args = [PRIME_RL, "experiment", "@", str(exp_toml), "--eval-tasks", "2", "--extra-split-tasks", "0",
            "--output-dir", str(tmp_path / "out"), "--run-name", "exp"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        marker = tmp_path / "out" / "exp" / RUN_MARKER
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert first.poll() is None, first.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "the first experiment never claimed its folder"
            time.sleep(0.5)
        second = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=300, env=env)
        assert first.poll() is None, "the first experiment was still running during the second"
    finally:
        first.kill()
        first.wait()
    assert "in use by another process" in one_error_line(second)
