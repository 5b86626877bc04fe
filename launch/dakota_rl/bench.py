"""Benchmark: the local backend's GRPO step time next to bare TRL on the same config (target: ≤10% overhead).

    python -m dakota_rl.bench [@ CONFIG.toml ...] [--dotted.key VALUE ...] [--steps N]

Defaults to `configs/dakota_smoke.toml` with no SFT, no checkpoints. "Bare TRL" is GRPOTrainer with one reward
function returning the env scorer's total and no callbacks; the local backend adds per-component rewards,
metrics.jsonl and the rest of its adapter. The first step (warm-up) is excluded from the means.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dakota_rl.config import load_config

REPO = Path(__file__).resolve().parents[2]


def bare_trl_step_times(settings, env, model_path: Path, out_dir: Path) -> list[float]:
    from datasets import Dataset
    from transformers import AutoTokenizer, TrainerCallback
    from trl import GRPOTrainer

    from dakota_rl.backends.local.rewards import completion_text
    from dakota_rl.backends.local.trainer import grpo_config, prompt_messages

    tasks = env.load_tasks("train")[: settings.local.num_train_tasks or None]
    dataset = Dataset.from_list([{"prompt": prompt_messages(env, t), "task_json": json.dumps(t)} for t in tasks])

    def total(completions, task_json, **_):
        return [float(env.score(completion_text(c), json.loads(t), False).total)
                for c, t in zip(completions, task_json, strict=True)]

    times: list[float] = []

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            times.append(time.perf_counter() - self.t)

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    args = grpo_config(settings, out_dir, [1.0], "bare")
    args.report_to = []
    trainer = GRPOTrainer(model=str(model_path), reward_funcs=[total], args=args, train_dataset=dataset,
                          processing_class=tokenizer, callbacks=[Timer()])
    trainer.train()
    return times


def main(argv: list[str] | None = None) -> int:
    from dakota_rl.backends.local.settings import settings_from
    from dakota_rl.backends.local.trainer import run_grpo
    from dakota_rl.envs import load_env
    from dakota_rl.models import resolve_model
    from dakota_rl.plots import read_metrics

    tokens = list(sys.argv[1:] if argv is None else argv)
    steps = 6
    if "--steps" in tokens:
        i = tokens.index("--steps")
        steps = int(tokens[i + 1])
        del tokens[i : i + 2]
    if not any(t.startswith("@") for t in tokens):
        tokens = ["@", str(REPO / "configs" / "dakota_smoke.toml"), *tokens]
    tokens += ["--max-steps", str(steps), "--local.sft.steps", "0", "--ckpt", "None", "--monitors.wandb", "None"]
    resolved = load_config(tokens)
    settings, _ = settings_from(resolved)
    env = load_env(settings.env_id, settings.env_options)
    model_path = resolve_model(settings.model)
    with tempfile.TemporaryDirectory() as tmp:
        bare = bare_trl_step_times(settings, env, model_path, Path(tmp) / "bare")
        run_grpo(settings, env, model_path, Path(tmp) / "local", "bench", resume=False)
        ours = [row["step_time_s"] for row in read_metrics(Path(tmp) / "local" / "metrics.jsonl")]
    bare_mean, ours_mean = statistics.mean(bare[1:] or bare), statistics.mean(ours[1:] or ours)
    print(f"model {settings.model}, batch {settings.batch_size} (group {settings.group_size}), "
          f"max {settings.max_completion_tokens} new tokens, {steps} steps (first excluded)")
    print(f"bare TRL GRPOTrainer : {bare_mean:7.3f} s/step  (steps: {', '.join(f'{t:.2f}' for t in bare)})")
    print(f"local backend        : {ours_mean:7.3f} s/step  (steps: {', '.join(f'{t:.2f}' for t in ours)})")
    print(f"overhead             : {100 * (ours_mean / bare_mean - 1):+6.1f} %  (target ≤ +10 %; "
          "generation lengths differ run to run, so compare over several steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
