"""The parallel-translation environment's pure parts: corpus formats, split, directions, orthography, reward,
probes, the embedded corpus's byte-identical rebuild, and the launcher's EnvSpec."""

from __future__ import annotations

import json

import pytest

from parallel_translation import export_dakota, probes
from parallel_translation.corpus import CorpusError, CorpusOptions, load_tasks, split_of
from parallel_translation.orthography import dakota, from_texts, resolve
from parallel_translation.rewards import Weights, score

PAIRS = [
    ("the dog runs", "šuŋka iŋyaŋke"),
    ("The dog runs", "śuŋka iŋyaŋke"),
    ("the dog runs", "śuŋka kiŋ iŋyaŋke"),
    ("I see it", "waŋwaŋyake"),
    ("they sing", "dowaŋpi"),
    ("good man", "wićaśta waśte"),
    ("two horses", "śuŋkawakaŋ noŋpa"),
]


def write_chat(path, pairs=PAIRS):
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Translate."},
                {"role": "user", "content": f"Say: {en}"},
                {"role": "assistant", "content": dk},
            ]
        }
        for en, dk in pairs
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_chat_and_column_corpora_give_the_same_tasks(tmp_path):
    chat = write_chat(tmp_path / "chat.jsonl")
    cols = tmp_path / "cols.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"en": [p[0] for p in PAIRS], "xx": [p[1] for p in PAIRS]}), cols)
    common = dict(heldout_fraction=0.5, seed=3, direction="both")
    a = [
        load_tasks(CorpusOptions(data=str(chat), source_pattern=r"Say: (.*)", split=s, **common))
        for s in ("train", "heldout")
    ]
    b = [
        load_tasks(CorpusOptions(data=str(cols), source_field="en", target_field="xx", split=s, **common))
        for s in ("train", "heldout")
    ]
    assert a == b
    # into: 5 distinct sources; out of: 6 distinct targets (šuŋka and śuŋka are one spelling)
    assert sum(len(x) for x in a) == 5 + 6
    assert a[0] == load_tasks(
        CorpusOptions(data=str(chat), source_pattern=r"Say: (.*)", split="train", **common)
    )


def test_duplicate_sources_stay_on_one_side_and_become_alternatives(tmp_path):
    chat = write_chat(tmp_path / "chat.jsonl")
    for seed in range(20):
        sides = {split_of(s, seed, 0.5) for s in ("the dog runs", "The dog runs")}
        assert len(sides) == 1
        tasks = [
            t
            for split in ("train", "heldout")
            for t in load_tasks(
                CorpusOptions(
                    data=str(chat),
                    source_pattern=r"Say: (.*)",
                    split=split,
                    direction="into",
                    seed=seed,
                    heldout_fraction=0.5,
                )
            )
        ]
        dog = [t for t in tasks if t["source"] == "the dog runs"]
        assert len(dog) == 1 and dog[0]["answer"] == "śuŋka iŋyaŋke"
        assert dog[0]["alternatives"] == ["śuŋka kiŋ iŋyaŋke"]


def test_direction_and_languages(tmp_path):
    chat = write_chat(tmp_path / "chat.jsonl")
    opts = dict(data=str(chat), source_pattern=r"Say: (.*)", heldout_fraction=0.01, language="dakota")
    into = load_tasks(CorpusOptions(direction="into", **opts))
    out = load_tasks(CorpusOptions(direction="out_of", **opts))
    assert {t["target_language"] for t in into} == {"dakota"} and {t["source"] for t in out} >= {"dowaŋpi"}
    assert all(t["prompt"].startswith("Translate from Dakota into English:") for t in out)
    assert into[0]["orthography"]["special"] == dakota().special and out[0]["orthography"]["special"] == ""


def test_bad_corpora_give_one_line_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no pair here"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="row 0: neither `messages`"):
        load_tasks(CorpusOptions(data=str(bad)))
    with pytest.raises(CorpusError, match="not found"):
        load_tasks(CorpusOptions(data=str(tmp_path / "missing.jsonl")))
    with pytest.raises(CorpusError, match="cannot load hub dataset 'no-such-owner/no-such-set'"):
        load_tasks(CorpusOptions(data="no-such-owner/no-such-set"))


