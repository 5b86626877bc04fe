"""The prime-rl config keys our TOMLs use, typed as in prime-rl main @ 559b447.

A strict subset of `packages/prime-rl-configs/src/prime_rl/configs/` (rl.py RLConfig, orchestrator.py,
trainer.py, inference.py, monitors.py) at the pinned commit, written from reading that source. It catches
misspelt or moved keys (e.g. v0.4's `rollouts_per_example`, `[wandb]`, `[[orchestrator.env]]`) without
prime-rl installed. Keys prime-rl accepts but we do not use are rejected here too: extend the model when a
config starts using one. prime-rl's own `rl … --dry-run` remains the authority (`prime-rl train --dry-run`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_config import BaseConfig


class _Keys(BaseConfig):
    """prime-rl's config base: extra keys forbidden, the string "None" read as None."""


class RunKeys(_Keys):
    name: str | None = None
    dir: str | None = None


class ModelKeys(_Keys):
    name: str = "Qwen/Qwen3-0.6B"


class DeploymentKeys(_Keys):
    type: Literal["single_node"] = "single_node"
    gpus_per_node: int = 8
    num_train_gpus: int = Field(1, ge=1)
    num_infer_gpus: int = Field(1, ge=0)


class WeightBroadcastKeys(_Keys):
    type: Literal["filesystem", "nccl", "nixl"] = "filesystem"


class CheckpointKeys(_Keys):
    interval: int | None = Field(None, ge=1)
    keep_last: int | None = Field(None, ge=1)
    keep_interval: int | None = Field(None, ge=1)


class WandbKeys(_Keys):
    project: str | None = "prime-rl"
    entity: str | None = None
    name: str | None = None
    group: str | None = None
    tags: list[str] | None = None
    offline: Literal[False] = False
    """prime-rl's `rl` refuses `monitors.wandb.offline = true` (shared W&B mode); use WANDB_MODE=offline."""


class FileMonitorKeys(_Keys):
    path: str = "metrics.jsonl"


class MonitorsKeys(_Keys):
    wandb: WandbKeys | None = None
    file: FileMonitorKeys | None = None


class AlgoKeys(_Keys):
    type: Literal["grpo"] = "grpo"


class SamplingKeys(_Keys):
    temperature: float = Field(1.0, ge=0, le=2.0)
    max_completion_tokens: int | None = Field(None, ge=1)


class HarnessKeys(_Keys):
    id: str


class RuntimeKeys(_Keys):
    type: Literal["subprocess"] = "subprocess"
    """verifiers also offers docker, podman, apptainer, e2b, modal and prime; our pure-Python scorers need none."""


class AgentKeys(_Keys):
    harness: HarnessKeys
    runtime: RuntimeKeys = RuntimeKeys()
    max_turns: int | None = None


class TasksetKeys(BaseModel):
    """verifiers TasksetConfig: `id` plus the environment's own load-time options (defined by the env)."""

    model_config = ConfigDict(extra="allow")
    id: str


class EnvKeys(_Keys):
    taskset: TasksetKeys
    agent: AgentKeys | None = None
    """None: the environment package's own default agent (ours: the null harness in a subprocess)."""


class SourceKeys(_Keys):
    name: str | None = None
    ratio: float = Field(1.0, gt=0)
    env: EnvKeys
    sampling: SamplingKeys | None = None
    group_size: int | None = Field(None, ge=1)


class TrainKeys(_Keys):
    source: list[SourceKeys] = []
    """prime-rl needs at least one; the local backend defaults to dakota_grammar_translation."""
    sampling: SamplingKeys = SamplingKeys()
    filter_zero_advantages: bool = True


class OrchestratorKeys(_Keys):
    batch_size: int | None = Field(None, ge=1)
    group_size: int = Field(1, ge=1)
    seq_len: int | None = None
    algo: AlgoKeys = AlgoKeys()
    train: TrainKeys = TrainKeys()


class OptimKeys(_Keys):
    lr: float = Field(1e-6, gt=0)
    weight_decay: float | None = None
    max_norm: float | None = None


class TrainerKeys(_Keys):
    optim: OptimKeys = OptimKeys()


class RLKeys(_Keys):
    """`rl @ file.toml` as our configs use it (no [inference]: vLLM is started separately on GPU 0)."""

    max_steps: int | None = Field(None, ge=1)
    seq_len: int | None = Field(None, ge=1)
    output_dir: str | None = None
    run: RunKeys = RunKeys()
    model: ModelKeys = ModelKeys()
    deployment: DeploymentKeys = DeploymentKeys()
    weight_broadcast: WeightBroadcastKeys | None = None
    ckpt: CheckpointKeys | None = None
    monitors: MonitorsKeys = MonitorsKeys()
    orchestrator: OrchestratorKeys = OrchestratorKeys()
    trainer: TrainerKeys = TrainerKeys()


class ServerKeys(_Keys):
    host: str | None = None
    port: int = 8000


class VllmKeys(_Keys):
    model: str = "Qwen/Qwen3-0.6B"
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_model_len: int | None = Field(None, ge=1)
    enforce_eager: bool = False


class InferenceKeys(_Keys):
    """`inference @ file.toml` (InferenceConfig) for the standalone vLLM server."""

    router: Literal["None"] | None = None
    server: ServerKeys = ServerKeys()
    vllm: VllmKeys = VllmKeys()


def schema_errors(model: type[BaseModel], tree: dict[str, Any]) -> list[str]:
    """Every key problem in `tree` as `dotted.path: message` lines (empty when it fits the model)."""
    try:
        model.model_validate(tree)
    except ValidationError as err:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
    return []
