"""The learned reward model: TRL's RewardTrainer on ranked pairs, its held-out pairwise accuracy, and the
scorer that lets it join the reward as the `learned` component. The command line that trains one and reports
its held-out accuracy is the launcher's (`python -m dakota_rl.reward_model`), which resolves model names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RewardModelSettings:
    """RewardTrainer knobs (TRL `RewardConfig` names where they exist)."""

    steps: int = 100
    learning_rate: float = 5e-5
    batch_size: int = 8
    max_length: int = 256
    seed: int = 0
    lora_r: int | None = None
    """LoRA rank for the reward model (None: full fine-tune)."""


def train_reward_model(
    model: str | Path,
    pairs: Sequence[Mapping[str, Any]],
    out_dir: Path,
    settings: RewardModelSettings = RewardModelSettings(),
) -> Path:
    """Fine-tune `model` with a scalar head on `pairs` (chosen ≻ rejected); save and return the folder."""
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    tokenizer = AutoTokenizer.from_pretrained(model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    args = RewardConfig(
        output_dir=str(out_dir / "trainer"),
        max_steps=settings.steps,
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        max_length=settings.max_length,
        seed=settings.seed,
        logging_steps=max(1, settings.steps // 10),
        save_strategy="no",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        bf16=False,
        dataloader_num_workers=0,
        model_init_kwargs={"pad_token_id": tokenizer.pad_token_id},
    )
    rows = [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs]
    peft_config = None
    if settings.lora_r:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=settings.lora_r,
            lora_alpha=2 * settings.lora_r,
            task_type="SEQ_CLS",
            target_modules="all-linear",
        )
    trainer = RewardTrainer(
        model=str(model),
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.train()
    trained = (
        trainer.model.merge_and_unload() if hasattr(trainer.model, "merge_and_unload") else trainer.model
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    trained.save_pretrained(out_dir / "model")
    tokenizer.save_pretrained(out_dir / "model")
    return out_dir / "model"


class LearnedReward:
    """A trained reward model as a scorer: (answer, task) → sigmoid(reward logit) in [0, 1]."""

    def __init__(self, model_dir: str | Path, system_prompt: str | None = None) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from parallel_translation.taskset import SYSTEM_PROMPT

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
        self.system_prompt = system_prompt or SYSTEM_PROMPT
        self._torch = torch

    def logits(self, prompts: Sequence[Sequence[Mapping[str, str]]], answers: Sequence[str]) -> list[float]:
        """The raw reward of each (prompt messages, answer), one forward pass each."""
        out = []
        with self._torch.no_grad():
            for prompt, answer in zip(prompts, answers, strict=True):
                messages = [*prompt, {"role": "assistant", "content": answer}]
                ids = self.tokenizer.apply_chat_template(
                    messages, tokenize=True, return_dict=True, return_tensors="pt"
                )
                out.append(float(self.model(**ids).logits[0, 0]))
        return out

    def __call__(self, answer: str, task: Mapping[str, Any]) -> float:
        prompt = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": task["prompt"]},
        ]
        return 1.0 / (1.0 + math.exp(-self.logits([prompt], [answer])[0]))


def pairwise_accuracy(scorer: LearnedReward, pairs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Share of pairs where the chosen answer gets the higher reward, overall and per pair kind."""
    prompts = [p["prompt"] for p in pairs]
    chosen = scorer.logits(prompts, [p["chosen"][0]["content"] for p in pairs])
    rejected = scorer.logits(prompts, [p["rejected"][0]["content"] for p in pairs])
    wins = [c > r for c, r in zip(chosen, rejected, strict=True)]
    by_kind: dict[str, list[bool]] = {}
    for p, w in zip(pairs, wins, strict=True):
        by_kind.setdefault(p.get("kind", "?"), []).append(w)
    return {
        "accuracy": sum(wins) / len(wins),
        "n": len(wins),
        "by_kind": {k: {"accuracy": sum(v) / len(v), "n": len(v)} for k, v in sorted(by_kind.items())},
    }
