"""The prime-rl config keys our TOMLs use, typed as in prime-rl main @ 559b447.

A strict subset of `packages/prime-rl-configs/src/prime_rl/configs/` (rl.py RLConfig, orchestrator.py,
trainer.py, inference.py, monitors.py, shared.py) at the pinned commit, written from reading that source. It
catches misspelt or moved keys (e.g. v0.4's `rollouts_per_example`, `[wandb]`, `[[orchestrator.env]]`) without
prime-rl installed. Keys prime-rl accepts but we do not use are rejected here too: extend the model when a
config starts using one. prime-rl's own `rl … --dry-run` remains the authority (`prime-rl train --dry-run`).

Layouts (see layout.py): no `[inference]` = vLLM started outside `rl` on GPU 0; `[inference]` = prime-rl
starts vLLM on `[deployment] num_infer_gpus` GPUs of one node; `[slurm]` (+
`[deployment] type = "multi_node"`) = prime-rl writes and submits an sbatch job. One rule is ours, stricter
than prime-rl: a config with `[inference]` writes its GPU split out (`num_infer_gpus` or `num_infer_nodes`),
so the GPUs a run takes are read in the file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_config import BaseConfig

from dakota_rl.safe_text import check_one_line, check_run_name, check_script_path


class _Keys(BaseConfig):
    """prime-rl's config base: extra keys forbidden, the string "None" read as None."""


class RunKeys(_Keys):
    """`[run]`: the run folder's name (`dir`, default `name`) under `output_dir`; both plain, shell-safe
    folder names (they reach the sbatch job script and `--clean`)."""

    name: str | None = None
    dir: str | None = None

    @field_validator("name", "dir")
    @classmethod
    def plain_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        what = f"[run] {info.field_name}" + (" (the run name)" if info.field_name == "name" else "")
        return None if value is None else check_run_name(value, what)


class ModelKeys(_Keys):
    name: str = "Qwen/Qwen3-0.6B"


class DeploymentKeys(_Keys):
    """`[deployment]` on one node (SingleNodeDeploymentConfig): inference takes the first `num_infer_gpus`
    GPUs, the trainer the next `num_train_gpus` (data-parallel FSDP when > 1)."""

    type: Literal["single_node"] = "single_node"
    gpus_per_node: int = 8
    num_train_gpus: int = Field(1, ge=1)
    num_infer_gpus: int = Field(1, ge=0)
    """Counted only when `[inference]` is present (prime-rl starts vLLM); 1 by default."""

    @model_validator(mode="after")
    def fits_the_node(self) -> DeploymentKeys:
        if self.num_train_gpus + self.num_infer_gpus > self.gpus_per_node:
            raise ValueError(
                f"num_train_gpus + num_infer_gpus = {self.num_train_gpus + self.num_infer_gpus} "
                f"exceeds gpus_per_node = {self.gpus_per_node}"
            )
        return self


class MultiNodeDeploymentKeys(_Keys):
    """`[deployment] type = "multi_node"` (MultiNodeDeploymentConfig): whole nodes per role, SLURM only."""

    type: Literal["multi_node"]
    gpus_per_node: int = 8
    num_train_nodes: int = Field(ge=1)
    """Trainer nodes (FSDP across all their GPUs)."""
    num_infer_nodes: int | None = Field(None, ge=0)
    """Inference nodes per replica; unset: inferred from `[inference.deployment]` (1 for single-node
    inference)."""
    num_infer_replicas: int = Field(1, ge=1)
    """Independent inference replicas (total inference nodes = num_infer_nodes x num_infer_replicas)."""


