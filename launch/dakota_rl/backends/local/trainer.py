"""The local backend's run, in the order it happens: tasks → (SFT warm-up) → TRL GRPO → checkpoints → curves.

TRL's GRPOTrainer owns the loop; this module is the adapter: prompts through the chat template with the
env's system prompt, rewards from the env's scorer, Contract 5 checkpoints and `metrics.jsonl`, and the
in-loop held-out evaluation (`heldout.py`) at step 0, every `[local.eval] interval` steps and at the end.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dakota_rl.backends.local.checkpoints import disk_full_guard, resume_point, save_hf_checkpoint, step_dirs
from dakota_rl.backends.local.heldout import (
    HeldoutEval,
    heldout_sample,
    make_heldout_callback,
    prompt_messages,
)
from dakota_rl.backends.local.rewards import RewardBank
from dakota_rl.backends.local.settings import LocalTrainSettings, freeze_embeddings, peft_lora_config
from dakota_rl.envs import EnvSpec
from dakota_rl.errors import UserError

METRIC_NAMES = {
    "reward": "reward/total",
    "frac_reward_zero_std": "frac_zero_std_groups",
    "learning_rate": "lr",
    "kl": "kl",
    "entropy": "entropy",
    "loss": "loss",
    "grad_norm": "grad_norm",
    "reward_std": "reward_std",
    "format_fail_rate": "format_fail_rate",
    "truncated_rate": "truncated_rate",
    "exact_rate": "exact_rate",
    "completions/mean_length": "completion_len",
    "curriculum_tier": "curriculum/tier",
    "sft_nll": "sft_nll",
}
"""TRL log key → Contract 5 name (per-component `rewards/<c>/mean` become `reward/<c>`)."""


def contract_metrics(logs: dict[str, Any], step: int, step_time_s: float) -> dict[str, Any]:
    """Rename one TRL log record to the stable metric names."""
    row: dict[str, Any] = {"step": step}
    for key, value in logs.items():
        if key in METRIC_NAMES:
            row[METRIC_NAMES[key]] = value
        elif key.startswith("rewards/") and key.endswith("/mean"):
            row["reward/" + key.split("/")[1]] = value
    row["step_time_s"] = round(step_time_s, 4)
    return row


def make_callbacks(run_dir: Path, settings: LocalTrainSettings, tokenizer: Any) -> list[Any]:
    from transformers import TrainerCallback

    class ContractCallback(TrainerCallback):
        """Writes metrics.jsonl (Contract 5 names) and an HF checkpoint whenever TRL saves its own state."""

        def __init__(self) -> None:
            self.step_started = time.perf_counter()
            self.step_time = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            self.step_started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.step_time = time.perf_counter() - self.step_started

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "reward" not in logs:
                return
            row = contract_metrics(logs, state.global_step, self.step_time)
            with (run_dir / "metrics.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

        def on_save(self, args, state, control, model=None, **kwargs):
            save_hf_checkpoint(model, tokenizer, run_dir, state.global_step, settings.ckpt_keep_last)

    return [ContractCallback()]


def grpo_config(
    settings: LocalTrainSettings, run_dir: Path, reward_weights: list[float], run_name: str
) -> Any:
    from trl import GRPOConfig

    local = settings.local
    use_cpu = local.device == "cpu" or (local.device == "auto" and not _cuda())
    return GRPOConfig(
        output_dir=str(run_dir / "trainer"),
        run_name=run_name,
        max_steps=settings.max_steps,
        learning_rate=settings.lr,
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=1,
        num_generations=settings.group_size,
        max_completion_length=settings.max_completion_tokens,
        temperature=settings.temperature,
        beta=local.kl_beta,
        reward_weights=reward_weights,
        **local.grpo.model_dump(),
        logging_steps=1,
        save_strategy="steps" if settings.ckpt_interval else "no",
        save_steps=settings.ckpt_interval or 500,
        save_total_limit=settings.ckpt_keep_last,
        report_to=["wandb"] if settings.wandb_project else [],
        seed=local.seed,
        use_cpu=use_cpu,
        bf16=not use_cpu,
        dataloader_num_workers=0,
        gradient_checkpointing=local.gradient_checkpointing,
    )


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def heldout_for(settings: LocalTrainSettings, env: EnvSpec, run_dir: Path) -> HeldoutEval | None:
    """The in-loop evaluator of `[local.eval]`, or None when `interval` is 0."""
    ev = settings.local.eval
    if not ev.interval:
        return None
    return HeldoutEval(
        env,
        heldout_sample(env, ev.num_tasks, settings.local.seed),
        run_dir / "eval",
        max_tokens=ev.max_tokens,
        greedy=ev.greedy,
        temperature=ev.temperature,
        batch_size=ev.batch_size,
        samples=ev.samples,
        sample_tasks=ev.sample_tasks,
        sample_temperature=settings.temperature,
    )


def train_dataset(
    settings: LocalTrainSettings, env: EnvSpec, tasks: list[dict[str, Any]], bank: RewardBank
) -> Any:
    """Prompts + task JSON; with `[local.curriculum]`, tasks drawn at the env's curriculum level."""
    from datasets import Dataset

    if settings.local.curriculum is not None:
        from dakota_rl.backends.local.curriculum import curriculum_dataset

        return curriculum_dataset(settings, env, bank)
    return Dataset.from_list(
        [{"prompt": prompt_messages(env, t), "task_json": json.dumps(t, ensure_ascii=False)} for t in tasks]
    )


