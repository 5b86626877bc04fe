"""Where the checkout's own files are: configs, the grammar source. One place, so nobody counts parents."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (launch/dakota_rl/paths.py → ../..); the project is installed editable from it."""
CONFIGS = REPO_ROOT / "configs"
LEXICON = REPO_ROOT / "data" / "riggs" / "lexicon.yaml"
