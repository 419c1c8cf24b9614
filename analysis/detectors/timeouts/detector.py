"""The ``timeout_cascade`` detectors: per trace (``TimeoutCascadeDetector``) and over a window of
traces for the circuit-breaker part (``CircuitBreakerWindowDetector``). They turn the family's
analyses into SPEC §5.5 findings; every judgement lives in the modules they call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from analysis.detectors.timeouts import breaker
from analysis.detectors.timeouts.cascade import Cascade, Inversion, find_cascades, find_inversions
from analysis.detectors.timeouts.config import DEFAULT, TimeoutConfig
from analysis.detectors.timeouts.coordination import CoordinationCollapse, find_collapses
from analysis.detectors.timeouts.retries import RetryStorm, find_retry_storms
from analysis.detectors.timeouts.signals import TimeoutSignal, recognize
from analysis.detectors.timeouts.spans import SpanIndex
from analysis.mast import modes_for
from analysis.model import Finding, Severity, Trace

NAME = "timeout_cascade"
VERSION = "1"


def _ms(ns: float) -> float:
    return round(ns / 1e6, 3)


def _agents(index: SpanIndex, span_ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for a in (index.spans[s].agent for s in span_ids if s in index.spans) if a))


def _finding(
    index: SpanIndex, kind: str, origin: str, spans: Sequence[str], severity: Severity, summary: str,
    evidence: dict[str, Any], key: str = "",
) -> Finding:  # fmt: skip
    ids = tuple(dict.fromkeys([origin, *spans]))
    return Finding(
        detector=NAME, kind=kind, trace_id=index.trace_id, origin_span_id=origin, span_ids=ids,
        agents=_agents(index, ids), severity=severity, mast=modes_for(NAME, kind, evidence), summary=summary,
        evidence=evidence, detector_version=VERSION, key=key,
    )  # fmt: skip


class TimeoutCascadeDetector:
    """Timeout cascades with their root cause and wasted work, timeout inversions, retry storms,
    missing circuit breakers (within the trace) and coordination latency collapse. Pure and
    deterministic; O(n log n) in the trace's spans (coordination: O(n · agent depth))."""

    name: ClassVar[str] = NAME
    version: ClassVar[str] = VERSION

    def __init__(self, config: TimeoutConfig = DEFAULT) -> None:
        self.config = config.validate()

    def detect(self, trace: Trace) -> list[Finding]:
        index = SpanIndex(trace, self.config)
        if not index.spans:
            return []
        signals = recognize(index, self.config)
        cascades = find_cascades(index, signals, self.config)
        inversions = find_inversions(index, signals, self.config)
        # A cascade whose critical path runs through an inverted callee is that inversion's doing:
        # one finding, the inversion (the deadline to fix), carrying the cascade as evidence.
        explained: dict[str, Cascade] = {}
        for c in cascades:
            for inv in inversions:
                if inv.callee in c.root_cause.path and inv.callee not in explained:
                    explained[inv.callee] = c
        folded = {id(c) for c in explained.values()}
        out = [self._cascade(index, c, signals) for c in cascades if id(c) not in folded]
        out += [self._inversion(index, i, explained.get(i.callee)) for i in inversions]
        out += [self._storm(index, r) for r in find_retry_storms(index, signals, self.config)]
        calls = breaker.dependency_calls(index, signals)
        out += [
            breaker_finding(index, v)
            for v in breaker.scan(calls, self.config)
            if breaker.significant(v, self.config)
        ]
        out += [self._collapse(index, c) for c in find_collapses(index, self.config)]
        return out

    def _cascade(self, index: SpanIndex, c: Cascade, signals: dict[str, TimeoutSignal]) -> Finding:
        root = index.spans[c.root_cause.span_id]
        top = index.spans[c.top]
        severity: Severity = "critical" if top.parent is None and len(c.agents) >= 2 else "high"
        evidence = {
            "top_span_id": c.top,
            "timeouts": [
                {
                    "span_id": s,
                    "name": index.spans[s].name,
                    "source": signals[s].source,
                    "detail": signals[s].detail,
                }
                for s in c.timeouts
            ],
            "distinct_calls": c.calls,
            "root_cause": {
                "span_id": root.id,
                "name": root.name,
                "agent": root.agent,
                "service": root.service,
                "exclusive_ms": _ms(c.root_cause.exclusive_ns),
                "reason": c.root_cause.reason,
                "baseline_ms": None if c.root_cause.expected_ns is None else _ms(c.root_cause.expected_ns),
            },
            "critical_path": list(c.root_cause.path),
            "wasted": {
                "tokens": c.wasted_tokens,
                "seconds": round(c.wasted_ns / 1e9, 3),
                "span_ids": list(c.wasted_spans),
            },
        }
        summary = (
            f"{len(c.timeouts)} timeouts cascade up to '{top.name}' from '{root.name}'"
            f" ({_ms(c.root_cause.exclusive_ns)} ms own time); {len(c.agents)} agents affected,"
            f" {c.wasted_tokens} tokens and {c.wasted_ns / 1e9:.1f} s wasted"
        )
        return _finding(index, "timeout_cascade", root.id, c.affected, severity, summary, evidence)

    def _inversion(self, index: SpanIndex, inv: Inversion, cascade: Cascade | None) -> Finding:
        callee, caller = index.spans[inv.callee], index.spans[inv.caller]
        callee_budget = inv.callee_deadline_ns - callee.start
        caller_budget = inv.caller_deadline_ns - caller.start
        evidence = {
            "caller_span_id": caller.id, "callee_span_id": callee.id, "how": inv.how,
            "caller_deadline_ms": _ms(caller_budget), "callee_deadline_ms": _ms(callee_budget),
            "overrun_ms": _ms(inv.callee_deadline_ns - inv.caller_deadline_ns),
        }  # fmt: skip
        if cascade is not None:
            evidence["cascade"] = {
                "timeouts": list(cascade.timeouts), "affected_span_ids": list(cascade.affected),
                "agents": list(cascade.agents), "wasted_tokens": cascade.wasted_tokens,
                "wasted_seconds": round(cascade.wasted_ns / 1e9, 3),
            }  # fmt: skip
        summary = (
            f"'{callee.name}' may run {_ms(callee_budget)} ms but its caller '{caller.name}' gives up"
            f" after {_ms(caller_budget)} ms"
        )
        return _finding(
            index, "timeout_inversion", callee.id, [caller.id], "medium", summary, evidence, caller.id
        )

    def _storm(self, index: SpanIndex, r: RetryStorm) -> Finding:
        severity: Severity = "high" if r.amplification >= 5 or r.pattern == "synchronized" else "medium"
        evidence = {
            "target": r.target, "attempts": len(r.attempts), "failed_attempts": r.failed,
            "pattern": r.pattern, "gaps_ms": [_ms(g) for g in r.gaps_ns], "amplification": r.amplification,
            "caller_span_ids": list(r.callers),
        }  # fmt: skip
        summary = (
            f"{len(r.attempts)} identical calls to {r.target} ({r.pattern} gaps, {r.failed} failed):"
            f" amplification x{r.amplification}"
        )
        key = f"{r.identity}:{','.join(r.callers)}"
        return _finding(index, "retry_storm", r.attempts[0], r.attempts, severity, summary, evidence, key)

    def _collapse(self, index: SpanIndex, c: CoordinationCollapse) -> Finding:
        top = index.spans[c.chain[0]]
        evidence = {
            "chain": list(c.chain), "agents_in_chain": [index.spans[s].own_agent for s in c.chain],
            "overheads_ms": [_ms(o) for o in c.overheads_ns], "overhead_share": c.overhead_share,
            "growth": c.growth,
        }  # fmt: skip
        summary = (
            f"synchronous chain of {len(c.chain)} agents from '{top.name}': hop overhead grows x{c.growth},"
            f" {round(100 * c.overhead_share)}% of the time is coordination"
        )
        return _finding(index, "coordination_latency_collapse", top.id, c.chain, "medium", summary, evidence)


