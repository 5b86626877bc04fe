"""`prime-rl demo`, the CPU main job: base eval → SFT warm-up → eval → GRPO (eval every 10 steps) → report.

The held-out evaluation runs inside the trainer's process on fixed tasks (`[local.eval]`), so the report has
three rows on the same tasks (base, after SFT, after GRPO) with paired-bootstrap 95% intervals, and a closing
note with each stage's wall time. `[local.eval] before/after` add the slower serve + vf-eval evaluations.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from dakota_rl.config import load_config


def stage_times(run_dir: Path, timings: dict[str, float]) -> list[str]:
    """Each stage's wall time and CPU time (this process, all threads): SFT, GRPO, every eval, the total."""
    trained = (
        json.loads((run_dir / "timings.json").read_text()) if (run_dir / "timings.json").is_file() else {}
    )
    lines = [f"- {name}: {secs:.0f} s wall" for name, secs in timings.items() if name.startswith("vf-eval")]
    for key, name in (("sft", "SFT warm-up"), ("grpo", "GRPO steps")):
        if f"{key}_s" in trained:
            lines.append(
                f"- {name}: {trained[f'{key}_s']:.0f} s wall, {trained.get(f'{key}_cpu_s', 0):.0f} s CPU"
            )
    cpu = trained.get("eval_cpu_s", {})
    lines += [
        f"- in-loop eval {label}: {secs:.0f} s wall, {cpu.get(label, 0):.0f} s CPU"
        for label, secs in trained.get("eval_s", {}).items()
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines.append(
        f"- total: {timings['total']:.0f} s wall, {time.process_time():.0f} s CPU, on {os.cpu_count()} "
        f"CPU(s), {os.environ.get('OMP_NUM_THREADS', 'default')} torch thread(s); 1-min load average "
        f"at the end {load:.2f}"
    )
    return lines


def run_demo(tokens: list[str]) -> int:
    """The demo of the config `tokens` resolve to (its run folder, `[launch]` resume/clean/dry_run)."""
    from dakota_rl.backends.local import train
    from dakota_rl.backends.local.settings import settings_from
    from dakota_rl.runs import prepare_run_dir, run_dir, run_lock

    started = time.perf_counter()
    resolved = load_config(tokens)
    settings, _ = settings_from(resolved)
    folder, launch = run_dir(resolved.config), resolved.launch
    eval_settings = _eval_settings(resolved, settings)
    if launch.dry_run:
        return train(resolved)
    prepare_run_dir(folder, launch)
    with run_lock(folder):  # the whole demo; `train` takes the same lock again (a no-op) and cleans
        return _run_demo_locked(resolved, settings, folder, eval_settings, started)


def _run_demo_locked(resolved, settings, run_dir: Path, eval_settings, started: float) -> int:
    """The demo's stages, with its run folder locked by the caller."""
    from dakota_rl.backends.local import train
    from dakota_rl.backends.local.checkpoints import step_dirs

    ev = resolved.local.eval
    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    scratch = Path(tempfile.mkdtemp(prefix="dakota-demo-"))
    if ev.before:
        results["before"] = _timed_eval(settings.model, eval_settings, scratch / "before", timings, "before")
    train(resolved)
    _keep_before_eval(scratch, run_dir, keep=ev.before)
    final = step_dirs(run_dir / "checkpoints")[-1][1]
    if ev.after:
        results["after"] = _timed_eval(final, eval_settings, run_dir / "vf-eval" / "after", timings, "after")
    timings["total"] = time.perf_counter() - started
    _write_demo_report(
        run_dir,
        f"prime-rl demo: {settings.model} on {settings.env_id}",
        resolved.local.seed,
        final,
        timings,
        results,
    )
    return 0


def _eval_settings(resolved, settings):
    """The serve + vf-eval settings of `[local.eval]`, on the run's env and seed."""
    from dakota_rl.evaluate import EvalSettings

    ev = resolved.local.eval
    return EvalSettings(
        env_id=settings.env_id,
        num_examples=ev.num_examples,
        rollouts=ev.rollouts,
        temperature=ev.temperature,
        max_tokens=ev.max_tokens,
        seed=resolved.local.seed,
        env_options=settings.env_options,
    )


def _timed_eval(model, eval_settings, out: Path, timings: dict[str, float], label: str) -> dict:
    """Serve + vf-eval `model` into `out`, recording its wall time as `vf-eval <label>`."""
    from dakota_rl.evaluate import evaluate_checkpoint

    t = time.perf_counter()
    result = evaluate_checkpoint(model, eval_settings, out)
    timings[f"vf-eval {label}"] = time.perf_counter() - t
    return result


def _keep_before_eval(scratch: Path, run_dir: Path, *, keep: bool) -> None:
    """Move the before-training eval out of scratch into `<run>/vf-eval/before` (the run may have been
    cleaned meanwhile), then drop scratch."""
    if keep:
        shutil.rmtree(run_dir / "vf-eval" / "before", ignore_errors=True)
        shutil.move(scratch / "before", run_dir / "vf-eval" / "before")
    shutil.rmtree(scratch, ignore_errors=True)


def _write_demo_report(
    run_dir: Path, title: str, seed: int, final: Path, timings: dict[str, float], results: dict[str, dict]
) -> None:
    """`<run>/report/report.md` (stage table, run files, stage times) and `report.json`; print the report."""
    from dakota_rl.report import write_report
    from dakota_rl.stages import stage_report

    staged = stage_report(run_dir, seed=seed)
    body = [f"# {title}", ""] + ([staged[1]] if staged else ["(in-loop eval off: set [local.eval] interval)"])
    if (run_dir / "curves.png").is_file():
        body += ["", "![Held-out reward of every stage, and the training curves](../curves.png)"]
    body += [
        "",
        "## Run",
        "",
        f"- final checkpoint: `{final}`",
        f"- curves (training + held-out): `{run_dir / 'curves.png'}`",
        f"- metrics: `{run_dir / 'metrics.jsonl'}`",
        "",
        "## Stage times",
        "",
    ]
    body += stage_times(run_dir, timings)
    out = run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    if results:
        write_report(results, out / "vf-eval", title=f"{title}: serve + vf-eval")
        body += ["", f"serve + vf-eval results: `{out / 'vf-eval' / 'report.md'}`"]
    (out / "report.md").write_text("\n".join(body) + "\n", encoding="utf-8")
    (out / "report.json").write_text(
        json.dumps(
            {"stages": staged[0] if staged else None, "timings": timings, "vf_eval": results}, indent=2
        )
    )
    print((out / "report.md").read_text())
    print(f"report: {out / 'report.md'}")
