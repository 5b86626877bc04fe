"""Benchmarks of the local backend's training steps.

    python -m dakota_rl.bench_train_steps [@ CONFIG.toml ...] [--dotted.key VALUE ...] [--steps N]
    python -m dakota_rl.bench_train_steps --efficiency [@ CONFIG.toml ...] [--steps N]

Default: the local backend's GRPO step time next to bare TRL on the same config (target: ≤10% overhead).
Defaults to `configs/dakota_smoke.toml` with no SFT, no checkpoints. "Bare TRL" is GRPOTrainer with one reward
function returning the env scorer's total and no callbacks; the local backend adds per-component rewards,
metrics.jsonl and the rest of its adapter. The first step (warm-up) is excluded from the means.

`--efficiency`: step time against the FLOP bound of the tokens a step processes (target ≤ 1.5×), for SFT steps
(TRL SFTTrainer, the warm-up's settings) and GRPO steps (TRL GRPOTrainer, the run's settings). Defaults to
`configs/dakota_smoke.toml` + `configs/local/cpu.toml`. Wall time and the process's CPU time are both compared
with their bound (CPU time stays meaningful on a machine shared with other jobs). Tokens are the non-padding
prompt + answer tokens TRL counts (`num_tokens`); FLOPs ≈ 6 × params × tokens for a training pass (forward +
backward) and 2 × params × tokens for generation or a forward pass (GRPO: generation + policy training + a
reference forward when kl_beta > 0; attention's own FLOPs are left out: sequences are short). The bound is
FLOPs ÷ the fp32 matmul rate measured in the same process (1024³ matmuls, before and after the steps; the
higher is used).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dakota_rl.config import load_config
from dakota_rl.paths import REPO_ROOT

REPO = REPO_ROOT
TARGET_RATIO = 1.5


@dataclass
class StepRecord:
    """One optimizer step: wall time, this process's CPU time, and the (non-padding) tokens TRL counted."""

    seconds: float
    cpu_seconds: float
    tokens: int


def step_recorder() -> tuple[Any, list[StepRecord]]:
    """A TrainerCallback that appends a StepRecord per step (tokens from TRL's cumulative `num_tokens`)."""
    from transformers import TrainerCallback

    records: list[StepRecord] = []

    class Recorder(TrainerCallback):
        def __init__(self) -> None:
            self.started, self.cpu_started, self.seconds, self.cpu_seconds, self.seen = 0.0, 0.0, 0.0, 0.0, 0

        def on_step_begin(self, args, state, control, **kwargs):
            self.started, self.cpu_started = time.perf_counter(), time.process_time()

        def on_step_end(self, args, state, control, **kwargs):
            self.seconds = time.perf_counter() - self.started
            self.cpu_seconds = time.process_time() - self.cpu_started

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "num_tokens" in logs:
                total = int(logs["num_tokens"])
                records.append(StepRecord(self.seconds, self.cpu_seconds, total - self.seen))
                self.seen = total

    return Recorder(), records


def bare_grpo_steps(settings, env, model_path: Path, out_dir: Path) -> list[StepRecord]:
    from datasets import Dataset
    from trl import GRPOTrainer

    from dakota_rl.backends.local.rewards import completion_text
    from dakota_rl.backends.local.trainer import grpo_config, prompt_messages

    tasks = env.load_tasks("train")[: settings.local.num_train_tasks or None]
    dataset = Dataset.from_list(
        [{"prompt": prompt_messages(env, t), "task_json": json.dumps(t)} for t in tasks]
    )

    def total(completions, task_json, **_):
        return [
            float(env.score(completion_text(c), json.loads(t), False).total)
            for c, t in zip(completions, task_json, strict=True)
        ]

    tokenizer = _tokenizer(model_path)
    args = grpo_config(settings, out_dir, [1.0], "bare")
    args.report_to = []
    recorder, records = step_recorder()
    trainer = GRPOTrainer(
        model=str(model_path),
        reward_funcs=[total],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[recorder],
    )
    trainer.train()
    return records


