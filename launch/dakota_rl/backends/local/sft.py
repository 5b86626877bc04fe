"""Optional supervised warm-up on training golds (TRL SFTTrainer) so a small model produces the answer format
before GRPO — without it GRPO gets groups with zero reward variance and no signal (prime-rl #1117)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from dakota_rl.backends.local.heldout import HeldoutEval, prompt_messages
from dakota_rl.backends.local.settings import LocalTrainSettings, freeze_embeddings, peft_lora_config
from dakota_rl.envs import EnvSpec


def sft_warmup(
    settings: LocalTrainSettings,
    env: EnvSpec,
    tasks: list[dict[str, Any]],
    model_path: Path,
    out_dir: Path,
    *,
    heldout: HeldoutEval | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
) -> Path:
    """Fine-tune on (prompt → gold completion) pairs; save and return the merged HF folder.

    With `heldout`, the model is evaluated once before the first step (`eval/base.jsonl`): the base row of the
    report. `steps` / `batch_size` override `[local.sft]` (the experiment's SFT arm).
    """
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    cfg = settings.local.sft
    steps, batch_size = steps or cfg.steps, batch_size or cfg.batch_size
    needed = steps * batch_size
    if len(tasks) > needed:  # tokenise only the examples the steps can reach, drawn with the run's seed
        tasks = random.Random(settings.local.seed).sample(tasks, needed)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = sft_rows(env, tasks)
    args = _sft_config(settings, out_dir, steps, batch_size)
    peft_config = peft_lora_config(settings)
    trainer = SFTTrainer(
        model=str(model_path),
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[_base_eval_callback(heldout, tokenizer)] if heldout is not None else None,
    )
    freeze_embeddings(trainer.model, settings)
    trainer.train()
    return _save_merged(trainer.model, tokenizer, out_dir)


def sft_rows(env: EnvSpec, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One conversational (prompt, gold completion) example per task."""
    return [
        {
            "prompt": prompt_messages(env, t),
            "completion": [{"role": "assistant", "content": env.gold_completion(t)}],
        }
        for t in tasks
    ]


def _sft_config(settings: LocalTrainSettings, out_dir: Path, steps: int, batch_size: int) -> Any:
    """TRL's SFTConfig: `[local.sft]`'s lr, the run's seed and device, no saving or reporting mid-run."""
    from trl import SFTConfig

    use_cpu = settings.local.device == "cpu" or (settings.local.device == "auto" and not _cuda())
    return SFTConfig(
        output_dir=str(out_dir / "trainer"),
        max_steps=steps,
        learning_rate=settings.local.sft.lr,
        per_device_train_batch_size=batch_size,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=settings.local.seed,
        use_cpu=use_cpu,
        bf16=not use_cpu,
        max_length=settings.seq_len,
        gradient_checkpointing=settings.local.gradient_checkpointing,
    )


def _save_merged(model: Any, tokenizer: Any, out_dir: Path) -> Path:
    """Merge the LoRA adapter (if any) into the weights; save model and tokenizer to `<out_dir>/model`."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir / "model")
    tokenizer.save_pretrained(out_dir / "model")
    return out_dir / "model"


def _base_eval_callback(heldout: HeldoutEval, tokenizer: Any) -> Any:
    from transformers import TrainerCallback

    class BaseEval(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            _, summary = heldout.run(model, tokenizer, "base")
            print(
                f"eval base: total={summary['eval/total']:.3f} exact={summary['eval/exact_rate']:.3f} "
                f"format_fail={summary['eval/format_fail_rate']:.3f} n={summary['eval/n']}",
                flush=True,
            )

    return BaseEval()


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
