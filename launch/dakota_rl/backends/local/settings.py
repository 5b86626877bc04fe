"""Map the prime-rl keys the local TRL backend understands onto one typed settings object.

Every other key of the merged config is listed by `ignored_keys` so the CLI can print it: nothing is dropped
silently.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from dakota_rl.config import ConfigError, LocalConfig, ResolvedConfig

MAPPED = {
    "model.name",
    "run.name",
    "output_dir",
    "max_steps",
    "seq_len",
    "orchestrator.batch_size",
    "orchestrator.group_size",
    "orchestrator.algo.type",
    "orchestrator.train.sampling.temperature",
    "orchestrator.train.sampling.max_completion_tokens",
    "trainer.optim.lr",
    "ckpt.interval",
    "ckpt.keep_last",
    "monitors.wandb.project",
    "monitors.wandb.name",
}
"""Dotted prime-rl keys the local backend reads (plus the first train source's env and taskset options)."""


class LocalTrainSettings(BaseModel):
    """What one local GRPO run needs, read from prime-rl keys (names follow prime-rl, defaults its defaults)."""

    model: str = "smollm2-135m-instruct"
    """`[model] name`: an HF hub id, a local folder, or "smollm2-135m-instruct" (offline)."""
    max_steps: int = Field(20, ge=1)
    """`max_steps`: GRPO optimizer steps."""
    seq_len: int = Field(1024, ge=16)
    """`seq_len`: prompt + completion token budget."""
    batch_size: int = Field(8, ge=1)
    """`[orchestrator] batch_size`: rollouts per step (divisible by group_size)."""
    group_size: int = Field(4, ge=2)
    """`[orchestrator] group_size`: rollouts per prompt."""
    temperature: float = Field(1.0, gt=0)
    """`[orchestrator.train.sampling] temperature`."""
    max_completion_tokens: int = Field(128, ge=1)
    """`[orchestrator.train.sampling] max_completion_tokens`."""
    lr: float = Field(1e-6, gt=0)
    """`[trainer.optim] lr`."""
    ckpt_interval: int | None = Field(None, ge=1)
    """`[ckpt] interval`: save every N steps (the final step is always saved)."""
    ckpt_keep_last: int | None = Field(None, ge=1)
    """`[ckpt] keep_last`: keep this many recent checkpoints."""
    wandb_project: str | None = None
    wandb_name: str | None = None
    env_id: str = "dakota_grammar_translation"
    """`[orchestrator.train.source.env.taskset] id`."""
    env_options: dict[str, Any] = {}
    """The other keys of that taskset table (split, families, limit, task weights, …)."""
    local: LocalConfig = LocalConfig()

    @model_validator(mode="after")
    def _batch_divisible(self) -> LocalTrainSettings:
        if self.batch_size % self.group_size:
            raise ValueError(
                f"[orchestrator] batch_size ({self.batch_size}) must be divisible by group_size ({self.group_size})"
            )
        return self


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, dotted))
        else:
            flat[dotted] = value
    return flat


def _sources(resolved: ResolvedConfig) -> list[dict[str, Any]]:
    sources = resolved.get("orchestrator.train.source", [])
    if isinstance(sources, dict):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise ConfigError("[[orchestrator.train.source]] must be an array of tables")
    return sources


def settings_from(resolved: ResolvedConfig) -> tuple[LocalTrainSettings, list[str]]:
    """The local settings and the sorted dotted keys it ignores."""
    sources = _sources(resolved)
    env_id, env_options = "dakota_grammar_translation", {}
    if sources:
        taskset = sources[0].get("env", {}).get("taskset", {})
        env_id = str(taskset.get("id") or sources[0].get("name") or env_id)
        env_options = {k: v for k, v in taskset.items() if k != "id"}
    algo = resolved.get("orchestrator.algo.type", "grpo")
    if algo != "grpo":
        raise ConfigError(f"[orchestrator.algo] type = {algo!r}: the local backend implements only \"grpo\"")
    values = {
        "model": resolved.get("model.name"),
        "max_steps": resolved.get("max_steps"),
        "seq_len": resolved.get("seq_len"),
        "batch_size": resolved.get("orchestrator.batch_size"),
        "group_size": resolved.get("orchestrator.group_size"),
        "temperature": resolved.get("orchestrator.train.sampling.temperature"),
        "max_completion_tokens": resolved.get("orchestrator.train.sampling.max_completion_tokens"),
        "lr": resolved.get("trainer.optim.lr"),
        "ckpt_interval": resolved.get("ckpt.interval"),
        "ckpt_keep_last": resolved.get("ckpt.keep_last"),
        "wandb_project": resolved.get("monitors.wandb.project"),
        "wandb_name": resolved.get("monitors.wandb.name"),
        "env_id": env_id,
        "env_options": env_options,
    }
    values = {k: v for k, v in values.items() if v is not None and v != "None"}
    try:
        settings = LocalTrainSettings(**values, local=resolved.local)
    except ValueError as err:
        first = err.errors()[0] if hasattr(err, "errors") else {"loc": (), "msg": str(err)}
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid value{' for ' + where if where else ''}: {first['msg']}") from None
    flat = _flatten({k: v for k, v in resolved.merged.items() if k != "orchestrator"})
    flat.update(_flatten({"orchestrator": {k: v for k, v in resolved.get("orchestrator", {}).items()
                                           if k != "train"}}))
    train = dict(resolved.get("orchestrator.train", {}))
    train.pop("source", None)
    flat.update(_flatten({"orchestrator": {"train": train}}))
    for i, source in enumerate(sources):
        for key in _flatten(source):
            if i == 0 and (key == "name" or key.startswith("env.taskset")):
                continue
            flat[f"orchestrator.train.source[{i}].{key}"] = None
    ignored = sorted(k for k in flat if k not in MAPPED)
    return settings, ignored


def peft_lora_config(settings: LocalTrainSettings) -> Any:
    """PEFT's LoraConfig from `[local.lora]`, or None for a full fine-tune."""
    lora = settings.local.lora
    if lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=lora.target_modules, task_type="CAUSAL_LM")