def bare_trl_step_times(settings, env, model_path: Path, out_dir: Path) -> list[float]:
    return [r.seconds for r in bare_grpo_steps(settings, env, model_path, out_dir)]


def sft_steps(settings, env, model_path: Path, out_dir: Path, steps: int) -> list[StepRecord]:
    """`steps` TRL SFT steps with the warm-up's settings (`[local.sft]`, seq_len) on (prompt, gold) pairs."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from dakota_rl.backends.local.sft import sft_rows

    cfg = settings.local.sft
    tasks = env.load_tasks("train")[: settings.local.num_train_tasks or None]
    rows = sft_rows(env, tasks)
    args = SFTConfig(
        output_dir=str(out_dir),
        max_steps=steps,
        learning_rate=cfg.lr,
        per_device_train_batch_size=cfg.batch_size,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=settings.local.seed,
        use_cpu=True,
        max_length=settings.seq_len,
    )
    recorder, records = step_recorder()
    trainer = SFTTrainer(
        model=str(model_path),
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=_tokenizer(model_path),
        callbacks=[recorder],
    )
    trainer.train()
    return records


def _tokenizer(model_path: Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@dataclass
class MatmulRate:
    """fp32 matmul GFLOP/s per wall second and per second of this process's CPU time."""

    wall: float
    cpu: float


def matmul_gflops(n: int = 1024, seconds: float = 2.0) -> MatmulRate:
    """Measured fp32 matmul rate on this process's torch threads."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    count, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - started) < seconds or count < 3:
        a @ b
        count += 1
    cpu = time.process_time() - cpu_started
    return MatmulRate(2 * n**3 * count / elapsed / 1e9, 2 * n**3 * count / cpu / 1e9)


def param_count(model_path: Path) -> int:
    """Parameters of the model, tied weights counted once."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    return sum(p.numel() for p in model.parameters())


def efficiency_line(name: str, records: list[StepRecord], flops_per_token: float, rate: MatmulRate) -> str:
    """Mean over the steps after the first: tokens, FLOPs, then wall and CPU time against their FLOP
    bounds."""
    timed = records[1:] or records
    tokens = statistics.mean(r.tokens for r in timed)
    flops = flops_per_token * tokens
    parts = []
    for label, seconds, gflops in (
        ("wall", statistics.mean(r.seconds for r in timed), rate.wall),
        ("cpu", statistics.mean(r.cpu_seconds for r in timed), rate.cpu),
    ):
        bound = flops / (gflops * 1e9)
        parts.append(f"{label} {seconds:7.2f} s vs bound {bound:6.2f} s = {seconds / bound:5.2f}x")
    return (
        f"{name:<5}: {tokens:6.0f} tokens/step, {flops / 1e12:6.3f} TFLOP/step; {'; '.join(parts)} "
        f"(target <= {TARGET_RATIO}x)  [steps, wall/cpu/tokens: "
        f"{', '.join(f'{r.seconds:.1f}/{r.cpu_seconds:.1f}/{r.tokens}' for r in records)}]"
    )


