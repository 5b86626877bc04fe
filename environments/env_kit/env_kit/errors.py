"""The one error type an environment raises for bad user input (not for its own bugs)."""


class EnvInputError(ValueError):
    """Bad user input an environment found while loading tasks (a corpus that cannot be read or mapped, a task
    file with an invalid record). A launcher shows it as one line naming the environment; environments never
    import the launcher's own error types."""
