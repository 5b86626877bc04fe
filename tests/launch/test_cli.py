"""The `prime-rl` command: help everywhere, and one-line errors (exit 2) for each kind of bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import prime_rl

from dakota_rl.cli import main

REPO = Path(__file__).resolve().parents[2]
SMOKE = str(REPO / "configs" / "dakota_smoke.toml")
CPU = str(REPO / "configs" / "local" / "cpu.toml")


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.parametrize("command", [[], ["train"], ["demo"], ["serve"], ["eval"], ["setup"], ["export"]])
def test_help_everywhere(command, capsys):
    code, out, _ = run_cli([*command, "--help"], capsys)
    assert code == 0
    assert "usage:" in out


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from dakota_rl.cli import main\n"
        "try:\n    main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'verifiers') if m in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "@", "nope.toml", "--backend", "local"], "config file not found: nope.toml"),
        (["train", "--backend", "local"], "train needs a config"),
        (
            [
                "train",
                "@",
                SMOKE,
                "--backend",
                "local",
                "--dry-run",
                "--orchestrator.train.source",
                '[{"env": {"taskset": {"id": "no_such_env"}}}]',
            ],
            "unknown env id",
        ),
        (["train", "@", SMOKE, "--backend", "local", "--dry-run", "--max-steps", "zero"], "max_steps"),
        (
            ["train", "@", SMOKE, "--backend", "local", "--dry-run", "--orchestrator.algo.type", "ppo"],
            'only "grpo"',
        ),
        (
            ["train", "@", SMOKE, "--backend", "local", "--dry-run", "--orchestrator.algo.type", "opsd"],
            'the local backend implements only "grpo" (its options for the gold inside the update are in '
            "[local.mixed_policy])",
        ),
        (
            ["train", "@", SMOKE, "--backend", "local", "--dry-run", "--local.sft.steps", "-1"],
            "local.sft.steps",
        ),
        (
            ["train", "@", SMOKE, "--backend", "local", "--dry-run", "--lora", "true"],
            "put it in the [local] table",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert message in err
    assert err.startswith("prime-rl: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_nothing_to_resume(tmp_path, capsys):
    code, _, err = run_cli(
        ["train", "@", SMOKE, "@", CPU, "--backend", "local", "--resume", "--output-dir", str(tmp_path)],
        capsys,
    )
    assert code == 2
    assert "nothing to resume" in err


def test_dry_run_prints_mapping_and_ignored_keys(capsys):
    code, out, _ = run_cli(
        ["train", "@", SMOKE, "@", CPU, "--backend", "local", "--dry-run", "--max-steps", "3"], capsys
    )
    assert code == 0
    assert "steps=3" in out
    assert "ignores" in out and "orchestrator.train.source[0].env.agent.harness.id" in out


def test_unknown_subcommand_argument_is_an_error(capsys):
    code, _, err = run_cli(["serve", "ckpt", "--bogus"], capsys)
    assert code == 2
    assert "unrecognized arguments: --bogus" in err


def test_missing_checkpoint_for_eval_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(["eval", str(tmp_path / "missing")], capsys)
    assert code == 2
    assert "model folder not found" in err


def test_console_script_exits_2_without_traceback(tmp_path):
    result = prime_rl("train", "@", str(tmp_path / "x.toml"), timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"prime-rl: error: config file not found: {tmp_path / 'x.toml'}"


def test_interp_subcommand_runs_the_interp_cli(tmp_path, capsys):
    """`prime-rl interp …` hands its arguments to dakota_interp's own CLI (here: rebuild-check the math
    set)."""
    code, out, err = run_cli(["interp", "math-tasks", "--check"], capsys)
    assert code == 0, out + err
    assert "math" in (out + err).lower()
