"""Every rule of rules.yaml is applied by a builder of data/templates/, every rule id the code uses is in the
file, and every build stops with a one-line error naming the ids when either is not so."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from data.build import SOURCE_DIR, _canon, build, same_split
from data.grammar import Grammar
from data.sources import SourceError, load_lexicon, load_rules
from data.templates import BUILDERS, Builder, Inputs, build_drafts, rule_id_problems, rule_places


def file_rule_ids(source_dir: Path = SOURCE_DIR) -> list[str]:
    return [r["id"] for r in yaml.safe_load((source_dir / "rules.yaml").read_text(encoding="utf-8"))["rules"]]


def copy_sources(tmp_path: Path) -> tuple[Path, dict]:
    src = tmp_path / "riggs"
    shutil.copytree(SOURCE_DIR, src)
    return src, yaml.safe_load((src / "rules.yaml").read_text(encoding="utf-8"))


def write_rules(src: Path, rules: dict) -> None:
    (src / "rules.yaml").write_text(
        yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def test_the_real_tree_applies_every_rule_and_declares_only_known_ids() -> None:
    ids = file_rule_ids()
    assert len(ids) >= 50
    assert rule_id_problems(ids) is None
    assert set(rule_places()) == set(ids)
    assert rule_places()["dative-ki"] == ["verbs.verb_drafts"]
    assert "sentences.two_verbs_with_ka" in rule_places()["conjunction-ka"]


def test_a_rule_no_builder_applies_stops_the_build_naming_it(tmp_path: Path) -> None:
    src, rules = copy_sources(tmp_path)
    new_rule = dict(next(r for r in rules["rules"] if r["id"] == "plural-pi"), id="plural-xyz")
    rules["rules"].append(new_rule)
    write_rules(src, rules)
    with pytest.raises(SourceError) as err:
        build(tmp_path / "out", src)
    message = str(err.value)
    assert "\n" not in message
    assert message.endswith("rules.yaml: rule ids that no builder in data/templates applies: plural-xyz")
    assert not (tmp_path / "out" / "tasks_train.jsonl").exists()


def test_a_rule_the_code_uses_but_the_file_lacks_stops_the_build_naming_it(tmp_path: Path) -> None:
    src, rules = copy_sources(tmp_path)
    rules["rules"] = [r for r in rules["rules"] if r["id"] != "dative-ki"]
    write_rules(src, rules)
    with pytest.raises(
        SourceError, match=r"used in code but missing from the file: dative-ki \(verbs\.verb_drafts\)$"
    ):
        build(tmp_path / "out", src)


def test_an_unknown_id_declared_by_a_builder_or_asked_of_the_grammar_is_named() -> None:
    ids = file_rule_ids()
    verbs = BUILDERS[0]
    typo = Builder(verbs.name, verbs.build, (*verbs.rule_ids, "pron-agent-4sg"))
    assert rule_id_problems(ids, (typo, *BUILDERS[1:])) == (
        "rule ids used in code but missing from the file: pron-agent-4sg (verbs.verb_drafts)"
    )
    canonicalize, _ = _canon()
    grammar = Grammar(load_rules(SOURCE_DIR / "rules.yaml", canonicalize)[0])
    assert grammar.has("plural-pi") and not grammar.has("plural-pii")
    assert rule_id_problems(ids, asked=grammar.asked) == (
        "rule ids used in code but missing from the file: plural-pii (the grammar)"
    )


def test_a_builder_whose_tasks_carry_an_undeclared_rule_is_stopped() -> None:
    canonicalize, _ = _canon()
    lexemes, attestations, _ = load_lexicon(SOURCE_DIR / "lexicon.yaml", canonicalize)
    grammar = Grammar(load_rules(SOURCE_DIR / "rules.yaml", canonicalize)[0])
    inputs = Inputs(grammar, lexemes, attestations, same_split)
    verbs = BUILDERS[0]
    assert build_drafts(inputs, [verbs])
    stale = Builder(verbs.name, verbs.build, tuple(r for r in verbs.rule_ids if r != "dative-ki"))
    with pytest.raises(
        SourceError, match=r"builder verbs\.verb_drafts applies rule ids it does not declare: dative-ki$"
    ):
        build_drafts(inputs, [stale])


def test_check_exits_2_with_one_line_naming_the_rule(tmp_path: Path) -> None:
    """`python -m data.build --check` on a copy of the generator whose rules.yaml has a rule that no builder
    applies."""
    repo = SOURCE_DIR.parents[1]
    shutil.copytree(repo / "data", tmp_path / "data", ignore=shutil.ignore_patterns("__pycache__"))
    rules = yaml.safe_load((SOURCE_DIR / "rules.yaml").read_text(encoding="utf-8"))
    rules["rules"].append(dict(rules["rules"][0], id="pron-agent-9sg"))
    write_rules(tmp_path / "data" / "riggs", rules)
    result = subprocess.run(
        [sys.executable, "-m", "data.build", "--check"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'data' / 'riggs' / 'rules.yaml'}: "
        "rule ids that no builder in data/templates applies: pron-agent-9sg"
    ]
