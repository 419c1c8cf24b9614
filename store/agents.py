"""Agent resolution: the agent of a span is its own, else its nearest ancestor's.

Pure and iterative: one pass over a trace's parent pointers with a memo, so a trace costs O(n)
whatever its shape - 100k-deep chains do not recurse and cyclic parent chains (bad input) end
unresolved instead of looping.
"""

from __future__ import annotations

from collections.abc import Sequence

Agent = tuple[str | None, str | None]  # (agent_id, agent_name)

_UNSEEN, _ON_PATH, _DONE = 0, 1, 2


def resolve_agents(
    span_ids: Sequence[str],
    parent_ids: Sequence[str | None],
    own: Sequence[Agent | None],
    known: Sequence[Agent | None] | None = None,
) -> list[Agent | None]:
    """For the spans of ONE trace (parallel sequences), return each span's agent.

    ``own[i]`` is span i's own agent (None when it has neither id nor name). ``known[i]``, when
    given, is an agent already resolved earlier: it is final (a stored span's ancestors cannot
    change, only missing ones can arrive), so the walk stops there. A span whose chain ends at a
    missing parent, a root without agent, or a cycle resolves to None - until the missing part
    arrives and the trace is resolved again."""
    n = len(span_ids)
    index = {sid: i for i, sid in enumerate(span_ids)}
    state = [_UNSEEN] * n
    result: list[Agent | None] = [None] * n
    for i in range(n):
        if own[i] is not None:
            result[i] = own[i]
            state[i] = _DONE
        elif known is not None and known[i] is not None:
            result[i] = known[i]
            state[i] = _DONE
    path: list[int] = []
    for start in range(n):
        if state[start] == _DONE:
            continue
        j: int | None = start
        found: Agent | None = None
        while j is not None:
            if state[j] == _DONE:
                found = result[j]
                break
            if state[j] == _ON_PATH:  # a cycle: no agent above it
                break
            state[j] = _ON_PATH
            path.append(j)
            parent = parent_ids[j]
            j = index.get(parent) if parent is not None else None
        for k in path:
            result[k] = found
            state[k] = _DONE
        path.clear()
    return result
