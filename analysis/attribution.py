"""Failure attribution: for a failed trace, the agent and the span where the failure started.

The candidate origins are the findings' ``origin_span_id``s. The earliest in happens-before order
wins (an origin that causally precedes another is upstream of it); among origins that no other
origin precedes, the most severe wins, then the earliest start. The reason says which rule decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.model import SEVERITIES, Finding, Trace

#: findings at or below this severity do not make a trace "failed"
FAILED_ABOVE = "info"


@dataclass(frozen=True)
class Attribution:
    agent: str | None
    span_id: str
    reason: str
    finding_id: str

    def as_json(self) -> dict[str, str | None]:
        return {
            "agent": self.agent,
            "span_id": self.span_id,
            "reason": self.reason,
            "finding_id": self.finding_id,
        }


def is_failure(finding: Finding) -> bool:
    return SEVERITIES.index(finding.severity) > SEVERITIES.index(FAILED_ABOVE)


def attribute(trace: Trace, findings: Sequence[Finding]) -> Attribution | None:
    """None when no finding is above ``info`` (the trace did not fail)."""
    failing = [f for f in findings if is_failure(f) and f.origin_span_id]
    if not failing:
        return None
    start = dict(zip(trace.spans["span_id"].to_list(), trace.spans["start_ns"].to_list(), strict=True))
    origins = sorted({f.origin_span_id for f in failing})
    roots = [o for o in origins if not any(p != o and trace.hb.precedes(p, o) for p in origins)]

    def rank(f: Finding) -> tuple[int, int, str]:
        return (-SEVERITIES.index(f.severity), int(start.get(f.origin_span_id) or 0), f.id)

    candidates = sorted((f for f in failing if f.origin_span_id in roots), key=rank)
    best = candidates[0]
    if len(roots) == 1 and len(origins) > 1:
        reason = f"causally precedes the {len(origins) - 1} other failure origin(s)"
    elif len(origins) == 1:
        reason = "the only failure origin"
    elif len({f.severity for f in candidates}) > 1:
        reason = "most severe of the causally unordered failure origins"
    else:
        reason = "earliest-starting of the causally unordered failure origins"
    reason = f"{best.detector}/{best.kind}: {reason}"
    return Attribution(trace.agent_of.get(best.origin_span_id), best.origin_span_id, reason, best.id)
