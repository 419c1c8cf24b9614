"""Coordination latency collapse and its near-misses: a deep chain with constant small overhead,
a chain whose overhead grows but where the work dominates, a chain of parallel (non-waiting) calls."""

from __future__ import annotations

from analysis.detectors.timeouts import TimeoutCascadeDetector

from .tracebuild import TraceBuilder, sid

DETECTOR = TimeoutCascadeDetector()


def _chain(b: TraceBuilder, spans: list[tuple[float, float]]) -> None:
    """Nested agents a0 ⊃ a1 ⊃ ...; each calls the next through an ``ask_*`` tool."""
    parent: str | None = None
    for i, (lo, hi) in enumerate(spans):
        if parent is not None:
            b.tool(f"ask-{i}", parent, lo - 0.01, hi + 0.01, f"ask_agent{i}", {"task": "t"})
            parent = f"ask-{i}"
        b.agent(f"a{i}", parent, lo, hi, f"agent{i}", status=1)
        b.chat(f"think-{i}", f"a{i}", lo + 0.001, lo + 0.2)
        parent = f"a{i}"


def test_overhead_growing_with_depth_collapses() -> None:
    b = TraceBuilder("collapse")
    # hop overheads 1 s, 3 s, 6 s around a 1 s piece of work
    _chain(b, [(0.0, 11.0), (0.5, 10.5), (2.0, 9.0), (5.0, 6.0)])
    findings = DETECTOR.detect(b.build())
    (f,) = findings
    assert f.kind == "coordination_latency_collapse"
    assert f.origin_span_id == sid("a0")
    assert f.evidence["chain"] == [sid(f"a{i}") for i in range(4)]
    assert f.evidence["overheads_ms"] == [1000.0, 3000.0, 6000.0]
    assert f.agents[:4] == ("agent0", "agent1", "agent2", "agent3")


def test_constant_overhead_is_clean() -> None:
    b = TraceBuilder("constant")
    _chain(b, [(0.0, 12.0), (0.25, 11.75), (0.5, 11.5), (0.75, 11.25), (1.0, 11.0)])
    assert DETECTOR.detect(b.build()) == []


def test_growing_overhead_but_work_dominates_is_clean() -> None:
    b = TraceBuilder("work-dominates")
    _chain(b, [(0.0, 40.0), (0.1, 39.9), (0.4, 39.6), (1.0, 39.0)])
    assert DETECTOR.detect(b.build()) == []


def test_callee_that_outlives_its_caller_is_not_synchronous() -> None:
    b = TraceBuilder("async")
    _chain(b, [(0.0, 11.0), (0.5, 10.5), (2.0, 30.0), (5.0, 29.0)])
    assert [f.kind for f in DETECTOR.detect(b.build())] == []
