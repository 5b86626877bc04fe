"""One config tree, parsed once: prime-rl's schema plus typed `[local]` and `[launch]` tables.

`load_config(["@", "configs/dakota_smoke.toml", "@", "configs/local/cpu.toml", "--max-steps", "5"])` reads the
files left to right, deep-merges them, applies the dotted kebab-case overrides and validates the result as one
`RunConfig`, with pydantic_config (the parser prime-rl and verifiers use for this exact syntax). `RunConfig`
is the typed subset of prime-rl's schema at the pinned commit (`schema.py`) plus `local`, the settings only
the local TRL backend understands, and `launch`, the run options (backend, resume, clean, dry_run; the run's
place is prime-rl's own `output_dir` and `[run] name`). Unknown keys are refused with their dotted path.
Backends read the typed tree; `ResolvedConfig.merged` holds the prime-rl keys the user set (no `[local]`,
no `[launch]`) only for `write_prime_rl_files`, which writes it as TOML for prime-rl's own `rl @ …`.
`load_table` (an `@ file`'s `[table]` plus `--key value`) and `set_values` (overrides as typed values) use the
same parser for the experiment and sweep commands.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import tomli_w
from pydantic import BaseModel, Field, ValidationError, create_model
from pydantic_config import BaseConfig, ConfigFileError, cli

from dakota_rl.errors import UserError
from dakota_rl.schema import RLKeys

ConfigError = UserError
"""Kept name: a user mistake in a config file or override (one line, exit 2)."""
T = TypeVar("T", bound=BaseModel)


class LoraConfig(BaseConfig):
    """PEFT LoRA adapters instead of full fine-tuning (checkpoints hold the merged model + `adapter/`)."""

    r: int = Field(16, ge=1)
    """Adapter rank."""
    alpha: int = Field(32, ge=1)
    """LoRA scaling numerator (alpha / r multiplies the update)."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout on the adapter input."""
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    """Module names to adapt, or "all-linear"."""


class SftConfig(BaseConfig):
    """Supervised warm-up on training golds before GRPO (small models give GRPO no signal without it)."""

    steps: int = Field(0, ge=0)
    """Optimizer steps of SFT; 0 disables the warm-up."""
    lr: float = Field(1e-4, gt=0)
    """SFT learning rate."""
    batch_size: int = Field(8, ge=1)
    """Examples per SFT step."""


class EvalConfig(BaseConfig):
    """Held-out evaluation: in the trainer's process every `interval` steps,
    and through `serve` + `vf-eval`."""

    interval: int = Field(0, ge=0)
    """In-loop eval every N GRPO steps, plus step 0 and the last step; 0 turns in-loop eval off."""
    num_tasks: int = Field(100, ge=1)
    """In-loop eval: held-out tasks in the fixed, seeded sample (all of them if fewer exist)."""
    greedy: bool = True
    """In-loop eval decodes greedily; false samples at `temperature`."""
    batch_size: int = Field(32, ge=1)
    """In-loop eval: prompts generated together."""
    samples: int = Field(0, ge=0)
    """In-loop eval: also sample this many completions per task at the training temperature and log
    `eval/pass@k`, `eval/best_of_k_reward` (k = 1, 4, 16 up to it), `eval/sampled_reward`,
    `eval/reward_spread`: what on-policy RL can still sharpen. 0 skips it (costs `samples`× a greedy eval)."""
    sample_tasks: int = Field(50, ge=1)
    """In-loop eval: held-out tasks (the first of the fixed sample) the sampled diagnostics use."""

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


class ObjectiveConfig(BaseConfig):
    """What GRPO optimises: TRL GRPOConfig options that decide the loss (names and values as in TRL 1.16).

    The defaults are prime-rl's GRPO at the pinned commit where TRL can express it: advantage = reward − group
    mean (no std division), loss normalised over all completion tokens of the batch (`PRIME_RL_PARITY`)."""

    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"] = "dapo"
    """Token-loss aggregation: "dapo" normalises by active tokens in the batch (no length bias); prime-rl
    too."""
    scale_rewards: Literal["group", "batch", "none"] = "none"
    """Divide advantages by the reward std of the group, of the batch, or not at all ("none": prime-rl's GRPO
    and Dr. GRPO; "group" turns tiny reward gaps inside a group into ±1 advantages)."""
    multi_objective_aggregation: Literal["sum_then_normalize", "normalize_then_sum"] = "sum_then_normalize"
    """Sum weighted components then normalise, or normalise each component per group first (GDPO)."""
    mask_truncated_completions: bool = False
    """Leave completions that hit the token cap out of the loss (DAPO)."""
    num_iterations: int = Field(1, ge=1)
    """Optimizer passes over each generated batch (μ); > 1 reuses rollouts with ratio clipping."""


