"""Retry storms (fixed gaps, shrinking gaps, synchronized callers) and their near-misses: a proper
exponential back-off, repeated calls with different arguments, repetition after success."""

from __future__ import annotations

from analysis.detectors.timeouts import TimeoutCascadeDetector
from analysis.model import Finding

from .tracebuild import TraceBuilder, sid

DETECTOR = TimeoutCascadeDetector()


def _storms(b: TraceBuilder) -> list[Finding]:
    return [f for f in DETECTOR.detect(b.build()) if f.kind == "retry_storm"]


def _attempts(
    b: TraceBuilder,
    parent: str,
    starts: list[float],
    dur: float,
    args: list[dict[str, str]],
    ok_last: bool = False,
    prefix: str = "call",
) -> list[str]:
    ids = []
    for i, (start, a) in enumerate(zip(starts, args, strict=True)):
        last_ok = ok_last and i == len(starts) - 1
        ids.append(
            b.tool(
                f"{prefix}-{i}",
                parent,
                start,
                start + dur,
                "get_quote",
                a,
                result="42" if last_ok else None,
                status=1 if last_ok else 2,
                error_type=None if last_ok else "ServiceUnavailable",
                http_status_code=None if last_ok else 503,
            )
        )
    return ids


def test_fixed_gap_retries_are_a_storm() -> None:
    b = TraceBuilder("storm-fixed")
    b.agent("agent", None, 0.0, 10.0, "trader", status=2)
    ids = _attempts(b, "agent", [1.0, 1.5, 2.0, 2.5, 3.0], 0.3, [{"symbol": "ACME"}] * 5)
    (f,) = DETECTOR.detect(b.build())
    assert f.kind == "retry_storm"
    assert f.origin_span_id == ids[0]
    assert f.span_ids == tuple(ids)
    assert f.evidence["pattern"] == "fixed"
    assert f.evidence["amplification"] == 5.0
    assert f.agents == ("trader",)


def test_shrinking_gaps_are_a_storm_even_when_the_last_attempt_succeeds() -> None:
    b = TraceBuilder("storm-shrinking")
    b.agent("agent", None, 0.0, 10.0, "trader", status=1)
    _attempts(b, "agent", [1.0, 2.3, 3.1, 3.5], 0.3, [{"symbol": "ACME"}] * 4, ok_last=True)
    (f,) = _storms(b)
    assert f.evidence["pattern"] == "shrinking" and f.evidence["failed_attempts"] == 3


def test_synchronized_callers_are_a_storm_even_with_backoff() -> None:
    b = TraceBuilder("storm-sync")
    b.agent("root", None, 0.0, 20.0, "orchestrator", status=2)
    for w in range(3):
        b.agent(f"worker-{w}", "root", 0.5, 15.0, f"worker{w}", status=2)
        # identical schedule in every worker: 1 s then 2 s then 4 s, no jitter
        _attempts(b, f"worker-{w}", [1.0, 2.3, 4.6, 8.9], 0.3, [{"symbol": "ACME"}] * 4, prefix=f"w{w}")
    (f,) = DETECTOR.detect(b.build())  # a storm, not also a missing breaker: these are retries
    assert f.kind == "retry_storm"
    assert f.evidence["pattern"] == "synchronized"
    assert f.evidence["amplification"] == 4.0
    assert len(f.span_ids) == 12 and len(f.agents) == 3
    assert f.origin_span_id in {sid(f"w{w}-0") for w in range(3)}


def test_exponential_backoff_is_clean() -> None:
    b = TraceBuilder("backoff")
    b.agent("agent", None, 0.0, 20.0, "trader", status=1)
    _attempts(b, "agent", [1.0, 2.3, 4.6, 8.9], 0.3, [{"symbol": "ACME"}] * 4, ok_last=True)
    assert DETECTOR.detect(b.build()) == []


def test_repeated_calls_with_different_arguments_are_clean() -> None:
    b = TraceBuilder("different-args")
    b.agent("agent", None, 0.0, 10.0, "trader", status=1)
    _attempts(b, "agent", [1.0, 1.5, 2.0], 0.3, [{"symbol": s} for s in ("ACME", "INIT", "GLOB")])
    assert DETECTOR.detect(b.build()) == []


def test_two_attempts_are_not_a_storm() -> None:
    b = TraceBuilder("one-retry")
    b.agent("agent", None, 0.0, 10.0, "trader", status=1)
    _attempts(b, "agent", [1.0, 1.5], 0.3, [{"symbol": "ACME"}] * 2, ok_last=True)
    assert DETECTOR.detect(b.build()) == []


def test_errors_reported_in_the_tool_result_count_as_failures() -> None:
    """Frameworks that catch the tool's exception and return it as the result, status unset."""
    b = TraceBuilder("storm-result-errors")
    b.agent("agent", None, 0.0, 10.0, "trader", status=1)
    for i, start in enumerate([1.0, 1.4, 1.8, 2.2]):
        b.tool(
            f"r{i}",
            "agent",
            start,
            start + 0.2,
            "get_quote",
            {"symbol": "ACME"},
            result='{"error": "upstream 503", "data": null}',
        )
    b.tool("ok", "agent", 3.0, 3.2, "get_quote", {"symbol": "INIT"}, result='{"error": null, "price": 3}')
    (f,) = _storms(b)
    assert f.evidence["failed_attempts"] == 4 and f.evidence["pattern"] == "fixed"


def test_retries_from_successive_turns_of_one_agent() -> None:
    """Each attempt sits under its own turn span; the agent is the caller."""
    b = TraceBuilder("storm-turns")
    b.agent("agent", None, 0.0, 10.0, "trader", status=2)
    for i, start in enumerate([1.0, 2.0, 3.0, 4.0]):
        b.span(f"turn-{i}", "agent", start, start + 0.9, span_name="turn")
        b.tool(
            f"t{i}",
            f"turn-{i}",
            start + 0.5,
            start + 0.8,
            "get_quote",
            {"symbol": "ACME"},
            result=None,
            status=2,
            error_type="TimeoutError",
        )
    (f,) = _storms(b)
    assert f.evidence["attempts"] == 4 and len(f.evidence["caller_span_ids"]) == 4


def test_jittered_exponential_backoff_is_clean() -> None:
    b = TraceBuilder("full-jitter")
    b.agent("agent", None, 0.0, 30.0, "trader", status=1)
    # full jitter: each gap anywhere below a doubling cap (1, 2, 4, 8 s), so not monotone
    _attempts(b, "agent", [1.0, 2.0, 2.6, 6.0, 8.3], 0.3, [{"symbol": "ACME"}] * 5, ok_last=True)
    assert DETECTOR.detect(b.build()) == []


def test_repeated_successful_calls_reporting_domain_errors_are_not_retries() -> None:
    """A test runner that ran and reported failing tests succeeded: repeating it is another
    detector's business (step repetition), not a retry storm."""
    b = TraceBuilder("domain-errors")
    b.agent("agent", None, 0.0, 10.0, "coder", status=1)
    for i, start in enumerate([1.0, 2.5, 4.0]):
        b.tool(
            f"run-{i}",
            "agent",
            start,
            start + 0.4,
            "run_tests",
            {"path": "t.py"},
            result='{"passed": 41, "failed": ["test_x"], "error": "AssertionError"}',
        )
    assert DETECTOR.detect(b.build()) == []
