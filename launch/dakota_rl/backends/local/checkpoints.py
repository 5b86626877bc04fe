"""Contract 5 checkpoints: `<run>/checkpoints/step_N/` complete HF folders (LoRA: merged model + `adapter/`).

TRL's own resumable state (optimizer, scheduler, RNG) lives beside them in `<run>/trainer/checkpoint-N/`.
TRL writes `trainer_state.json` last, and our `step_N` is written after it (into `step_N.tmp`, renamed when
whole), so a `checkpoint-N` is complete exactly when its state file parses and names step N. A crash or a full
disk mid-save leaves an incomplete folder: `resume_point` skips it (saying why) and removes it, and
`disk_full_guard` turns ENOSPC into one line naming the path and the space needed.
"""

from __future__ import annotations

import errno
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dakota_rl.errors import RunFailed

TRAINER_STATE = "trainer_state.json"

_STEP = re.compile(r"^(?:step_|checkpoint-)(\d+)$")


def step_dirs(parent: Path) -> list[tuple[int, Path]]:
    """(step, folder) for `step_N` / `checkpoint-N` folders under `parent`, oldest first."""
    if not parent.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in parent.iterdir() if p.is_dir() and (m := _STEP.match(p.name))]
    return sorted(found)


def incomplete_reason(step: int, folder: Path) -> str | None:
    """Why TRL checkpoint `folder` (step `step`) cannot be resumed from, or None when it is complete."""
    state_path = folder / TRAINER_STATE
    if not state_path.is_file():
        return f"no {TRAINER_STATE} (save interrupted)"
    try:
        saved_step = json.loads(state_path.read_text(encoding="utf-8"))["global_step"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return f"{TRAINER_STATE} is truncated or unreadable"
    if saved_step != step:
        return f"{TRAINER_STATE} says step {saved_step}"
    return None


def latest_trainer_state(run_dir: Path) -> Path | None:
    """The newest complete (resumable) TRL checkpoint of a run, or None."""
    for step, folder in reversed(step_dirs(run_dir / "trainer")):
        if incomplete_reason(step, folder) is None:
            return folder
    return None


def remove_partial_saves(run_dir: Path) -> list[str]:
    """Delete incomplete TRL checkpoints and leftover `step_N.tmp` folders; one line per removal."""
    notes = []
    for step, folder in step_dirs(run_dir / "trainer"):
        if (why := incomplete_reason(step, folder)) is not None:
            shutil.rmtree(folder)
            notes.append(f"skipped {folder}: {why}; removed it")
    checkpoints = run_dir / "checkpoints"
    for tmp in sorted(checkpoints.glob("*.tmp")) if checkpoints.is_dir() else []:
        shutil.rmtree(tmp, ignore_errors=True)
        notes.append(f"removed partial save {tmp}")
    return notes


def truncate_metrics(metrics_path: Path, last_step: int) -> int:
    """Keep only whole `metrics.jsonl` rows with step <= `last_step` (replayed steps log again);
    rows dropped."""
    if not metrics_path.is_file():
        return 0
    lines = metrics_path.read_text(encoding="utf-8", errors="replace").splitlines()
    kept = []
    for line in lines:
        try:
            if json.loads(line)["step"] <= last_step:
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    tmp = metrics_path.with_name(metrics_path.name + ".tmp")
    tmp.write_text("".join(row + "\n" for row in kept), encoding="utf-8")
    tmp.replace(metrics_path)
    return len(lines) - len(kept)


def resume_point(run_dir: Path) -> Path | None:
    """Clean partial saves, pick the newest complete checkpoint and cut metrics back to it;
    print each choice."""
    for note in remove_partial_saves(run_dir):
        print(f"resume: {note}")
    start = latest_trainer_state(run_dir)
    if start is None:
        return None
    step = int(_STEP.match(start.name).group(1))
    dropped = truncate_metrics(run_dir / "metrics.jsonl", step)
    print(
        f"resume: from {start} (step {step})"
        + (f"; dropped {dropped} metrics row(s) after it" if dropped else "")
    )
    return start


def _folder_bytes(folder: Path | None) -> int:
    if folder is None or not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def is_disk_full(err: BaseException, run_dir: Path, need: int) -> bool:
    """ENOSPC as an OSError, as safetensors' error text, or as torch.save's bare RuntimeError
    on a full disk."""
    if isinstance(err, OSError):
        return err.errno in (errno.ENOSPC, errno.EDQUOT)
    text = str(err)
    if "No space left" in text or "os error 28" in text:
        return True
    torch_writer = isinstance(err, RuntimeError) and (
        "inline_container" in text or "PytorchStreamWriter" in text
    )
    return torch_writer and shutil.disk_usage(run_dir).free < need


def _save_sizes(run_dir: Path) -> tuple[int, int]:
    """(bytes of the newest complete save, bytes of the partial saves) under `run_dir`."""
    done = latest_trainer_state(run_dir)
    complete = _folder_bytes(done) + (_folder_bytes(_hf_folder(run_dir, done)) if done else 0)
    partial = sum(_folder_bytes(f) for s, f in step_dirs(run_dir / "trainer") if incomplete_reason(s, f))
    partial += sum(_folder_bytes(t) for t in (run_dir / "checkpoints").glob("*.tmp"))
    return complete, partial


@contextmanager
def disk_full_guard(run_dir: Path) -> Iterator[None]:
    """Turn a full disk during training into RunFailed: one line naming the path,
    the space needed and free."""
    try:
        yield
    except Exception as err:
        complete, partial = _save_sizes(run_dir)
        need = max(complete, partial + 1)
        if not is_disk_full(err, run_dir, need):
            raise
        remove_partial_saves(run_dir)
        where = getattr(err, "filename", None) or run_dir
        size = f"about {complete / 2**20:.0f} MiB" if complete else f"more than {partial / 2**20:.0f} MiB"
        free = shutil.disk_usage(run_dir).free
        raise RunFailed(
            f"disk full while saving a checkpoint under {where}: a save needs {size}, "
            f"{free / 2**20:.0f} MiB free after removing the partial save; free space, then rerun "
            "with --resume"
        ) from None


def _hf_folder(run_dir: Path, trainer_ckpt: Path) -> Path:
    return run_dir / "checkpoints" / trainer_ckpt.name.replace("checkpoint-", "step_")


def save_hf_checkpoint(model: Any, tokenizer: Any, run_dir: Path, step: int, keep_last: int | None) -> Path:
    """Write `checkpoints/step_N` (sampling on in generation_config) and prune to `keep_last`."""
    out = run_dir / "checkpoints" / f"step_{step}"
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if hasattr(model, "merge_and_unload"):
        model.save_pretrained(tmp / "adapter")
        merged = _merged_copy(model)
    else:
        merged = model
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    gen = merged.generation_config
    gen.do_sample = True
    if gen.eos_token_id is None:
        gen.eos_token_id = tokenizer.eos_token_id
    gen.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    if keep_last:
        for _, old in step_dirs(out.parent)[:-keep_last]:
            shutil.rmtree(old)
    return out


def _merged_copy(peft_model: Any) -> Any:
    """The base model with the adapter merged, leaving the training model untouched."""
    import copy

    return copy.deepcopy(peft_model).merge_and_unload()
