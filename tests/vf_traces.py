"""One-turn verifiers v1 traces for scoring a task offline (no model, no runtime): the real `Task.score`
runs on a trace holding the task's prompt and a given reply."""

from __future__ import annotations

import asyncio

import verifiers.v1 as vf
from verifiers.v1.trace import ModelCall


def one_turn_trace(
    task: vf.Task, reply: str, *, reasoning: str | None = None, finish_reason: str | None = None
) -> vf.Trace:
    """The trace of `task`'s prompt answered by `reply` (with `reasoning` content); `finish_reason` adds the
    model call that ended that way (`length`: truncated)."""
    calls = [] if finish_reason is None else [ModelCall(node=1, finish_reason=finish_reason)]
    return vf.Trace(
        task=vf.TraceTask(type=type(task).__name__, data=task.data),
        agent=vf.AgentInfo(config=vf.AgentConfig()),
        nodes=[
            vf.MessageNode(message=vf.UserMessage(content=task.data.prompt_text)),
            vf.MessageNode(
                parent=0,
                sampled=True,
                message=vf.AssistantMessage(content=reply, reasoning_content=reasoning),
            ),
        ],
        calls=calls,
    )


def scored(task: vf.Task, reply: str, **trace_kw: str | None) -> vf.Trace:
    """`one_turn_trace(task, reply, **trace_kw)` after `task.score` filled in its rewards and metrics."""
    trace = one_turn_trace(task, reply, **trace_kw)
    asyncio.run(task.score(trace))
    return trace
