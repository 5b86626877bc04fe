"""Model cards: written into a real tiny local run's final checkpoint and into an exported prime-rl
checkpoint, holding the numbers the run's own files record (recomputed here from those files, never typed
in)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import tiny_run_config

from dakota_rl.backends.local import train
from dakota_rl.config import load_config
from dakota_rl.envs import load_env
from dakota_rl.model_card import eval_files, per_task, write_model_card
from dakota_rl.stats import bootstrap_mean_ci, paired_bootstrap_diff_ci

# The tiny run (tests/configs/tiny_run.toml): two steps on the morphology family.
RUN = {
    "max_steps": 2,
    "orchestrator.train.sampling.temperature": 1.0,
    "local.num_train_tasks": 8,
}


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def ci(values: list[float]) -> str:
    mean, low, high = bootstrap_mean_ci(values)
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def write_eval(run: Path, step: int, tasks: list[dict], completions: list[str]) -> Path:
    """A per-task held-out file in the trainer's format, scored by the environment's real scorer."""
    env = load_env("dakota_grammar_translation")
    path = run / "eval" / f"step_{step:06d}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for task, text in zip(tasks, completions, strict=True):
            s = env.score(text, task, False)
            row = {
                "task_id": task["id"],
                "family": task["family"],
                "difficulty": task["difficulty"],
                "completion": text,
                "total": s.total,
                **env.component_values(s),
                "exact": s.exact,
                "format_ok": s.format_ok,
                "truncated": s.truncated,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def manifest() -> dict:
    import dakota_grammar_translation

    return json.loads(
        (Path(dakota_grammar_translation.__file__).parent / "data" / "manifest.json").read_text()
    )


@pytest.mark.slow
def test_local_run_writes_a_card_with_its_measured_numbers(tiny_qwen3, tmp_path):
    model = Path(shutil.copytree(tiny_qwen3, tmp_path / "base"))
    run = tiny_run_config(tmp_path, model, source={"env.taskset.families": ["morphology"]}, **RUN)
    assert (
        train(
            load_config(["@", str(run)]).with_overrides(["--output-dir", str(tmp_path), "--run.name", "card"])
        )
        == 0
    )
    run = tmp_path / "card"
    card = (run / "checkpoints" / "step_2" / "README.md").read_text()
    meta = front_matter(card)
    assert "base_model" not in meta, "a local folder is no hub id"
    assert meta["language"] == ["dak", "en"] and "grpo" in meta["tags"]
    assert meta["datasets"] == ["dakota_grammar_translation"] and meta["license"] == "other"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    trained = [r for r in rows if "reward/total" in r]
    assert f"{trained[0]['reward/total']:.3f} at step {trained[0]['step']}" in card
    assert f"{trained[-1]['reward/total']:.3f} at step {trained[-1]['step']}" in card
    assert f"| train | {sum(manifest()['counts']['train']['morphology'].values()):,} |" in card
    assert '"num_train_tasks": 8' in card and '"families": ["morphology"]' in card
    assert "Do not use this model as an authority on the Dakota language" in card
    files = eval_files(run)
    if not files:
        assert "No held-out evaluation recorded" in card
        return
    step, path = list(files.items())[-1]
    results = [json.loads(line) for line in path.read_text().splitlines()]
    assert f"| step {step} (this checkpoint) | {len(results)} | {ci(per_task(results, 'total'))} |" in card


def test_heldout_section_reports_intervals_and_the_paired_change(tmp_path):
    env = load_env("dakota_grammar_translation")
    tasks = env.load_tasks("heldout")[:24]
    run = tmp_path / "run"
    before = write_eval(run, 0, tasks, [t["answer"][:-1] for t in tasks])
    after = write_eval(
        run,
        3,
        tasks,
        [f"<answer>{t['answer']}</answer>" if i % 3 else "no idea" for i, t in enumerate(tasks)],
    )
    (run / "checkpoints" / "step_3").mkdir(parents=True)
    card = write_model_card(
        run / "checkpoints" / "step_3", run, config={"local": {}, "model": "m"}
    ).read_text()
    a, b = ([json.loads(line) for line in p.read_text().splitlines()] for p in (before, after))
    assert f"| step 0 (start of GRPO) | 24 | {ci(per_task(a, 'total'))} |" in card
    assert (
        f"| step 3 (this checkpoint) | 24 | {ci(per_task(b, 'total'))} | {ci(per_task(b, 'character'))} |"
        in card
    )
    mean, low, high = paired_bootstrap_diff_ci(per_task(a, "exact"), per_task(b, "exact"))
    assert f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]" in card
    assert mean > 0 and low > 0
    families = {t["family"] for t in tasks}
    for family in families:
        sub = [r for r in b if r["family"] == family]
        assert f"| {family} | {len(sub)} | {ci(per_task(sub, 'total'))} |" in card


def test_logged_eval_metrics_without_per_task_file_have_no_interval(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints" / "step_5").mkdir(parents=True)
    (run / "metrics.jsonl").write_text(
        json.dumps({"step": 5, "eval/total": 0.25, "eval/exact_rate": 0.1, "eval/n": 40}) + "\n"
    )
    card = write_model_card(run / "checkpoints" / "step_5", run, config={"local": {}}).read_text()
    assert "| step 5 (this checkpoint) | 40 | 0.250 (no interval) | 0.100 (no interval) |" in card


def test_exported_prime_rl_checkpoint_gets_a_card(tiny_qwen3, tmp_path):
    from transformers import AutoModelForCausalLM

    from dakota_rl.backends.prime_rl.export import export

    run = tmp_path / "outputs" / "dakota-400"
    broadcast = run / "broadcasts" / "step_7"
    AutoModelForCausalLM.from_pretrained(tiny_qwen3).save_pretrained(broadcast)
    (broadcast / "config.json").unlink()
    (broadcast / "STABLE").touch()
    (run / "configs").mkdir()
    (run / "configs" / "trainer.json").write_text(json.dumps({"model": {"name": str(tiny_qwen3)}}))
    orchestrator = {
        "train": {"source": [{"name": "d", "env": {"taskset": {"id": "dakota_grammar_translation"}}}]}
    }
    (run / "configs" / "orchestrator.json").write_text(json.dumps(orchestrator))
    out = export(run, "latest", None, None)
    card = (out / "README.md").read_text()
    assert "prime-rl" in front_matter(card)["tags"]
    assert card.count(str(tiny_qwen3)) >= 2, "base model named, and in the resolved trainer config"
    assert "# dakota-400 — step 7" in card and "No held-out evaluation recorded" in card
    assert "README.md" not in json.loads((out / "export.json").read_text())["files"]


def test_a_control_task_card_makes_no_dakota_claims(tmp_path):
    run = tmp_path / "lc"
    (run / "checkpoints" / "step_1").mkdir(parents=True)
    config = {"local": {}, "model": "smollm2-135m-instruct", "env_id": "letter_counting"}
    card = write_model_card(run / "checkpoints" / "step_1", run, config=config).read_text()
    meta = front_matter(card)
    assert meta["language"] == ["en"] and meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert meta["license"] == "apache-2.0" and "dakota" not in meta["tags"]
    assert "Riggs" not in card and "stem" not in card


def test_the_held_out_columns_are_the_components_the_envs_weights_model_names(tmp_path):
    from parallel_translation.rewards import Weights

    env = load_env("parallel_translation")
    tasks = env.load_tasks(env.heldout_split)[:6]
    run = tmp_path / "pt"
    (run / "checkpoints" / "step_1").mkdir(parents=True)
    path = run / "eval" / "step_000001.jsonl"
    path.parent.mkdir()
    rows = []
    for task in tasks:
        s = env.score(task["answer"][:-3], task, False)
        rows.append({"task_id": task["id"], "total": s.total, **env.component_values(s), "exact": s.exact})
        rows[-1]["format_ok"] = s.format_ok
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = {"local": {}, "env_id": "parallel_translation"}
    card = write_model_card(run / "checkpoints" / "step_1", run, config=config).read_text()
    listed = [c for c in Weights.names() if c in rows[0]]
    assert listed == ["chrf", "special", "sanity"]  # `learned` is off: the rows carry no such column
    assert (
        "| evaluation | tasks | reward (total) | chrf | special | sanity | exact | format failures |" in card
    )
    assert f"| {ci(per_task(rows, 'chrf'))} |" in card
