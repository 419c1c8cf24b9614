"""Coordination latency collapse: a synchronous chain of agent calls (each agent waits on the next)
whose per-hop overhead grows with depth until coordination, not work, is most of the time.

Chain: agent spans a1 ⊃ a2 ⊃ ... ⊃ ak, each the nearest agent ancestor of the next, each callee
inside its caller's interval and returning before it (the caller waits). Hop i's overhead is
``dur(a_i) - dur(a_{i+1})``: what level i spends around its callee (dispatch, hand-off, context
re-reading, aggregation). A collapse: at least ``coordination_min_agents`` agents, overheads that
do not shrink along the chain and end ``coordination_growth`` x larger than they started, and an
overhead share of the top span's time of at least ``coordination_min_share``.

Origin: the chain's top agent span (where the synchronous chain starts). One finding per top; the
chain reported is its longest qualifying one. O(n · depth).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from analysis.detectors.timeouts.config import TimeoutConfig
from analysis.detectors.timeouts.spans import Span, SpanIndex


@dataclass(frozen=True)
class CoordinationCollapse:
    chain: tuple[str, ...]  # top first
    overheads_ns: tuple[int, ...]  # per hop, top first
    overhead_share: float
    growth: float


def _agent_spans(index: SpanIndex) -> dict[str, Span]:
    # invoke_agent spans (or, without an operation, spans naming their own agent); other operations
    # may carry the agent's name too (a memory write, a tool) without being an agent call
    return {
        s.id: s
        for s in index.spans.values()
        if s.operation == "invoke_agent" or (s.operation is None and s.own_agent)
    }


def _synchronous(caller: Span, callee: Span, config: TimeoutConfig) -> bool:
    tol = config.end_tolerance_ns
    return caller.start - tol <= callee.start and callee.end <= caller.end + tol


def find_collapses(index: SpanIndex, config: TimeoutConfig) -> list[CoordinationCollapse]:
    agents = _agent_spans(index)
    if len(agents) < config.coordination_min_agents:
        return []
    nearest = index.nearest_above(lambda s: s.id in agents)
    up: dict[str, Span | None] = {sid: agents.get(nearest.get(sid) or "") for sid in agents}
    has_child = {p.id for p in up.values() if p is not None}
    best: dict[str, CoordinationCollapse] = {}
    for leaf in sorted(set(agents) - has_child):
        chain = [agents[leaf]]  # leaf first, climbing while the caller waits
        while True:
            parent = up[chain[-1].id]
            if parent is None or not _synchronous(parent, chain[-1], config) or parent in chain:
                break
            chain.append(parent)
        chain.reverse()
        found = _judge(chain, config)
        if found is not None:
            top = found.chain[0]
            if top not in best or len(found.chain) > len(best[top].chain):
                best[top] = found
    return sorted(best.values(), key=lambda c: (index.spans[c.chain[0]].start, c.chain[0]))


def _judge(chain: list[Span], config: TimeoutConfig) -> CoordinationCollapse | None:
    """The longest prefix-anchored sub-chain (top kept) that qualifies, if any."""
    for end in range(len(chain), config.coordination_min_agents - 1, -1):
        sub = chain[:end]
        overheads = [a.duration - b.duration for a, b in itertools.pairwise(sub)]
        top_ns = sub[0].duration
        if top_ns <= 0 or min(overheads) < 0:
            continue
        first = max(overheads[0], config.anomaly_floor_ns)
        growth = overheads[-1] / first
        monotone = all(b >= 0.9 * a for a, b in itertools.pairwise(overheads))
        share = sum(overheads) / top_ns
        if monotone and growth >= config.coordination_growth and share >= config.coordination_min_share:
            return CoordinationCollapse(
                tuple(s.id for s in sub), tuple(overheads), round(share, 3), round(growth, 2)
            )
    return None
