"""Stage tables (base → SFT → GRPO) and the GRPO-vs-SFT analysis, from per-task rows scored by the real
scorer."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from conftest import tiny_run_config

from dakota_rl.backends.local.heldout import HeldoutEval, write_rows
from dakota_rl.config import ConfigError
from dakota_rl.envs import load_env
from dakota_rl.experiment import load_experiment
from dakota_rl.experiment_report import analyse, write_experiment_report
from dakota_rl.stages import stage_report


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Rows for 40 held-out tasks answered three ways: no tags, gold on even tasks, gold everywhere."""
    env = load_env("dakota_grammar_translation")
    heldout = HeldoutEval(env, env.load_tasks("heldout")[:40], tmp_path_factory.mktemp("e"))
    answers = {
        "none": [("I do not know", False) for _ in heldout.tasks],
        "half": [
            (f"<answer>{t['answer']}</answer>" if i % 2 == 0 else "<answer>x</answer>", False)
            for i, t in enumerate(heldout.tasks)
        ],
        "gold": [(f"<answer>{t['answer']}</answer>", False) for t in heldout.tasks],
    }
    return {name: heldout.score(texts) for name, texts in answers.items()}


# The tiny run (tests/configs/tiny_run.toml) as an experiment's config (the experiment sets each arm's steps).
EXPERIMENT_RUN = {"local.num_train_tasks": 16, "local.sft.batch_size": 2, "local.eval.max_tokens": 6}


def test_stage_report_pairs_stages_and_says_what_changed(scored, tmp_path):
    for name, label in (("none", "base"), ("half", "step_000000"), ("gold", "step_000020")):
        write_rows(scored[name], tmp_path / "eval" / f"{label}.jsonl")
    table, text = stage_report(tmp_path)
    assert list(table["stages"]) == ["base", "after SFT", "after GRPO"] and table["n"] == 40
    assert table["stages"]["base"]["format_ok"][0] == 0.0
    sft = table["changes"]["after SFT − base"]
    assert sft["format_ok"][1] > 0 and sft["exact"][0] == pytest.approx(0.5)
    grpo = table["changes"]["after GRPO − after SFT"]["exact"]
    assert grpo[0] == pytest.approx(0.5) and grpo[1] > 0
    assert "SFT raised the held-out reward" in text and "| after GRPO |" in text


def test_experiment_analysis_pools_seeds_per_task(scored, tmp_path):
    eval_dir = tmp_path / "eval"
    files = {
        "warmup": "half",
        "seed_0_sft": "half",
        "seed_1_sft": "none",
        "seed_0_grpo": "gold",
        "seed_1_grpo": "half",
    }
    for label, name in files.items():
        write_rows(scored[name], eval_dir / f"{label}.jsonl")
    a = analyse(eval_dir, [0, 1])
    pooled = [
        (g["total"] + h["total"]) / 2 - (h["total"] + n["total"]) / 2
        for g, h, n in zip(scored["gold"], scored["half"], scored["none"], strict=True)
    ]
    assert a["grpo_minus_sft"]["total"][0] == pytest.approx(sum(pooled) / len(pooled))
    assert sum(f["n"] for f in a["per_family"].values()) == 40
    assert a["per_seed"][0]["exact"][0] == pytest.approx(0.5)
    cfg = load_experiment(["@", "configs/experiments/grpo_vs_sft.toml", "--seeds", "0", "1", "--steps", "3"])
    settings = SimpleNamespace(
        model="m",
        batch_size=16,
        group_size=4,
        lr=5e-6,
        local=SimpleNamespace(sft=SimpleNamespace(lr=5e-5), kl_beta=0.0),
    )
    write_experiment_report(tmp_path, cfg, settings, {"total": 1.0})
    report = json.loads((tmp_path / "report" / "experiment.json").read_text())
    assert report["config"]["steps"] == 3 and (tmp_path / "report" / "experiment.png").stat().st_size > 1000
    assert "GRPO raised the held-out reward" in (tmp_path / "report" / "experiment.md").read_text()