class SlurmKeys(_Keys):
    """`[slurm]` (shared.py SlurmConfig): `rl` renders prime-rl's sbatch template into `<run>/rl.sbatch` and
    submits it. `prime-rl train` fills `project_dir` (the prime-rl checkout) and `pre_run_command` (reinstall
    our environments after the template's `uv sync`) unless set here."""

    job_name: str = "prime-rl"
    project_dir: str = "."
    """The prime-rl checkout on the cluster's shared filesystem (the job `cd`s there and uses its .venv)."""
    template_path: str | None = None
    partition: str = "cluster"
    nodelist: str | None = None
    exclude: str | None = None
    account: str | None = None
    time: str | None = None
    """Wall-time limit, e.g. "24:00:00"."""
    pre_run_command: str | None = None
    cleanup_grace_period: int = Field(3600, ge=0)
    shared_fs: bool = True

    @field_validator("job_name", "partition", "nodelist", "exclude", "account", "time", "pre_run_command")
    @classmethod
    def one_line(cls, value: str | None, info: ValidationInfo) -> str | None:
        """prime-rl renders these into the job script unquoted: a newline would start a shell line."""
        return None if value is None else check_one_line(value, f"[slurm] {info.field_name}")

    @field_validator("project_dir", "template_path")
    @classmethod
    def script_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A path the job script holds unquoted (`export PROJECT_DIR=…`): no whitespace or shell chars."""
        return None if value is None else check_script_path(value, f"[slurm] {info.field_name}")


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
    """`[orchestrator.algo]` (configs/algorithm.py): `grpo` (the default), or `opsd`, on-policy
    self-distillation (SDFT): the policy samples, and each token is trained toward the policy's own
    distribution with the task's gold shown as a demonstration. opsd is prime-rl's closest algorithm to the
    local backend's `[local.mixed_policy]` (the gold inside the update); the local backend runs only grpo."""

    type: Literal["grpo", "opsd"] = "grpo"
    demo_key: str | None = None
    """opsd: the task field holding the demonstration (prime-rl's default "demonstration"; our tasks'
    gold is `answer`)."""
    template: str | None = None
    """opsd: the system message carrying the demonstration (prime-rl's default when unset)."""

    @model_validator(mode="after")
    def opsd_keys_only_with_opsd(self) -> AlgoKeys:
        if self.type != "opsd" and (self.demo_key is not None or self.template is not None):
            raise ValueError(f'demo_key and template belong to type = "opsd", not {self.type!r}')
        return self


class SamplingKeys(_Keys):
    temperature: float = Field(1.0, ge=0, le=2.0)
    max_completion_tokens: int | None = Field(None, ge=1)


class HarnessKeys(_Keys):
    id: str


class RuntimeKeys(_Keys):
    type: Literal["subprocess"] = "subprocess"
    """verifiers also offers docker, podman, apptainer, e2b, modal and prime; our pure-Python scorers need
    none."""


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


def _script_name(value: str | None, info: ValidationInfo) -> str | None:
    """A name prime-rl renders unquoted into a multi-node job script (env-server log and config paths, the
    router policy): a plain, shell-safe name."""
    return None if value is None else check_run_name(value, info.field_name)


class SourceKeys(_Keys):
    name: str | None = None
    ratio: float = Field(1.0, gt=0)
    env: EnvKeys
    sampling: SamplingKeys | None = None
    group_size: int | None = Field(None, ge=1)

    shell_safe_name = field_validator("name")(_script_name)


class TrainKeys(_Keys):
    source: list[SourceKeys] = []
    """prime-rl needs at least one; the local backend defaults to dakota_grammar_translation."""
    sampling: SamplingKeys = SamplingKeys()
    filter_zero_advantages: bool = True


class EvalSamplingKeys(_Keys):
    """EvalSamplingConfig: unset fields inherit from `[orchestrator.eval.sampling]`."""

    temperature: float | None = Field(None, ge=0, le=2.0)
    max_completion_tokens: int | None = Field(None, ge=1)


class EvalSourceKeys(_Keys):
    """`[[orchestrator.eval.source]]` (EvalSourceConfig): a taskset evaluated every `interval` steps."""

    name: str | None = None
    env: EnvKeys
    sampling: EvalSamplingKeys | None = None

    shell_safe_name = field_validator("name")(_script_name)
    num_examples: int | None = None
    """Examples per eval (-1: all); unset inherits `[orchestrator.eval] num_examples`."""
    group_size: int | None = Field(None, ge=1)
    """Rollouts per example (pass@k up to k = group_size); unset inherits the group-level value."""
    interval: int | None = Field(None, ge=1)


class EvalKeys(_Keys):
    """`[orchestrator.eval]` (EvalConfig): online evaluation, logged as `eval/<source>/…`."""

    source: list[EvalSourceKeys] = Field(min_length=1)
    sampling: EvalSamplingKeys = EvalSamplingKeys()
    num_examples: int = -1
    group_size: int = Field(1, ge=1)
    interval: int = Field(100, ge=1)
    """Evaluate every this many steps (prime-rl default 100)."""
    skip_first_step: bool = False
    """Skip the eval before the first training step (the base model's score)."""