def run_grpo(
    settings: LocalTrainSettings, env: EnvSpec, model_path: Path, run_dir: Path, run_name: str, resume: bool
) -> Path:
    """Train; return the final checkpoint folder (`<run>/checkpoints/step_N`)."""
    from dakota_rl.backends.local.mixed_policy import mixed_policy_trainer

    tokenizer = _load_tokenizer(model_path)
    tasks = _training_tasks(settings, env)
    heldout = heldout_for(settings, env, run_dir)
    timings: dict[str, Any] = {}
    start = resume_point(run_dir) if resume else None
    if settings.local.sft.steps:
        model_path = _sft_warm_start(settings, env, tasks, model_path, run_dir, start, heldout, timings)
    if settings.wandb_project:
        os.environ.setdefault("WANDB_PROJECT", settings.wandb_project)
    bank = RewardBank(env, settings.max_completion_tokens, _eos_ids(tokenizer, model_path))
    funcs, weights = bank.functions()
    callbacks = _grpo_callbacks(settings, run_dir, tokenizer, heldout)
    mixed = settings.local.mixed_policy
    trainer_class = mixed_policy_trainer(env.gold_completion, mixed.gold_in_group, mixed.sft_weight)
    trainer = trainer_class(
        model=str(model_path),
        reward_funcs=funcs,
        args=grpo_config(settings, run_dir, weights, run_name),
        train_dataset=train_dataset(settings, env, tasks, bank),
        processing_class=tokenizer,
        peft_config=peft_lora_config(settings),
        callbacks=callbacks,
    )
    freeze_embeddings(trainer.model, settings)
    _train_timed(trainer, run_dir, start, heldout, timings)
    final = _save_final(trainer, tokenizer, settings, run_dir)
    finish_wandb_run()
    return final


def finish_wandb_run() -> None:
    """Close the W&B run TRL opened (it leaves it open), so a later run in this process gets its own."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish()


def _load_tokenizer(model_path: Path) -> Any:
    """The model's tokenizer, padding with EOS when it has no pad token."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _training_tasks(settings: LocalTrainSettings, env: EnvSpec) -> list[dict[str, Any]]:
    """The env's train split, cut to `num_train_tasks`; a UserError when it is empty."""
    tasks = env.load_tasks("train")
    if settings.local.num_train_tasks:
        tasks = tasks[: settings.local.num_train_tasks]
    if not tasks:
        raise UserError(f"environment {env.id} has no training tasks: check the taskset options")
    return tasks


