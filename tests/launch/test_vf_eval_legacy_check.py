"""`prime-rl setup`'s check of which evaluator `vf-eval` is in a venv: verifiers' v1 CLI (ours, 0.4.0) or the
legacy v0 script prime-rl's pinned verifiers ships under that name (`verifiers.scripts.eval:main`)."""

from __future__ import annotations

import sys
from pathlib import Path

from dakota_rl.backends.prime_rl.setup import legacy_vf_eval_note, vf_eval_entry

LEGACY = "verifiers.scripts.eval:main"


def test_our_venv_has_the_v1_vf_eval_and_no_note():
    entry = vf_eval_entry(Path(sys.executable))
    assert entry.startswith("verifiers.v1.")
    assert legacy_vf_eval_note(entry) is None


def test_a_venv_with_the_legacy_vf_eval_gets_told_what_to_run(tmp_path):
    dist = tmp_path / "site" / "verifiers_legacy-0.3.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: verifiers-legacy\nVersion: 0.3.1\n")
    (dist / "entry_points.txt").write_text(f"[console_scripts]\nvf-eval = {LEGACY}\n")
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{tmp_path / "site"}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    entry = vf_eval_entry(python)
    assert entry == LEGACY
    note = legacy_vf_eval_note(entry)
    assert note is not None and "legacy v0 evaluator" in note and LEGACY in note
    assert "prime-rl eval" in note and "uv run eval dakota_grammar_translation" in note


def test_a_venv_without_vf_eval_gets_no_note(tmp_path):
    assert legacy_vf_eval_note(vf_eval_entry(tmp_path / "missing-python")) is None