def test_experiment_config_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="steps"):
        load_experiment(["@", "configs/experiments/grpo_vs_sft.toml", "--steps", "0"])
    with pytest.raises(ConfigError, match="unknown|extra|Extra"):
        load_experiment(["@", "configs/experiments/grpo_vs_sft.toml", "--stepz", "3"])


@pytest.mark.slow
def test_experiment_runs_both_arms_and_scores_the_attested_split(tiny_qwen3, tmp_path):
    """`run_experiment` end to end on a tiny Qwen3: warm-up, one seed's two arms, both held-out samples."""
    import shutil

    from dakota_rl.experiment import run_experiment

    model = shutil.copytree(tiny_qwen3, tmp_path / "base")
    run_toml = tiny_run_config(tmp_path, model, **EXPERIMENT_RUN)
    exp_toml = tmp_path / "exp.toml"
    exp_toml.write_text(f'[experiment]\nconfigs = ["{run_toml}"]\nwarmup_steps = 1\nsteps = 1\nseeds = [3]\n')
    cfg = load_experiment(["@", str(exp_toml), "--eval-tasks", "4", "--extra-split-tasks", "3"])
    a = run_experiment(cfg, tmp_path / "exp")
    out = tmp_path / "exp"
    for folder, n in (("eval", 4), ("eval_attested", 3)):
        labels = {p.stem for p in (out / folder).glob("*.jsonl")}
        assert labels == {"base", "warmup", "seed_3_sft", "seed_3_grpo"}, folder
        assert all(len((out / folder / f"{x}.jsonl").read_text().splitlines()) == n for x in labels)
    attested = load_env("dakota_grammar_translation").load_tasks("attested")
    ids = {t["id"] for t in attested}
    assert all(r["task_id"] in ids for r in json_rows(out / "eval_attested" / "warmup.jsonl"))
    assert a["n_tasks"] == 4 and a["splits"]["attested"]["n_tasks"] == 3
    assert "## The attested split (3 tasks)" in (out / "report" / "experiment.md").read_text()
    assert not list(out.glob("seed_3/*/model*")), "arm weights are deleted after their eval"
    before = {p: p.stat().st_mtime_ns for p in out.glob("eval*/*.jsonl")}
    resumed = load_experiment(
        ["@", str(exp_toml), "--eval-tasks", "4", "--extra-split-tasks", "3", "--resume"]
    )
    a = run_experiment(resumed.model_copy(update={"seeds": [3, 4]}), out)
    assert {p: p.stat().st_mtime_ns for p in before} == before, "warm-up and seed 3 are reused, not redone"
    assert (out / "eval_attested" / "seed_4_grpo.jsonl").is_file() and a["seeds"] == [3, 4]


