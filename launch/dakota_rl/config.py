"""One config format: prime-rl's TOML schema, `@ file.toml` layers and dotted kebab-case overrides.

`load_config(["@", "configs/dakota_smoke.toml", "@", "configs/local/cpu.toml", "--max-steps", "5"])` reads
the files left to right, deep-merges them, applies the overrides, and splits off the `[local]` table (settings
only the local TRL backend understands, typed by `LocalConfig`). `ResolvedConfig.merged` holds prime-rl keys
only; `write_prime_rl_files` writes it back as TOML for `rl @ …`.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigError(ValueError):
    """A user mistake in a config file or override; the CLI prints it as one line and exits 2."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraConfig(_Strict):
    """PEFT LoRA adapters instead of full fine-tuning (checkpoints hold the merged model + `adapter/`)."""

    r: int = Field(16, ge=1)
    """Adapter rank."""
    alpha: int = Field(32, ge=1)
    """LoRA scaling numerator (alpha / r multiplies the update)."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout on the adapter input."""
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    """Module names to adapt, or "all-linear"."""


class SftConfig(_Strict):
    """Supervised warm-up on training golds before GRPO (small models give GRPO no signal without it)."""

    steps: int = Field(0, ge=0)
    """Optimizer steps of SFT; 0 disables the warm-up."""
    lr: float = Field(1e-4, gt=0)
    """SFT learning rate."""
    batch_size: int = Field(8, ge=1)
    """Examples per SFT step."""


class EvalConfig(_Strict):
    """Held-out evaluation: in the trainer's process every `interval` steps, and through `serve` + `vf-eval`."""

    interval: int = Field(0, ge=0)
    """In-loop eval every N GRPO steps, plus step 0 and the last step; 0 turns in-loop eval off."""
    num_tasks: int = Field(100, ge=1)
    """In-loop eval: held-out tasks in the fixed, seeded sample (all of them if fewer exist)."""
    greedy: bool = True
    """In-loop eval decodes greedily; false samples at `temperature`."""
    batch_size: int = Field(32, ge=1)
    """In-loop eval: prompts generated together."""

    before: bool = True
    """Evaluate the base model before training (demo)."""
    after: bool = True
    """Evaluate the final checkpoint after training (demo)."""
    num_examples: int = Field(20, ge=1)
    """Held-out tasks to evaluate (`vf-eval -n`)."""
    rollouts: int = Field(1, ge=1)
    """Samples per task (`vf-eval -r`); pass@k is reported when > 1."""
    temperature: float = Field(0.7, ge=0)
    """Sampling temperature for evaluation."""
    max_tokens: int = Field(64, ge=1)
    """Completion cap for evaluation."""


class ObjectiveConfig(_Strict):
    """What GRPO optimises: TRL GRPOConfig options that decide the loss (names and values as in TRL 1.16)."""

    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"] = "dapo"
    """Token-loss aggregation: "dapo" normalises by active tokens in the batch (no length bias)."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """Divide advantages by the reward std of the group, of the batch, or not at all (Dr. GRPO: "none")."""
    multi_objective_aggregation: Literal["sum_then_normalize", "normalize_then_sum"] = "sum_then_normalize"
    """Sum weighted components then normalise, or normalise each component per group first (GDPO)."""
    mask_truncated_completions: bool = False
    """Leave completions that hit the token cap out of the loss (DAPO)."""
    num_iterations: int = Field(1, ge=1)
    """Optimizer passes over each generated batch (μ); > 1 reuses rollouts with ratio clipping."""


class CurriculumConfig(_Strict):
    """letter_counting's adaptive tier curriculum, driven by the trainer's group rewards (Atropos rule)."""

    start_tier: int = Field(3, ge=1, le=10)
    """Tier of the first training prompts."""
    window: int = Field(150, ge=1)
    """Groups per decision window."""
    up: float = Field(0.8, ge=0, le=1)
    """Move up a tier when the window's success rate is above this."""
    down: float = Field(0.2, ge=0, le=1)
    """Move down a tier when it is below this."""


class LocalConfig(_Strict):
    """Settings only the local TRL backend understands: the `[local]` table of `configs/local/*.toml`."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where to train: "auto" picks CUDA when available."""
    seed: int = 0
    """Seed for task order, sampling and initialisation."""
    kl_beta: float = Field(0.02, ge=0)
    """KL penalty to the reference model (TRL `beta`); KL is logged only when > 0."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (TRL's default): saves memory on big models, ~30% slower."""
    num_train_tasks: int | None = Field(None, ge=1)
    """Use only this many training tasks (None: all)."""
    lora: LoraConfig | None = None
    """Enable with a `[local.lora]` table."""
    sft: SftConfig = SftConfig()
    """`[local.sft]`: the optional supervised warm-up."""
    eval: EvalConfig = EvalConfig()
    """`[local.eval]`: held-out evaluation settings."""
    grpo: ObjectiveConfig = ObjectiveConfig()
    """`[local.grpo]`: the TRL GRPO objective."""
    curriculum: CurriculumConfig | None = None
    """Enable letter_counting's adaptive curriculum with a `[local.curriculum]` table."""


LOCAL_ONLY_TOP_LEVEL = set(LocalConfig.model_fields) - {"seed", "eval"}


