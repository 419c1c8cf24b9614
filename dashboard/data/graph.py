"""The agent interaction graph of one trace: agents as nodes; invocations, hand-offs, messages
(span links between agents) and shared-memory flows (a write read by another agent) as edges.

Built from the trace skeleton in O(n log n): agent spans are sorted once and looked up by bisection;
memory flows sweep each record's operations in time order, keeping only the set of writer agents.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.data.trace import MEMORY_READS, MEMORY_WRITES, TraceTree

AGENT_OPERATIONS = frozenset({"invoke_agent", "create_agent"})


@dataclass(frozen=True)
class AgentNode:
    name: str
    spans: int
    errors: int


@dataclass(frozen=True)
class AgentEdge:
    source: str
    target: str
    kind: str  # invoke | handoff | message | memory
    count: int


@dataclass(frozen=True)
class AgentGraph:
    nodes: list[AgentNode]
    edges: list[AgentEdge]


def _parent_agent(tree: TraceTree, row: int) -> str | None:
    p = tree.parent_row[row]
    return tree.columns["resolved_agent_name"][p] if p >= 0 else None


def agent_graph(tree: TraceTree, links: Iterable[tuple[str, str]] = ()) -> AgentGraph:
    """``links`` are (span_id, linked_span_id) pairs within the trace: the linked span is the cause."""
    c = tree.columns
    agent_of: list[str | None] = c["resolved_agent_name"]
    ops: list[str | None] = c["operation"]
    spans: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    edges: Counter[tuple[str, str, str]] = Counter()
    agent_starts: list[tuple[int, int]] = []  # (start_ns, row) of agent spans
    invoked_by: dict[int, str] = {}  # agent span row -> the calling agent of an "invoke" edge
    for row in range(len(tree)):
        agent = agent_of[row]
        if agent:
            spans[agent] += 1
            errors[agent] += c["status_code"][row] == 2
        if ops[row] in AGENT_OPERATIONS and agent:
            agent_starts.append((c["start_ns"][row] or 0, row))
            caller = _parent_agent(tree, row)
            if caller and caller != agent:
                via_transfer = _transfer_ancestor(tree, row, caller)
                edges[(caller, agent, "handoff" if via_transfer else "invoke")] += 1
                if not via_transfer:
                    invoked_by[row] = caller
    agent_starts.sort()
    # hand-offs whose transfer tool call is not an ancestor of the next agent's span
    for row in range(len(tree)):
        tool = c["tool_name"][row] or ""
        if ops[row] != "execute_tool" or not tool.startswith("transfer_") or not agent_of[row]:
            continue
        first = bisect.bisect_left(agent_starts, (c["start_ns"][row] or 0, -1))
        # bounded look-ahead keeps this linear even with many same-agent spans in a row
        for i in range(first, min(first + 64, len(agent_starts))):
            target_row = agent_starts[i][1]
            target = agent_of[target_row]
            if target and target != agent_of[row]:
                source = agent_of[row] or ""
                if not _is_ancestor(tree, row, target_row):
                    edges[(source, target, "handoff")] += 1
                    # the framework's invocation that carried out this hand-off is the same edge
                    if invoked_by.pop(target_row, None) == source:
                        edges[(source, target, "invoke")] -= 1
                break
    for span_id, linked in links:
        a, b = tree.row_of.get(linked), tree.row_of.get(span_id)
        if a is not None and b is not None and agent_of[a] and agent_of[b] and agent_of[a] != agent_of[b]:
            edges[(agent_of[a] or "", agent_of[b] or "", "message")] += 1
    for (src, dst), n in _memory_flows(tree).items():
        edges[(src, dst, "memory")] += n
    nodes = [AgentNode(name, spans[name], errors[name]) for name in sorted(spans)]
    return AgentGraph(
        nodes=nodes, edges=[AgentEdge(s, t, k, n) for (s, t, k), n in sorted(edges.items()) if n > 0]
    )


def _transfer_ancestor(tree: TraceTree, row: int, caller: str) -> bool:
    """Whether a ``transfer_*`` tool call of ``caller`` sits between ``row`` and the caller's span."""
    p = tree.parent_row[row]
    hops = 0
    while p >= 0 and hops < 64 and tree.columns["resolved_agent_name"][p] == caller:
        if tree.columns["operation"][p] == "execute_tool" and (tree.columns["tool_name"][p] or "").startswith(
            "transfer_"
        ):
            return True
        if tree.columns["operation"][p] in AGENT_OPERATIONS:
            return False
        p = tree.parent_row[p]
        hops += 1
    return False


def _is_ancestor(tree: TraceTree, ancestor: int, row: int) -> bool:
    return tree.position[ancestor] < tree.position[row] < tree.subtree_end[ancestor]


def _memory_flows(tree: TraceTree) -> Counter[tuple[str, str]]:
    """(writer agent, reader agent) pairs: a read of a record some other agent wrote earlier."""
    c = tree.columns
    by_key: dict[tuple[str, str], list[int]] = {}
    for row in range(len(tree)):
        op = c["operation"][row]
        if op in MEMORY_WRITES or op in MEMORY_READS:
            key = (c["memory_store_id"][row] or "", c["memory_record_id"][row] or "")
            by_key.setdefault(key, []).append(row)
    reads_any_record = [rows for (store, record), rows in by_key.items() if not record]
    flows: Counter[tuple[str, str]] = Counter()
    for (store, record), rows in by_key.items():
        if not record:
            continue
        # a search without a record id reads the whole store
        extra = [r for group in reads_any_record for r in group if (c["memory_store_id"][r] or "") == store]
        ops = sorted({*rows, *extra}, key=lambda r: (c["start_ns"][r] or 0, r))
        writers: set[str] = set()
        for r in ops:
            agent = c["resolved_agent_name"][r]
            if c["operation"][r] in MEMORY_WRITES and agent:
                writers.add(agent)
            elif c["operation"][r] in MEMORY_READS and agent:
                for w in writers:
                    if w != agent:
                        flows[(w, agent)] += 1
    return flows