class MixedPolicyConfig(BaseConfig):
    """Put the gold answer into the GRPO update (mixed-policy GRPO). Both off: plain GRPO, step for step."""

    gold_in_group: bool = False
    """Replace one sampled completion of each group with the task's gold completion (LUFFY-style off-policy
    guidance, without policy shaping): the gold earns the advantage its reward implies (reward − group mean).
    The group's other completions are sampled as usual; the gold's slot is not generated."""
    sft_weight: float = Field(0.0, ge=0)
    """λ of λ·NLL(gold completion | prompt) added to the GRPO loss (SRFT/CHORD style), averaged over the
    gold's tokens once per prompt of the batch; 0 leaves the loss unchanged."""


PRIME_RL_PARITY = {
    "advantage": 'reward − group mean, no std division (prime-rl grpo; local scale_rewards = "none")',
    "loss normalisation": 'sum over the batch\'s completion tokens (prime-rl; local loss_type = "dapo")',
    "importance ratio": "prime-rl: DPPO masking of the trainer/inference ratio + kl_tau·log² ratio; local: "
    "one generation per step, ratio ≡ 1 (nothing to clip)",
    "reference-model KL": "prime-rl: none; local: kl_beta (default 0)",
    "zero-advantage groups": "prime-rl drops them (filter_zero_advantages); local: kept, add 0 gradient but "
    "count in the token normaliser",
    "sampling": "prime-rl: vLLM; local: transformers generate (same temperature and token cap)",
}
"""How the local GRPO objective relates to prime-rl's at the pin (printed by `train --dry-run`)."""


class CurriculumConfig(BaseConfig):
    """letter_counting's adaptive tier curriculum, driven by the trainer's group rewards (Atropos rule)."""

    start_tier: int = Field(3, ge=1, le=10)
    """Tier of the first training prompts."""
    window: int = Field(150, ge=1)
    """Groups per decision window."""
    up: float = Field(0.8, ge=0, le=1)
    """Move up a tier when the window's success rate is above this."""
    down: float = Field(0.2, ge=0, le=1)
    """Move down a tier when it is below this."""


class LocalConfig(BaseConfig):
    """Settings only the local TRL backend understands: the `[local]` table of `configs/local/*.toml`."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where to train: "auto" picks CUDA when available."""
    seed: int = 0
    """Seed for task order, sampling and initialisation."""
    kl_beta: float = Field(0.0, ge=0)
    """KL penalty to the reference model (TRL `beta`); KL is logged only when > 0. prime-rl's GRPO loss has no
    reference-model term, so the default is 0 (no reference model is loaded)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (TRL's default): saves memory on big models, ~30% slower."""
    num_train_tasks: int | None = Field(None, ge=1)
    """Use only this many training tasks (None: all)."""
    lora: LoraConfig | None = None
    """Enable with a `[local.lora]` table."""
    freeze_embeddings: bool = False
    """Keep the token embedding (and the LM head when it is tied to it, as in SmolLM2 and Qwen3) fixed in SFT
    and GRPO: no weight gradient or optimizer update for its vocab × hidden matrix. Ignored with LoRA."""
    sft: SftConfig = SftConfig()
    """`[local.sft]`: the optional supervised warm-up."""
    eval: EvalConfig = EvalConfig()
    """`[local.eval]`: held-out evaluation settings."""
    grpo: ObjectiveConfig = ObjectiveConfig()
    """`[local.grpo]`: the TRL GRPO objective."""
    mixed_policy: MixedPolicyConfig = MixedPolicyConfig()
    """`[local.mixed_policy]`: the gold inside the GRPO update (off by default)."""
    curriculum: CurriculumConfig | None = None
    """Enable letter_counting's adaptive curriculum with a `[local.curriculum]` table."""


class LaunchConfig(BaseConfig):
    """`[launch]`: what this command does with the run (the CLI's `--backend`, `--resume`, `--clean`,
    `--dry-run` land here). The run's place is prime-rl's own `output_dir` and `[run] name`/`dir`."""

    backend: Literal["auto", "local", "prime-rl"] = "auto"
    """auto: prime-rl when a CUDA GPU and a prime-rl checkout exist and the config is not local-only."""
    resume: bool = False
    """Continue the run folder from its latest checkpoint."""
    clean: bool = False
    """Delete an existing run folder first (only one a run of ours marked)."""
    dry_run: bool = False
    """Resolve and print the config; train nothing."""


