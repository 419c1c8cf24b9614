"""The ``hallucination_propagation`` detector: ledger → ungrounded claims → reach → findings.

One ``ungrounded_claim`` finding per origin span (the span where one or more claims first appear
with no support), reported only when at least one strong claim of it propagated: reached another
agent, shared memory, the final output or a side-effecting call. The finding's main claim is its
most consequential one; the others are listed in ``evidence["claims"]``. Tool hallucinations are
``undeclared_tool`` and ``not_found_entity`` findings (see ``tools``).

Complexity for a trace of N spans and T characters of distinct text (conversation history repeated
in later model calls is extracted once): O(T) for extraction and the Aho-Corasick carrier pass;
exact grounding is one index lookup per emitted claim with O(1) happens-before tests per occurrence
(it stops at the first visible one); a claim with no exact support scans the quantities of its
``grounding.NEAR_SPANS`` nearest visible spans (derivations O(min(q,120)^2)) or its words' posting
lists; propagation is O(carriers) per unsupported claim. Measured linear: bench/hallucination.py
--scale. The happens-before reachability itself is the engine's (bitsets).

``HallucinationPropagation(semantic=True)`` adds the optional semantic grounding of paraphrased
names (``semantic``; needs the ``semantic`` extra, checked at construction, the model loaded on
first use). Off by default; with it off nothing of it is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from analysis.detectors.hallucination.grounding import Ungrounded, find_ungrounded
from analysis.detectors.hallucination.ledger import Ledger
from analysis.detectors.hallucination.propagation import (
    CarrierIndex,
    Reach,
    final_output_spans,
    reach,
    severity,
)
from analysis.detectors.hallucination.tools import ToolFinding, not_found_entities, undeclared_tools
from analysis.mast import modes_for
from analysis.model import SEVERITIES, Finding, Severity, Trace

if TYPE_CHECKING:
    from analysis.detectors.hallucination.semantic import SemanticGrounding

NAME = "hallucination_propagation"


class HallucinationPropagation:
    """SPEC §5.1. Pure and deterministic: the same trace gives the same findings, in the same order."""

    name: ClassVar[str] = NAME
    version: ClassVar[str] = "1"

    def __init__(self, semantic: bool | SemanticGrounding = False) -> None:
        """``semantic``: True (or a configured ``semantic.SemanticGrounding``) to ground paraphrased
        names semantically; raises ``semantic.SemanticUnavailable`` when the extra is missing."""
        self.semantic: SemanticGrounding | None = None
        if semantic is True:
            from analysis.detectors.hallucination.semantic import SemanticGrounding

            self.semantic = SemanticGrounding()
        elif semantic is not False:
            self.semantic = semantic

    def detect(self, trace: Trace) -> list[Finding]:
        if trace.spans.height == 0:
            return []
        ledger = Ledger(trace)
        extra = self.semantic.for_trace(ledger) if self.semantic is not None else None
        ungrounded = find_ungrounded(ledger, extra)
        undeclared = undeclared_tools(ledger)
        findings = [self._tool_finding(trace, f) for f in undeclared]
        not_found, accounted = not_found_entities(
            ledger, ungrounded, {s for f in undeclared for s in f.span_ids}
        )
        findings += [self._tool_finding(trace, f) for f in not_found]
        findings += self._claim_findings(
            trace, ledger, [u for u in ungrounded if u.claim.key not in accounted]
        )
        return findings

    def _tool_finding(self, trace: Trace, f: ToolFinding) -> Finding:
        return Finding(
            NAME,
            f.kind,
            trace.trace_id,
            f.origin,
            tuple(f.span_ids),
            tuple(f.agents),
            f.severity,
            modes_for(NAME, f.kind, f.evidence),
            f.summary,
            f.evidence,
            self.version,
            f.key,
        )

    def _claim_findings(self, trace: Trace, ledger: Ledger, ungrounded: list[Ungrounded]) -> list[Finding]:
        if not ungrounded:
            return []
        index = CarrierIndex(ledger, ungrounded)
        finals = final_output_spans(ledger)
        by_origin: dict[str, list[tuple[Ungrounded, Reach]]] = {}
        for u in ungrounded:
            r = reach(ledger, u, index, finals)
            if r.propagated:
                by_origin.setdefault(u.origin, []).append((u, r))
        out: list[Finding] = []
        for origin, items in by_origin.items():
            if not any(u.claim.strong or r.answer for u, r in items):
                # only weak claims (a one-word name, a year) that are not the answer itself: too
                # often the model's own wording
                continue
            items.sort(
                key=lambda ur: (-SEVERITIES.index(severity(ur[1])), not ur[0].claim.strong, ur[0].claim.start)
            )
            out.append(self._claim_finding(trace, ledger, origin, items))
        return out

    def _claim_finding(
        self, trace: Trace, ledger: Ledger, origin: str, items: list[tuple[Ungrounded, Reach]]
    ) -> Finding:
        main, main_reach = items[0]
        sev: Severity = severity(main_reach)
        span_ids = [origin]
        for u, r in items:
            span_ids += [*u.also_emitted_by, *r.span_ids()]
        span_ids = sorted(dict.fromkeys(span_ids), key=lambda s: (s != origin, ledger.position.get(s, 0)))
        origin_agent = ledger.agent(origin)
        agents = list(dict.fromkeys(a for a in [origin_agent, *(ledger.agent(s) for s in span_ids)] if a))
        claims = [_claim_evidence(u, r) for u, r in items]
        evidence: dict[str, Any] = {
            **claims[0],
            "claims": claims,
            "seen_by_verifier": any(c["verified_by"] for c in claims),
            "verified": any(v["passed"] for c in claims for v in c["verified_by"]),
        }
        return Finding(
            NAME,
            "ungrounded_claim",
            trace.trace_id,
            origin,
            tuple(span_ids),
            tuple(agents),
            sev,
            modes_for(NAME, "ungrounded_claim", evidence),
            _summary(origin_agent, main, main_reach, len(items)),
            evidence,
            self.version,
            main.claim.key,
        )


def _claim_evidence(u: Ungrounded, r: Reach) -> dict[str, Any]:
    occurrences = [o.evidence() for o in u.occurrences] + [o.evidence() for o in r.carriers]
    return {
        "claim": u.claim.text,
        "normalized": u.claim.key,
        "kind": u.claim.kind,
        "origin_span_id": u.origin,
        "occurrences": occurrences,
        "reached_agents": r.agents,
        "reached_final_output": bool(r.final_output),
        "final_output_span_ids": r.final_output,
        "memory_writes": r.memory,
        "side_effects": r.side_effects,
        "tool_calls": r.tool_calls,
        "verified_by": r.verified_by,
        "is_final_answer": r.answer,
        "also_emitted_by": u.also_emitted_by,
    }


def _summary(agent: str | None, u: Ungrounded, r: Reach, n: int) -> str:
    where = []
    if r.agents:
        where.append("agent" + ("s " if len(r.agents) > 1 else " ") + ", ".join(r.agents))
    if r.memory:
        where.append("shared memory")
    if r.side_effects:
        where.append("a " + ", ".join(dict.fromkeys(str(s["tool"]) for s in r.side_effects)) + " call")
    if r.final_output:
        where.append("the final output")
    more = f" (+{n - 1} more unsupported claim{'s' if n > 2 else ''})" if n > 1 else ""
    who = agent or "a span"
    return f"{who} stated '{u.claim.text}' with no support in its inputs{more}; it reached {', '.join(where)}"
