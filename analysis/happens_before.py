"""The happens-before relation of one trace (the ``HappensBefore`` of ``analysis.model``).

Edges, strongest first: parent → child, span links (linked span → this span), memory reads-from
(write → read), agent hand-offs (``execute_tool transfer_*`` → the next ``invoke_agent`` of the
target) and program order (one agent's spans that do not overlap in time).

Structure wins over timestamps. The structural edges are laid first; a cycle among them is bad data
(a cyclic parent chain, a read that "causes" its own write): it is broken by dropping the edge that
closes it, and remembered (``cycles_of``) so the causal detectors can report it. Program-order edges
come from timestamps, so they are only kept when they agree with the structural order; a clock-skewed
span therefore never turns its parent into its own successor.

Reachability is a bitset per span (a Python int over topological positions), computed once, on the
first ``precedes`` / ``past`` call: O(V·E/64) word operations, ~10^4–3·10^4-span traces in well
under a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from analysis.digraph import kahn
from analysis.hb_edges import (
    AGENT_OPS,
    COLUMNS,
    READ_OPS,
    WRITE_OPS,
    handoff_target,
    handoffs,
    program_order,
    reads_from,
)

__all__ = [
    "AGENT_OPS",
    "EDGE_KINDS",
    "READ_OPS",
    "WRITE_OPS",
    "Cycle",
    "SpanGraph",
    "build_happens_before",
    "cycles_of",
    "handoff_target",
]

EDGE_KINDS = ("parent", "link", "reads_from", "handoff", "program_order")


@dataclass(frozen=True)
class Cycle:
    """A structural cycle found in the data, and the edge dropped to break it."""

    spans: tuple[str, ...]
    dropped: tuple[str, str, str]  # (cause, effect, kind)


class SpanGraph:
    """``HappensBefore`` over span ids. Build it with ``build_happens_before``.

    Spans are intervals, so the relation is computed on their start and end events: a span's
    start precedes its end; a parent's start precedes its children's starts and their ends precede
    its end; program order runs from one span's end to the next one's start; links, reads-from and
    hand-offs from the cause's end (its start when clocks disagree) to the effect's start. ``a``
    precedes ``b`` when ``a``'s start reaches ``b``'s start — so everything a sub-agent did is in
    the causal past of what its caller does after it returned."""

    def __init__(
        self,
        ids: Sequence[str],
        starts: Sequence[int],
        ends: Sequence[int],
        edges: list[tuple[int, int, str]],
    ):
        self._ids = list(ids)
        self._index = {s: i for i, s in enumerate(self._ids)}
        self._edges = edges
        n = len(self._ids)
        events: list[tuple[int, int, str]] = [(2 * i, 2 * i + 1, "span") for i in range(n)]
        for a, b, kind in edges:
            if kind == "parent":
                events.append((2 * a, 2 * b, kind))
                events.append((2 * b + 1, 2 * a + 1, "return"))
            elif kind == "program_order" or ends[a] <= starts[b]:
                events.append((2 * a + 1, 2 * b, kind))
            else:
                events.append((2 * a, 2 * b, kind))
        times = [t for i in range(n) for t in (starts[i], ends[i])]
        # Only contradictory data (skewed links, cyclic reads) can close a cycle here; drop it.
        self._events, _ = _break_cycles(2 * n, events, times)
        order = _topological(2 * n, self._events, times)
        self._order = [node // 2 for node in order if node % 2 == 0]
        self._pos = [0] * n  # span → rank of its start event among start events
        for p, i in enumerate(self._order):
            self._pos[i] = p
        self._event_order = order
        self._anc: list[int] | None = None
        self.cycles: tuple[Cycle, ...] = ()

    # -- HappensBefore -------------------------------------------------------------------------
    def precedes(self, a: str, b: str) -> bool:
        ia, ib = self._index.get(a), self._index.get(b)
        if ia is None or ib is None or ia == ib:
            return False
        return bool(self._ancestors()[ib] >> self._pos[ia] & 1)

    def past(self, span_id: str) -> frozenset[str]:
        i = self._index.get(span_id)
        if i is None:
            return frozenset()
        order = self._order
        return frozenset(self._ids[order[p]] for p in _bits(self._ancestors()[i]))

    def order(self) -> Sequence[str]:
        return [self._ids[i] for i in self._order]

    def edges(self) -> Iterable[tuple[str, str, str]]:
        ids = self._ids
        return [(ids[a], ids[b], kind) for a, b, kind in self._edges]

    # -- extras for detectors that need speed --------------------------------------------------
    def position(self, span_id: str) -> int:
        """The span's index in ``order()``; -1 when unknown. Comparing positions is a cheap
        necessary (not sufficient) condition for ``precedes``."""
        i = self._index.get(span_id)
        return -1 if i is None else self._pos[i]

    def past_count(self, span_id: str) -> int:
        i = self._index.get(span_id)
        return 0 if i is None else self._ancestors()[i].bit_count()

    def _ancestors(self) -> list[int]:
        """Per span, the bitset (over start ranks) of the spans whose start reaches its start.
        End events' sets are dropped as soon as their last successor has read them."""
        if self._anc is None:
            n2 = 2 * len(self._ids)
            preds: list[list[int]] = [[] for _ in range(n2)]
            fanout = [0] * n2
            for a, b, _ in self._events:
                preds[b].append(a)
                fanout[a] += 1
            live: dict[int, int] = {}
            out = [0] * len(self._ids)
            pos = self._pos
            for node in self._event_order:
                acc = 0
                for p in preds[node]:
                    acc |= live[p]
                    if p % 2 == 0:
                        acc |= 1 << pos[p // 2]
                    fanout[p] -= 1
                    if fanout[p] == 0 and p % 2 == 1:
                        del live[p]
                live[node] = acc
                if node % 2 == 0:
                    out[node // 2] = acc
                elif fanout[node] == 0:
                    del live[node]
            self._anc = out
        return self._anc


def cycles_of(hb: object) -> tuple[Cycle, ...]:
    """The structural cycles found while building ``hb`` (empty for other implementations)."""
    return hb.cycles if isinstance(hb, SpanGraph) else ()


def _bits(mask: int) -> Iterable[int]:
    """Positions of the set bits of ``mask``, ascending."""
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    for byte_index, byte in enumerate(data):
        if byte:
            base = byte_index * 8
            for bit in _BYTE_BITS[byte]:
                yield base + bit


_BYTE_BITS: tuple[tuple[int, ...], ...] = tuple(tuple(b for b in range(8) if v >> b & 1) for v in range(256))


def _topological(n: int, edges: list[tuple[int, int, str]], start_ns: Sequence[int]) -> list[int]:
    """Kahn's algorithm, ties broken by start time then index. ``edges`` must be acyclic."""
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b, _ in edges:
        succ[a].append(b)
    return kahn(n, succ, start_ns, set())


def _break_cycles(
    n: int, edges: list[tuple[int, int, str]], start_ns: Sequence[int]
) -> tuple[list[tuple[int, int, str]], list[tuple[list[int], tuple[int, int, str]]]]:
    """Drop back edges found by an iterative DFS (roots in start order, stronger edges first).
    Returns the kept edges and, per dropped edge, the cycle it closed."""
    rank = {k: r for r, k in enumerate(("span", "parent", "return", *EDGE_KINDS[1:]))}
    succ: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for e, (a, _, kind) in enumerate(edges):
        succ[a].append((rank[kind], e))
    for lst in succ:
        lst.sort()
    state = [0] * n  # 0 new, 1 on stack, 2 done
    dropped: set[int] = set()
    cycles: list[tuple[list[int], tuple[int, int, str]]] = []
    for root in sorted(range(n), key=lambda i: (start_ns[i], i)):
        if state[root]:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        path: list[int] = [root]
        state[root] = 1
        while stack:
            node, k = stack[-1]
            if k < len(succ[node]):
                stack[-1] = (node, k + 1)
                e = succ[node][k][1]
                nxt = edges[e][1]
                if state[nxt] == 1:
                    dropped.add(e)
                    cycles.append((path[path.index(nxt) :], edges[e]))
                elif state[nxt] == 0:
                    state[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    kept = [e for i, e in enumerate(edges) if i not in dropped]
    return kept, cycles


def build_happens_before(
    spans: pl.DataFrame, links: pl.DataFrame, agent_of: Mapping[str, str | None]
) -> SpanGraph:
    """The relation for one trace. ``spans`` has the ``store.schema.SPANS`` columns, ``links`` those
    of ``SPAN_LINKS``; ``agent_of`` maps span id → resolved agent (``analysis.load``)."""
    ids: list[str] = spans["span_id"].to_list()
    index = {s: i for i, s in enumerate(ids)}
    starts = [int(x or 0) for x in spans["start_ns"].to_list()]
    ends = [max(int(e or 0), s) for e, s in zip(spans["end_ns"].to_list(), starts, strict=True)]
    structural: list[tuple[int, int, str]] = []
    for i, parent in enumerate(spans["parent_span_id"].to_list()):
        p = index.get(parent) if parent else None
        if p is not None and p != i:
            structural.append((p, i, "parent"))
    if links.height:
        for span_id, linked in zip(
            links["span_id"].to_list(), links["linked_span_id"].to_list(), strict=True
        ):
            a, b = index.get(linked or ""), index.get(span_id or "")
            if a is not None and b is not None and a != b:
                structural.append((a, b, "link"))
    # Plain lists: per-trace frames are small, and polars' per-call overhead would dominate.
    cols = {c: spans[c].to_list() for c in COLUMNS}
    structural.extend(reads_from(cols, index, starts, ends))
    structural.extend(handoffs(cols, index, starts, agent_of))
    structural = list(dict.fromkeys(structural))
    kept, found = _break_cycles(len(ids), structural, starts)
    # Program order may only add edges that agree with the structural order: keeping the ones that
    # go forward in one topological order of the structure keeps the whole relation acyclic.
    struct_order = _topological(len(ids), kept, starts)
    pos = [0] * len(ids)
    for p, i in enumerate(struct_order):
        pos[i] = p
    parents = [p if p in index else None for p in spans["parent_span_id"].to_list()]
    program = [
        (a, b, k) for a, b, k in program_order(ids, parents, starts, ends, agent_of) if pos[a] < pos[b]
    ]
    graph = SpanGraph(ids, starts, ends, kept + program)
    graph.cycles = tuple(
        Cycle(tuple(ids[i] for i in path), (ids[e[0]], ids[e[1]], e[2])) for path, e in found
    )
    return graph