def breaker_finding(index: SpanIndex, v: breaker.BreakerViolation, window: bool = False) -> Finding:
    """The finding for ``v`` in ``index``'s trace: the trace's own failed calls of the window that
    should have opened the breaker, and its calls made while it should have been open. Origin:
    where the failure starts, the first of those failed calls (the first violating call when the
    window's failures are all in other traces)."""
    mine = [c for c in v.violations if c.trace_id == index.trace_id]
    tripped = [c.span_id for c in v.tripped_by if c.trace_id == index.trace_id and c.failed]
    evidence = {
        "dependency": v.dependency, "error_rate": v.error_rate, "window_calls": len(v.tripped_by),
        "window_failures": sum(1 for c in v.tripped_by if c.failed), "calls_after_open": len(v.violations),
        "failed_after_open": sum(1 for c in v.violations if c.failed),
        "traces": sorted({c.trace_id for c in (*v.tripped_by, *v.violations)}), "cross_trace": window,
    }  # fmt: skip
    summary = (
        f"{len(v.violations)} calls went to {v.dependency} after its error rate reached"
        f" {round(100 * v.error_rate)}% over {len(v.tripped_by)} calls: no circuit breaker opened"
    )
    origin = tripped[0] if tripped else mine[0].span_id
    spans = tripped + [c.span_id for c in mine]
    return _finding(index, "missing_circuit_breaker", origin, spans, "high", summary, evidence, v.dependency)


class CircuitBreakerWindowDetector:
    """Missing circuit breakers across the traces of a window: the calls of every trace to one
    dependency form one rolling window. A trace gets a finding only where its own per-trace scan
    finds none for that dependency (no double report)."""

    name: ClassVar[str] = NAME
    version: ClassVar[str] = VERSION

    def __init__(self, config: TimeoutConfig = DEFAULT) -> None:
        self.config = config.validate()

    def detect_window(self, traces: Sequence[Trace]) -> list[Finding]:
        indexes = {t.trace_id: SpanIndex(t, self.config) for t in traces}
        calls: list[breaker.DepCall] = []
        local: set[tuple[str, str]] = set()  # (trace, dependency) the per-trace scan reports
        for index in indexes.values():
            mine = breaker.dependency_calls(index, recognize(index, self.config))
            calls += mine
            for v in breaker.scan(mine, self.config):
                if breaker.significant(v, self.config):
                    local.add((index.trace_id, v.dependency))
        out: list[Finding] = []
        for v in breaker.scan(calls, self.config):
            if not breaker.significant(v, self.config) or len({c.trace_id for c in v.violations}) < 2:
                continue
            for tid in dict.fromkeys(c.trace_id for c in v.violations):  # in order of the first violation
                # retries are the retry storm's business, as within a trace
                fresh = any(c.trace_id == tid and not c.retry for c in v.violations)
                if (tid, v.dependency) not in local and fresh:
                    out.append(breaker_finding(indexes[tid], v, window=True))
        return out
