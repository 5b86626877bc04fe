"""What the local TRL backend takes from the typed run config, and what it ignores (printed, never dropped).

`settings_from` reads each `LocalTrainSettings` field from its typed table (`config.orchestrator.batch_size`,
…) when the user set it (`model_fields_set`); unset keys fall back to the local defaults below (sized for a
CPU), not to prime-rl's GPU defaults. Keys the user set that no field reads are reported, so nothing is
ignored silently.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from dakota_rl.config import NOT_FOR_PRIME_RL, LocalConfig, ResolvedConfig, RunConfig, describe_error
from dakota_rl.errors import UserError
from dakota_rl.runs import DEFAULT_ENV


class LocalTrainSettings(BaseModel):
    """One local GRPO run: the prime-rl keys it reads (`prime_rl_keys` names each key) plus `[local]`."""

    model: str = "smollm2-135m-instruct"
    """An HF hub id, a local folder, or "smollm2-135m-instruct" (offline)."""
    max_steps: int = Field(20, ge=1)
    """GRPO optimizer steps."""
    seq_len: int = Field(1024, ge=16)
    """Prompt + completion token budget."""
    batch_size: int = Field(8, ge=1)
    """Rollouts per step (divisible by group_size)."""
    group_size: int = Field(4, ge=2)
    """Rollouts per prompt."""
    temperature: float = Field(1.0, gt=0)
    max_completion_tokens: int = Field(128, ge=1)
    lr: float = Field(1e-6, gt=0)
    ckpt_interval: int | None = Field(None, ge=1)
    """Save every N steps (the final step is always saved)."""
    ckpt_keep_last: int | None = Field(None, ge=1)
    """Keep this many recent checkpoints."""
    wandb_project: str | None = None
    wandb_name: str | None = None
    env_id: str = DEFAULT_ENV
    """`[orchestrator.train.source.env.taskset] id` of the first train source."""
    env_options: dict[str, Any] = {}
    """The other keys of that taskset table (validated by the environment's own config in `load_env`)."""
    local: LocalConfig = LocalConfig()

    @model_validator(mode="after")
    def _batch_divisible(self) -> LocalTrainSettings:
        if self.batch_size % self.group_size:
            raise ValueError(
                f"[orchestrator] batch_size ({self.batch_size}) must be divisible by group_size "
                f"({self.group_size})"
            )
        return self


def prime_rl_keys(config: RunConfig) -> dict[str, tuple[str, BaseModel | None, str]]:
    """Settings field → (the prime-rl key it reads, for messages; the typed table holding it; its field)."""
    sampling = config.orchestrator.train.sampling
    return {
        "model": ("model.name", config.model, "name"),
        "max_steps": ("max_steps", config, "max_steps"),
        "seq_len": ("seq_len", config, "seq_len"),
        "batch_size": ("orchestrator.batch_size", config.orchestrator, "batch_size"),
        "group_size": ("orchestrator.group_size", config.orchestrator, "group_size"),
        "temperature": ("orchestrator.train.sampling.temperature", sampling, "temperature"),
        "max_completion_tokens": (
            "orchestrator.train.sampling.max_completion_tokens",
            sampling,
            "max_completion_tokens",
        ),
        "lr": ("trainer.optim.lr", config.trainer.optim, "lr"),
        "ckpt_interval": ("ckpt.interval", config.ckpt, "interval"),
        "ckpt_keep_last": ("ckpt.keep_last", config.ckpt, "keep_last"),
        "wandb_project": ("monitors.wandb.project", config.monitors.wandb, "project"),
        "wandb_name": ("monitors.wandb.name", config.monitors.wandb, "name"),
    }


READ_ELSEWHERE = {
    "run.name",
    "run.dir",
    "output_dir",
    "orchestrator.algo.type",
    "orchestrator.train.source[0].name",
}
"""Keys the backend reads outside the settings: the run folder (`runs.run_dir`) and the algorithm check."""


def _leaf_paths(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [p for k, v in node.items() for p in _leaf_paths(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        return [p for i, v in enumerate(node) for p in _leaf_paths(v, f"{prefix}[{i}]")]
    return [prefix]


def ignored_keys(config: RunConfig) -> list[str]:
    """Sorted dotted keys the user set that the local backend does not use."""
    used = {key for key, _, _ in prime_rl_keys(config).values()} | READ_ELSEWHERE
    user_set = config.model_dump(exclude_unset=True, exclude=NOT_FOR_PRIME_RL)
    return sorted(
        p
        for p in _leaf_paths(user_set)
        if p not in used and not p.startswith("orchestrator.train.source[0].env.taskset")
    )


def _user_values(config: RunConfig) -> dict[str, Any]:
    """The settings fields whose prime-rl key the user set (to a value, not null)."""
    values = {}
    for name, (_, table, field) in prime_rl_keys(config).items():
        if table is not None and field in table.model_fields_set and getattr(table, field) is not None:
            values[name] = getattr(table, field)
    return values


def _taskset(config: RunConfig) -> tuple[str, dict[str, Any]]:
    """The first train source's taskset id and its other options (the local default env without one)."""
    sources = config.orchestrator.train.source
    if not sources:
        return DEFAULT_ENV, {}
    taskset = sources[0].env.taskset
    return taskset.id, taskset.model_dump(exclude={"id"}, exclude_unset=True)


def settings_from(resolved: ResolvedConfig) -> tuple[LocalTrainSettings, list[str]]:
    """The local settings and the sorted dotted keys the local backend ignores."""
    config: RunConfig = resolved.config
    if config.orchestrator.algo.type != "grpo":
        raise UserError(
            f"[orchestrator.algo] type = {config.orchestrator.algo.type!r}: the local backend "
            'implements only "grpo" (its options for the gold inside the update are in [local.mixed_policy])'
        )
    env_id, env_options = _taskset(config)
    values = _user_values(config)
    try:
        settings = LocalTrainSettings.model_validate(
            {**values, "env_id": env_id, "env_options": env_options, "local": config.local}
        )
    except ValidationError as err:
        raise _named_by_key(err, config) from None
    return settings, ignored_keys(config)


def _named_by_key(err: ValidationError, config: RunConfig) -> UserError:
    """The first settings error, named by the prime-rl key the user wrote (`orchestrator.group_size`)."""
    first = dict(err.errors()[0])
    keys = prime_rl_keys(config)
    if first["loc"] and first["loc"][0] in keys:
        first["loc"] = tuple(keys[str(first["loc"][0])][0].split("."))
    more = len(err.errors()) - 1
    return UserError(describe_error(first) + (f" (and {more} more problem(s))" if more else ""))


def freeze_embeddings(model: Any, settings: LocalTrainSettings) -> None:
    """With `[local] freeze_embeddings` (and no LoRA), stop training the input embedding (and a tied LM head).

    Call it on the trainer's model before `train()`: the optimizer is built then, from trainable weights."""
    if settings.local.freeze_embeddings and settings.local.lora is None:
        model.get_input_embeddings().weight.requires_grad_(False)


def peft_lora_config(settings: LocalTrainSettings) -> Any:
    """PEFT's LoraConfig from `[local.lora]`, or None for a full fine-tune."""
    lora = settings.local.lora
    if lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )
