"""What the local TRL backend takes from the typed run config, and what it ignores (printed, never dropped).

Each `LocalTrainSettings` field names the prime-rl key it is read from (`AliasPath`); keys the user set that
no field reads are reported by `settings_from` so nothing is ignored silently. Unset prime-rl keys fall back
to the local defaults below (sized for a CPU), not to prime-rl's GPU defaults.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, ValidationError, model_validator

from dakota_rl.config import LocalConfig, ResolvedConfig, RunConfig, validation_error
from dakota_rl.errors import UserError

DEFAULT_ENV = "dakota_grammar_translation"


def _from(*path: str) -> Any:
    return AliasPath(*path)


class LocalTrainSettings(BaseModel):
    """One local GRPO run: prime-rl's keys (read from the path each field names) plus the `[local]` table."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="ignore")

    model: str = Field("smollm2-135m-instruct", validation_alias=_from("model", "name"))
    """An HF hub id, a local folder, or "smollm2-135m-instruct" (offline)."""
    max_steps: int = Field(20, ge=1, validation_alias=_from("max_steps"))
    """GRPO optimizer steps."""
    seq_len: int = Field(1024, ge=16, validation_alias=_from("seq_len"))
    """Prompt + completion token budget."""
    batch_size: int = Field(8, ge=1, validation_alias=_from("orchestrator", "batch_size"))
    """Rollouts per step (divisible by group_size)."""
    group_size: int = Field(4, ge=2, validation_alias=_from("orchestrator", "group_size"))
    """Rollouts per prompt."""
    temperature: float = Field(
        1.0, gt=0, validation_alias=_from("orchestrator", "train", "sampling", "temperature")
    )
    max_completion_tokens: int = Field(
        128, ge=1, validation_alias=_from("orchestrator", "train", "sampling", "max_completion_tokens")
    )
    lr: float = Field(1e-6, gt=0, validation_alias=_from("trainer", "optim", "lr"))
    ckpt_interval: int | None = Field(None, ge=1, validation_alias=_from("ckpt", "interval"))
    """Save every N steps (the final step is always saved)."""
    ckpt_keep_last: int | None = Field(None, ge=1, validation_alias=_from("ckpt", "keep_last"))
    """Keep this many recent checkpoints."""
    wandb_project: str | None = Field(None, validation_alias=_from("monitors", "wandb", "project"))
    wandb_name: str | None = Field(None, validation_alias=_from("monitors", "wandb", "name"))
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


READ_ELSEWHERE = {"run.name", "output_dir", "orchestrator.algo.type"}
"""Keys the backend reads outside the settings: the run folder (`run_dir_for`) and the algorithm check."""


def _without_none(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_none(v) for k, v in node.items() if v is not None and v != "None"}
    return node


def _leaf_paths(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [p for k, v in node.items() for p in _leaf_paths(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        return [p for i, v in enumerate(node) for p in _leaf_paths(v, f"{prefix}[{i}]")]
    return [prefix]


def _read_paths() -> set[str]:
    fields = LocalTrainSettings.model_fields.values()
    paths = {
        ".".join(map(str, f.validation_alias.path))
        for f in fields
        if isinstance(f.validation_alias, AliasPath)
    }
    return paths | READ_ELSEWHERE


def ignored_keys(merged: dict[str, Any]) -> list[str]:
    """Sorted dotted keys the user set that the local backend does not use."""
    used = _read_paths() | {"orchestrator.train.source[0].name"}
    return sorted(
        p
        for p in _leaf_paths(merged)
        if p not in used and not p.startswith("orchestrator.train.source[0].env.taskset")
    )


def settings_from(resolved: ResolvedConfig) -> tuple[LocalTrainSettings, list[str]]:
    """The local settings and the sorted dotted keys the local backend ignores."""
    config: RunConfig = resolved.config
    if config.orchestrator.algo.type != "grpo":
        raise UserError(
            f"[orchestrator.algo] type = {config.orchestrator.algo.type!r}: the local backend "
            'implements only "grpo" (its options for the gold inside the update are in [local.mixed_policy])'
        )
    env_id, env_options = DEFAULT_ENV, {}
    sources = config.orchestrator.train.source
    if sources:
        taskset = sources[0].env.taskset
        env_id = taskset.id
        env_options = taskset.model_dump(exclude={"id"}, exclude_unset=True)
    merged = resolved.merged
    try:
        settings = LocalTrainSettings.model_validate(
            {**_without_none(merged), "env_id": env_id, "env_options": env_options, "local": config.local}
        )
    except ValidationError as err:
        raise validation_error(err) from None
    return settings, ignored_keys(merged)


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
