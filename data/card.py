"""The numbers of the data card and the README, as Markdown tables written from the manifest (and, for the
rules, from the builder registry: rule id → the builders that apply it).

    python -m data.card            # print the tables, each after its marker (<!-- splits --> …)
    python -m data.card --write    # replace the table after each marker in data/README.md and README.md

tests/data/test_data_card.py checks that both documents carry exactly these tables, so they cannot drift from
the shipped build.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from data.build import DIFFICULTIES, FAMILIES, OUT_DIR, REPO, SOURCE_DIR
from data.sources import load_yaml
from data.templates import BUILDERS, rule_places

SPLIT_NAMES = {"train": "train", "heldout": "held-out", "attested": "attested (UniMorph)"}
DERIVED = ("train", "heldout")


def _n(value: int) -> str:
    return f"{value:,}"


def split_table(manifest: Mapping[str, Any]) -> str:
    """split × family totals, with the total per split."""
    lines = ["| split | " + " | ".join(FAMILIES) + " | total |", "|---" * (len(FAMILIES) + 2) + "|"]
    for split in [s for s in SPLIT_NAMES if s in manifest["counts"]]:
        counts = manifest["counts"][split]
        row = [sum(counts[f].values()) for f in FAMILIES]
        lines.append(
            f"| {SPLIT_NAMES[split]} | " + " | ".join(_n(v) for v in row) + f" | **{_n(sum(row))}** |"
        )
    return "\n".join(lines)


def difficulty_table(manifest: Mapping[str, Any]) -> str:
    """family × difficulty over train + held-out, then the attested split's row."""
    lines = ["| family | " + " | ".join(DIFFICULTIES) + " | total |", "|---" * (len(DIFFICULTIES) + 2) + "|"]
    for family in FAMILIES:
        row = [sum(manifest["counts"][s][family][d] for s in DERIVED) for d in DIFFICULTIES]
        lines.append(f"| {family} | " + " | ".join(_n(v) for v in row) + f" | {_n(sum(row))} |")
    if "attested" in manifest["counts"]:
        row = [manifest["counts"]["attested"]["morphology"][d] for d in DIFFICULTIES]
        lines.append(
            "| morphology (attested split) | " + " | ".join(_n(v) for v in row) + f" | {_n(sum(row))} |"
        )
    return "\n".join(lines)


def provenance_table(manifest: Mapping[str, Any]) -> str:
    """attested (quoted by a source) vs derived by our rules, per split."""
    lines = ["| split | tasks | attested | derived by rule |", "|---|---|---|---|"]
    for split in [s for s in SPLIT_NAMES if s in manifest["attested"]]:
        counts = manifest["attested"][split]
        lines.append(
            f"| {SPLIT_NAMES[split]} | {_n(manifest['totals'][split])} | {_n(counts['attested'])} | "
            f"{_n(counts['derived'])} |"
        )
    return "\n".join(lines)


def _places_text(names: list[str], every: dict[str, list[str]]) -> str:
    """`verbs.verb_drafts, sentences.*`: a module's builders as `module.*` when the rule is in all of them."""
    by_module: dict[str, list[str]] = {}
    for name in names:
        by_module.setdefault(name.split(".")[0], []).append(name)
    return ", ".join(
        f"`{module}.*`" if len(found) > 1 and found == every[module] else ", ".join(f"`{n}`" for n in found)
        for module, found in by_module.items()
    )


def rule_table() -> str:
    """Each rule of rules.yaml (file order) → the builders (data/templates/, `module.builder`) whose tasks can
    carry it, directly or through the grammar operation they call."""
    every: dict[str, list[str]] = {}
    for builder in BUILDERS:
        every.setdefault(builder.name.split(".")[0], []).append(builder.name)
    places = rule_places()
    lines = ["| rule id | name | applied by (data/templates/) |", "|---|---|---|"]
    for rule in load_yaml(SOURCE_DIR / "rules.yaml", "rules"):
        where = _places_text(places.get(rule["id"], []), every) or "none"
        lines.append(f"| `{rule['id']}` | {rule['name']} | {where} |")
    return "\n".join(lines)


def tables(manifest: Mapping[str, Any]) -> dict[str, str]:
    return {
        "splits": split_table(manifest),
        "difficulty": difficulty_table(manifest),
        "provenance": provenance_table(manifest),
        "rules": rule_table(),
    }


def load_manifest() -> dict[str, Any]:
    return json.loads((OUT_DIR / "manifest.json").read_text(encoding="utf-8"))


DOCUMENTS = (REPO / "README.md", REPO / "data" / "README.md")


def write_tables(text: str, table_by_name: Mapping[str, str]) -> str:
    """`text` with the Markdown table right after each `<!-- name -->` marker replaced by the new one."""
    for name, table in table_by_name.items():
        marker = f"<!-- {name} -->\n"
        at = text.find(marker)
        if at < 0:
            continue
        start = at + len(marker)
        end = start
        for line in text[start:].splitlines(keepends=True):
            if not line.startswith("|"):
                break
            end += len(line)
        text = text[:start] + table + "\n" + text[end:]
    return text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    table_by_name = tables(load_manifest())
    if args == ["--write"]:
        for path in DOCUMENTS:
            path.write_text(write_tables(path.read_text(encoding="utf-8"), table_by_name), encoding="utf-8")
            print(f"updated {path.relative_to(REPO)}")
        return 0
    for name, table in table_by_name.items():
        print(f"<!-- {name} -->\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