def test_orthography_tables():
    table = dakota()
    assert table.canonicalize("šuŋka") == "śuŋka" and table.special_chars("Šuŋka") == ["ś", "ŋ"]
    assert from_texts("stoney", ["Îethka ne"]).special == "Îî"
    assert resolve("english", None, ["café"]).special == "Éé" and resolve("english", "english").special == ""


def test_reward_components_and_weights():
    task = {"answer": "wićaśta waśte", "alternatives": [], "orthography": dakota().as_dict()}
    gold = score("wićaśta waśte", task)
    assert (gold.total, gold.chrf, gold.special, gold.sanity, gold.exact) == (1.0, 1.0, 1.0, 1.0, True)
    folded = score("wicasta waste", task)
    assert folded.raw_special == 0.0 and folded.total < 0.5
    assert score("wićaśta waśte", task, truncated=True).total == 0.0
    assert score("wićaśta waśte " * 4, task).raw_sanity == 0.0
    heavy = score("wicasta waste", task, Weights(chrf=1.0, special=0.0, sanity=0.0))
    assert heavy.total == pytest.approx(heavy.chrf)
    learned = score(
        "wićaśta waśte",
        task,
        Weights(chrf=0.5, special=0.1, sanity=0.1, learned=0.3),
        learned=lambda a, t: 0.5,
    )
    assert learned.learned == 0.5 and learned.total == pytest.approx(0.85)
    with pytest.raises(ValueError, match="sum to 1"):
        Weights(chrf=0.9)


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_probes_stay_in_range_on_the_embedded_corpus(split):
    totals = probes.run(load_tasks(CorpusOptions(split=split)), per_family=150)
    assert probes.violations(totals) == []
    assert min(totals["gold"]) == 1.0 and max(totals["empty"]) == 0.0


def test_embedded_corpus_rebuilds_byte_identical():
    corpus, manifest = export_dakota.render(export_dakota.build_rows())
    assert export_dakota.EMBEDDED_CORPUS.read_text(encoding="utf-8") == corpus, (
        "embedded corpus is stale: run python -m parallel_translation.export_dakota"
    )
    assert export_dakota.MANIFEST.read_text(encoding="utf-8") == manifest
    rows = [json.loads(line) for line in corpus.splitlines()]
    assert all(
        r["meta"]["machine_generated"] and r["meta"]["source"] and r["meta"]["review_status"] for r in rows
    )
    assert all([m["role"] for m in r["messages"]] == ["system", "user", "assistant"] for r in rows)


def test_env_spec_through_the_launcher():
    from dakota_rl.config import ConfigError
    from dakota_rl.envs import load_env

    env = load_env(
        "parallel_translation",
        {"direction": "into", "task": {"weights": {"chrf": 0.8, "special": 0.1, "sanity": 0.1}}},
    )
    task = env.load_tasks("heldout")[0]
    assert env.components == {"chrf": 0.8, "special": 0.1, "sanity": 0.1}
    assert env.score(env.gold_completion(task), task, False).total == 1.0
    assert env.eval_options["direction"] == "into"
    assert env.corpus_metrics([task["answer"]], [task])["chrf++"] == pytest.approx(100.0)
    train_sources = {t["source"].casefold() for t in env.load_tasks("train")}
    assert not any(t["source"].casefold() in train_sources for t in env.load_tasks("heldout"))
    with pytest.raises(ConfigError, match="unknown key `taskset.colour`"):
        load_env("parallel_translation", {"colour": "red"})
    with pytest.raises(ConfigError, match="needs reward_model"):
        load_env("parallel_translation", {"task": {"weights": {"chrf": 0.5, "learned": 0.2}}})


def test_a_corpus_error_reaches_the_launcher_as_one_user_error(tmp_path):
    from dakota_rl.envs import load_env
    from dakota_rl.errors import UserError

    bad = tmp_path / "a.jsonl"
    bad.write_text("[1, 2]\n")
    env = load_env("parallel_translation", {"data": str(bad)})
    assert issubclass(CorpusError, env.input_errors)  # an env_kit.EnvInputError: no launcher import
    with pytest.raises(UserError, match=r"^parallel_translation: .*a\.jsonl:1: a corpus row must be"):
        env.load_tasks("train")
