"""The local backend: GRPO with TRL's GRPOTrainer (+ PEFT LoRA) on CPU or one GPU, same config as prime-rl."""

from __future__ import annotations

from pathlib import Path

from dakota_rl.backends.local.checkpoints import latest_trainer_state
from dakota_rl.backends.local.settings import settings_from
from dakota_rl.config import ConfigError, ResolvedConfig
from dakota_rl.runs import clean_run_dir, mark_run, prepare_run_dir, resolve_run_dir, run_lock


def run_dir_for(resolved: ResolvedConfig, output_dir: Path | None, run_name: str | None) -> tuple[Path, str]:
    """`<output_dir>/<run name>`; defaults: `output_dir` or `outputs/`, then `[run] name`, the W&B name, "local"."""
    name = run_name or resolved.get("run.name") or resolved.get("monitors.wandb.name") or "local"
    return resolve_run_dir(Path(output_dir or resolved.get("output_dir") or "outputs"), str(name)), str(name)


def train(
    resolved: ResolvedConfig,
    *,
    dry_run: bool = False,
    output_dir: Path | None = None,
    run_name: str | None = None,
    resume: bool = False,
    clean: bool = False,
) -> int:
    """Run GRPO locally. Returns 0; raises ConfigError for user mistakes (the CLI prints them)."""
    from dakota_rl.envs import load_env

    settings, ignored = settings_from(resolved)
    env = load_env(settings.env_id, settings.env_options)
    if not env.load_tasks("train"):
        raise ConfigError(f"[orchestrator.train.source.env.taskset] of {env.id}: the filters select zero tasks")
    run_dir, name = run_dir_for(resolved, output_dir, run_name)
    if ignored:
        print(f"local backend ignores {len(ignored)} prime-rl key(s): {', '.join(ignored)}")
    lora = f"r={settings.local.lora.r}" if settings.local.lora else "off"
    print(f"run {run_dir}: model={settings.model} env={env.id} steps={settings.max_steps} "
          f"batch={settings.batch_size} group={settings.group_size} lr={settings.lr} "
          f"lora={lora} sft_steps={settings.local.sft.steps}")
    if dry_run:
        print(settings.model_dump_json(indent=2))
        return 0
    prepare_run_dir(run_dir, resume=resume, clean=clean)
    if resume and latest_trainer_state(run_dir) is None:
        raise ConfigError(f"nothing to resume: {run_dir}/trainer has no checkpoint (set [ckpt] interval)")
    from dakota_rl.backends.local.trainer import run_grpo
    from dakota_rl.models import resolve_model

    model_path = resolve_model(settings.model)
    with run_lock(run_dir):
        if clean:
            clean_run_dir(run_dir)
        mark_run(run_dir)
        final = run_grpo(settings, env, model_path, run_dir, name, resume)
    print(f"final checkpoint: {final}")
    print(f"metrics: {run_dir / 'metrics.jsonl'}  curves: {run_dir / 'curves.png'}")
    return 0
