"""The verifiers v1 glue every single-turn environment shares.

- `RecordData`: a task record as typed verifiers data; `from_record` reads a record once into it, and the pure
  scorers read it as it is (`data["answer"]`, `data.get("meta")`); `record()` is the plain dict (the
  `RECORD_KEYS`, in order).
- `WeightedTaskConfig`: a task config whose `weights` (the env's `Weights` model) become the verifiers reward
  weights (an explicit `rewards.<name>.weight` still wins).
- `SingleTurnTask`: stops after one reply; `scores(trace)` runs the env's pure scorer once per trace and every
  reward and metric reads that one result; one weighted reward per component of the config's weights model.
- `ChatEnvConfig` / `ChatEnv`: one agent answers each task once, through the `null` harness (a plain chat
  call) in a local subprocess runtime.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Self

import verifiers.v1 as vf
from pydantic import model_validator
from typing_extensions import TypeVar
from verifiers.v1.harnesses.null import NullHarnessConfig

from env_kit.weights import Weights

SCORE_CACHE_SIZE = 1024
"""Traces whose scores one task keeps (a group's rollouts share a task; scoring may interleave)."""


class RecordData(vf.TaskData):
    """A task record as verifiers task data: the env declares the record's fields on a subclass."""

    RECORD_KEYS: ClassVar[tuple[str, ...]] = ()
    """The keys (in order) of the record the scorer reads; empty: `id`, `prompt` and every declared field."""

    @classmethod
    def declared_fields(cls) -> tuple[str, ...]:
        """The fields the env added to `vf.TaskData`."""
        return tuple(k for k in cls.model_fields if k not in vf.TaskData.model_fields)

    @classmethod
    def from_record(cls, record: Mapping[str, Any], idx: int, **data: Any) -> Self:
        """The record's `id`, `prompt` and declared fields (a missing required one is a ValidationError), plus
        `data` (`system_prompt`, `name`, …)."""
        keys = ("id", "prompt", *cls.declared_fields())
        return cls(idx=idx, **{k: record[k] for k in keys if k in record}, **data)

    def record_keys(self) -> tuple[str, ...]:
        return self.RECORD_KEYS or ("id", "prompt", *self.declared_fields())

    def __getitem__(self, key: str) -> Any:
        """The record's `key`, as a pure scorer reads a task record: `id` ("" when unset), the prompt's
        text, or a declared field."""
        if key not in self.record_keys():
            raise KeyError(key)
        if key == "id":
            return self.id or ""
        return self.prompt_text if key == "prompt" else getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def record(self) -> dict[str, Any]:
        """The record as a plain dict, keys in `RECORD_KEYS` order (containers copied)."""
        return {k: copy.copy(self[k]) for k in self.record_keys()}


class WeightedTaskConfig(vf.TaskConfig):
    """A task config with the env's component weights (`--env.taskset.task.weights.<component>`)."""

    weights: Weights = Weights()

    @model_validator(mode="after")
    def _weights_become_reward_weights(self) -> WeightedTaskConfig:
        for name, weight in self.weights.verifiers_rewards().items():
            self.rewards.setdefault(name, vf.RewardFunctionConfig(weight=weight))
        return self


DataT = TypeVar("DataT", bound=vf.TaskData)
ConfigT = TypeVar("ConfigT", bound=vf.TaskConfig, default=vf.TaskConfig)


class SingleTurnTask(vf.Task[DataT, vf.State, ConfigT], Generic[DataT, ConfigT]):
    """One reply per task, scored once per trace; a weighted reward per component of `config.weights`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        weights = cls.weights_type()
        if weights is None:
            return
        own = cls.__mro__[: cls.__mro__.index(SingleTurnTask)]
        for name, weight in weights().verifiers_rewards().items():
            if hasattr(SingleTurnTask, name):
                raise TypeError(
                    f"{weights.__name__}.{name} would shadow vf.Task.{name}: rename the component"
                )
            if not any(name in vars(k) for k in own):  # an env's own method of that name wins
                setattr(cls, name, _component_reward(name, weight))

    @classmethod
    def weights_type(cls) -> type[Weights] | None:
        """The weights model of the config's `weights` field, when it has one."""
        field = cls.config_type().model_fields.get("weights")
        kind = field.annotation if field is not None else None
        return kind if isinstance(kind, type) and issubclass(kind, Weights) and kind.model_fields else None

    @property
    def key(self) -> str:
        return self.data.id or self.hash

    @vf.stop
    async def single_turn(self, trace: vf.Trace) -> bool:
        return trace.num_turns >= 1

    def score_reply(self, reply: str, truncated: bool) -> Any:
        """The env's pure scorer on one reply (the subclass's one line of scoring)."""
        raise NotImplementedError

    def scores(self, trace: vf.Trace) -> Any:
        """`score_reply(trace.last_reply, trace.is_truncated)`, computed once per trace (reasoning_content,
        if any, is never scored)."""
        reply, truncated = trace.last_reply, trace.is_truncated
        scored: dict[str, tuple[str, bool, Any]] = self.__dict__.setdefault("_scored", {})
        cached = scored.get(trace.id)
        if cached is not None and cached[:2] == (reply, truncated):
            return cached[2]
        result = self.score_reply(reply, truncated)
        if len(scored) >= SCORE_CACHE_SIZE:
            scored.pop(next(iter(scored)))
        scored[trace.id] = (reply, truncated, result)
        return result


def _component_reward(name: str, weight: float) -> Callable[..., Any]:
    async def reward(self: SingleTurnTask, trace: vf.Trace) -> float:
        return float(getattr(self.scores(trace), name))

    reward.__name__ = reward.__qualname__ = name
    reward.__doc__ = f"The `{name}` component of the env's scores."
    return vf.reward(weight=weight)(reward)


class ChatEnvConfig(vf.EnvConfig):
    agent: vf.AgentConfig = vf.AgentConfig(
        harness=NullHarnessConfig(id="null"), runtime=vf.SubprocessConfig()
    )
    """One chat agent: the `null` harness (a plain chat call) in a local subprocess runtime."""


class ChatEnv(vf.Env[ChatEnvConfig]):
    """One agent answers each task once."""

    async def run(self, task: vf.Task, agents: vf.Agents) -> None:
        await agents.agent.run(task)
