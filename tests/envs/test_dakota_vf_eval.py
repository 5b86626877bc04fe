"""End to end: the real `vf-eval` CLI against a scripted OpenAI-compatible server on 127.0.0.1.

vf-eval exits 0 even when rollouts fail, so the test checks `ok`/`errors` of every episode and trace, and
that the rewards recorded in traces.jsonl equal the pure scorer's on the same completions. The `null`
harness installs its PEP-723 script's dependencies from the package index on first use (allow a minute).
"""

from __future__ import annotations

import pytest
from scripted_openai import ScriptedOpenAI, last_user_text, run_vf_eval, total_reward

from dakota_grammar_translation.rewards import score
from dakota_grammar_translation.tasks import load_tasks, tasks_path
from dakota_grammar_translation.taskset import SYSTEM_PROMPT

N_TASKS, ROLLOUTS = 2, 2


def scripted_reply(record: dict, index: int) -> str:
    """Gold with reasoning for even tasks, a near miss for odd ones."""
    if index % 2 == 0:
        return f"<think>Apply the rule.</think>\n<answer>{record['answer']}</answer>"
    return f"<think>Not sure.</think>\n<answer>{record['answer'][:-2]}</answer>"


@pytest.mark.slow
@pytest.mark.parametrize("version", [None, 1], ids=["default-reward", "reward-v1"])
def test_vf_eval_end_to_end(tmp_path, version):
    if not tasks_path("heldout").is_file():
        pytest.skip(f"{tasks_path('heldout')} not generated yet (python -m data.build)")
    records = load_tasks("heldout")[:N_TASKS]
    by_prompt = {r["prompt"]: (i, r) for i, r in enumerate(records)}

    def reply(body: dict) -> str:
        index, record = by_prompt[last_user_text(body)]
        return scripted_reply(record, index)

    with ScriptedOpenAI(reply) as server:
        episodes = run_vf_eval(
            "dakota_grammar_translation",
            server.base_url,
            tmp_path / "out",
            N_TASKS,
            ROLLOUTS,
            ["--env.taskset.split", "heldout"]
            + ([] if version is None else ["--env.taskset.task.reward-version", str(version)]),
        )
        requests = list(server.requests)

    assert len(requests) == N_TASKS * ROLLOUTS
    assert all(r.get("stream") for r in requests)
    assert requests[0]["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert len(episodes) == N_TASKS * ROLLOUTS
    seen = set()
    for episode in episodes:
        assert episode["ok"] and not episode["errors"], episode["errors"]
        for trace in episode["traces"]:
            assert trace["ok"] and not trace["errors"], trace["errors"]
            index, record = by_prompt[trace["task"]["data"]["prompt"]]
            assert trace["task"]["key"] == record["id"]
            options = {} if version is None else {"version": version}
            expected = score(scripted_reply(record, index), record, **options)
            assert set(trace["rewards"]) == {"character", "morphology", "semantic", "exact_match"}
            assert trace["rewards"]["exact_match"]["weight"] == 0.0
            assert total_reward(trace) == pytest.approx(expected.total, abs=1e-9)
            assert trace["rewards"]["morphology"]["score"] == pytest.approx(expected.morphology)
            assert trace["metrics"]["exact"] == float(expected.exact)
            assert trace["metrics"]["format_ok"] == 1.0
            seen.add((index, expected.exact))
    assert seen == {(i, i % 2 == 0) for i in range(N_TASKS)}
