"""The data card and the README carry the manifest's numbers (the tables `python -m data.card` prints)."""

from __future__ import annotations

from pathlib import Path

from data.card import load_manifest, tables

REPO = Path(__file__).resolve().parents[2]


def test_data_card_and_readme_tables_equal_the_manifest() -> None:
    table = tables(load_manifest())
    card = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert table["provenance"] in card and table["difficulty"] in card, (
        "run `python -m data.card`, update the card"
    )
    assert table["splits"] in readme, "run `python -m data.card`, update the README task-set table"
    assert "| attested (UniMorph) | 2," in table["splits"]


def test_data_card_lists_where_each_rule_is_applied() -> None:
    import yaml

    from data.card import rule_table

    card = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    assert rule_table() in card, "run `python -m data.card --write`, update the card's rule table"
    rows = rule_table().splitlines()[2:]
    ids = [r["id"] for r in yaml.safe_load((REPO / "data/riggs/rules.yaml").read_text("utf-8"))["rules"]]
    assert [row.split("`")[1] for row in rows] == ids
    assert "| `dative-ki` | dative ki 'to/for someone' | `verbs.verb_drafts` |" in rows
    assert all(not row.endswith("| none |") for row in rows)


def test_card_write_replaces_only_the_table_after_each_marker() -> None:
    from data.card import write_tables

    text = "intro\n<!-- splits -->\n| a |\n|---|\n| old |\n\nafter the table\n<!-- other -->\n| keep |\n"
    written = write_tables(text, {"splits": "| a |\n|---|\n| new |", "missing": "| x |"})
    assert (
        written
        == "intro\n<!-- splits -->\n| a |\n|---|\n| new |\n\nafter the table\n<!-- other -->\n| keep |\n"
    )
    assert write_tables(written, {"splits": "| a |\n|---|\n| new |"}) == written
