"""`prime-rl demo`, the CPU main job: held-out eval of the base model → (SFT warm-up) → GRPO → eval → report.

The same steps run with any model or on a GPU: only the config layers change.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from pathlib import Path

from dakota_rl.config import ConfigError, load_config


def change_note(before: dict, after: dict, sft_steps: int) -> str:
    """Say plainly how large the change is next to its noise (two standard errors of the difference)."""
    diff = after["reward"] - before["reward"]
    noise = 2 * math.sqrt(before.get("reward_se", 0) ** 2 + after.get("reward_se", 0) ** 2)
    verdict = "larger than" if abs(diff) > noise else "within"
    return (f"Mean held-out reward changed by {diff:+.3f} (exact {after['exact'] - before['exact']:+.3f}); "
            f"that is {verdict} the noise of ±{noise:.3f} (2 s.e.) for {after['n']} rollouts. "
            + (f"The change includes the {sft_steps}-step SFT warm-up (mostly the answer format); GRPO's own "
               "effect shows in the training curves. " if sft_steps else "")
            + "A few dozen CPU steps on a 135M model show the pipeline works; they are not a trained model.")


def run_demo(tokens: list[str], *, output_dir: Path | None, run_name: str, resume: bool, clean: bool,
             dry_run: bool) -> int:
    from dakota_rl.backends.local import run_dir_for, train
    from dakota_rl.backends.local.checkpoints import step_dirs
    from dakota_rl.backends.local.settings import settings_from
    from dakota_rl.evaluate import EvalSettings, evaluate_checkpoint
    from dakota_rl.report import write_report

    started = time.perf_counter()
    resolved = load_config(tokens)
    settings, _ = settings_from(resolved)
    run_dir, _ = run_dir_for(resolved, output_dir, run_name)
    ev = resolved.local.eval
    eval_settings = EvalSettings(
        env_id=settings.env_id, num_examples=ev.num_examples, rollouts=ev.rollouts,
        temperature=ev.temperature, max_tokens=ev.max_tokens, seed=resolved.local.seed,
        env_options=settings.env_options,
    )
    if dry_run:
        return train(resolved, dry_run=True, output_dir=output_dir, run_name=run_name)
    if resume and clean:
        raise ConfigError("--resume and --clean contradict each other: pick one")
    if run_dir.exists() and any(run_dir.iterdir()) and not (resume or clean):
        raise ConfigError(f"run directory {run_dir} is not empty: pass --resume to continue or --clean to overwrite")
    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    scratch = Path(tempfile.mkdtemp(prefix="dakota-demo-"))
    if ev.before:
        t = time.perf_counter()
        results["before"] = evaluate_checkpoint(settings.model, eval_settings, scratch / "before")
        timings["eval before"] = time.perf_counter() - t
    t = time.perf_counter()
    train(resolved, output_dir=output_dir, run_name=run_name, resume=resume, clean=clean)
    timings["train"] = time.perf_counter() - t
    if ev.before:
        shutil.rmtree(run_dir / "eval" / "before", ignore_errors=True)
        shutil.move(scratch / "before", run_dir / "eval" / "before")
    shutil.rmtree(scratch, ignore_errors=True)
    final = step_dirs(run_dir / "checkpoints")[-1][1]
    if ev.after:
        t = time.perf_counter()
        results["after"] = evaluate_checkpoint(final, eval_settings, run_dir / "eval" / "after")
        timings["eval after"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    extra = ["", "## Run", "", f"- final checkpoint: `{final}`", f"- training curves: `{run_dir / 'curves.png'}`",
             f"- metrics: `{run_dir / 'metrics.jsonl'}`"]
    extra += [f"- wall time {name}: {secs:.0f} s" for name, secs in timings.items()]
    if "before" in results and "after" in results:
        extra += ["", change_note(results["before"], results["after"], resolved.local.sft.steps)]
    paths = write_report(results, run_dir / "report", title=f"prime-rl demo: {settings.model} on {settings.env_id}",
                         extra_markdown="\n".join(extra) + "\n")
    print(paths["markdown"].read_text())
    print(f"report: {paths['markdown']}")
    return 0
