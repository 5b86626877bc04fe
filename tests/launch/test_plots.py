"""The pictures: every stage on one held-out panel, panels without data say why, reports and cards embed them.

Eval rows are scored by the real scorer on real held-out tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dakota_rl.backends.local.heldout import HeldoutEval, write_rows
from dakota_rl.envs import load_env
from dakota_rl.experiment_report import experiment_figure
from dakota_rl.experiment_report import plot as plot_experiment
from dakota_rl.model_card import write_model_card
from dakota_rl.plots import heldout_points, plot_training, training_figure

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run with a base eval (untagged answers), after SFT (half gold) and two GRPO evals (all gold),
    and training rows without KL (kl_beta = 0)."""
    env = load_env("dakota_grammar_translation")
    run = tmp_path_factory.mktemp("run")
    heldout = HeldoutEval(env, env.load_tasks("heldout")[:30], run / "scratch")
    half = [(f"<answer>{t['answer'] if i % 2 else 'x'}</answer>", False) for i, t in enumerate(heldout.tasks)]
    gold = [(f"<answer>{t['answer']}</answer>", False) for t in heldout.tasks]
    write_rows(heldout.score([("I do not know", False)] * 30), run / "eval" / "base.jsonl")
    write_rows(heldout.score(half), run / "eval" / "step_000000.jsonl")
    for step in (5, 10):
        write_rows(heldout.score(gold), run / "eval" / f"step_{step:06d}.jsonl")
    rows = [
        {"step": s, "reward/total": 0.1 * s, "reward/character": 0.2, "entropy": 1.0} for s in range(1, 11)
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_heldout_points_are_base_then_sft_then_grpo(run_dir: Path) -> None:
    points = heldout_points(run_dir)
    assert [(p.stage, p.step) for p in points] == [("base", 0), ("after SFT", 0), ("GRPO", 5), ("GRPO", 10)]
    base, sft, grpo = points[0], points[1], points[-1]
    assert base.total[0] < sft.total[0] < grpo.total[0] == pytest.approx(1.0)
    assert sft.total[1] < sft.total[0] < sft.total[2] and sft.exact_rate == pytest.approx(0.5)


def test_one_heldout_panel_shows_every_stage_and_empty_panels_say_why(run_dir: Path) -> None:
    fig = training_figure(run_dir / "metrics.jsonl")
    held = fig.axes[0]
    labels = [t.get_text() for t in held.get_legend().get_texts()]
    assert [label.split(":")[0] for label in labels] == ["base", "after SFT", "GRPO, step 10"]
    texts = {ax.get_title(): [t.get_text() for t in ax.texts] for ax in fig.axes}
    assert texts["KL to the reference"] == ["not computed:\nkl_beta = 0 (no reference model)"]
    assert texts["zero-variance groups"] == ["not logged"] and texts["entropy"] == []
    assert plot_training(run_dir / "metrics.jsonl", run_dir / "curves.png").stat().st_size > 10_000


def test_without_an_eval_the_heldout_panel_says_how_to_get_one(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 1, "reward/total": 0.2, "kl": 0.01}) + "\n")
    fig = training_figure(tmp_path / "metrics.jsonl")
    assert "set [local.eval] interval" in fig.axes[0].texts[0].get_text()
    assert len(fig.axes[2].texts) == 0 and len(fig.axes[2].lines) == 1, "KL was logged: it is drawn"


def test_the_model_card_embeds_the_runs_curves(run_dir: Path) -> None:
    plot_training(run_dir / "metrics.jsonl", run_dir / "curves.png")
    checkpoint = run_dir / "checkpoints" / "step_10"
    checkpoint.mkdir(parents=True)
    card = write_model_card(checkpoint, run_dir, config={"local": {}, "model": "m"}).read_text()
    assert "](curves.png)" in card
    assert (checkpoint / "curves.png").read_bytes() == (run_dir / "curves.png").read_bytes()


def test_experiment_plot_shows_every_stage_per_split_beside_the_difference(tmp_path: Path) -> None:
    """Drawn from the committed experiment's analysis (docs/results/grpo_vs_sft/experiment.json)."""
    analysis = json.loads((REPO / "docs/results/grpo_vs_sft/experiment.json").read_text(encoding="utf-8"))
    stages, difference = experiment_figure(analysis).axes
    assert [t.get_text() for t in stages.get_legend().get_texts()] == list(analysis["means"])
    assert [t.get_text() for t in stages.get_xticklabels()] == ["held-out split", "attested split"]
    base = stages.containers[0].lines[0].get_ydata()
    assert list(base) == pytest.approx(
        [
            analysis["means"]["base model"]["total"][0],
            analysis["splits"]["attested"]["means"]["base model"]["total"][0],
        ]
    )
    assert "GRPO − SFT" in difference.get_title()
    assert plot_experiment(analysis, tmp_path / "experiment.png").stat().st_size > 10_000
