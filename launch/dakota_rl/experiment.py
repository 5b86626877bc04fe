"""`prime-rl experiment`: GRPO versus an SFT control from one warm-up checkpoint, with a paired held-out eval.

1. SFT warm-up from the base model (`warmup_steps`), evaluated (`eval/warmup.jsonl`; the base:
   `eval/base.jsonl`).
2. For each seed, from the warm-up: arm A continues SFT on training golds, arm B runs GRPO on the env's
   reward; same steps, same prompts per step (`batch_size / group_size`). Each arm's final model is scored on
   the same held-out tasks (`eval/seed_S_sft.jsonl`, `eval/seed_S_grpo.jsonl`), and on the env's further
   held-out splits (`eval_attested/…` for Dakota); its weights are then deleted.
3. `report/experiment.{md,json,png}`: each arm's mean with a 95% bootstrap CI, and GRPO − SFT paired over
   tasks (per seed, and pooled: each task's score averaged over seeds), overall and per family.
"""

from __future__ import annotations

import json
import shutil
import time
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_config import BaseConfig

from dakota_rl.backends.local.heldout import complete_rows
from dakota_rl.config import ConfigError, load_config, load_table
from dakota_rl.files import write_atomic
from dakota_rl.runs import claimed_run, run_lock


class ArmConfig(BaseConfig):
    """One arm: SFT on training golds or GRPO on the env's reward, from the warm-up, with its own settings."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    """Label of its eval files (`seed_S_<name>.jsonl`) and report rows."""
    kind: Literal["sft", "grpo"]
    configs: list[str] = []
    """Further config layers after the experiment's `configs` (e.g. a train source with other taskset
    options: arrays of tables are replaced whole, so a layer restates `[[orchestrator.train.source]]`)."""
    overrides: dict[str, Any] = {}
    """Dotted training-config keys over `configs`, e.g. {"trainer.optim.lr" = 5e-5} (GRPO's lr),
    {"local.sft.lr" = 5e-6} (an SFT arm's lr), {"local.grpo.scale_rewards" = "group"},
    {"local.mixed_policy.gold_in_group" = true}."""
    steps: int | None = Field(None, ge=1)
    """Steps of this arm (default: the experiment's `steps`); an SFT arm with more steps is an equal-CPU
    control for a GRPO arm."""
    matched: str | None = None
    """Another arm this one is also compared with, paired over tasks, e.g. the SFT arm at the same lr
    (`matched = "sft_lr5e-6"`): the report adds a row for the pair when both arms ran."""


DEFAULT_ARMS = [ArmConfig(name="sft", kind="sft"), ArmConfig(name="grpo", kind="grpo")]


class ExperimentConfig(BaseConfig):
    """The `[experiment]` table of configs/experiments/*.toml."""

    configs: list[str]
    """Training config layers (as for `prime-rl train @ …`) both arms start from."""
    warmup_steps: int = Field(20, ge=1)
    """SFT steps of the shared warm-up."""
    steps: int = Field(30, ge=1)
    """Steps of each arm."""
    seeds: list[int] = [0, 1, 2]
    """One pair of arms per seed."""
    eval_tasks: int = Field(400, ge=1)
    """Held-out tasks in the fixed sample."""
    eval_seed: int = 0
    """Seed of the held-out sample."""
    extra_split_tasks: int = Field(400, ge=0)
    """Tasks drawn (with `eval_seed`) from each further held-out split of the env, scored like the main sample
    into `eval_<split>/` (dakota_grammar_translation: "attested", UniMorph's verb forms); 0 skips them."""
    clean: bool = False
    """Delete an existing run folder first (only one a run of ours marked; `--clean`)."""
    resume: bool = False
    """Continue in a run folder with a finished warm-up: reuse it and skip seeds whose arms are both scored.
    Processes with different `--seeds` may share one folder; `--report-only` then reports them together."""
    report_only: bool = False
    """Train nothing: rebuild `report/` from the run folder's eval files, over the seeds whose two arms were
    both scored (an interrupted run reports what it finished)."""
    arms: list[ArmConfig] = DEFAULT_ARMS
    """The arms run from the warm-up for each seed (default: "sft" and "grpo" at the configs' settings)."""
    only: list[str] = []
    """Run (and report) only these arms, the control among them (all when empty): two processes can run
    halves of a screen side by side in two folders; their warm-ups and controls come out identical."""
    control: str = "sft"
    """The arm every other arm is compared with (paired over tasks)."""
    treatment: str = "grpo"
    """The arm the headline compares with the control."""
    diagnostic_tasks: int = Field(0, ge=0)
    """Held-out and train tasks (each, the first of fixed seeded samples) on which the warm-up and every arm
    are also sampled `diagnostic_samples` times at the training temperature: pass@k, best-of-k reward, reward
    spread (`diag/`). 0 skips the diagnostics."""
    diagnostic_samples: int = Field(16, ge=1)
    """Completions per task for the diagnostics (pass@k for k = 1, 4, 16 up to it)."""
    from_run: str | None = None
    """A local run with in-loop eval and SFT warm-up (e.g. `outputs/demo`) to reuse as the warm-up and as the
    GRPO arm of its own seed: only the SFT arm runs (from `<run>/sft/model`, for the run's GRPO steps, on the
    tasks of its `eval/base.jsonl`). It may start while the run's GRPO is still going: the report waits for
    the run's `timings.json`."""

    @model_validator(mode="after")
    def _arms_named_once(self) -> ExperimentConfig:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names repeat: {names}")
        for key in ("control", "treatment"):
            if getattr(self, key) not in names:
                raise ValueError(f"{key} {getattr(self, key)!r} is not an arm ({', '.join(names)})")
        if len(self.only) == 1:
            raise ValueError("only: name the control and at least one other arm")
        unknown = [n for n in self.only if n not in names]
        if unknown or (self.only and self.control not in self.only):
            raise ValueError(f"only: {unknown or 'the control'} must name arms ({', '.join(names)})")
        for arm in self.arms:
            if arm.matched is not None and (arm.matched not in names or arm.matched == arm.name):
                raise ValueError(f"arm {arm.name!r}: matched {arm.matched!r} must name another arm")
        if self.only and self.treatment not in self.only:
            self.treatment = next(n for n in self.only if n != self.control)
        return self

    @property
    def selected_arms(self) -> list[ArmConfig]:
        """The arms this run trains: `only` of them, or all."""
        return [a for a in self.arms if not self.only or a.name in self.only]

    @property
    def arm_names(self) -> list[str]:
        return [a.name for a in self.selected_arms]

    @property
    def matched_pairs(self) -> dict[str, str]:
        """{arm: the arm it is matched with}, for the selected arms whose match was selected too."""
        names = self.arm_names
        return {a.name: a.matched for a in self.selected_arms if a.matched in names}


def load_experiment(tokens: list[str]) -> ExperimentConfig:
    """`@ file.toml` (an [experiment] table) then `--key value` overrides of its keys (`--seeds 0 1`,
    `--only sft grpo_gold`, `--resume`), parsed by `config.load_table` (pydantic_config, as `load_config`)."""
    usage = "experiment needs one config: prime-rl experiment @ configs/experiments/grpo_vs_sft.toml"
    return load_table(ExperimentConfig, "experiment", tokens, usage=usage)


def run_experiment(cfg: ExperimentConfig, run_dir: Path) -> dict[str, Any]:
    """Run the warm-up, both arms for every seed, and the report; returns the report's JSON.

    The config is read and checked before the run folder is touched; the folder is then claimed
    (`runs.claimed_run`: lock, `--clean` of a marked run only, marker) for the warm-up, and each seed runs
    under its own lock, so processes with different `--seeds` may share a `--resume`d folder but never a seed.
    """
    from dakota_rl.backends.local.settings import settings_from
    from dakota_rl.envs import load_env

    if cfg.report_only:
        with run_lock(run_dir):
            return _report_finished_seeds(cfg, run_dir)
    resolved = load_config([tok for path in cfg.configs for tok in ("@", path)])
    settings, _ = settings_from(resolved)
    env = load_env(settings.env_id, settings.env_options)
    tasks = env.load_tasks("train")[: settings.local.num_train_tasks or None]
    heldout = _experiment_heldout(cfg, settings, env, run_dir)
    evals = [heldout] + _extra_heldouts(cfg, settings, env, run_dir)
    started, timings = time.perf_counter(), {}
    with claimed_run(run_dir, cfg):
        if cfg.from_run:
            return _control_for_run(cfg, Path(cfg.from_run), run_dir, settings, env, tasks, heldout)
        warm = (_finished_warm_up(run_dir, evals) if cfg.resume else None) or _warm_up(
            cfg, settings, env, tasks, run_dir, evals, timings
        )
        _diagnose(cfg, settings, env, tasks, warm, run_dir, "warmup", timings)
    for seed in cfg.seeds:
        with run_lock(run_dir / f"seed_{seed}"):
            if cfg.resume and _scored(evals, seed, cfg.arm_names):
                print(f"[experiment] seed {seed}: every arm already scored, skipped", flush=True)
                continue
            _run_arms(cfg, seed, settings, env, tasks, warm, run_dir, evals, timings)
            _save_timings(run_dir, timings)
    timings["total"] = time.perf_counter() - started
    from dakota_rl.experiment_report import write_experiment_report

    with run_lock(run_dir):
        return write_experiment_report(run_dir, cfg, settings, timings)


def _finished_warm_up(run_dir: Path, evals: list[Any]) -> Path | None:
    """The warm model of an earlier run in `run_dir` when it was saved and scored by every evaluator."""
    model = run_dir / "warmup" / "model"
    if (model / "config.json").is_file() and all(complete_rows(h.out_dir / "warmup.jsonl") for h in evals):
        print(f"[experiment] reusing the warm-up in {model}", flush=True)
        return model
    return None


def _scored(evals: list[Any], seed: int, arms: list[str]) -> bool:
    """Every arm of `seed` has complete eval files in every evaluator's folder."""
    return all(complete_rows(h.out_dir / f"seed_{seed}_{arm}.jsonl") for h in evals for arm in arms)


def _save_timings(run_dir: Path, timings: dict[str, float]) -> None:
    """Merge this process's stage times into `timings.json` (another process may share the folder)."""
    path = run_dir / "timings.json"
    try:
        saved = json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:
        saved = {}
    write_atomic(path, json.dumps({**saved, **timings}, indent=2))


def _report_finished_seeds(cfg: ExperimentConfig, run_dir: Path) -> dict[str, Any]:
    """The report over the seeds with both arms' eval files; ConfigError when there are none."""
    from dakota_rl.backends.local.settings import settings_from
    from dakota_rl.experiment_report import write_experiment_report

    eval_dir = run_dir / "eval"
    done = [
        s for s in cfg.seeds if all(complete_rows(eval_dir / f"seed_{s}_{a}.jsonl") for a in cfg.arm_names)
    ]
    if not done or not complete_rows(run_dir / "eval" / "warmup.jsonl"):
        raise ConfigError(f"{run_dir}/eval: no seed has every arm scored yet; nothing to report")
    settings, _ = settings_from(load_config([tok for path in cfg.configs for tok in ("@", path)]))
    timings = json.loads(path.read_text()) if (path := run_dir / "timings.json").is_file() else {}
    print(f"[experiment] report over finished seeds {done} of {cfg.seeds}", flush=True)
    return write_experiment_report(run_dir, cfg.model_copy(update={"seeds": done}), settings, timings)


def _experiment_heldout(
    cfg: ExperimentConfig, settings: Any, env: Any, run_dir: Path, split: str | None = None
) -> Any:
    """An evaluator every stage is scored with: `eval_tasks` held-out tasks drawn with `eval_seed` into
    `eval/`, or with `split`, `extra_split_tasks` tasks of that split into `eval_<split>/`."""
    from dakota_rl.backends.local.heldout import HeldoutEval, heldout_sample

    ev = settings.local.eval
    return HeldoutEval(
        env,
        heldout_sample(env, cfg.extra_split_tasks if split else cfg.eval_tasks, cfg.eval_seed, split),
        run_dir / (f"eval_{split}" if split else "eval"),
        max_tokens=ev.max_tokens,
        batch_size=ev.batch_size,
    )


def _extra_heldouts(cfg: ExperimentConfig, settings: Any, env: Any, run_dir: Path) -> list[Any]:
    """One evaluator per further held-out split of the env (none when `extra_split_tasks` is 0)."""
    if not cfg.extra_split_tasks:
        return []
    return [_experiment_heldout(cfg, settings, env, run_dir, split) for split in env.extra_heldout_splits]


def _warm_up(
    cfg: ExperimentConfig,
    settings: Any,
    env: Any,
    tasks: list,
    run_dir: Path,
    evals: list[Any],
    timings: dict[str, float],
) -> Path:
    """The shared warm-up SFT from the base model (base evaluated first), then its eval; the warm model."""
    from dakota_rl.models import resolve_model

    if evals[1:]:
        base = resolve_model(settings.model)
        _timed(timings, "base eval (further splits)", lambda: _evaluate(base, evals[1:], "base"))
    warm = _timed(
        timings,
        "warm-up SFT (with base eval)",
        lambda: _sft(
            settings,
            env,
            tasks,
            resolve_model(settings.model),
            run_dir / "warmup",
            cfg.warmup_steps,
            settings.local.sft.batch_size,
            evals[0],
        ),
    )
    _timed(timings, "warm-up eval", lambda: _evaluate(warm, evals, "warmup"))
    return warm


def _run_arms(
    cfg: ExperimentConfig,
    seed: int,
    settings: Any,
    env: Any,
    tasks: list,
    warm: Path,
    run_dir: Path,
    evals: list[Any],
    timings: dict[str, float],
) -> None:
    """One seed: every arm from the warm model, each evaluated (and diagnosed); then its weights go."""
    for arm in cfg.selected_arms:
        if cfg.resume and _scored(evals, seed, [arm.name]):
            print(f"[experiment] seed {seed}: {arm.name} arm already scored, skipped", flush=True)
            continue
        arm_settings = _arm_settings(cfg, arm, seed)
        steps = arm.steps or cfg.steps
        folder = run_dir / f"seed_{seed}" / arm.name
        label = f"seed_{seed}_{arm.name}"
        cpu = time.process_time()
        train = partial(_train_arm, arm.kind, arm_settings, env, tasks, warm, folder, steps)
        model = _timed(timings, f"seed {seed}: {arm.name} arm", train)
        cpu_key = f"cpu: seed {seed}: {arm.name} arm"
        timings[cpu_key] = round(time.process_time() - cpu, 1)
        print(f"[experiment] {cpu_key}: {timings[cpu_key]:.0f} s", flush=True)
        _timed(timings, f"seed {seed}: {arm.name} arm eval", partial(_evaluate, model, evals, label))
        _diagnose(cfg, arm_settings, env, tasks, model, run_dir, label, timings)
        _save_timings(run_dir, timings)  # after every arm: an interrupted seed keeps the times it measured
        shutil.rmtree(model if arm.kind == "sft" else model.parent, ignore_errors=True)


def _train_arm(kind: str, settings: Any, env: Any, tasks: list, warm: Path, folder: Path, steps: int) -> Path:
    """SFT on training golds (as many prompts per step as a GRPO step has) or GRPO on the arm's own env
    options (e.g. another reward version; every arm is scored by the experiment's env); the trained model."""
    from dakota_rl.envs import load_env

    if kind == "sft":
        prompts_per_step = settings.batch_size // settings.group_size
        return _sft(settings, env, tasks, warm, folder, steps, prompts_per_step, None)
    return _grpo(settings, load_env(settings.env_id, settings.env_options), warm, folder, steps)


def _arm_settings(cfg: ExperimentConfig, arm: ArmConfig, seed: int) -> Any:
    """The arm's training settings: the experiment's configs, the arm's overrides, the seed."""
    from dakota_rl.backends.local.settings import settings_from

    layers = [*cfg.configs, *arm.configs]
    tokens = [tok for path in layers for tok in ("@", path)] + override_tokens(arm.overrides)
    settings, _ = settings_from(load_config(tokens))
    return settings.model_copy(update={"local": settings.local.model_copy(update={"seed": seed})})


def override_tokens(overrides: dict[str, Any]) -> list[str]:
    """{"a.b": 1, "c": true, "d.e_f": false, "g": [1, 2]} → `--a.b 1 --c --no-d.e-f --g 1 2` (pydantic_config
    negates a dotted boolean by its kebab-case path)."""
    tokens: list[str] = []
    for key, value in overrides.items():
        if isinstance(value, bool):
            tokens.append(f"--{key}" if value else f"--no-{key.replace('_', '-')}")
        elif isinstance(value, list):
            tokens += [f"--{key}", *map(str, value)]
        else:
            tokens += [f"--{key}", str(value)]
    return tokens


def _diagnose(
    cfg: ExperimentConfig,
    settings: Any,
    env: Any,
    tasks: list,
    model_path: Path,
    run_dir: Path,
    label: str,
    timings: dict[str, float],
) -> None:
    """With `diagnostic_tasks`, sample the model on held-out and train tasks: `diag/<label>.json`."""
    if not cfg.diagnostic_tasks or (run_dir / "diag" / f"{label}.json").is_file():
        return  # none asked for, or done before this `--resume`
    from dakota_rl.backends.local.heldout import heldout_sample
    from dakota_rl.backends.local.sampled_eval import run_sampled

    model, tokenizer = _load(model_path)
    sets = {
        "heldout": heldout_sample(env, cfg.diagnostic_tasks, cfg.eval_seed),
        "train": heldout_sample(env, cfg.diagnostic_tasks, cfg.eval_seed, "train"),
    }
    started, out = time.perf_counter(), {}
    for name, chosen in sets.items():
        out[name] = run_sampled(
            env,
            chosen,
            model,
            tokenizer,
            run_dir / "diag" / f"{label}.{name}.jsonl",
            samples=cfg.diagnostic_samples,
            temperature=settings.temperature,
            max_tokens=settings.local.eval.max_tokens,
            seed=cfg.eval_seed,
        )
    write_atomic(run_dir / "diag" / f"{label}.json", json.dumps(out, indent=2))
    timings[f"{label} diagnostics"] = round(time.perf_counter() - started, 1)


def _control_for_run(
    cfg: ExperimentConfig, src: Path, run_dir: Path, settings: Any, env: Any, tasks: list, heldout: Any
) -> dict[str, Any]:
    """Only the SFT arm, from a finished run's warm-up; its evals become the warm-up and GRPO-arm files."""
    from dakota_rl.backends.local.heldout import read_rows, write_rows
    from dakota_rl.experiment_report import write_experiment_report

    if not (src / "sft" / "model" / "config.json").is_file() or not (src / "eval" / "base.jsonl").is_file():
        raise ConfigError(
            f"from_run {src}: needs sft/model and eval/base.jsonl (a run with SFT and in-loop eval)"
        )
    by_id = {t["id"]: t for t in env.load_tasks(env.heldout_split)}
    heldout.tasks = [by_id[r["task_id"]] for r in read_rows(src / "eval" / "base.jsonl")]
    seed, started, timings = settings.local.seed, time.perf_counter(), {}
    steps = cfg.steps
    folder = run_dir / f"seed_{seed}"
    model = _timed(
        timings,
        f"seed {seed}: SFT arm",
        lambda: _sft(
            settings,
            env,
            tasks,
            src / "sft" / "model",
            folder / "sft",
            steps,
            settings.batch_size // settings.group_size,
            None,
        ),
    )
    _timed(timings, f"seed {seed}: SFT arm eval", lambda: _evaluate(model, [heldout], f"seed_{seed}_sft"))
    shutil.rmtree(model, ignore_errors=True)
    while not (src / "timings.json").is_file():
        print(f"[experiment] waiting for {src} to finish (its timings.json)", flush=True)
        time.sleep(30)
    step_files = sorted((src / "eval").glob("step_*.jsonl"))
    if int(step_files[-1].stem.split("_")[1]) != steps:
        raise ConfigError(f"from_run {src} ran {step_files[-1].stem}; set --steps to its GRPO steps")
    for name, source in (
        ("base", "base.jsonl"),
        ("warmup", step_files[0].name),
        (f"seed_{seed}_grpo", step_files[-1].name),
    ):
        write_rows(read_rows(src / "eval" / source), heldout.out_dir / f"{name}.jsonl")
    timings["total (SFT arm only; the run's own times are in its timings.json)"] = (
        time.perf_counter() - started
    )
    cfg = cfg.model_copy(
        update={"seeds": [seed], "eval_tasks": len(heldout.tasks), "warmup_steps": settings.local.sft.steps}
    )
    return write_experiment_report(run_dir, cfg, settings, timings)


def _timed(timings: dict[str, float], name: str, fn: Any) -> Any:
    started = time.perf_counter()
    out = fn()
    timings[name] = round(time.perf_counter() - started, 1)
    print(f"[experiment] {name}: {timings[name]:.0f} s", flush=True)
    return out


def _sft(
    settings: Any, env: Any, tasks: list, model: Path, out: Path, steps: int, batch: int, heldout: Any
) -> Path:
    from dakota_rl.backends.local.sft import sft_warmup

    return sft_warmup(settings, env, tasks, model, out, heldout=heldout, steps=steps, batch_size=batch)


def _grpo(settings: Any, env: Any, model: Path, out: Path, steps: int) -> Path:
    from dakota_rl.backends.local.trainer import run_grpo

    local = settings.local.model_copy(
        update={
            "sft": settings.local.sft.model_copy(update={"steps": 0}),
            "eval": settings.local.eval.model_copy(update={"interval": 0}),
        }
    )
    arm = settings.model_copy(update={"max_steps": steps, "ckpt_interval": None, "local": local})
    out.mkdir(parents=True, exist_ok=True)
    return run_grpo(arm, env, model, out, out.name, False)


def _evaluate(model_path: Path, evals: list[Any], label: str) -> None:
    """Score the model at `model_path` with each evaluator: `<label>.jsonl` + `.summary.json` per folder."""
    model, tokenizer = _load(model_path)
    for heldout in evals:
        _, summary = heldout.run(model, tokenizer, label)
        print(
            f"[experiment] eval {heldout.out_dir.name}/{label}: total={summary['eval/total']:.3f} "
            f"exact={summary['eval/exact_rate']:.3f} "
            f"format_fail={summary['eval/format_fail_rate']:.3f} n={summary['eval/n']}",
            flush=True,
        )
        write_atomic(heldout.out_dir / f"{label}.summary.json", json.dumps(summary, indent=2))


def _load(model_path: Path) -> tuple[Any, Any]:
    """A saved model and its tokenizer (padding with EOS when it has no pad token)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return AutoModelForCausalLM.from_pretrained(model_path), tokenizer
