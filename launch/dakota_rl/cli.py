"""The `prime-rl` command (placeholder until the CLI issue lands)."""


def main() -> None:
    raise SystemExit("prime-rl: not implemented yet")
