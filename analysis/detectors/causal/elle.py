"""Elle's cycle classification (Kingsbury & Alvaro, VLDB 2020; Adya's anomalies) over the history's
transactions, for the evidence of multi-key anomalies.

A transaction is an agent's turn: the memory operations under one agent span. Dependency edges
between transactions, from reads-from and the version order of each key:

- ``ww``: T1 installed a version, T2 installed the next one;
- ``wr``: T2 read a version T1 installed;
- ``rw`` (anti-dependency): T1 read a version, T2 installed the next one;
- ``process``: one agent's consecutive turns (Elle's process order).

Cycles are searched the way Elle does, weakest anomaly first: ``G0`` (ww only), ``G1c`` (ww + wr,
at least one wr), ``G-single`` (exactly one rw), ``G2-item`` (two or more rw); a cycle that needs
process edges gets Elle's ``-process`` suffix. Each finding is explained by the cycles among its own
transactions, so the evidence names the anomaly of that finding, not of the whole history.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from analysis.detectors.causal.checker import History
from analysis.detectors.causal.matching import INITIAL, THIN
from analysis.digraph import shortest_path


@dataclass(frozen=True)
class Anomaly:
    name: str
    txns: tuple[str, ...]  # the cycle's transactions (agent span ids), in order
    steps: tuple[dict[str, Any], ...]  # per edge: from, to, type, key, from_op, to_op

    def as_evidence(self) -> dict[str, Any]:
        return {"anomaly": self.name, "cycle": list(self.steps)}


class _Deps:
    def __init__(self, h: History) -> None:
        self.h = h
        self.txns: list[str] = []
        self.idx: dict[str, int] = {}
        # (a, b) → type → one example (key, op a, op b)
        self.edges: dict[tuple[int, int], dict[str, tuple[str, int, int]]] = defaultdict(dict)

    def node(self, txn: str) -> int:
        if txn not in self.idx:
            self.idx[txn] = len(self.txns)
            self.txns.append(txn)
        return self.idx[txn]

    def add(self, kind: str, a_op: int, b_op: int) -> None:
        ops = self.h.ops
        a, b = self.node(ops[a_op].txn), self.node(ops[b_op].txn)
        if a != b:
            self.edges[(a, b)].setdefault(kind, (ops[b_op].where, a_op, b_op))


def _dependencies(h: History) -> _Deps:
    d = _Deps(h)
    observed = {s for s in h.src.values() if s >= 0}
    for k in h.keys.values():
        installed = sorted(
            (w for w in k.writes if not h.ops[w].failed or w in observed), key=lambda w: h.rank[w]
        )
        at = {w: i for i, w in enumerate(installed)}
        for a, b in itertools.pairwise(installed):
            d.add("ww", a, b)
        ranks = [h.rank[w] for w in installed]
        for r in k.reads:
            s = h.src.get(r, INITIAL)
            if s >= 0:
                d.add("wr", s, r)
                nxt = at[s] + 1 if s in at else len(installed)
            elif s == INITIAL:
                nxt = 0
            elif s == THIN and k.versioned and (seen := h.ops[r].version_int) is not None:
                nxt = next((i for i, rk in enumerate(ranks) if rk[0] > seen), len(installed))
            else:
                continue
            if nxt < len(installed):
                d.add("rw", r, installed[nxt])
    first: dict[str, int] = {}
    agent_of: dict[str, str] = {}
    for i, o in enumerate(h.ops):
        d.node(o.txn)
        if o.agent:
            agent_of.setdefault(o.txn, o.agent)
        if o.txn not in first or h.pos(i) < h.pos(first[o.txn]):
            first[o.txn] = i
    by_agent: dict[str, list[int]] = defaultdict(list)
    for txn, i in first.items():
        if txn in agent_of:
            by_agent[agent_of[txn]].append(i)
    for heads in by_agent.values():
        heads.sort(key=h.pos)
        for a, b in itertools.pairwise(heads):
            d.add("process", a, b)
    return d


def _name(kinds: list[str]) -> str:
    rw = kinds.count("rw")
    base = (
        "G0"
        if set(kinds) <= {"ww", "process"}
        else "G1c"
        if rw == 0
        else "G-single"
        if rw == 1
        else "G2-item"
    )
    return base + "-process" if "process" in kinds else base


def _anomaly(d: _Deps, cycle: list[int], allowed: set[str]) -> Anomaly:
    steps: list[dict[str, Any]] = []
    kinds: list[str] = []
    pref = ("ww", "wr", "rw", "process")
    for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
        by_kind = d.edges[(a, b)]
        kind = next(k for k in pref if k in by_kind and k in allowed)
        key, oa, ob = by_kind[kind]
        kinds.append(kind)
        ops = d.h.ops
        steps.append(
            {
                "from": d.txns[a],
                "to": d.txns[b],
                "type": kind,
                "key": key,
                "from_op": ops[oa].span_id,
                "to_op": ops[ob].span_id,
            }
        )
    return Anomaly(_name(kinds), tuple(d.txns[i] for i in cycle), tuple(steps))


_SEARCHES: tuple[tuple[str, frozenset[str]], ...] = (
    ("ww", frozenset({"ww"})),
    ("wr", frozenset({"ww", "wr"})),
    ("rw", frozenset({"ww", "wr"})),
    ("rw", frozenset({"ww", "wr", "rw"})),
)


class Elle:
    """The dependency graph of one history; ``explain`` names the anomaly among the transactions of
    a finding's operations. Building is O(M); each explanation searches only the finding's own
    transactions (a handful), weakest anomaly first, without then with process edges."""

    def __init__(self, h: History) -> None:
        self.d = _dependencies(h)
        self.out: dict[int, list[tuple[int, dict[str, tuple[str, int, int]]]]] = defaultdict(list)
        for (a, b), by_kind in self.d.edges.items():
            self.out[a].append((b, by_kind))

    def explain(self, ops: Iterable[int]) -> Anomaly | None:
        d = self.d
        txns = {d.idx[d.h.ops[i].txn] for i in ops}
        if len(txns) < 2:
            return None
        local = [(a, b, by) for a in sorted(txns) for b, by in self.out.get(a, ()) if b in txns]
        for extra in (frozenset(), frozenset({"process"})):
            for start, kinds in _SEARCHES:
                allowed = kinds | extra
                succ: dict[int, list[int]] = defaultdict(list)
                for a, b, by in local:
                    if allowed & by.keys():
                        succ[a].append(b)
                for a, b, by in local:
                    if start not in by:
                        continue
                    path = shortest_path(b, a, txns, succ, set())
                    if path:
                        return _anomaly(d, [a, *path[:-1]], set(allowed | {start}))
        return None
