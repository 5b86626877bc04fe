"""The learned reward model: TRL's RewardTrainer on ranked pairs, its held-out pairwise accuracy, and the
scorer that lets it join the reward as the `learned` component.

    python -m parallel_translation.reward_model --out outputs/rm [--model smollm2-135m-instruct] [--steps 100]

trains on corrupted-reference pairs from the corpus's train split, reports pairwise accuracy on pairs from
the held-out split (never trained on), and writes the model folder plus `rm_metrics.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.pairs import CORRUPTIONS, corrupted_pairs


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train and evaluate the parallel-translation reward model.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--model", default="smollm2-135m-instruct", help="base model (alias, hub id or folder)"
    )
    parser.add_argument("--data", default=None, help="corpus file or hub id (default: the embedded corpus)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--train-pairs", type=int, default=2000)
    parser.add_argument("--eval-pairs", type=int, default=200)
    parser.add_argument("--kinds", nargs="+", default=list(CORRUPTIONS), choices=list(CORRUPTIONS))
    parser.add_argument("--lora-r", type=int, default=None)
    args = parser.parse_args(argv)
    from dakota_rl.models import resolve_model
    from parallel_translation.taskset import SYSTEM_PROMPT

    train_tasks = load_tasks(CorpusOptions(data=args.data, split="train"))
    heldout_tasks = load_tasks(CorpusOptions(data=args.data, split="heldout"))
    train_pairs = corrupted_pairs(train_tasks, SYSTEM_PROMPT, args.kinds, seed=0)[: args.train_pairs]
    eval_pairs = corrupted_pairs(heldout_tasks, SYSTEM_PROMPT, args.kinds, seed=1)[: args.eval_pairs]
    started = time.perf_counter()
    settings = RewardModelSettings(
        steps=args.steps, learning_rate=args.lr, batch_size=args.batch_size, lora_r=args.lora_r
    )
    model_dir = train_reward_model(resolve_model(args.model), train_pairs, args.out, settings)
    train_s = time.perf_counter() - started
    report = {
        "train_pairs": len(train_pairs),
        "train_s": round(train_s, 1),
        "settings": settings.__dict__,
        "heldout": pairwise_accuracy(LearnedReward(model_dir), eval_pairs),
        "model": str(model_dir),
    }
    (args.out / "rm_metrics.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
