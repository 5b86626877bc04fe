"""Train parallel_translation's learned reward model and report its held-out pairwise accuracy.

    python -m dakota_rl.reward_model --out outputs/rm [--model smollm2-135m-instruct] [--steps 100]

trains on corrupted-reference pairs from the corpus's train split, reports pairwise accuracy on pairs from
the held-out split (never trained on), and writes the model folder plus `rm_metrics.json`. The model and the
pairs are the environment's (`parallel_translation.reward_model`, `.pairs`); the launcher adds the command
line and the model names it resolves (`dakota_rl.models.resolve_model`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.pairs import CORRUPTIONS, corrupted_pairs
from parallel_translation.reward_model import (
    LearnedReward,
    RewardModelSettings,
    pairwise_accuracy,
    train_reward_model,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dakota_rl.reward_model",
        description="Train and evaluate the parallel-translation reward model.",
    )
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