@dataclass
class ResolvedConfig:
    """Files + overrides merged. `merged` has prime-rl keys only; `local` the typed `[local]` table."""

    merged: dict[str, Any]
    local: LocalConfig
    files: list[Path] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)

    def get(self, dotted: str, default: Any = None) -> Any:
        """`resolved.get("orchestrator.batch_size")` → the merged value or `default`."""
        node: Any = self.merged
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; everything else (including arrays of tables) is replaced."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_toml(path: Path, *, what: str = "config file", error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """Parse one TOML file, or raise `error` (a ConfigError) naming the file and the problem."""
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: invalid TOML: {err}") from None


def parse_value(raw: list[str]) -> Any:
    """An override's value: JSON/TOML-ish scalars, JSON lists/dicts, several words → a list."""
    if len(raw) > 1:
        return [parse_value([r]) for r in raw]
    text = raw[0]
    if text in ("true", "false"):
        return text == "true"
    if text and text[0] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(f"invalid JSON value: {text}") from None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = [p.replace("-", "_") for p in dotted.split(".")]
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--{dotted}: `{part}` is a value, not a table")
        node = child
    last = parts[-1]
    if isinstance(value, dict) and isinstance(node.get(last), dict):
        node[last] = deep_merge(node[last], value)
    else:
        node[last] = value


def split_tokens(tokens: list[str]) -> tuple[list[Path], list[tuple[str, list[str]]]]:
    """Split argv tokens into `@ file` paths and `--key value…` overrides (in order)."""
    files: list[Path] = []
    overrides: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "@":
            if i + 1 >= len(tokens):
                raise ConfigError("`@` must be followed by a TOML file (`@ configs/dakota_smoke.toml`)")
            files.append(Path(tokens[i + 1]))
            i += 2
        elif tok.startswith("@") and len(tok) > 1:
            files.append(Path(tok[1:]))
            i += 1
        elif tok.startswith("--") and len(tok) > 2:
            key = tok[2:]
            if "=" in key:
                key, value = key.split("=", 1)
                overrides.append((key, [value]))
                i += 1
                continue
            values: list[str] = []
            i += 1
            while i < len(tokens) and not (tokens[i].startswith("--") or tokens[i].startswith("@")):
                values.append(tokens[i])
                i += 1
            overrides.append((key, values))
        else:
            raise ConfigError(f"unexpected argument {tok!r}: use `@ file.toml` or `--dotted.key value`")
    return files, overrides


def _override_to_tree(key: str, values: list[str]) -> tuple[str, Any]:
    if values:
        return key, parse_value(values)
    last = key.rsplit(".", 1)
    if last[-1].startswith("no-"):
        prefix = last[0] + "." if len(last) == 2 else ""
        return prefix + last[-1][3:], False
    return key, True


def parse_local(table: dict[str, Any], source: str = "[local]") -> LocalConfig:
    """Validate the `[local]` table; errors name the key and the table it belongs in."""
    try:
        return LocalConfig.model_validate(table)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            known = ", ".join(sorted(LocalConfig.model_fields))
            raise ConfigError(
                f"{source}: unknown key `local.{loc}` (the [local] table accepts: {known}; "
                "prime-rl keys go outside [local])"
            ) from None
        raise ConfigError(f"{source}: `local.{loc}`: {first['msg']} (got {first.get('input')!r})") from None


def load_config(argv_tokens: list[str]) -> ResolvedConfig:
    """Merge `@ file.toml` layers left to right, apply `--dotted.key value` overrides, split off `[local]`."""
    files, raw_overrides = split_tokens(list(argv_tokens))
    merged: dict[str, Any] = {}
    for path in files:
        merged = deep_merge(merged, read_toml(path))
    override_strings = []
    for key, values in raw_overrides:
        dotted, value = _override_to_tree(key, values)
        _set_dotted(merged, dotted, value)
        override_strings.append(f"--{key}" + ("" if not values else " " + " ".join(values)))
    misplaced = sorted(LOCAL_ONLY_TOP_LEVEL & merged.keys())
    if misplaced:
        raise ConfigError(
            f"`{misplaced[0]}` is a local-backend setting: put it in the [local] table "
            f"(e.g. configs/local/cpu.toml, or --local.{misplaced[0]})"
        )
    local_table = merged.pop("local", {})
    if not isinstance(local_table, dict):
        raise ConfigError("`local` must be a table ([local])")
    local = parse_local(local_table)
    return ResolvedConfig(merged=merged, local=local, files=files, overrides=override_strings)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ConfigError(f"cannot write {value!r} to TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def dumps_toml(tree: dict[str, Any]) -> str:
    """Serialise a nested dict to TOML (tables and arrays of tables); round-trips through tomllib."""
    lines: list[str] = []

    def emit(node: dict[str, Any], prefix: str) -> None:
        scalars = {k: v for k, v in node.items() if not _is_table(v) and not _is_table_array(v)}
        for key, value in scalars.items():
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        for key, value in node.items():
            name = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
            if _is_table(value):
                lines.extend(["", f"[{name}]"])
                emit(value, name)
            elif _is_table_array(value):
                for item in value:
                    lines.extend(["", f"[[{name}]]"])
                    emit(item, name)

    emit(tree, "")
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def write_prime_rl_files(resolved: ResolvedConfig, out_dir: Path) -> list[Path]:
    """Write the merged prime-rl config (no `[local]`) as one TOML file for `rl @ …`; returns its path(s)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "rl.toml"
    path.write_text(dumps_toml(resolved.merged), encoding="utf-8")
    return [path]
