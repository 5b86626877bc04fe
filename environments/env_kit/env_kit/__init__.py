"""What every environment shares: `EnvSpec`, component `Weights`, `ProbeFamily`, `EnvInputError` (pure), and
the verifiers single-turn glue in `env_kit.single_turn` (imported on its own: it needs verifiers)."""

from env_kit.errors import EnvInputError
from env_kit.probes import ProbeFamily
from env_kit.spec import EnvSpec
from env_kit.weights import Weights

__all__ = ["EnvInputError", "EnvSpec", "ProbeFamily", "Weights"]
