"""`prime-rl export RUN_DIR --step N|latest|all`: prime-rl weight broadcasts → complete HF checkpoints.

prime-rl (pinned commit) writes no HF checkpoints. With filesystem weight broadcast the trainer leaves
`broadcasts/step_N/` = `model.safetensors` (or shards + `model.safetensors.index.json`) and a `STABLE` marker,
without config or tokenizer; it keeps the checkpoint-interval steps and the last two. Export adds the base
model's config, tokenizer and generation config (`do_sample: true`) and writes Contract 5's
`<run>/checkpoints/step_N/`, which `prime-rl serve`, `prime-rl eval` and `vf-eval -m` take.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from dakota_rl.backends.prime_rl.checkout import PrimeRLError
from dakota_rl.model_card import write_model_card
from dakota_rl.models import write_sampling_generation_config

BASE_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
)
WEIGHTS_INDEX = "model.safetensors.index.json"
MANIFEST = "export.json"


def broadcast_steps(run_dir: Path) -> dict[int, Path]:
    """step → broadcasts/step_N directory, for every broadcast directory of the run."""
    root = run_dir / "broadcasts"
    steps = {}
    for path in root.glob("step_*") if root.is_dir() else ():
        suffix = path.name.removeprefix("step_")
        if path.is_dir() and suffix.isdigit():
            steps[int(suffix)] = path
    return dict(sorted(steps.items()))


def select_steps(run_dir: Path, step: int | str | None) -> list[int]:
    """Which broadcast steps to export: a number, "latest" (None) or "all" (every STABLE one)."""
    found = broadcast_steps(run_dir)
    if not found:
        raise PrimeRLError(
            f"no weight broadcasts in {run_dir / 'broadcasts'}: give a prime-rl run directory "
            "(outputs/RUN) of a run with filesystem weight broadcast"
        )
    stable = [s for s, path in found.items() if (path / "STABLE").exists()]
    if step is None or str(step) == "latest":
        if not stable:
            raise PrimeRLError(
                f"no broadcast in {run_dir / 'broadcasts'} has a STABLE marker yet "
                f"(steps {list(found)} are still being written)"
            )
        return [stable[-1]]
    if str(step) == "all":
        if not stable:
            raise PrimeRLError(f"no broadcast in {run_dir / 'broadcasts'} has a STABLE marker yet")
        return stable
    if not str(step).isdigit():
        raise PrimeRLError(f"--step must be a number, latest or all (got {step!r})")
    number = int(step)
    if number not in found:
        raise PrimeRLError(
            f"step {number} has no broadcast in {run_dir / 'broadcasts'}; surviving steps: "
            f"{list(found)} (prime-rl keeps checkpoint-interval steps and the last two)"
        )
    if number not in stable:
        raise PrimeRLError(
            f"broadcasts/step_{number} has no STABLE marker: it is still being written, or the run "
            "stopped while writing it"
        )
    return [number]


def run_base_model(run_dir: Path) -> str | None:
    """The model a run trained, from prime-rl's resolved configs (configs/trainer.json)."""
    for name in ("trainer.json", "orchestrator.json"):
        path = run_dir / "configs" / name
        if path.is_file():
            model = json.loads(path.read_text()).get("model", {}).get("name")
            if model:
                return str(model)
    return None