class RunConfig(RLKeys):
    """The whole run: prime-rl's keys (typed subset at the pinned commit) plus the local backend's table
    and the launch options."""

    local: LocalConfig = LocalConfig()
    """`[local]`: stripped before anything reaches prime-rl."""
    launch: LaunchConfig = LaunchConfig()
    """`[launch]`: run options of this command; stripped before anything reaches prime-rl."""


NOT_FOR_PRIME_RL = {"local", "launch"}
"""Top-level tables of ours: never written into prime-rl's TOML."""


LOCAL_ONLY_TOP_LEVEL = set(LocalConfig.model_fields) - {"seed", "eval"}


@dataclass
class ResolvedConfig:
    """Files + overrides parsed into one `RunConfig`; `merged`: the prime-rl part the user set, as a dict."""

    config: RunConfig
    files: list[Path] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    """The tokens it was parsed from (`with_overrides` adds to them)."""
    merged: dict[str, Any] = field(default_factory=dict)
    """The prime-rl keys that files or overrides set (defaults left to prime-rl), without `local` and
    `launch`; null is written "None", as in prime-rl's TOML. Only `write_prime_rl_files` reads it: backends
    read the typed `config`."""

    def __post_init__(self) -> None:
        if not self.merged:
            dumped = self.config.model_dump(mode="json", exclude_unset=True, exclude=NOT_FOR_PRIME_RL)
            self.merged = _none_as_string(dumped)

    @property
    def local(self) -> LocalConfig:
        return self.config.local

    @property
    def launch(self) -> LaunchConfig:
        return self.config.launch

    def with_overrides(self, tokens: list[str]) -> ResolvedConfig:
        """The same files and overrides plus `tokens` (e.g. `["--output-dir", "out", "--launch.resume"]`),
        parsed again as one tree."""
        return load_config([*self.args, *tokens])

    def dump(self) -> str:
        """The resolved tree, defaults included, as TOML (what `--dry-run` prints)."""
        return dumps_toml(self.config.model_dump(mode="json"))


def read_toml(path: Path, *, what: str = "config file", error: type[UserError] = UserError) -> dict[str, Any]:
    """Parse one TOML file, or raise `error` naming the file and the problem."""
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 (byte {err.start}): save it as UTF-8, as TOML requires") from None


def _layers(tokens: list[str]) -> tuple[list[str], list[Path], list[str]]:
    """Normalise `@file` to `@ file`, check every file reads as TOML, and list files and overrides."""
    args: list[str] = []
    for tok in tokens:
        args += ["@", tok[1:]] if tok.startswith("@") and len(tok) > 1 else [tok]
    files, overrides = [], []
    for i, tok in enumerate(args):
        if tok == "@":
            if i + 1 >= len(args):
                raise UserError("`@` must be followed by a TOML file (`@ configs/dakota_smoke.toml`)")
            files.append(Path(args[i + 1]))
            read_toml(files[-1])
        elif tok.startswith("--"):
            overrides.append(tok)
        elif i and args[i - 1] != "@" and overrides:
            overrides[-1] += " " + tok
            if tok[:1] in "[{":
                _check_json(tok)
    return args, files, overrides


