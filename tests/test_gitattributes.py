"""`.gitattributes` marks the committed generated files `linguist-generated` (and not the hand-written docs):
every file a data manifest lists, each manifest, every JSONL beside one, and the reports under docs/results/
and docs/interp/ (the manual's pages are hand-written)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dakota_rl.paths import REPO_ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO_ROOT / ".git").exists(), reason="needs a git checkout"
)


def generated(paths: list[Path]) -> dict[str, str]:
    """path → its `linguist-generated` value as git reports it ("set" / "unspecified")."""
    names = "\n".join(str(p.relative_to(REPO_ROOT)) for p in paths)
    out = subprocess.run(
        ["git", "check-attr", "--stdin", "linguist-generated"],
        input=names,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.rsplit(": linguist-generated: ", 1) for line in out.splitlines())


def manifest_outputs(manifest: Path) -> list[Path]:
    """The manifest, the files it lists by name (license texts aside) and the JSONL files beside it."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    names = [n for key in ("files", "sha256") if isinstance(data.get(key), dict) for n in data[key]]
    listed = [manifest.parent / n for n in names if "LICENSE" not in n]
    return [manifest, *listed, *manifest.parent.glob("*.jsonl")]


def test_generated_files_are_marked_and_hand_written_docs_are_not():
    manifests = [
        *REPO_ROOT.glob("environments/*/*/data/manifest.json"),
        *REPO_ROOT.glob("interp/*/data/*manifest.json"),
    ]
    assert len(manifests) == 4
    outputs = sorted({p for m in manifests for p in manifest_outputs(m)})
    assert any(p.name == "orthography.json" for p in outputs) and len(outputs) > 20
    reports = [
        p
        for folder in (*(REPO_ROOT / "docs" / "results").iterdir(), REPO_ROOT / "docs" / "interp")
        if folder.is_dir()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "README.md"
    ]
    attrs = generated([*outputs, *reports])
    assert {path: value for path, value in attrs.items() if value != "set"} == {}
    hand_written = [
        *(REPO_ROOT / "docs").rglob("README.md"),
        *(REPO_ROOT / "docs").glob("*.md"),  # the manual
        REPO_ROOT / "README.md",
        REPO_ROOT / "data/build.py",
    ]
    assert set(generated(hand_written).values()) == {"unspecified"}