def _sft_warm_start(
    settings: LocalTrainSettings,
    env: EnvSpec,
    tasks: list[dict[str, Any]],
    model_path: Path,
    run_dir: Path,
    start: Path | None,
    heldout: HeldoutEval | None,
    timings: dict[str, Any],
) -> Path:
    """The model GRPO starts from: the warmed-up one on resume, a fresh SFT warm-up (timed, eval time left
    out) on a new run, else `model_path` unchanged."""
    from dakota_rl.backends.local.sft import sft_warmup

    warmed = run_dir / "sft" / "model"
    if start is not None and (warmed / "config.json").is_file():
        return warmed
    if start is None:
        started, cpu = time.perf_counter(), time.process_time()
        model_path = sft_warmup(settings, env, tasks, model_path, run_dir / "sft", heldout=heldout)
        timings["sft_s"] = time.perf_counter() - started - _eval_seconds(heldout)
        timings["sft_cpu_s"] = time.process_time() - cpu - _eval_seconds(heldout, cpu=True)
    return model_path


def _grpo_callbacks(
    settings: LocalTrainSettings, run_dir: Path, tokenizer: Any, heldout: HeldoutEval | None
) -> list[Any]:
    """The Contract 5 callbacks, plus the in-loop held-out evaluation when there is one."""
    callbacks = make_callbacks(run_dir, settings, tokenizer)
    if heldout is not None:
        callbacks.append(
            make_heldout_callback(
                heldout,
                settings.local.eval.interval,
                tokenizer,
                run_dir / "metrics.jsonl",
                bool(settings.wandb_project),
            )
        )
    return callbacks


def _train_timed(
    trainer: Any, run_dir: Path, start: Path | None, heldout: HeldoutEval | None, timings: dict[str, Any]
) -> None:
    """Run (or resume) GRPO inside the disk-full guard; write `timings.json` with eval time left out."""
    before, started = _eval_seconds(heldout), time.perf_counter()
    before_cpu, cpu = _eval_seconds(heldout, cpu=True), time.process_time()
    with disk_full_guard(run_dir):
        trainer.train(resume_from_checkpoint=str(start) if start else None)
    timings["grpo_s"] = time.perf_counter() - started - (_eval_seconds(heldout) - before)
    timings["grpo_cpu_s"] = time.process_time() - cpu - (_eval_seconds(heldout, cpu=True) - before_cpu)
    timings["eval_s"] = dict(heldout.seconds) if heldout else {}
    timings["eval_cpu_s"] = dict(heldout.cpu_seconds) if heldout else {}
    (run_dir / "timings.json").write_text(json.dumps(timings, indent=2))


def _save_final(trainer: Any, tokenizer: Any, settings: LocalTrainSettings, run_dir: Path) -> Path:
    """The last step's checkpoint (saved now if the trainer did not), then the curves and the model card."""
    from dakota_rl.model_card import write_model_card
    from dakota_rl.plots import plot_training

    step = trainer.state.global_step
    saved = dict(step_dirs(run_dir / "checkpoints"))
    final = saved.get(step) or save_hf_checkpoint(
        trainer.model, tokenizer, run_dir, step, settings.ckpt_keep_last
    )
    plot_training(run_dir / "metrics.jsonl", run_dir / "curves.png")
    write_model_card(final, run_dir, config=settings.model_dump(mode="json"))  # after the last held-out eval
    return final


def _eval_seconds(heldout: HeldoutEval | None, cpu: bool = False) -> float:
    """Seconds spent in in-loop evaluation so far (wall, or this process's CPU time)."""
    return sum((heldout.cpu_seconds if cpu else heldout.seconds).values()) if heldout else 0.0


def _eos_ids(tokenizer: Any, model_path: Path) -> list[int]:
    from transformers import GenerationConfig

    ids = {tokenizer.eos_token_id}
    try:
        eos = GenerationConfig.from_pretrained(model_path).eos_token_id
    except OSError:
        eos = None
    ids.update(eos if isinstance(eos, list) else [eos])
    return [i for i in ids if i is not None]
