"""The causal order the checker needs: happens-before plus reads-from, with O(1) ``precedes`` queries
between memory operations.

Edges are the trace's happens-before (``Trace.hb.edges()``: parent, program order, links, hand-offs)
without its own reads-from edges, plus the checker's reads-from (``checker.match_reads``): one
matching rule for the whole detector. Two relations come out:

- *structural*: happens-before without reads-from: what an agent knows by the way work was handed
  to it;
- *full*: with reads-from: what it could know through shared memory too (Bouajjani et al.'s causal
  order for histories with unique writes).

A cycle in the full relation (a read that returns a value written in its own future) is recorded as
a ``Cycle`` and broken by dropping the reads-from edge that closes it: the read whose write started
furthest after it (should the structure itself be cyclic, its backward-in-time edges go).

Vector clocks instead of pairwise reachability: the memory spans are split greedily into chains
(totally ordered sets, one agent's sequential operations), and each memory span keeps, per chain,
the highest position of that chain in its causal past. ``precedes(a, b)`` is then one dict lookup.

Complexity: O((S + E) log S) for the topological order (S spans, E edges; the log is the start-time
tie-break heap), plus O((S + E) · W) for the sweep, where W is the number of chains in a span's
causal past (bounded by the agents' concurrency, not by the history's length); memory O(M · W) for
M memory spans. Linear in the history for a bounded number of concurrent agent threads.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

#: How many of an agent's chains a memory span tries to extend before opening a new one: keeps the
#: chain assignment O(1) per span when an agent runs very many operations in parallel.
CHAIN_SCAN = 64

#: Cycles are broken one reads-from edge per component and round; the last round drops them all.
CYCLE_ROUNDS = 8

_EMPTY: dict[int, int] = {}


@dataclass(frozen=True)
class Cycle:
    """A cycle of the full relation: ``path`` (node indices) runs from the read ``read`` that
    observed ``write`` along happens-before back to ``write``."""

    read: int
    write: int
    path: tuple[int, ...]


@dataclass
class CausalGraph:
    """Node indices are positions in ``ids``; only memory nodes can be asked ``precedes``."""

    ids: list[str]
    order: list[int]
    pos: list[int]
    cycles: list[Cycle]
    dropped_reads: set[tuple[int, int]]  # reads-from edges (write, read) dropped to break cycles
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


def _kahn(
    n: int, succ: Sequence[Sequence[int]], starts: Sequence[int], skip: set[tuple[int, int]]
) -> list[int]:
    if skip:
        succ = [[b for b in succ[a] if (a, b) not in skip] for a in range(n)]
    indeg = [0] * n
    for nexts in succ:
        for b in nexts:
            indeg[b] += 1
    heap = [(starts[i], i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(heap)
    out: list[int] = []
    while heap:
        _, a = heapq.heappop(heap)
        out.append(a)
        for b in succ[a]:
            indeg[b] -= 1
            if indeg[b] == 0:
                heapq.heappush(heap, (starts[b], b))
    return out


def strongly_connected(
    nodes: Iterable[int], succ: Sequence[Sequence[int]], skip: set[tuple[int, int]]
) -> list[list[int]]:
    """Tarjan, iterative, restricted to ``nodes``; only components with more than one node."""
    inside = set(nodes)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in sorted(inside):
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        work = [(root, iter([w for w in succ[root] if w in inside and (root, w) not in skip]))]
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter([x for x in succ[w] if x in inside and (w, x) not in skip])))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def shortest_path(
    src: int,
    dst: int,
    comp: set[int],
    succ: Sequence[Sequence[int]] | Mapping[int, Sequence[int]],
    skip: set[tuple[int, int]],
) -> list[int]:
    """Shortest path src → dst inside ``comp`` (BFS); [] when there is none."""
    prev: dict[int, int] = {src: src}
    queue = [src]
    for v in queue:
        if v == dst:
            break
        for w in succ[v]:
            if w in comp and w not in prev and (v, w) not in skip:
                prev[w] = v
                queue.append(w)
    if dst not in prev:
        return []
    path = [dst]
    while path[-1] != src:
        path.append(prev[path[-1]])
    return path[::-1]


def build_graph(
    ids: list[str],
    starts: Sequence[int],
    structural: Iterable[tuple[int, int]],
    reads_from: Iterable[tuple[int, int]],
    memory_actor: Mapping[int, str],
) -> CausalGraph:
    """The causal graph over ``ids`` (span ids; ``starts`` their start times). ``structural`` and
    ``reads_from`` are (cause, effect) node pairs; ``memory_actor`` maps each memory node to the
    agent (or transaction) whose chains it may extend."""
    n = len(ids)
    struct_preds: list[list[int]] = [[] for _ in range(n)]
    rf_preds: list[list[int]] = [[] for _ in range(n)]
    succ: list[list[int]] = [[] for _ in range(n)]
    rf_set: set[tuple[int, int]] = set()
    seen: set[tuple[int, int]] = set()
    for a, b in structural:
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            struct_preds[b].append(a)
            succ[a].append(b)
    for a, b in reads_from:
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            rf_set.add((a, b))
            rf_preds[b].append(a)
            succ[a].append(b)

    skip: set[tuple[int, int]] = set()
    cycles: list[Cycle] = []
    order = _kahn(n, succ, starts, skip)
    for round_ in range(CYCLE_ROUNDS):
        if len(order) == n:
            break
        done = set(order)
        for comp in strongly_connected((i for i in range(n) if i not in done), succ, skip):
            members = set(comp)
            inner_rf = [(a, b) for b in comp for a in rf_preds[b] if a in members and (a, b) not in skip]
            if inner_rf:
                # The read that returned a value written furthest in its future closes the cycle.
                w, r = max(inner_rf, key=lambda e: (starts[e[0]] - starts[e[1]], -e[1]))
                cycles.append(Cycle(r, w, tuple(shortest_path(r, w, members, succ, skip))))
                skip.update([(w, r)] if round_ < CYCLE_ROUNDS - 1 else inner_rf)
            else:  # a cyclic structure: keep only the edges that go forward in time
                skip.update(
                    (a, b) for a in comp for b in succ[a] if b in members and (starts[b], b) < (starts[a], a)
                )
        order = _kahn(n, succ, starts, skip)
    if len(order) < n:  # cannot happen after the loop above; stay total rather than crash
        done = set(order)
        order += sorted((i for i in range(n) if i not in done), key=lambda i: (starts[i], i))
    pos = [0] * n
    for p, v in enumerate(order):
        pos[v] = p
    graph = CausalGraph(ids, order, pos, cycles, {e for e in skip if e in rf_set})
    _sweep(graph, struct_preds, rf_preds, memory_actor)
    return graph


def _sweep(
    graph: CausalGraph,
    struct_preds: Sequence[Sequence[int]],
    rf_preds: Sequence[Sequence[int]],
    memory_actor: Mapping[int, str],
) -> None:
    """One pass in topological order: vector clocks (structural and full) and the chain of every
    memory node."""
    pos = graph.pos
    n = len(pos)
    out_s: list[Mapping[int, int]] = [_EMPTY] * n
    out_f: list[Mapping[int, int]] = [_EMPTY] * n
    chain_len: list[int] = []
    chains_of_actor: dict[str, list[int]] = defaultdict(list)
    for v in graph.order:
        pv = pos[v]
        preds = struct_preds[v]
        if len(preds) == 1 and not rf_preds[v]:  # most spans: one parent, nothing else
            p = preds[0]
            in_s, in_f = (out_s[p], out_f[p]) if pos[p] < pv else (_EMPTY, _EMPTY)
        else:
            sp = [p for p in preds if pos[p] < pv]
            in_s = _merge([out_s[p] for p in sp])
            rp = [p for p in rf_preds[v] if pos[p] < pv]
            if not rp and all(out_f[p] is out_s[p] for p in sp):
                in_f = in_s  # nothing learnt through memory yet: share the structural clock
            else:
                in_f = _merge([out_f[p] for p in sp] + [out_f[p] for p in rp])
        actor = memory_actor.get(v)
        if actor is None:
            out_s[v], out_f[v] = in_s, in_f
            continue
        mine = chains_of_actor[actor]
        chain = next((c for c in reversed(mine[-CHAIN_SCAN:]) if in_s.get(c, 0) == chain_len[c]), None)
        if chain is None:
            chain = len(chain_len)
            chain_len.append(0)
            mine.append(chain)
        chain_len[chain] += 1
        idx = chain_len[chain]
        graph.chain_of[v] = (chain, idx)
        graph.vc_struct[v], graph.vc_full[v] = in_s, in_f
        os = dict(in_s)
        os[chain] = idx
        out_s[v] = os
        if in_f is in_s:
            out_f[v] = os
        else:
            of = dict(in_f)
            of[chain] = idx
            out_f[v] = of