def efficiency(settings, env, model_path: Path, steps: int) -> int:
    """Print the SFT and GRPO step efficiency against the measured matmul rate."""
    import torch

    params = param_count(model_path)
    before = matmul_gflops()
    with tempfile.TemporaryDirectory() as tmp:
        sft = sft_steps(settings, env, model_path, Path(tmp) / "sft", steps)
        grpo = bare_grpo_steps(settings, env, model_path, Path(tmp) / "grpo")
    after = matmul_gflops()
    rate = MatmulRate(max(before.wall, after.wall), max(before.cpu, after.cpu))
    grpo_factor = 2 + 6 + (2 if settings.local.kl_beta else 0)
    print(
        f"model {settings.model}: {params / 1e6:.1f} M params, torch threads {torch.get_num_threads()}; SFT "
        f"batch {settings.local.sft.batch_size}; GRPO batch {settings.batch_size} (group "
        f"{settings.group_size}), max {settings.max_completion_tokens} new tokens, kl_beta "
        f"{settings.local.kl_beta}; {steps} steps each (first excluded from the means)"
    )
    print(f"glibc malloc tunables: {os.environ.get('GLIBC_TUNABLES') or 'glibc defaults'}")
    print(
        f"fp32 matmul rate (1024^3), GFLOP/s per wall / CPU second: {before.wall:.1f} / {before.cpu:.1f} "
        f"before, {after.wall:.1f} / {after.cpu:.1f} after; bounds use {rate.wall:.1f} / {rate.cpu:.1f}"
    )
    print(efficiency_line("SFT", sft, 6 * params, rate) + "  FLOPs = 6 x params x tokens")
    print(
        efficiency_line("GRPO", grpo, grpo_factor * params, rate)
        + f"  FLOPs = {grpo_factor} x params x tokens (generation 2, training 6"
        + (", reference forward 2)" if settings.local.kl_beta else ")")
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    from dakota_rl.backends.local.settings import settings_from
    from dakota_rl.backends.local.trainer import run_grpo
    from dakota_rl.envs import load_env
    from dakota_rl.models import resolve_model
    from dakota_rl.plots import read_metrics

    if (
        argv is None
    ):  # measure what `prime-rl` runs: the same glibc malloc settings (opt out: GLIBC_TUNABLES=)
        from dakota_rl.malloc import reexec_with_tunables

        reexec_with_tunables("dakota_rl.bench_train_steps")
    tokens = list(sys.argv[1:] if argv is None else argv)
    if {"-h", "--help"} & set(tokens):
        print(__doc__)  # --steps and --efficiency are this module's; the config's keys follow
    steps = 6
    if "--steps" in tokens:
        i = tokens.index("--steps")
        steps = int(tokens[i + 1])
        del tokens[i : i + 2]
    measure_efficiency = "--efficiency" in tokens
    if measure_efficiency:
        tokens.remove("--efficiency")
    if not any(t.startswith("@") for t in tokens):
        defaults = ["dakota_smoke.toml", "local/cpu.toml"] if measure_efficiency else ["dakota_smoke.toml"]
        tokens = [tok for name in defaults for tok in ("@", str(REPO / "configs" / name))] + tokens
    tokens += ["--max-steps", str(steps), "--ckpt", "None", "--monitors.wandb", "None"]
    if not measure_efficiency:
        tokens += ["--local.sft.steps", "0"]
    resolved = load_config(tokens)
    settings, _ = settings_from(resolved)
    env = load_env(settings.env_id, settings.env_options)
    model_path = resolve_model(settings.model)
    if measure_efficiency:
        return efficiency(settings, env, model_path, steps)
    with tempfile.TemporaryDirectory() as tmp:
        bare = bare_trl_step_times(settings, env, model_path, Path(tmp) / "bare")
        run_grpo(settings, env, model_path, Path(tmp) / "local", "bench", resume=False)
        ours = [row["step_time_s"] for row in read_metrics(Path(tmp) / "local" / "metrics.jsonl")]
    bare_mean, ours_mean = statistics.mean(bare[1:] or bare), statistics.mean(ours[1:] or ours)
    print(
        f"model {settings.model}, batch {settings.batch_size} (group {settings.group_size}), "
        f"max {settings.max_completion_tokens} new tokens, {steps} steps (first excluded)"
    )
    print(f"bare TRL GRPOTrainer : {bare_mean:7.3f} s/step  (steps: {', '.join(f'{t:.2f}' for t in bare)})")
    print(f"local backend        : {ours_mean:7.3f} s/step  (steps: {', '.join(f'{t:.2f}' for t in ours)})")
    print(
        f"overhead             : {100 * (ours_mean / bare_mean - 1):+6.1f} %  (target ≤ +10 %; "
        "generation lengths differ run to run, so compare over several steps)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