class OrchestratorKeys(_Keys):
    batch_size: int | None = Field(None, ge=1)
    group_size: int = Field(1, ge=1)
    seq_len: int | None = None
    algo: AlgoKeys = AlgoKeys()
    train: TrainKeys = TrainKeys()
    eval: EvalKeys | None = None


class OptimKeys(_Keys):
    lr: float = Field(1e-6, gt=0)
    weight_decay: float | None = None
    max_norm: float | None = None


class TrainerKeys(_Keys):
    optim: OptimKeys = OptimKeys()


class ServerKeys(_Keys):
    host: str | None = None
    port: int = 8000


class VllmKeys(_Keys):
    model: str = "Qwen/Qwen3-0.6B"
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_model_len: int | None = Field(None, ge=1)
    enforce_eager: bool = False
    tensor_parallel_size: int = Field(1, ge=1)
    data_parallel_size: int = Field(1, ge=1)
    """On one node prime-rl sets it to num_infer_gpus / tensor_parallel_size (one vLLM engine per GPU)."""


class RouterKeys(_Keys):
    """VllmRouterConfig: prime-rl's vllm-router in front of the engines (required on multi-node runs)."""

    type: Literal["vllm-router"] = "vllm-router"
    policy: str = "consistent_hash"

    shell_safe_policy = field_validator("policy")(_script_name)


class InferenceKeys(_Keys):
    """`inference @ file.toml` (InferenceConfig) for the standalone vLLM server, or `[inference]` in an rl
    config (prime-rl starts the server itself; then `router` defaults to vllm-router)."""

    router: Literal["None"] | RouterKeys | None = None
    server: ServerKeys = ServerKeys()
    vllm: VllmKeys = VllmKeys()


def _deployment_type(value: Any) -> str:
    """prime-rl's `[deployment] type`, single_node when omitted."""
    return (
        value.get("type", "single_node") if isinstance(value, dict) else getattr(value, "type", "single_node")
    )


class RLKeys(_Keys):
    """`rl @ file.toml` as our configs use it, in any of the three layouts (module docstring)."""

    max_steps: int | None = Field(None, ge=1)
    seq_len: int | None = Field(None, ge=1)
    output_dir: str | None = None
    run: RunKeys = RunKeys()
    model: ModelKeys = ModelKeys()
    deployment: Annotated[
        Annotated[DeploymentKeys, Tag("single_node")] | Annotated[MultiNodeDeploymentKeys, Tag("multi_node")],
        Discriminator(_deployment_type),
    ] = DeploymentKeys()
    slurm: SlurmKeys | None = None
    inference: InferenceKeys | None = None
    """Present: prime-rl starts vLLM itself (single-node or SLURM layouts). Absent: the one-GPU layout."""
    weight_broadcast: WeightBroadcastKeys | None = None
    ckpt: CheckpointKeys | None = None
    monitors: MonitorsKeys = MonitorsKeys()
    orchestrator: OrchestratorKeys = OrchestratorKeys()
    trainer: TrainerKeys = TrainerKeys()

    @field_validator("inference")
    @classmethod
    def gpu_split_written_out(cls, value: InferenceKeys | None, info: ValidationInfo) -> InferenceKeys | None:
        """Our rule: with [inference], the GPUs prime-rl gives vLLM are stated in [deployment]."""
        deployment = info.data.get("deployment")
        if value is None or deployment is None:
            return value
        explicit = "num_infer_nodes" if isinstance(deployment, MultiNodeDeploymentKeys) else "num_infer_gpus"
        if explicit not in deployment.model_fields_set:
            raise ValueError(
                f"an [inference] table makes prime-rl start vLLM on GPUs of its own: write "
                f"[deployment] {explicit} out, or remove [inference] for the one-GPU layout"
            )
        return value

    @model_validator(mode="after")
    def multi_node_needs_slurm(self) -> RLKeys:
        if isinstance(self.deployment, MultiNodeDeploymentKeys) and self.slurm is None:
            raise ValueError(
                '[deployment] type = "multi_node" needs [slurm] (prime-rl runs multi-node via SLURM)'
            )
        return self


def schema_errors(model: type[BaseModel], tree: dict[str, Any]) -> list[str]:
    """Every key problem in `tree` as `dotted.path: message` lines (empty when it fits the model)."""
    try:
        model.model_validate(tree)
    except ValidationError as err:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
    return []
