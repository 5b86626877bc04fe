"""Every command's bad input: one line `…: error: …`, exit 2, no traceback (one error vocabulary)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dakota_rl.cli import choose_backend, main
from dakota_rl.config import load_config
from dakota_rl.errors import UserError

REPO = Path(__file__).resolve().parents[2]
SMOKE = str(REPO / "configs" / "dakota_smoke.toml")
CPU = str(REPO / "configs" / "local" / "cpu.toml")
DAKOTA_400 = str(REPO / "configs" / "dakota_400.toml")
LOCAL_DRY = ["--backend", "local", "--dry-run"]
MISSING = "/nonexistent/dakota-rl-missing"

PRIME_RL_CASES = {
    "train: missing config": (["train", "@", f"{MISSING}.toml"], "config file not found"),
    "train: unknown key": (
        ["train", "@", SMOKE, *LOCAL_DRY, "--trainer.optim.lrr", "1"],
        "trainer.optim.lrr",
    ),
    "train: bad value": (["train", "@", SMOKE, *LOCAL_DRY, "--orchestrator.batch-size", "x"], "batch_size"),
    "train: bad taskset option": (
        [
            "train",
            "@",
            SMOKE,
            *LOCAL_DRY,
            "--orchestrator.train.source",
            '[{"env": {"taskset": {"id": "letter_counting", "tier": 0}}}]',
        ],
        "orchestrator.train.source[0].env.taskset.tier",
    ),
    "train: local alias to prime-rl": (["train", "@", SMOKE, "--backend", "prime-rl"], "local-only alias"),
    "train: unknown flag value": (["train", "@", SMOKE, "--backend", "tpu"], "invalid choice"),
    "demo: bad value": (["demo", "--local.sft.steps", "-3"], "local.sft.steps"),
    "demo: unknown key": (["demo", "--local.sft.step", "3"], "unknown key `local.sft.step`"),
    "demo: resume and clean": (["demo", "--resume", "--clean", "--output-dir", MISSING], "contradict"),
    "serve: missing checkpoint": (["serve", MISSING], "model folder not found"),
    "serve: bad port": (["serve", "ckpt", "--port", "x"], "invalid int value"),
    "eval: three checkpoints": (["eval", "a", "b", "c"], "one checkpoint, or two"),
    "eval: missing checkpoint": (["eval", MISSING], "model folder not found"),
    "setup: not a checkout": (["setup", "--prime-rl-dir", str(REPO / "configs")], "not a git checkout"),
    "export: missing run": (["export", MISSING], "not found"),
    "interp: diff without --trained": (["interp", "diff", "--model", "x"], "diff needs --trained"),
    "interp: missing model": (["interp", "lens", "--model", MISSING, "--out", MISSING], "not found"),
    "interp: unknown command": (["interp", "bogus"], "invalid choice"),
    "unknown command": (["bogus"], "invalid choice"),
}


@pytest.mark.parametrize("argv, message", PRIME_RL_CASES.values(), ids=PRIME_RL_CASES.keys())
def test_prime_rl_bad_input_is_one_line_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.startswith("prime-rl: error:") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err


DATA_CASES = {
    "data.build: unknown flag": (["data.build", "--bogus"], "unrecognized arguments"),
    "data.review: missing csv": (["data.review", "import", f"{MISSING}.csv"], "not found"),
    "data.import_dakota1890: missing input": (
        ["data.import_dakota1890", f"{MISSING}.jsonl", "--out", f"{MISSING}.out"],
        "not found",
    ),
    "dakota_interp: diff without --trained": (
        ["dakota_interp", "diff", "--model", "x"],
        "diff needs --trained",
    ),
    "letter_counting.generate: no mode": (["letter_counting.generate"], "required"),
}


@pytest.mark.parametrize("argv, message", DATA_CASES.values(), ids=DATA_CASES.keys())
def test_module_commands_bad_input_is_one_error_line_exit_2(argv, message):
    result = subprocess.run(
        [sys.executable, "-m", *argv], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and message in errors[0], result.stderr


def ready() -> tuple[bool, str]:
    return True, ""


def not_ready() -> tuple[bool, str]:
    return False, "nvidia-smi not found"


@pytest.mark.parametrize(
    ("tokens", "choice", "available", "backend", "why"),
    [
        (["@", SMOKE], "auto", ready, "local", "'smollm2-135m-instruct' is a local-only alias"),
        (["@", DAKOTA_400, "@", CPU], "auto", ready, "local", "[local] table"),
        (["@", DAKOTA_400, "--local.seed", "1"], "auto", ready, "local", "[local] table"),
        (["@", DAKOTA_400], "auto", ready, "prime-rl", "prime-rl checkout are ready"),
        (["@", DAKOTA_400], "auto", not_ready, "local", "nvidia-smi not found"),
        (["@", DAKOTA_400, "@", CPU], "prime-rl", ready, "prime-rl", "[local] settings are not sent"),
        (["@", SMOKE], "local", ready, "local", "asked for"),
    ],
)
def test_backend_choice_says_why(tokens, choice, available, backend, why):
    picked, reason = choose_backend(load_config([*tokens, "--launch.backend", choice]), available=available)
    assert (picked, why in reason) == (backend, True), reason


def test_prime_rl_backend_refuses_a_local_alias():
    with pytest.raises(UserError, match="local-only alias"):
        choose_backend(load_config(["@", SMOKE, "@", CPU, "--launch.backend", "prime-rl"]), available=ready)


def test_written_prime_rl_config_never_has_local(tmp_path):
    from dakota_rl.config import write_prime_rl_files

    [path] = write_prime_rl_files(load_config(["@", DAKOTA_400, "@", CPU]), tmp_path)
    assert "local" not in path.read_text()
