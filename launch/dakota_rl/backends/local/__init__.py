"""The local backend: GRPO with TRL's GRPOTrainer (+ PEFT LoRA) on CPU or one GPU, same config as prime-rl."""

from __future__ import annotations

from pathlib import Path

from dakota_rl.backends.local.checkpoints import latest_trainer_state
from dakota_rl.backends.local.settings import LocalTrainSettings, settings_from
from dakota_rl.config import PRIME_RL_PARITY, ResolvedConfig
from dakota_rl.errors import UserError
from dakota_rl.runs import clean_run_dir, mark_run, prepare_run_dir, resolve_run_dir, run_lock


def run_dir_for(resolved: ResolvedConfig, output_dir: Path | None, run_name: str | None) -> tuple[Path, str]:
    """`<output_dir>/<run name>`; default `outputs/`; name: `[run] name`, the W&B name, "local"."""
    config = resolved.config
    wandb_name = config.monitors.wandb.name if config.monitors.wandb else None
    name = run_name or config.run.name or wandb_name or "local"
    return resolve_run_dir(Path(output_dir or config.output_dir or "outputs"), str(name)), str(name)


def train(
    resolved: ResolvedConfig,
    *,
    dry_run: bool = False,
    output_dir: Path | None = None,
    run_name: str | None = None,
    resume: bool = False,
    clean: bool = False,
) -> int:
    """Run GRPO locally. Returns 0; raises UserError for user mistakes (the CLI prints them)."""
    from dakota_rl.envs import load_env, missing_file_error

    settings, ignored = settings_from(resolved)
    env = load_env(settings.env_id, settings.env_options, where=taskset_path(resolved))
    try:
        tasks = env.load_tasks("train")
    except FileNotFoundError as err:
        raise missing_file_error(err, settings.env_options, taskset_path(resolved)) from None
    if not tasks:
        raise UserError(f"{taskset_path(resolved)} of {env.id}: the filters select zero tasks")
    run_dir, name = run_dir_for(resolved, output_dir, run_name)
    if ignored:
        print(f"local backend ignores {len(ignored)} prime-rl key(s): {', '.join(ignored)}")
    lora = f"r={settings.local.lora.r}" if settings.local.lora else "off"
    frozen = " frozen_embeddings" if settings.local.freeze_embeddings and not settings.local.lora else ""
    print(
        f"run {run_dir}: model={settings.model} env={env.id} steps={settings.max_steps} "
        f"batch={settings.batch_size} group={settings.group_size} lr={settings.lr} "
        f"lora={lora}{frozen} sft_steps={settings.local.sft.steps}"
    )
    print_objective(settings)
    if dry_run:
        print("local GRPO vs prime-rl's GRPO at the pin:")
        for aspect, how in PRIME_RL_PARITY.items():
            print(f"  {aspect}: {how}")
        print("resolved config (prime-rl keys with their defaults, and [local]):")
        print(resolved.dump())
        print("local backend settings:")
        print(settings.model_dump_json(indent=2))
        return 0
    prepare_run_dir(run_dir, resume=resume, clean=clean)
    if resume and latest_trainer_state(run_dir) is None:
        raise UserError(f"nothing to resume: {run_dir}/trainer has no checkpoint (set [ckpt] interval)")
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


def print_objective(settings: LocalTrainSettings) -> None:
    """One line: the TRL objective and the mixed-policy options this run uses."""
    mixed = settings.local.mixed_policy
    print(
        "objective (TRL GRPOConfig): "
        + " ".join(f"{k}={v}" for k, v in settings.local.grpo.model_dump().items())
        + f" beta={settings.local.kl_beta}"
        + f" gold_in_group={mixed.gold_in_group} sft_weight={mixed.sft_weight}"
    )


def taskset_path(resolved: ResolvedConfig) -> str:
    """Where the env's options live in the config (error messages name keys from here)."""
    if resolved.config.orchestrator.train.source:
        return "orchestrator.train.source[0].env.taskset"
    return "taskset"
