"""The edges of the happens-before relation that are derived from span content rather than from
the span tree: program order (one agent's non-overlapping spans), memory reads-from (write → read)
and agent hand-offs (``execute_tool transfer_*`` → ``invoke_agent``). Used by
``analysis.happens_before``; pure functions over plain column lists (per-trace frames are small and
polars' per-call overhead would dominate)."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from analysis.messages import normalize_agent

WRITE_OPS = frozenset({"create_memory", "update_memory", "upsert_memory", "delete_memory"})
READ_OPS = frozenset({"search_memory"})
AGENT_OPS = frozenset({"invoke_agent", "create_agent"})
#: hand-off tool names (OpenAI Agents SDK / Swarm, LangGraph, AutoGen). A bare "transfer_" is not
#: one: ``transfer_funds``, ``transfer_ownership`` move things, not control.
_HANDOFF_PREFIXES = ("transfer_back_to_", "transfer_to_", "handoff_to_", "handoff_", "handoff")


def program_order(
    ids: Sequence[str],
    parents: Sequence[str | None],
    starts: Sequence[int],
    ends: Sequence[int],
    agent_of: Mapping[str, str | None],
) -> list[tuple[int, int, str]]:
    """Per agent, a sweep in start order: each span follows the completed spans not yet followed by
    another completed span (the frontier). Only the transitive reduction is emitted.

    A coordinator without an agent (a workflow or chain span) has a program too: its direct
    children, in the same sweep — it called one after the other returned."""
    by_agent: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(ids):
        agent = agent_of.get(s)
        if agent:
            by_agent[agent].append(i)
        # Invoking another agent is also a step of the caller: its result flows back to it.
        parent = parents[i]
        if parent is None:
            continue
        caller = agent_of.get(parent)
        if caller:
            if caller != agent:
                by_agent[caller].append(i)
        else:
            by_agent["\0span:" + parent].append(i)  # cannot collide with an agent name
    out: list[tuple[int, int, str]] = []
    for members in by_agent.values():
        members.sort(key=lambda i: (starts[i], ends[i], i))
        running: list[tuple[int, int]] = []  # heap of (end, index)
        frontier: set[int] = set()
        preds: dict[int, list[int]] = {}
        for b in members:
            while running and running[0][0] <= starts[b]:
                _, done = heapq.heappop(running)
                frontier.difference_update(preds.get(done, ()))
                frontier.add(done)
            preds[b] = sorted(frontier)
            out.extend((a, b, "program_order") for a in preds[b])
            heapq.heappush(running, (ends[b], b))
    return out


def _canonical(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value.strip()
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    return orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS).decode()


COLUMNS = (
    "span_id",
    "parent_span_id",
    "operation",
    "tool_name",
    "agent_name",
    "agent_id",
    "memory_store_id",
    "memory_record_id",
    "memory_records",
    "memory_version",
)
Columns = Mapping[str, list[Any]]


def reads_from(
    cols: Columns, index: Mapping[str, int], starts: Sequence[int], ends: Sequence[int]
) -> list[tuple[int, int, str]]:
    """write → read for memory operations on the same store and record: by version when the read
    carries one, else by value; among several candidate writes the latest one that ended before
    the read started (else the earliest) is the source."""
    mem = [
        row
        for row in zip(
            cols["span_id"],
            cols["operation"],
            cols["memory_store_id"],
            cols["memory_record_id"],
            cols["memory_records"],
            cols["memory_version"],
            strict=True,
        )
        if row[1] in WRITE_OPS or row[1] in READ_OPS
    ]
    if not mem:
        return []
    writes: dict[tuple[str | None, str | None], list[tuple[int, str | None, str | None]]] = defaultdict(list)
    reads: list[tuple[int, tuple[str | None, str | None], str | None, str | None]] = []
    for sid, op, store, record, records, version in mem:
        i = index[sid]
        key = (store, record)
        if op in WRITE_OPS:
            writes[key].append((i, version, _canonical(records)))
        else:
            reads.append((i, key, version, _canonical(records)))
    out: list[tuple[int, int, str]] = []
    for r, key, version, value in reads:
        cands = writes.get(key, [])
        if version is not None:
            match = [w for w, v, _ in cands if v == version]
        else:
            match = [w for w, _, val in cands if value is not None and val == value]
        if not match:
            continue
        before = [w for w in match if ends[w] <= starts[r]]
        src = max(before, key=lambda w: (ends[w], w)) if before else min(match, key=lambda w: (starts[w], w))
        if src != r:
            out.append((src, r, "reads_from"))
    return out


def handoff_target(tool_name: str | None) -> str | None:
    """``transfer_to_billing`` → ``billing``; ``handoff`` → ``""`` (unknown target); None when the
    tool is not a hand-off."""
    if not tool_name:
        return None
    name = tool_name.lower()
    for prefix in _HANDOFF_PREFIXES:
        if name.startswith(prefix):
            return normalize_agent(name[len(prefix) :])
    return None


def handoffs(
    cols: Columns, index: Mapping[str, int], starts: Sequence[int], agent_of: Mapping[str, str | None]
) -> list[tuple[int, int, str]]:
    """``execute_tool transfer_to_X`` → the first ``invoke_agent`` of X that starts after the tool
    (of any other agent when the target is not named)."""
    ops, names, aids = cols["operation"], cols["agent_name"], cols["agent_id"]
    tools = [
        (sid, tool)
        for sid, op, tool in zip(cols["span_id"], ops, cols["tool_name"], strict=True)
        if op == "execute_tool" and tool
    ]
    invokes = [i for i, op in enumerate(ops) if op == "invoke_agent"]
    if not tools or not invokes:
        return []
    agents = sorted((starts[i], i, normalize_agent(names[i] or aids[i] or "")) for i in invokes)
    ids_of = {i: cols["span_id"][i] for i in invokes}
    parents = dict(zip(cols["span_id"], cols["parent_span_id"], strict=True))
    out: list[tuple[int, int, str]] = []
    for sid, tool in tools:
        target = handoff_target(tool)
        if target is None:
            continue
        t = index[sid]
        own = normalize_agent(agent_of.get(sid) or "")
        ancestors = _ancestors(sid, parents)

        matches = [
            (start, a)
            for start, a, name in agents
            if ids_of[a] not in ancestors and _is_target(name, target, own)
        ]
        after = [m for m in matches if m[0] >= starts[t]]
        if after:
            out.append((t, after[0][1], "handoff"))
        elif matches:  # skewed clocks: the nearest invocation of the target, whatever its timestamp
            out.append((t, min(matches, key=lambda m: abs(m[0] - starts[t]))[1], "handoff"))
    return out


def _is_target(name: str, target: str, own: str) -> bool:
    """Does an agent (normalized ``name``) answer a hand-off to ``target`` ("" = any other agent)?"""
    if target:
        return name == target or (bool(name) and (name.startswith(target) or target.startswith(name)))
    return name != own


def _ancestors(span_id: str, parents: Mapping[str, str | None]) -> set[str]:
    out: set[str] = set()
    cur = parents.get(span_id)
    while cur is not None and cur not in out:
        out.add(cur)
        cur = parents.get(cur)
    return out
