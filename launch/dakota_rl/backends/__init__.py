"""Training backends: `local` (TRL on this machine) and `prime_rl` (the prime-rl launcher on a GPU)."""
