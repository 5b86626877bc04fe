"""The base of every environment's component-weight model. Pure (pydantic only).

An environment subclasses `Weights` once; its fields are the reward components (name → weight, the default is
the environment's default weight). The taskset config, the verifiers rewards, the `EnvSpec` components, the
trainers' metrics and the model card all read the components from it.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class Weights(BaseModel):
    """Non-negative component weights whose sum keeps the total in [0, 1]; unknown components are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sum_to_one: ClassVar[bool] = False
    """True: the weights must sum to exactly 1; False: to at most 1."""
    optional: ClassVar[tuple[str, ...]] = ()
    """Components off (weight 0) by default: a trainer lists them only when given a weight."""
    external: ClassVar[tuple[str, ...]] = ()
    """Components scored with something the verifiers taskset does not load (a reward model): no verifiers
    reward, only the launcher's scorer."""

    @model_validator(mode="after")
    def _keeps_the_total_in_range(self) -> Weights:
        values = self.model_dump()
        total = sum(values.values())
        bad_sum = abs(total - 1.0) > 1e-6 if self.sum_to_one else total > 1 + 1e-9
        if any(v < 0 for v in values.values()) or bad_sum:
            rule = "sum to 1" if self.sum_to_one else "sum to at most 1"
            raise ValueError(f"reward weights must be >= 0 and {rule}, got {values}")
        return self

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every component this model names, in field order."""
        return tuple(cls.model_fields)

    def components(self) -> dict[str, float]:
        """Component → weight as a trainer sees it: the optional ones only when weighted."""
        return {k: v for k, v in self.model_dump().items() if k not in self.optional or v > 0}

    def verifiers_rewards(self) -> dict[str, float]:
        """Component → weight of the verifiers rewards (every component but the external ones)."""
        return {k: v for k, v in self.model_dump().items() if k not in self.external}
