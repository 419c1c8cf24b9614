"""Missing circuit breaker, in one trace and across the traces of a window, and its near-misses: an
agent that stops calling a failing dependency, a dependency that recovered, sporadic errors."""

from __future__ import annotations

from analysis.detectors.timeouts import CircuitBreakerWindowDetector, TimeoutCascadeDetector
from analysis.model import Finding

from .tracebuild import TraceBuilder, sid

DETECTOR = TimeoutCascadeDetector()
WINDOW = CircuitBreakerWindowDetector()


def _calls(
    b: TraceBuilder, parent: str, start: float, n: int, failing: list[bool], prefix: str = "inv"
) -> list[str]:
    ids = []
    for i in range(n):
        bad = failing[i]
        lo = start + i * 0.6
        ids.append(
            b.tool(
                f"{prefix}-{i}",
                parent,
                lo,
                lo + 0.5,
                "inventory_api",
                {"sku": f"{prefix}-{i}"},
                result=None if bad else '{"stock": 3}',
                status=2 if bad else 1,
                error_type="ServiceUnavailable" if bad else None,
            )
        )
    return ids


def _breaker(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind == "missing_circuit_breaker"]


def test_calls_keep_going_to_a_failing_dependency() -> None:
    b = TraceBuilder("breaker")
    b.agent("agent", None, 0.0, 10.0, "stocker", status=2)
    ids = _calls(b, "agent", 0.1, 8, [True] * 8)
    (f,) = _breaker(DETECTOR.detect(b.build()))
    assert f.origin_span_id == ids[0]  # where the failure starts: the first failed call
    assert set(ids) == set(f.span_ids)
    assert f.evidence["calls_after_open"] == 4 and f.evidence["error_rate"] == 1.0
    assert f.severity == "high" and f.agents == ("stocker",)


def test_agent_that_stops_calling_is_clean() -> None:
    b = TraceBuilder("breaker-stops")
    b.agent("agent", None, 0.0, 10.0, "stocker", status=1)
    _calls(b, "agent", 0.1, 4, [True] * 4)
    b.tool("fallback", "agent", 3.0, 3.5, "inventory_cache", {"sku": "all"}, status=1)
    assert DETECTOR.detect(b.build()) == []


def test_recovered_dependency_and_sporadic_errors_are_clean() -> None:
    b = TraceBuilder("breaker-recovered")
    b.agent("agent", None, 0.0, 10.0, "stocker", status=1)
    _calls(b, "agent", 0.1, 10, [True, False, False, True, False, False, True, False, False, False])
    assert DETECTOR.detect(b.build()) == []
    b = TraceBuilder("breaker-recovery")
    b.agent("agent", None, 0.0, 10.0, "stocker", status=1)
    _calls(b, "agent", 0.1, 8, [True, True, True, True, False, False, False, False])
    # the fifth call was made while the breaker should have been open, then the service was back
    assert _breaker(DETECTOR.detect(b.build())) == []


def test_window_across_traces() -> None:
    traces = []
    for t in range(4):
        b = TraceBuilder(f"window-{t}")
        b.agent(f"agent-{t}", None, t * 2.0, t * 2.0 + 1.5, "stocker", status=2)
        _calls(b, f"agent-{t}", t * 2.0 + 0.1, 2, [True, True], prefix=f"t{t}")
        traces.append(b.build())
    assert all(_breaker(DETECTOR.detect(t)) == [] for t in traces)  # no trace alone shows it
    found = WINDOW.detect_window(traces)
    assert [f.trace_id for f in found] == [traces[2].trace_id, traces[3].trace_id]
    # the failures that should have opened the breaker are in other traces: the origin in this
    # trace is its first call made while the breaker should have been open
    assert found[0].origin_span_id == sid("t2-0")
    assert found[0].evidence["cross_trace"] is True
    assert WINDOW.detect_window(traces[:2]) == []


def test_same_call_from_many_callers_is_new_work_for_the_breaker() -> None:
    """Worker after worker asks the failing service the same question, each once."""
    b = TraceBuilder("breaker-workers")
    b.agent("root", None, 0.0, 10.0, "orchestrator", status=2)
    for w in range(7):
        b.agent(f"w{w}", "root", 0.1 + w, 0.9 + w, f"worker{w}", status=2)
        b.tool(
            f"w{w}-call",
            f"w{w}",
            0.2 + w,
            0.7 + w,
            "inventory_api",
            {"sku": "all"},
            result=None,
            status=2,
            error_type="ServiceUnavailable",
        )
    (f,) = DETECTOR.detect(b.build())
    assert f.kind == "missing_circuit_breaker" and f.origin_span_id == sid("w0-call")
    assert f.evidence["calls_after_open"] == 3