def json_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_runs_compare_paired_on_shared_tasks_and_bad_input_is_one_line(scored, tmp_path, capsys):
    from dakota_rl.stages import compare_runs, main

    for run, after in (("a", "half"), ("b", "gold")):
        write_rows(scored["none"], tmp_path / run / "eval" / "base.jsonl")
        write_rows(scored[after], tmp_path / run / "eval" / "step_000000.jsonl")
    text = compare_runs([tmp_path / "a", tmp_path / "b"])
    gold_minus_half = (
        sum(g["total"] - h["total"] for g, h in zip(scored["gold"], scored["half"], strict=True)) / 40
    )
    assert "| b | after SFT | 1.000" in text and f"{gold_minus_half:+.3f} [" in text
    assert "| b | base | " in text and "+0.000 [+0.000, +0.000]" in text
    assert main([str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_report_only_reports_the_seeds_with_both_arms(scored, tmp_path):
    from dakota_rl.experiment import run_experiment

    for label, name in {
        "warmup": "half",
        "seed_0_sft": "half",
        "seed_0_grpo": "gold",
        "seed_1_sft": "none",
    }.items():
        write_rows(scored[name], tmp_path / "eval" / f"{label}.jsonl")
    cfg = load_experiment(["@", "configs/experiments/grpo_vs_sft.toml", "--report-only"])
    a = run_experiment(cfg, tmp_path)
    assert a["seeds"] == [0] and "seeds [0]" in (tmp_path / "report" / "experiment.md").read_text()
    with pytest.raises(ConfigError, match="no seed has every arm"):
        run_experiment(cfg, tmp_path / "empty")


@pytest.mark.slow
def test_experiment_screens_arms_with_diagnostics(tiny_qwen3, tmp_path):
    """Three arms (SFT, GRPO, GRPO with the gold in the group) from one warm-up, each scored, diagnosed by
    sampling, and compared with the control; the settings of each arm come from its overrides."""
    import shutil

    from dakota_rl.experiment import _arm_settings, run_experiment

    model = shutil.copytree(tiny_qwen3, tmp_path / "base")
    run_toml = tiny_run_config(
        tmp_path,
        model,
        source={"env.taskset.families": ["morphology"]},
        **{"orchestrator.train.sampling.max_completion_tokens": 24},
        **EXPERIMENT_RUN,
    )
    exp_toml = tmp_path / "exp.toml"
    exp_toml.write_text(
        f'[experiment]\nconfigs = ["{run_toml}"]\nwarmup_steps = 1\nsteps = 1\nseeds = [0]\n'
        "eval_tasks = 4\nextra_split_tasks = 2\ndiagnostic_tasks = 2\ndiagnostic_samples = 2\n"
        'treatment = "grpo_gold"\n'
        '[[experiment.arms]]\nname = "sft"\nkind = "sft"\n'
        '[[experiment.arms]]\nname = "grpo"\nkind = "grpo"\noverrides = {"trainer.optim.lr" = 5e-5}\n'
        '[[experiment.arms]]\nname = "grpo_gold"\nkind = "grpo"\n'
        'overrides = {"local.mixed_policy.gold_in_group" = true, "local.grpo.scale_rewards" = "group"}\n'
    )
    cfg = load_experiment(["@", str(exp_toml)])
    gold = _arm_settings(cfg, cfg.arms[2], 0)
    assert gold.local.mixed_policy.gold_in_group and gold.local.grpo.scale_rewards == "group"
    assert _arm_settings(cfg, cfg.arms[1], 0).lr == 5e-5
    a = run_experiment(cfg, tmp_path / "exp")
    out = tmp_path / "exp"
    assert {p.stem for p in (out / "eval").glob("*.jsonl")} == {
        "base",
        "warmup",
        "seed_0_sft",
        "seed_0_grpo",
        "seed_0_grpo_gold",
    }
    assert set(a["screen"]) == {"sft", "grpo", "grpo_gold", "warmup"}
    assert "minus_control" in a["screen"]["grpo_gold"] and "minus_control" not in a["screen"]["sft"]
    assert all(a["screen"][arm]["train_cpu_s"] > 0 for arm in ("sft", "grpo", "grpo_gold"))
    attested = a["screen_splits"]["attested"]
    assert set(attested) == set(a["screen"])
    arm_rows, control_rows = (json_rows(out / "eval_attested" / f"seed_0_{n}.jsonl") for n in ("grpo", "sft"))
    assert len(arm_rows) == len(control_rows) == 2
    direct = sum(r["total"] for r in arm_rows) / 2 - sum(r["total"] for r in control_rows) / 2
    assert attested["grpo"]["minus_control"]["total"][0] == pytest.approx(direct)
    assert set(a["diagnostics"]) == {"warmup", "sft", "grpo", "grpo_gold"}
    assert set(a["diagnostics"]["warmup"]) == {"heldout", "train"}
    assert 0 <= a["diagnostics"]["grpo"]["heldout"]["pass@2"] <= 1
    text = (out / "report" / "experiment.md").read_text()
    assert "# grpo_gold versus the sft control" in text and "| grpo_gold |" in text and "pass@1" in text
    samples = json_rows(out / "diag" / "seed_0_grpo.heldout.jsonl")
    assert len(samples) == 2 and all(len(s["rewards"]) == 2 for s in samples)


# The training configs of the shipped studies (the report reads them for its settings).
STUDY_CONFIGS = '["configs/dakota_smoke.toml", "configs/local/cpu.toml", "configs/local/demo.toml"]'


def test_matched_arms_are_compared_pair_by_pair(scored, tmp_path):
    """An arm with `matched` gets a paired row against that arm (here GRPO and SFT at another lr), equal to
    the difference computed directly; arms without one get none."""
    from dakota_rl.experiment import run_experiment

    for label, name in {
        "warmup": "none",
        "seed_0_sft": "half",
        "seed_0_grpo": "half",
        "seed_0_sft_low": "none",
        "seed_0_grpo_low": "gold",
    }.items():
        write_rows(scored[name], tmp_path / "eval" / f"{label}.jsonl")
    exp_toml = tmp_path / "exp.toml"
    exp_toml.write_text(
        f"[experiment]\nconfigs = {STUDY_CONFIGS}\nseeds = [0]\nreport_only = true\n"
        '[[experiment.arms]]\nname = "sft"\nkind = "sft"\n[[experiment.arms]]\nname = "grpo"\nkind = "grpo"\n'
        '[[experiment.arms]]\nname = "sft_low"\nkind = "sft"\n'
        '[[experiment.arms]]\nname = "grpo_low"\nkind = "grpo"\nmatched = "sft_low"\n'
    )
    a = run_experiment(load_experiment(["@", str(exp_toml)]), tmp_path)
    pair = a["screen"]["grpo_low"]["minus_matched"]
    direct = sum(g["total"] - n["total"] for g, n in zip(scored["gold"], scored["none"], strict=True)) / 40
    assert pair["arm"] == "sft_low" and pair["total"][0] == pytest.approx(direct) and pair["exact"][1] > 0
    assert not any("minus_matched" in a["screen"][arm] for arm in ("sft", "grpo", "sft_low"))
    text = (tmp_path / "report" / "experiment.md").read_text()
    assert "### Matched pairs on the held-out sample" in text and "| grpo_low | sft_low | " in text
    only = load_experiment(["@", str(exp_toml), "--only", "sft", "grpo_low"])
    assert only.matched_pairs == {}, "a pair is reported only when both arms ran"


def test_arm_names_control_and_treatment_are_checked(tmp_path):
    exp_toml = tmp_path / "exp.toml"
    exp_toml.write_text(
        '[experiment]\nconfigs = ["x.toml"]\ncontrol = "nope"\n'
        '[[experiment.arms]]\nname = "sft"\nkind = "sft"\n[[experiment.arms]]\nname = "grpo"\nkind = "grpo"\n'
    )
    with pytest.raises(ConfigError, match="control 'nope' is not an arm"):
        load_experiment(["@", str(exp_toml)])
    exp_toml.write_text(
        '[experiment]\nconfigs = ["x.toml"]\n'
        '[[experiment.arms]]\nname = "sft"\nkind = "sft"\n'
        '[[experiment.arms]]\nname = "grpo"\nkind = "grpo"\nmatched = "sft_lr1"\n'
    )
    with pytest.raises(ConfigError, match="arm 'grpo': matched 'sft_lr1' must name another arm"):
        load_experiment(["@", str(exp_toml)])


@pytest.mark.parametrize(
    ("name", "tasks", "arms"),
    [
        ("rl_screen", 200, 14),
        ("rl_confirm", 400, 3),
        ("rl_confirm_qwen3", 400, 3),
    ],
)
def test_rl_study_configs_resolve_every_arm(name, tasks, arms):
    """The study's shipped configs load, and each arm's settings resolve (the GPU one to Qwen3-0.6B on CUDA,
    16 prompts x 8), with the control at the warm-up's lr and every GRPO arm at the same lr."""
    from dakota_rl.experiment import _arm_settings

    cfg = load_experiment(["@", f"configs/experiments/{name}.toml"])
    assert (cfg.eval_tasks, len(cfg.arms)) == (tasks, arms)
    settings = {arm.name: _arm_settings(cfg, arm, 0) for arm in cfg.arms}
    control = settings[cfg.control]
    assert all(
        s.lr == control.local.sft.lr for n, s in settings.items() if n.startswith("grpo_") and "e-6" not in n
    )
    if name.endswith("qwen3"):
        assert {(s.model, s.local.device, s.batch_size, s.group_size) for s in settings.values()} == {
            ("Qwen/Qwen3-0.6B", "cuda", 128, 8)
        }
