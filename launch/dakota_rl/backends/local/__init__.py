"""The local backend: GRPO with TRL's GRPOTrainer (+ PEFT LoRA) on CPU or one GPU, same config as prime-rl."""

from __future__ import annotations

from pathlib import Path

from dakota_rl.backends.local.checkpoints import latest_trainer_state
from dakota_rl.backends.local.settings import LocalTrainSettings, settings_from
from dakota_rl.config import PRIME_RL_PARITY, ResolvedConfig
from dakota_rl.errors import UserError
from dakota_rl.runs import claimed_run, prepare_run_dir, run_dir, run_name


def train(resolved: ResolvedConfig) -> int:
    """Run GRPO locally as `resolved` says, `[launch]` (resume, clean, dry_run) included. Returns 0; raises
    UserError for user mistakes (the CLI prints them)."""
    from dakota_rl.envs import load_env, missing_file_error

    settings, ignored = settings_from(resolved)
    env = load_env(settings.env_id, settings.env_options, where=taskset_path(resolved))
    try:
        tasks = env.load_tasks("train")
    except FileNotFoundError as err:
        raise missing_file_error(err, settings.env_options, taskset_path(resolved)) from None
    if not tasks:
        raise UserError(f"{taskset_path(resolved)} of {env.id}: the filters select zero tasks")
    folder, launch = run_dir(resolved.config), resolved.launch
    if ignored:
        print(f"local backend ignores {len(ignored)} prime-rl key(s): {', '.join(ignored)}")
    print_run(folder, settings, env.id)
    if launch.dry_run:
        print_dry_run(resolved, settings)
        return 0
    prepare_run_dir(folder, launch)
    if launch.resume and latest_trainer_state(folder) is None:
        raise UserError(f"nothing to resume: {folder}/trainer has no checkpoint (set [ckpt] interval)")
    from dakota_rl.backends.local.trainer import run_grpo
    from dakota_rl.models import resolve_model

    model_path = resolve_model(settings.model)
    with claimed_run(folder, launch):
        final = run_grpo(settings, env, model_path, folder, run_name(resolved.config), launch.resume)
    print(f"final checkpoint: {final}")
    print(f"metrics: {folder / 'metrics.jsonl'}  curves: {folder / 'curves.png'}")
    return 0


def print_run(folder: Path, settings: LocalTrainSettings, env_id: str) -> None:
    """One line: the run's folder, model, env and sizes; then the objective."""
    lora = f"r={settings.local.lora.r}" if settings.local.lora else "off"
    frozen = " frozen_embeddings" if settings.local.freeze_embeddings and not settings.local.lora else ""
    print(
        f"run {folder}: model={settings.model} env={env_id} steps={settings.max_steps} "
        f"batch={settings.batch_size} group={settings.group_size} lr={settings.lr} "
        f"lora={lora}{frozen} sft_steps={settings.local.sft.steps}"
    )
    print_objective(settings)


def print_dry_run(resolved: ResolvedConfig, settings: LocalTrainSettings) -> None:
    """The parity notes, the resolved tree with defaults and the local settings."""
    print("local GRPO vs prime-rl's GRPO at the pin:")
    for aspect, how in PRIME_RL_PARITY.items():
        print(f"  {aspect}: {how}")
    print("resolved config (prime-rl keys with their defaults, [local] and [launch]):")
    print(resolved.dump())
    print("local backend settings:")
    print(settings.model_dump_json(indent=2))


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