def base_model_dir(base_model: str) -> Path:
    """A local folder with the base model's config and tokenizer: the path itself, or the HF hub snapshot
    (only the small files; from the local cache when HF_HUB_OFFLINE=1)."""
    path = Path(base_model).expanduser()
    if path.is_dir():
        found = path
    else:
        from huggingface_hub import snapshot_download

        try:
            found = Path(snapshot_download(base_model, allow_patterns=list(BASE_FILES)))
        except Exception as err:  # hub errors come in many types; all mean the same here
            raise PrimeRLError(
                f"base model files not found for {base_model!r} ({type(err).__name__}): pass --base-model "
                f"with a local HF folder, or fetch them with `hf download {base_model} config.json "
                "tokenizer.json tokenizer_config.json generation_config.json`"
            ) from None
    missing = [f for f in ("config.json", "tokenizer_config.json") if not (found / f).is_file()]
    if missing:
        raise PrimeRLError(f"base model {base_model!r} ({found}) lacks {', '.join(missing)}")
    return found


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link (no extra disk for a 1.2 GB file) when possible, else copy."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _weight_files(broadcast: Path) -> list[Path]:
    if (broadcast / "adapter_model.safetensors").exists() and not (broadcast / "model.safetensors").exists():
        raise PrimeRLError(
            f"{broadcast} holds a LoRA adapter only; export handles full-weight broadcasts. "
            "Serve the adapter with vLLM's --enable-lora on the base model instead"
        )
    index = broadcast / WEIGHTS_INDEX
    if index.exists():
        names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        files = [broadcast / n for n in names] + [index]
    else:
        files = [broadcast / "model.safetensors"]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise PrimeRLError(f"{broadcast} lacks {', '.join(missing)}")
    return files


def export_step(run_dir: Path, step: int, base_dir: Path, base_model: str, out: Path) -> Path:
    """One broadcast step → a complete HF folder at `out`."""
    broadcast = broadcast_steps(run_dir)[step]
    weights = _weight_files(broadcast)
    out.mkdir(parents=True, exist_ok=True)
    for name in BASE_FILES:
        if (base_dir / name).is_file() and name != "generation_config.json":
            shutil.copyfile(base_dir / name, out / name)
    write_sampling_generation_config(base_dir, out)
    for src in weights:
        _link_or_copy(src, out / src.name)
    manifest = {
        "source": str(broadcast),
        "step": step,
        "base_model": base_model,
        "files": sorted(p.name for p in out.iterdir() if p.is_file() and p.name != MANIFEST),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return out


def check_export_target(target: Path, base_dir: Path) -> None:
    """Refuse to write an export over the base model or over a model folder that no export wrote."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise PrimeRLError(f"export target {target} is a symlink or a file: pick a new folder")
    if target.resolve() == base_dir.resolve():
        raise PrimeRLError(f"export target {target} is the base model's folder: pick a new folder")
    holds_model = target.is_dir() and any(target.glob("config.json")) or any(target.glob("*.safetensors"))
    if holds_model and not (target / MANIFEST).is_file():
        raise PrimeRLError(
            f"export target {target} already holds a model that no export wrote (no {MANIFEST}): "
            "pick a new folder with --out"
        )


def export(
    run_dir: Path | str,
    step: int | str | None = "latest",
    base_model: str | None = None,
    out: Path | str | None = None,
) -> Path:
    """Export broadcast step(s) of a prime-rl run as HF folders; returns the folder (for "all": the parent).

    `out` (one step only) defaults to `<run>/checkpoints/step_N/`, next to prime-rl's own `trainer/`
    checkpoint of that step. `base_model` defaults to the run's `model.name`.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PrimeRLError(f"run directory not found: {run_dir}")
    steps = select_steps(run_dir, step)
    if out is not None and len(steps) > 1:
        raise PrimeRLError("--out names one folder: use it with --step N or latest, not all")
    base_model = base_model or run_base_model(run_dir)
    if not base_model:
        raise PrimeRLError(
            f"cannot tell the base model of {run_dir} (no configs/trainer.json): pass --base-model"
        )
    base_dir = base_model_dir(base_model)
    written = []
    for number in steps:
        target = Path(out) if out is not None else run_dir / "checkpoints" / f"step_{number}"
        check_export_target(target, base_dir)
        export_step(run_dir, number, base_dir, base_model, target)
        write_model_card(target, run_dir, base_model=base_model)
        written.append(target)
        print(f"export: broadcasts/step_{number} -> {target}")
        if out is None and not (target / "trainer").exists():
            print(
                f"export: note: step {number} has no prime-rl checkpoint; `--resume` takes the highest "
                f"checkpoints/step_*, so resume with --resume.step <a checkpoint step> or export with --out"
            )
    return written[0] if len(written) == 1 else run_dir / "checkpoints"
