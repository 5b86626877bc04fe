"""dakota-rl: launchers, local backend and tools for the Dakota RL environments."""
