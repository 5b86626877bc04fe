"""config.py: `@ file` layers, dotted overrides, one typed tree with [local], the TOML for prime-rl."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dakota_rl.config import ConfigError, RunConfig, dumps_toml, load_config, write_prime_rl_files
from dakota_rl.errors import UserError

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "dakota_smoke.toml"
CPU = REPO / "configs" / "local" / "cpu.toml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_files_deep_merge_left_to_right_and_overrides_win(tmp_path):
    a = write(tmp_path, "a.toml", "max_steps = 10\n[trainer.optim]\nlr = 1e-6\nweight_decay = 0.1\n")
    b = write(tmp_path, "b.toml", "[trainer.optim]\nlr = 2e-6\n")
    resolved = load_config(["@", str(a), "@", str(b), "--max-steps", "5", "--orchestrator.group-size", "4"])
    assert resolved.merged["max_steps"] == 5
    assert resolved.merged["trainer"]["optim"] == {"lr": 2e-6, "weight_decay": 0.1}
    assert resolved.merged["orchestrator"]["group_size"] == 4
    assert resolved.files == [a, b]
    assert resolved.overrides == ["--max-steps 5", "--orchestrator.group-size 4"]


def test_override_values_are_typed_by_the_schema():
    config = load_config(
        [
            "--max-steps",
            "5",
            "--trainer.optim.lr",
            "1e-6",
            "--orchestrator.train.filter-zero-advantages",
            "true",
            "--ckpt.interval",
            "None",
            "--monitors.wandb.tags",
            '["a", "b"]',
            "--run.name",
            "dakota",
            "--local.lora.target-modules",
            '["q_proj", "v_proj"]',
        ]
    ).config
    assert config.max_steps == 5 and isinstance(config.max_steps, int)
    assert config.trainer.optim.lr == 1e-6
    assert config.orchestrator.train.filter_zero_advantages is True
    assert config.ckpt is not None and config.ckpt.interval is None  # prime-rl's "None" is None
    assert config.monitors.wandb is not None and config.monitors.wandb.tags == ["a", "b"]
    assert config.local.lora is not None and config.local.lora.target_modules == ["q_proj", "v_proj"]
    assert config.run.name == "dakota"


def test_boolean_flags():
    resolved = load_config(
        ["--local.gradient-checkpointing", "--no-orchestrator.train.filter-zero-advantages"]
    )
    assert resolved.merged == {"orchestrator": {"train": {"filter_zero_advantages": False}}}
    assert resolved.local.gradient_checkpointing is True


def test_at_file_without_space_is_accepted():
    assert load_config([f"@{SMOKE}"]).files == [SMOKE]


def test_one_typed_tree_for_every_config_file():
    for path in [*sorted((REPO / "configs").glob("*.toml")), *sorted((REPO / "configs").glob("*/*.toml"))]:
        if path.name.startswith("inference"):
            continue
        if path.parent.name == "experiments":  # an [experiment] table, read by `prime-rl experiment`
            from dakota_rl.experiment import load_experiment

            experiment = load_experiment(["@", str(path)])
            for layer in experiment.configs:
                assert isinstance(load_config(["@", str(REPO / layer)]).config, RunConfig), layer
            continue
        assert isinstance(load_config(["@", str(path)]).config, RunConfig), path


def test_local_table_is_split_off_and_typed():
    resolved = load_config(["@", str(SMOKE), "@", str(CPU), "--local.lora.r", "8"])
    assert "local" not in resolved.merged
    assert resolved.local.device == "cpu"
    assert resolved.local.sft.steps > 0
    assert resolved.local.lora is not None and resolved.local.lora.r == 8
    assert resolved.config.orchestrator.train.source[0].env.taskset.id == "dakota_grammar_translation"


def test_written_prime_rl_file_round_trips_without_local(tmp_path):
    resolved = load_config(["@", str(SMOKE), "@", str(CPU)])
    [path] = write_prime_rl_files(resolved, tmp_path / "out")
    assert tomllib.loads(path.read_text()) == resolved.merged
    assert "[local" not in path.read_text()


def test_dumps_toml_handles_arrays_of_tables_and_inline_values():
    tree = {
        "a": 1,
        "s": 'ʼ quote "x"',
        "lst": [1, 2],
        "t": {"x": {"y": True}},
        "arr": [{"name": "one", "env": {"id": "e"}}, {"name": "two"}],
    }
    assert tomllib.loads(dumps_toml(tree)) == tree


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (["@", "missing.toml"], "config file not found: missing.toml"),
        (["@"], "`@` must be followed by a TOML file"),
        (["stray"], "unexpected argument 'stray'"),
        (["--local.lora.rank", "4"], "unknown key `local.lora.rank`"),
        (["--local.device", "tpu"], "`local.device`"),
        (["--sft.steps", "3"], "`sft` is a local-backend setting: put it in the [local] table"),
        (["--max-steps", "[1,"], "invalid JSON value"),
        (["--trainer.optim.lrr", "1e-6"], "unknown key `trainer.optim.lrr`"),
        (
            ["--orchestrator.train.source", '[{"env": {"taskset": {"id": "x"}, "agnt": {}}}]'],
            "unknown key `orchestrator.train.source[0].env.agnt`",
        ),
        (["--rollouts-per-example", "8"], "unknown key `rollouts_per_example`"),
        (["--orchestrator.algo.type", "ppo"], 'only "grpo"'),
        (["--max-steps", "0"], "`max_steps`"),
    ],
)
def test_user_mistakes_are_one_line_errors(tokens, message):
    assert ConfigError is UserError
    with pytest.raises(ConfigError) as err:
        load_config(tokens)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_invalid_toml_names_the_file(tmp_path):
    bad = write(tmp_path, "bad.toml", "max_steps = = 3\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML"):
        load_config(["@", str(bad)])


def test_dry_run_tree_has_defaults_and_local(tmp_path):
    resolved = load_config(["@", str(SMOKE), "@", str(CPU)])
    dumped = tomllib.loads(resolved.dump())
    assert dumped["orchestrator"]["group_size"] == 4 and dumped["local"]["sft"]["steps"] == 30
    assert dumped["trainer"]["optim"]["weight_decay"] == "None"  # prime-rl's spelling of null


def test_run_options_live_in_the_tree_and_never_reach_prime_rl(tmp_path):
    from dakota_rl.cli import _parser, config_tokens
    from dakota_rl.runs import run_dir

    args, rest = _parser().parse_known_args(
        [
            "train",
            "@",
            str(SMOKE),
            "--run-name",
            "mine",
            "--output-dir",
            str(tmp_path),
            "--resume",
            "--dry-run",
        ]
    )
    resolved = load_config(config_tokens(args, rest))
    launch = resolved.launch
    assert (launch.backend, launch.resume, launch.clean, launch.dry_run) == ("auto", True, False, True)
    assert run_dir(resolved.config) == tmp_path / "mine"
    assert "launch" not in resolved.merged and resolved.merged["run"] == {"name": "mine"}
    [path] = write_prime_rl_files(resolved, tmp_path / "out")
    assert "[launch" not in path.read_text() and "resume" not in path.read_text()
    more = resolved.with_overrides(["--run.name", "other", "--no-launch.resume"])
    assert run_dir(more.config) == tmp_path / "other" and not more.launch.resume


def test_one_run_name_for_every_backend(tmp_path):
    from dakota_rl.runs import run_dir, run_name

    source = (
        '[[orchestrator.train.source]]\n[orchestrator.train.source.env.taskset]\nid = "letter_counting"\n'
    )
    bare = write(tmp_path, "bare.toml", source)
    assert run_name(load_config(["@", str(bare)]).config) == "letter_counting--qwen3-0.6b"
    assert run_name(load_config(["@", str(SMOKE)]).config) == "dakota-smoke", "the W&B name"
    named = load_config(["@", str(SMOKE), "--run.name", "r", "--run.dir", "d", "--output-dir", str(tmp_path)])
    assert (run_name(named.config), run_dir(named.config)) == ("r", tmp_path / "d")
    with pytest.raises(ConfigError, match=r"`run.name`: \[run\] name \(the run name\) 'a b' contains ' '"):
        load_config(["@", str(SMOKE), "--run.name", "a b"])


def test_set_values_are_typed_in_the_order_given():
    from dakota_rl.config import set_values

    assert set_values(["--local.lora.r", "8", "--trainer.optim.lr", "1e-05"]) == {
        "local.lora.r": 8,
        "trainer.optim.lr": 1e-05,
    }
    assert list(set_values(["--trainer.optim.lr", "1e-05", "--local.lora.r", "8"])) == [
        "trainer.optim.lr",
        "local.lora.r",
    ]
    with pytest.raises(ConfigError, match="unknown key `trainer.optim.lrr`"):
        set_values(["--trainer.optim.lrr", "1"])


def test_load_table_reads_one_table_with_the_config_parser(tmp_path):
    from dakota_rl.experiment import load_experiment

    path = write(tmp_path, "e.toml", '[experiment]\nconfigs = ["a.toml"]\nseeds = [0, 1]\n')
    exp = load_experiment(
        [f"@{path}", "--seeds", "4", "--resume", "--no-report-only", "--only", "sft", "grpo"]
    )
    assert (exp.seeds, exp.resume, exp.report_only, exp.only) == ([4], True, False, ["sft", "grpo"])
    other = write(tmp_path, "o.toml", '[experiment]\nconfigs = ["a.toml"]\n[extra]\nx = 1\n')
    for tokens, message in (
        (["@", str(SMOKE)], f"{SMOKE}: no [experiment] table"),
        (["@", str(other)], "unknown table or key `extra`"),
        (["@", str(path), "--stepz", "3"], "[experiment] stepz: Extra inputs are not permitted"),
        (["@", str(path), "--steps", "0"], "[experiment] steps: Input should be greater than or equal to 1"),
        (["--steps", "3"], "experiment needs one config"),
        (["@", str(path), "stray"], "unexpected argument 'stray'"),
    ):
        with pytest.raises(ConfigError) as err:
            load_experiment(tokens)
        assert message in str(err.value), (tokens, str(err.value))
