"""Root-cause ranking over many traces: which actor (agent, else service) the critical paths of a
period blame, against a baseline learnt from a fault-free period.

For each trace, the root cause of its root span's critical path is found (``find_root_cause``) with
the shared baseline. Only a root cause that is anomalous against that baseline votes; a vote goes to
the actor that owns the time: the span's own actor, except for an outgoing call (a client span whose
children all run in one other actor): the gap between a call and its callee's own span is network
and queueing on the callee's side, so it is the callee's (right for a slow network or a saturated
callee, wrong for a CPU-starved caller). Actors are ranked by the excess exclusive time (over the
baseline median) their votes carry: the latency they added; ties by votes. O(n log n) per trace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analysis.detectors.timeouts.config import DEFAULT, TimeoutConfig
from analysis.detectors.timeouts.critical_path import Baseline, find_root_cause
from analysis.detectors.timeouts.spans import Span, SpanIndex


@dataclass(frozen=True)
class ActorScore:
    actor: str
    votes: int
    excess_ms: float


def baseline_of(indexes: Iterable[SpanIndex]) -> Baseline:
    """Exclusive-time baseline per (actor, operation) over every span of ``indexes``."""
    base = Baseline()
    for index in indexes:
        base.add_spans(index, index.spans.values())
    return base


def owner(index: SpanIndex, span: Span) -> str:
    """The actor a span's exclusive time belongs to (see the module docstring)."""
    callees = {index.spans[c].who for c in span.children}
    if len(callees) == 1 and span.who not in callees:
        return callees.pop()
    return span.who


def rank_actors(
    indexes: Sequence[SpanIndex], baseline: Baseline, config: TimeoutConfig = DEFAULT
) -> list[ActorScore]:
    votes: Counter[str] = Counter()
    excess: dict[str, float] = {}
    for index in indexes:
        if not index.roots:
            continue
        top = max((index.spans[r] for r in index.roots), key=lambda s: (s.duration, s.id))
        cause = find_root_cause(index, top, baseline, config)
        if cause.reason != "baseline":
            continue
        actor = owner(index, index.spans[cause.span_id])
        votes[actor] += 1
        excess[actor] = excess.get(actor, 0.0) + cause.exclusive_ns - (cause.expected_ns or 0.0)
    ranked = sorted(votes, key=lambda a: (-excess[a], -votes[a], a))
    return [ActorScore(a, votes[a], round(excess[a] / 1e6, 3)) for a in ranked]
