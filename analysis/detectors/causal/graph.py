"""The causal order the checker needs: happens-before plus reads-from, with O(1) ``precedes`` queries
between memory operations.

Edges are the trace's happens-before (``Trace.hb.edges()``: parent, program order, links, hand-offs)
without its own reads-from edges, plus the checker's reads-from (``checker.match_reads``): one
matching rule for the whole detector. Two relations come out:

- *structural*: happens-before without reads-from: what an agent knows by the way work was handed
  to it;
- *full*: with reads-from: what it could know through shared memory too (Bouajjani et al.'s causal
  order for histories with unique writes).

Spans are intervals, so the relation lives on their start and end events, exactly as the engine's
(``analysis.happens_before.SpanGraph``): a span's start precedes its end; a parent's start precedes
its children's starts and their ends precede its end (the *return*); program order runs from one
span's end to the next one's start; links, hand-offs and reads-from from the cause's end (its start
when the two overlap in time) to the effect's start. ``a`` precedes ``b`` when ``a``'s start
reaches ``b``'s start. The return edges matter: a write made inside sub-agent A reaches what its
caller does after A returned, and so a sub-agent B the caller starts next. A span-level graph
(parent → child only) cannot say that and left such a write concurrent with B's read.

A cycle in the full relation (a read that returns a value written in its own future) is recorded as
a ``Cycle`` and broken by dropping the reads-from edge that closes it: the read whose write started
furthest after it. A cycle of the structure alone (timestamps that contradict the tree, such as a
child starting after its parent ended) is bad data, not a finding: its backward-in-time edges go
first.

Vector clocks instead of pairwise reachability: the memory spans are split greedily into chains
(totally ordered sets, one agent's sequential operations), and each memory span keeps, per chain,
the highest position of that chain in its causal past. ``precedes(a, b)`` is then one dict lookup.

Complexity: O((S + E) log S) for the topological order (S spans, E edges; the log is the time
tie-break heap), plus O((S + E) · W) for the sweep, where W is the number of chains in a span's
causal past (bounded by the agents' concurrency, not by the history's length); memory O(M · W) for
M memory spans. Linear in the history for a bounded number of concurrent agent threads.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from analysis.digraph import kahn, shortest_path, strongly_connected

#: How many of an agent's chains a memory span tries to extend before opening a new one: keeps the
#: chain assignment O(1) per span when an agent runs very many operations in parallel.
CHAIN_SCAN = 64

#: Cycles are broken one reads-from edge per component and round; the last round drops them all.
CYCLE_ROUNDS = 8

_EMPTY: dict[int, int] = {}

Edge = tuple[int, int]


@dataclass(frozen=True)
class Cycle:
    """A cycle of the full relation: ``path`` (span node indices) runs from the read ``read`` that
    observed ``write`` along happens-before back to ``write``."""

    read: int
    write: int
    path: tuple[int, ...]


@dataclass
class CausalGraph:
    """Node indices are positions in ``ids``; only memory nodes can be asked ``precedes``.
    ``order`` lists the spans by the topological rank of their start events; ``pos`` inverts it, so
    ``precedes(a, b)`` implies ``pos[a] < pos[b]``."""

    ids: list[str]
    order: list[int]
    pos: list[int]
    cycles: list[Cycle]
    dropped_reads: set[Edge]  # reads-from edges (write, read) dropped to break cycles
    chain_of: dict[int, tuple[int, int]] = field(default_factory=dict)
    vc_struct: dict[int, Mapping[int, int]] = field(default_factory=dict)
    vc_full: dict[int, Mapping[int, int]] = field(default_factory=dict)

    def precedes(self, a: int, b: int, *, full: bool = True) -> bool:
        """True when memory node ``a`` happens strictly before memory node ``b``."""
        if a == b:
            return False
        chain, idx = self.chain_of[a]
        return (self.vc_full if full else self.vc_struct)[b].get(chain, 0) >= idx


def _merge(clocks: list[Mapping[int, int]]) -> Mapping[int, int]:
    """Element-wise max; shares the input when there is only one distinct clock."""
    distinct = list({id(c): c for c in clocks if c}.values())
    if not distinct:
        return _EMPTY
    if len(distinct) == 1:
        return distinct[0]
    distinct.sort(key=len, reverse=True)
    out = dict(distinct[0])
    for other in distinct[1:]:
        for k, v in other.items():
            if v > out.get(k, 0):
                out[k] = v
    return out


def _events(a: int, b: int, kind: str, starts: Sequence[int], ends: Sequence[int]) -> list[Edge]:
    """The event edges of span edge a → b (event 2i is span i's start, 2i + 1 its end)."""
    if kind == "parent":
        return [(2 * a, 2 * b), (2 * b + 1, 2 * a + 1)]
    if kind == "program_order" or ends[a] <= starts[b]:
        return [(2 * a + 1, 2 * b)]
    return [(2 * a, 2 * b)]  # overlapping in time: only what came before the cause's start is known


def _structure_events(
    structural: Iterable[tuple[int, int, str]],
    starts: Sequence[int],
    ends: Sequence[int],
    times: Sequence[int],
) -> list[Edge]:
    """The structure's event edges, less the parent edges that sibling program order implies:
    a child that follows a sibling learns its parent's start through that sibling, and a child
    that a sibling follows tells its parent its end through that sibling. Without them every
    operation of a sequential agent turn would merge two clocks, and the turn's end one per step.
    An edge is only left out when the path replacing it goes forward in (time, event) order, so
    repairing a cyclic structure (which drops backward edges) can never cut that path."""

    def forward(e: Edge) -> bool:
        return (times[e[0]], e[0]) < (times[e[1]], e[1])

    parent_of: dict[int, int] = {}
    po_pred: dict[int, list[int]] = defaultdict(list)
    po_succ: dict[int, list[int]] = defaultdict(list)
    edges: list[tuple[int, int, str]] = []
    for a, b, kind in structural:
        if a == b:
            continue
        edges.append((a, b, kind))
        if kind == "parent":
            parent_of.setdefault(b, a)
        elif kind == "program_order":
            po_pred[b].append(a)
            po_succ[a].append(b)

    def via_sibling(p: int, c: int, siblings: list[int], down: bool) -> bool:
        for x in siblings:
            if parent_of.get(x) != p:
                continue
            if down and forward((2 * p, 2 * x)) and forward((2 * x + 1, 2 * c)):
                return True
            if not down and forward((2 * c + 1, 2 * x)) and forward((2 * x + 1, 2 * p + 1)):
                return True
        return False

    out: list[Edge] = []
    for a, b, kind in edges:
        if kind != "parent" or parent_of.get(b) != a:
            out.extend(_events(a, b, kind, starts, ends))
            continue
        if not via_sibling(a, b, po_pred.get(b, []), down=True):
            out.append((2 * a, 2 * b))
        if not via_sibling(a, b, po_succ.get(b, []), down=False):
            out.append((2 * b + 1, 2 * a + 1))
    return out


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector. The build allocates some 10^5 lists, tuples and
    clock dicts per 10^4 spans, none of them in a reference cycle (refcounting frees them all), yet
    each allocation burst triggers full collections that traverse every live object: a third of
    the build time on large traces. It is re-enabled afterwards only if it was enabled before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_graph(
    ids: list[str],
    starts: Sequence[int],
    ends: Sequence[int],
    structural: Iterable[tuple[int, int, str]],
    reads_from: Iterable[Edge],
    memory_actor: Mapping[int, str],
) -> CausalGraph:
    """The causal graph over ``ids`` (span ids; ``starts`` / ``ends`` their times, an end before
    its start counts as the start). ``structural`` holds (cause, effect, kind) span edges with the
    engine's kinds (``parent`` and ``program_order`` are special, see the module docstring);
    ``reads_from`` (write, read) span pairs; ``memory_actor`` maps each memory node to the agent
    (or transaction) whose chains it may extend."""
    with _no_cycle_collection():
        return _build(ids, starts, ends, structural, reads_from, memory_actor)


def _build(
    ids: list[str],
    starts: Sequence[int],
    ends: Sequence[int],
    structural: Iterable[tuple[int, int, str]],
    reads_from: Iterable[Edge],
    memory_actor: Mapping[int, str],
) -> CausalGraph:
    n, m = len(ids), 2 * len(ids)
    ends = [max(e, s) for s, e in zip(starts, ends, strict=True)]
    times = [t for i in range(n) for t in (starts[i], ends[i])]
    succ: list[list[int]] = [[v + 1] if v % 2 == 0 else [] for v in range(m)]  # a span's start → its end
    struct: list[Edge] = []  # the other structural edges
    seen: set[Edge] = set()
    for e in _structure_events(structural, starts, ends, times):
        if e not in seen:
            seen.add(e)
            struct.append(e)
            succ[e[0]].append(e[1])
    rf_of: dict[Edge, Edge] = {}  # event edge → the (write, read) span pair it stands for
    rf_into: dict[int, list[Edge]] = defaultdict(list)
    for w, r in reads_from:
        e = _events(w, r, "reads_from", starts, ends)[0]
        if w != r and e not in seen:
            seen.add(e)
            rf_of[e] = (w, r)
            rf_into[e[1]].append(e)
            succ[e[0]].append(e[1])

    skip: set[Edge] = set()
    order = kahn(m, succ, times, skip)
    if len(order) < m:
        skip = _break_structural_cycles(m, struct, times)
        order = kahn(m, succ, times, skip)
    cycles: list[Cycle] = []
    for round_ in range(CYCLE_ROUNDS):
        if len(order) == m:
            break
        done = set(order)
        for comp in strongly_connected((i for i in range(m) if i not in done), succ, skip):
            members = set(comp)
            inner = [e for b in comp for e in rf_into.get(b, ()) if e[0] in members and e not in skip]
            if not inner:
                continue  # cannot happen: the structure is acyclic by now
            # The read that returned a value written furthest in its future closes the cycle.
            e = max(inner, key=lambda e: (starts[rf_of[e][0]] - starts[rf_of[e][1]], -rf_of[e][1]))
            w, r = rf_of[e]
            path = shortest_path(e[1], e[0], members, succ, skip)
            cycles.append(Cycle(r, w, tuple(dict.fromkeys(v // 2 for v in path))))
            skip.update([e] if round_ < CYCLE_ROUNDS - 1 else inner)
        order = kahn(m, succ, times, skip)
    if len(order) < m:  # cannot happen after the loop above; stay total rather than crash
        done = set(order)
        order += sorted((i for i in range(m) if i not in done), key=lambda i: (times[i], i))
    span_order = [v // 2 for v in order if v % 2 == 0]
    pos = [0] * n
    for p, v in enumerate(span_order):
        pos[v] = p
    graph = CausalGraph(ids, span_order, pos, cycles, {rf_of[e] for e in skip if e in rf_of})
    _sweep(graph, order, struct, rf_of, skip, memory_actor)
    return graph


def _break_structural_cycles(m: int, struct: Sequence[Edge], times: Sequence[int]) -> set[Edge]:
    """Edges to drop so that the structure alone is acyclic: inside each cyclic component, the ones
    that go backward in (time, event) order. That order is total, so one round suffices."""
    struct_succ: list[list[int]] = [[v + 1] if v % 2 == 0 else [] for v in range(m)]
    for a, b in struct:
        struct_succ[a].append(b)
    if len(kahn(m, struct_succ, times, set())) == m:
        return set()
    skip: set[Edge] = set()
    for comp in strongly_connected(range(m), struct_succ, set()):
        members = set(comp)
        skip.update(
            (a, b) for a in comp for b in struct_succ[a] if b in members and (times[b], b) < (times[a], a)
        )
    return skip


def _sweep(
    graph: CausalGraph,
    order: Sequence[int],
    struct: Sequence[Edge],
    rf_of: Mapping[Edge, Edge],
    skip: set[Edge],
    memory_actor: Mapping[int, str],
) -> None:
    """One pass over the events in topological order: vector clocks (structural and full) and the
    chain of every memory node, which ticks at its start event."""
    m = len(order)
    # Most events have exactly one predecessor: keep those in a flat int list (no per-event list).
    # the only structural predecessor (a span's start for its end); -1 none, -2 several
    single = [v - 1 if v % 2 else -1 for v in range(m)]
    several: dict[int, list[int]] = defaultdict(list)
    for a, b in struct:
        if (a, b) in skip:
            continue
        if single[b] == -1:
            single[b] = a
        else:
            if single[b] >= 0:
                several[b].append(single[b])
                single[b] = -2
            several[b].append(a)
    rf_preds: dict[int, list[int]] = defaultdict(list)
    for a, b in rf_of:
        if (a, b) not in skip:
            rf_preds[b].append(a)
    out_s: list[Mapping[int, int]] = [_EMPTY] * m
    out_f: list[Mapping[int, int]] = [_EMPTY] * m
    chain_len: list[int] = []
    chains_of_actor: dict[str, list[int]] = defaultdict(list)
    for v in order:
        p, rp = single[v], rf_preds.get(v)
        if p >= 0 and not rp:  # most events: one predecessor, nothing else
            in_s, in_f = out_s[p], out_f[p]
        else:
            preds = several.get(v, []) if p == -2 else [p] if p >= 0 else []
            in_s = _merge([out_s[p] for p in preds])
            if not rp and all(out_f[p] is out_s[p] for p in preds):
                in_f = in_s  # nothing learnt through memory yet: share the structural clock
            else:
                in_f = _merge([out_f[p] for p in preds] + [out_f[p] for p in rp or ()])
        actor = memory_actor.get(v // 2) if v % 2 == 0 else None
        if actor is None:
            out_s[v], out_f[v] = in_s, in_f
            continue
        span = v // 2
        mine = chains_of_actor[actor]
        chain = next((c for c in reversed(mine[-CHAIN_SCAN:]) if in_s.get(c, 0) == chain_len[c]), None)
        if chain is None:
            chain = len(chain_len)
            chain_len.append(0)
            mine.append(chain)
        chain_len[chain] += 1
        idx = chain_len[chain]
        graph.chain_of[span] = (chain, idx)
        graph.vc_struct[span], graph.vc_full[span] = in_s, in_f
        os = dict(in_s)
        os[chain] = idx
        out_s[v] = os
        if in_f is in_s:
            out_f[v] = os
        else:
            of = dict(in_f)
            of[chain] = idx
            out_f[v] = of
