"""End to end: the real `vf-eval` CLI on `parallel_translation` against a scripted server on 127.0.0.1, with a
corpus the test writes itself; the recorded rewards must equal the pure scorer's."""

from __future__ import annotations

import json

import pytest
from scripted_openai import ScriptedOpenAI, last_user_text, run_vf_eval, total_reward

from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.rewards import score
from parallel_translation.taskset import SYSTEM_PROMPT

PAIRS = [
    ("good man", "wićaśta waśte"),
    ("two horses", "śuŋkawakaŋ noŋpa"),
    ("they sing", "dowaŋpi"),
    ("I see it", "waŋwaŋyake"),
]


@pytest.mark.slow
def test_vf_eval_scores_translations(tmp_path):
    corpus = tmp_path / "pairs.jsonl"
    corpus.write_text(
        "".join(json.dumps({"source": s, "target": t}, ensure_ascii=False) + "\n" for s, t in PAIRS),
        encoding="utf-8",
    )
    options = CorpusOptions(data=str(corpus), direction="into", heldout_fraction=0.5, seed=1, split="heldout")
    records = load_tasks(options)
    assert records, "the seeded split left no held-out pair"
    by_prompt = {r["prompt"]: (i, r) for i, r in enumerate(records)}

    def reply(body: dict) -> str:
        index, record = by_prompt[last_user_text(body)]
        answer = record["answer"]
        return answer if index % 2 == 0 else answer.replace("ś", "s").replace("ŋ", "n")

    args = [
        "--env.taskset.data",
        str(corpus),
        "--env.taskset.direction",
        "into",
        "--env.taskset.split",
        "heldout",
        "--env.taskset.heldout-fraction",
        "0.5",
        "--env.taskset.seed",
        "1",
        "--env.agent.harness.id",
        "null",
        "--env.agent.runtime.type",
        "subprocess",
    ]
    with ScriptedOpenAI(reply) as server:
        episodes = run_vf_eval(
            "parallel_translation", server.base_url, tmp_path / "out", len(records), 1, args
        )
        requests = list(server.requests)

    assert requests[0]["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert len(episodes) == len(records)
    for episode in episodes:
        assert episode["ok"] and not episode["errors"], episode["errors"]
        for trace in episode["traces"]:
            index, record = by_prompt[trace["task"]["data"]["prompt"]]
            expected = score(reply({"messages": [{"role": "user", "content": record["prompt"]}]}), record)
            assert set(trace["rewards"]) == {"chrf", "special", "sanity"}
            assert total_reward(trace) == pytest.approx(expected.total, abs=1e-9)
            assert trace["metrics"]["exact"] == float(expected.exact)
            assert (expected.total == 1.0) == (index % 2 == 0 or record["answer"].isascii())
