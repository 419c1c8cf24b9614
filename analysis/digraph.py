"""Plain directed-graph algorithms over integer nodes, shared by happens-before, the causal graph
and Elle: Kahn's topological order, Tarjan's strongly connected components, BFS shortest paths.
Edges listed in ``skip`` are treated as absent."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence


def kahn(
    n: int, succ: Sequence[Sequence[int]], times: Sequence[int], skip: set[tuple[int, int]]
) -> list[int]:
    """Topological order of the acyclic part: nodes on (or behind) a cycle are left out. Ties are
    broken by ``times`` then node index, so the order is deterministic and follows the clock."""
    if skip:
        succ = [[b for b in succ[a] if (a, b) not in skip] for a in range(n)]
    indeg = [0] * n
    for nexts in succ:
        for b in nexts:
            indeg[b] += 1
    heap = [(times[i], i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(heap)
    out: list[int] = []
    while heap:
        _, a = heapq.heappop(heap)
        out.append(a)
        for b in succ[a]:
            indeg[b] -= 1
            if indeg[b] == 0:
                heapq.heappush(heap, (times[b], b))
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