def _check_json(text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        raise UserError(f"invalid JSON value: {text}") from None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe_error(error: dict[str, Any], *, prefix: str = "") -> str:
    """One pydantic error as one line naming the key's dotted path."""
    loc = tuple(error.get("loc", ()))
    where = prefix + ("." if prefix and loc else "") + _path(loc)
    got = error.get("input")
    if not where:
        return str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        if not prefix and len(loc) == 1 and loc[0] in LOCAL_ONLY_TOP_LEVEL:
            return (
                f"`{loc[0]}` is a local-backend setting: put it in the [local] table "
                f"(e.g. configs/local/cpu.toml, or --local.{loc[0]})"
            )
        return f"unknown key `{where}`"
    if error["type"] == "value_error":  # our validators' messages name the key and the value themselves
        return f"`{where}`: {str(error['msg']).removeprefix('Value error, ')}"
    if error["type"] == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", '"')
        return f"`{where}` = {got!r}: only {expected} is accepted"
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    return f"`{where}`: {error['msg']}{shown}"


def _unknown_key_hint(message: str, loc: tuple[Any, ...]) -> str:
    if loc[:1] == ("local",):
        return f"{message} (the [local] table accepts: {', '.join(sorted(LocalConfig.model_fields))})"
    return f"{message} (not a key of prime-rl's schema at the pinned commit; see `prime-rl train --help`)"


def validation_error(err: ValidationError, *, prefix: str = "", source: str = "") -> UserError:
    """The first problem of a pydantic ValidationError as a one-line UserError."""
    first = err.errors()[0]
    message = describe_error(first, prefix=prefix)
    if first["type"] == "extra_forbidden" and message.startswith("unknown key") and not prefix:
        message = _unknown_key_hint(message, tuple(first["loc"]))
    more = len(err.errors()) - 1
    return UserError(f"{source}{message}" + (f" (and {more} more problem(s))" if more else ""))


def load_config(argv_tokens: list[str]) -> ResolvedConfig:
    """Merge `@ file.toml` layers left to right, apply `--dotted.key value` overrides, validate once."""
    args, files, overrides = _layers(list(argv_tokens))
    try:
        config = cli(RunConfig, args=args)
    except ConfigFileError as err:
        if isinstance(err.__cause__, ValidationError):
            raise validation_error(err.__cause__) from None
        raise UserError(_parser_message(err.message)) from None
    return ResolvedConfig(config=config, files=files, overrides=overrides, args=args)


def set_values(tokens: list[str]) -> dict[str, Any]:
    """`--dotted.key value` overrides as {dotted key: typed value}, parsed and checked by `load_config` (no
    file), in the order the keys were given (e.g. a sweep point: {"trainer.optim.lr": 1e-05})."""
    dumped = load_config(tokens).config.model_dump(exclude_unset=True, exclude={"launch"})
    values = dict(_leaves(dumped))
    given = [tok[2:].replace("-", "_") for tok in tokens if tok.startswith("--")]
    return dict(sorted(values.items(), key=lambda kv: given.index(kv[0]) if kv[0] in given else len(given)))


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict) and node:
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}.{k}" if prefix else k)]
    return [(prefix, node)]


def load_table(model: type[T], table: str, tokens: list[str], *, usage: str) -> T:
    """`@ file.toml` whose `[table]` is a `model`, then `--key value` overrides of that table's keys, parsed
    by the same pydantic_config parser as `load_config` (`--flag`/`--no-flag`, lists, `key=value`).
    One-line UserErrors: `usage` without exactly one file, a missing table, `[table] key: problem`."""
    args, files, _ = _layers(list(tokens))
    if len(files) != 1:
        raise UserError(usage)
    rest = [tok for i, tok in enumerate(args) if tok != "@" and (i == 0 or args[i - 1] != "@")]
    scoped = [_scoped(tok, table) for tok in rest]
    wrapper = create_model(f"{model.__name__}File", __base__=BaseConfig, **{table: (model, ...)})
    try:
        return getattr(cli(wrapper, args=["@", str(files[0]), *scoped]), table)
    except ConfigFileError as err:
        if not isinstance(err.__cause__, ValidationError):
            raise UserError(_parser_message(err.message)) from None
        errors = err.__cause__.errors()
    if any(e["loc"] == (table,) and e["type"] == "missing" for e in errors):
        raise UserError(f"{files[0]}: no [{table}] table")
    loc = tuple(errors[0]["loc"])
    if loc[:1] != (table,):
        raise UserError(f"{files[0]}: unknown table or key `{_path(loc)}` (only [{table}] is read)")
    raise UserError(f"[{table}] {'.'.join(map(str, loc[1:]))}: {errors[0]['msg']}")


def _scoped(token: str, table: str) -> str:
    """`--key` → `--table.key`, `--no-key` → `--no-table.key`; values unchanged."""
    if token.startswith("--no-"):
        return f"--no-{table}.{token[5:].replace('_', '-')}"
    return f"--{table}.{token[2:]}" if token.startswith("--") else token


def _parser_message(message: str) -> str:
    if message.startswith("Unrecognized arguments: "):
        stray = message.split(": ", 1)[1].split()[0]
        return f"unexpected argument {stray!r}: use `@ file.toml` or `--dotted.key value`"
    return message[:1].lower() + message[1:]


def _none_as_string(node: Any) -> Any:
    """prime-rl writes null as the string "None" in TOML."""
    if isinstance(node, dict):
        return {k: _none_as_string(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_none_as_string(v) for v in node]
    return "None" if node is None else node


def dumps_toml(tree: dict[str, Any]) -> str:
    """A nested dict as TOML (None written as prime-rl's "None")."""
    return tomli_w.dumps(_none_as_string(tree))


def write_prime_rl_files(resolved: ResolvedConfig, out_dir: Path) -> list[Path]:
    """Write the prime-rl part (never `[local]`) as one TOML file for `rl @ …`; returns its path(s)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "rl.toml"
    path.write_text(dumps_toml(resolved.merged), encoding="utf-8")
    return [path]
