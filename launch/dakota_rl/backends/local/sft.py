"""Optional supervised warm-up on training golds (TRL SFTTrainer) so a small model produces the answer format
before GRPO — without it GRPO gets groups with zero reward variance and no signal (prime-rl #1117)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dakota_rl.backends.local.settings import LocalTrainSettings, peft_lora_config
from dakota_rl.envs import EnvSpec


def sft_warmup(
    settings: LocalTrainSettings, env: EnvSpec, tasks: list[dict[str, Any]], model_path: Path, out_dir: Path
) -> Path:
    """Fine-tune on (prompt → gold completion) pairs; save and return the merged HF folder."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    cfg = settings.local.sft
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = [
        {
            "prompt": [{"role": "system", "content": env.system_prompt}, {"role": "user", "content": t["prompt"]}],
            "completion": [{"role": "assistant", "content": env.gold_completion(t)}],
        }
        for t in tasks
    ]
    use_cpu = settings.local.device == "cpu" or (settings.local.device == "auto" and not _cuda())
    args = SFTConfig(
        output_dir=str(out_dir / "trainer"),
        max_steps=cfg.steps,
        learning_rate=cfg.lr,
        per_device_train_batch_size=cfg.batch_size,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=settings.local.seed,
        use_cpu=use_cpu,
        bf16=not use_cpu,
        max_length=settings.seq_len,
        gradient_checkpointing=settings.local.gradient_checkpointing,
    )
    peft_config = peft_lora_config(settings)
    trainer = SFTTrainer(
        model=str(model_path), args=args, train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer, peft_config=peft_config,
    )
    trainer.train()
    model = trainer.model
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir / "model")
    tokenizer.save_pretrained(out_dir / "model")
    return out_dir / "model"


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
