"""Faults a training run survives: SIGKILL at any moment (mid-save included), a full disk during a save.

| case | before | after |
|---|---|---|
| kill -9 while TRL writes `trainer/checkpoint-N` | `--resume` picked N, FileNotFoundError forever | resumes from N-1, says it skipped N |
| kill -9 during the HF save (`step_N.tmp` left) | 90 MB `.tmp` left behind | `.tmp` removed on resume |
| resume after a kill | metrics.jsonl repeated the replayed steps | each step exactly once |
| disk full during a save | traceback, disk left full | one line naming the path and size, partial save removed |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import PRIME_RL, local_train_args, tiny_run_config

from dakota_rl.backends.local.checkpoints import latest_trainer_state, resume_point, truncate_metrics

MAX_STEPS = 5
# The tiny run (tests/configs/tiny_run.toml), smaller, on letter_counting, with a checkpoint every step.
RUN = {
    "seq_len": 128,
    "ckpt.interval": 1,
    "ckpt.keep_last": 2,
    "orchestrator.batch_size": 2,
    "orchestrator.train.sampling.max_completion_tokens": 4,
}


def run_config(tmp_path: Path, model: Path, steps: int) -> Path:
    return tiny_run_config(
        tmp_path, model, env="letter_counting", source={"env.taskset.num_tasks": 8}, max_steps=steps, **RUN
    )


def complete_step(run_dir: Path) -> int:
    """The step of the newest complete TRL checkpoint, judged independently of the code under test."""
    best = 0
    for folder in (run_dir / "trainer").glob("checkpoint-*"):
        try:
            state = json.loads((folder / "trainer_state.json").read_text())
        except (OSError, ValueError):
            continue
        best = max(best, state["global_step"])
    return best


def mid_save(run_dir: Path) -> bool:
    """True while a checkpoint is being written (TRL folder without its state file, or our `.tmp`)."""
    trainer = run_dir / "trainer"
    ckpts = list(trainer.glob("checkpoint-*")) if trainer.is_dir() else []
    if any(not (c / "trainer_state.json").exists() for c in ckpts):
        return True
    return any((run_dir / "checkpoints").glob("*.tmp"))


def kill_when(
    proc: subprocess.Popen,
    run_dir: Path,
    log: Path,
    moment: str,
    rng: random.Random,
    resumed: bool,
    timeout: float = 1200,
) -> str:
    """SIGKILL `proc` mid-save, or at a random moment after its next complete checkpoint;
    returns what was hit.

    Waits first until the run has started and cleaned what the previous kill left (a leftover partial save is
    not this run's save)."""
    deadline = time.monotonic() + timeout
    started = "resume: from" if resumed else "run "

    def ready() -> bool:
        return started in log.read_text(errors="replace") and not mid_save(run_dir)

    while time.monotonic() < deadline and proc.poll() is None and not ready():
        time.sleep(0.05)
    done = complete_step(run_dir)
    while time.monotonic() < deadline and proc.poll() is None:
        if moment == "mid-save" and mid_save(run_dir):
            break
        if moment == "random" and complete_step(run_dir) > done:
            time.sleep(rng.uniform(0, 1.5))
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        return "finished"
    hit = "mid-save" if mid_save(run_dir) else "between saves"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return hit


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_reaches_the_same_final_step(tmp_path, tiny_qwen3):
    rng = random.Random(13)
    cfg = run_config(tmp_path, tiny_qwen3, MAX_STEPS)
    out, run_dir = tmp_path / "out", tmp_path / "out" / "r"
    base = [PRIME_RL, *local_train_args(cfg, out, "r")]
    hits = []
    for moment in ["mid-save", "random", "mid-save", "random", "mid-save"]:
        resumable = complete_step(run_dir) if run_dir.exists() else 0
        args = base + (["--resume"] if resumable else ["--clean"])
        log = (tmp_path / f"run{len(hits)}.log").open("w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # what it printed survives the SIGKILL
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
        hits.append(kill_when(proc, run_dir, tmp_path / f"run{len(hits)}.log", moment, rng, bool(resumable)))
        text = (tmp_path / f"run{len(hits) - 1}.log").read_text()
        if resumable:
            assert f"checkpoint-{resumable} (step {resumable})" in text, (hits, text[-3000:])
        if hits[-1] == "finished":
            break
    print("kills:", hits)
    assert hits.count("mid-save") >= 2 and len([h for h in hits if h != "finished"]) >= 5, hits
    resumable = complete_step(run_dir)
    final = subprocess.run(base + ["--resume"], capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-3000:]
    assert (
        f"resume: from {run_dir / 'trainer' / f'checkpoint-{resumable}'} (step {resumable})" in final.stdout
    )
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, MAX_STEPS + 1))
    assert (run_dir / "checkpoints" / f"step_{MAX_STEPS}" / "model.safetensors").is_file()
    assert not list((run_dir / "checkpoints").glob("*.tmp"))


def fake_checkpoint(run_dir: Path, step: int, complete: bool) -> Path:
    folder = run_dir / "trainer" / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 100)
    if complete:
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return folder


def test_resume_skips_an_interrupted_save_and_says_why(tmp_path, capsys):
    run_dir = tmp_path / "r"
    fake_checkpoint(run_dir, 1, True)
    broken = fake_checkpoint(run_dir, 2, False)
    (run_dir / "checkpoints" / "step_2.tmp").mkdir(parents=True)
    (run_dir / "metrics.jsonl").write_text(
        "".join(json.dumps({"step": s}) + "\n" for s in (1, 2)) + '{"step": 3'
    )
    assert resume_point(run_dir) == run_dir / "trainer" / "checkpoint-1"
    said = capsys.readouterr().out
    assert f"skipped {broken}: no trainer_state.json" in said and "step_2.tmp" in said
    assert not broken.exists() and not (run_dir / "checkpoints" / "step_2.tmp").exists()
    assert (run_dir / "metrics.jsonl").read_text() == '{"step": 1}\n'


def test_truncated_state_file_is_not_complete(tmp_path):
    run_dir = tmp_path / "r"
    fake_checkpoint(run_dir, 1, True)
    (fake_checkpoint(run_dir, 2, False) / "trainer_state.json").write_text('{"global_st')
    assert latest_trainer_state(run_dir) == run_dir / "trainer" / "checkpoint-1"
    assert truncate_metrics(run_dir / "absent.jsonl", 1) == 0


def test_disk_full_during_a_save_is_one_line(tmp_path, tiny_qwen3, monkeypatch, capsys):
    """An injected ENOSPC in the second checkpoint's write (as a full disk raises it)."""
    import errno

    import torch

    from dakota_rl.cli import main

    real_save = torch.save

    def save(obj, f, *args, **kwargs):
        if "checkpoint-2" in str(f):
            Path(f).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device", str(f))
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    cfg = run_config(tmp_path, tiny_qwen3, 3)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        main(["train", "@", str(cfg), "--output-dir", str(out), "--run-name", "r", "--backend", "local"])
    assert stop.value.code == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("prime-rl:")]
    assert len(err) == 1
    err = err[0]
    assert err.startswith("prime-rl: failed: disk full while saving a checkpoint under ")
    assert "checkpoint-2" in err and "MiB" in err
    assert sorted(p.name for p in (out / "r" / "trainer").glob("checkpoint-*")) == ["checkpoint-1"]
    shutil.rmtree(out)
