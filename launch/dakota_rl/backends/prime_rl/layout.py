"""Which GPU layout a prime-rl config asks for, read from its tables the way prime-rl @ 559b447 reads them.

Three layouts, chosen from the config alone (never from the machine, so `--dry-run` shows the same choice
anywhere):
  - `one-gpu`: no `[inference]`, no `[slurm]`, one trainer GPU. Our colocation: vLLM from
    configs/inference_gpu0.toml and `rl` share GPU 0 (prime-rl counts zero inference GPUs).
  - `single-node`: an `[inference]` table, or `[deployment]` asking for more GPUs. prime-rl's own `rl` starts
    vLLM on the first `num_infer_gpus` GPUs and the trainer on the next `num_train_gpus` (entrypoints/rl.py).
  - `slurm`: a `[slurm]` table. `rl` writes `<run>/rl.sbatch` and submits it with `sbatch` (single- or
    multi-node, per `[deployment] type`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dakota_rl.backends.prime_rl.checkout import PrimeRLError
from dakota_rl.schema import MultiNodeDeploymentKeys, RLKeys

LayoutKind = Literal["one-gpu", "single-node", "slurm"]
DEFAULT_GPUS_PER_NODE = 8
"""prime-rl's `deployment.gpus_per_node` default."""


@dataclass(frozen=True)
class Layout:
    """A config's deployment, with prime-rl's defaults filled in."""

    kind: LayoutKind
    num_train_gpus: int = 1
    num_infer_gpus: int = 0
    """Inference GPUs prime-rl starts vLLM on (0 when vLLM runs outside `rl`)."""
    weight_broadcast: str = "filesystem"
    """As prime-rl resolves it: explicit `[weight_broadcast] type`, else nccl when it starts inference without
    LoRA, else filesystem (rl.py `auto_setup_weight_broadcast`)."""
    multi_node: bool = False
    num_train_nodes: int = 0
    num_infer_nodes: int = 0
    gpus_per_node: int = DEFAULT_GPUS_PER_NODE
    add_inference_table: bool = False
    """True when `[deployment]` asks for inference GPUs but the config has no `[inference]`: the launcher adds
    an empty one (prime-rl's defaults) so `rl` starts vLLM, as the user asked."""

    @property
    def total_gpus(self) -> int:
        """GPUs on one machine (one-gpu and single-node layouts)."""
        return self.num_train_gpus + self.num_infer_gpus

    def gpu_roles(self) -> dict[str, tuple[int, ...]]:
        """Local GPU indices per role, in prime-rl's order: inference first, then the trainer."""
        if self.kind == "one-gpu":
            return {"inference": (0,), "trainer": (0,)}
        if self.kind == "slurm" and self.multi_node:
            return {}
        infer = tuple(range(self.num_infer_gpus))
        return {"inference": infer, "trainer": tuple(range(len(infer), len(infer) + self.num_train_gpus))}

    def describe(self) -> str:
        """One line: what runs where."""
        if self.kind == "one-gpu":
            return "one GPU: vLLM (configs/inference_gpu0.toml) and the trainer share GPU 0"
        if self.kind == "slurm" and self.multi_node:
            return (
                f"SLURM, {self.num_train_nodes} trainer node(s) + {self.num_infer_nodes} inference node(s) "
                f"x {self.gpus_per_node} GPUs, {self.weight_broadcast} weight broadcast (sbatch)"
            )
        where = "SLURM, one node" if self.kind == "slurm" else "one node"
        return (
            f"{where}: prime-rl starts vLLM on GPU(s) {_span(self.num_infer_gpus, 0)} and the trainer on "
            f"GPU(s) {_span(self.num_train_gpus, self.num_infer_gpus)}, {self.weight_broadcast} weight "
            "broadcast"
        )


def _span(count: int, start: int) -> str:
    return str(start) if count == 1 else f"{start}-{start + count - 1}"


def _broadcast(config: RLKeys, starts_inference: bool) -> str:
    """An explicit `[weight_broadcast] type`, else nccl when prime-rl starts inference (our schema has no
    LoRA key for prime-rl's trainer, so never a LoRA run), else filesystem."""
    wb = config.weight_broadcast
    if wb is not None and "type" in wb.model_fields_set:
        return wb.type
    return "nccl" if starts_inference else "filesystem"


def choose_layout(config: RLKeys) -> Layout:
    """The layout the typed config asks for; a contradiction in it raises PrimeRLError (one line)."""
    deployment, inference = config.deployment, config.inference
    if isinstance(deployment, MultiNodeDeploymentKeys):
        if config.slurm is None:
            raise PrimeRLError(
                '[deployment] type = "multi_node" needs a [slurm] table: prime-rl runs '
                "multi-node jobs only through SLURM (see configs/dakota_400_slurm.toml)"
            )
        infer_nodes = deployment.num_infer_nodes
        return Layout(
            "slurm",
            weight_broadcast=_broadcast(config, inference is not None),
            multi_node=True,
            num_train_nodes=deployment.num_train_nodes,
            num_infer_nodes=(1 if inference is not None else 0) if infer_nodes is None else infer_nodes,
            gpus_per_node=deployment.gpus_per_node,
        )
    num_train, gpus_per_node = deployment.num_train_gpus, deployment.gpus_per_node
    asked_infer = deployment.num_infer_gpus if "num_infer_gpus" in deployment.model_fields_set else None
    if config.slurm is not None:
        infer = (1 if asked_infer is None else asked_infer) if inference is not None else 0
        return Layout(
            "slurm", num_train, infer, _broadcast(config, inference is not None), gpus_per_node=gpus_per_node
        )
    if inference is None and num_train == 1 and not asked_infer:
        return Layout("one-gpu", 1, 0, _broadcast(config, False), gpus_per_node=gpus_per_node)
    infer = 1 if asked_infer is None else asked_infer
    if infer == 0:
        raise PrimeRLError(
            f"num_infer_gpus = 0 with num_train_gpus = {num_train}: prime-rl would start no vLLM. "
            "Set num_infer_gpus >= 1 (e.g. configs/dakota_400_8gpu.toml), or use num_train_gpus = 1 "
            "without [inference] for the one-GPU layout"
        )
    return Layout(
        "single-node",
        num_train,
        infer,
        _broadcast(config, True),
        gpus_per_node=gpus_per_node,
        add_inference_table=inference is None,
    )
