"""Timeout cascades (root cause, affected agents, wasted work) and timeout inversions, with their
clean near-misses: a single handled timeout (even seen by two instrumentation layers), a slow but
successful call, a callee whose deadline fits in its caller's."""

from __future__ import annotations

from analysis.detectors.timeouts import TimeoutCascadeDetector
from analysis.model import Finding

from .tracebuild import TraceBuilder, sid

DETECTOR = TimeoutCascadeDetector()


def _kinds(findings: list[Finding]) -> list[str]:
    return sorted(f.kind for f in findings)


def _cascade_trace() -> TraceBuilder:
    """orchestrator → call_researcher (10 s deadline) → researcher, whose 4th web search hangs."""
    b = TraceBuilder("cascade")
    b.agent("orch", None, 0.0, 12.01, "orchestrator", status=2, error_type="TimeoutError")
    b.exception("orch", "asyncio.TimeoutError", "", 12.01)
    b.chat("orch-plan", "orch", 0.1, 1.0)
    b.tool("call-researcher", "orch", 1.0, 11.0, "call_researcher", {"task": "prices"}, result=None, status=2)
    b.exception("call-researcher", "TimeoutError", "researcher did not answer in 10s", 11.0)
    b.agent("researcher", "call-researcher", 1.05, 25.0, "researcher")
    b.chat("res-plan", "researcher", 1.1, 1.2)
    for i, (lo, hi) in enumerate([(1.2, 1.5), (1.5, 1.9), (1.9, 2.2)]):
        b.tool(f"search-{i}", "researcher", lo, hi, "web_search", {"q": f"q{i}"})
    b.tool("search-slow", "researcher", 2.2, 24.0, "web_search", {"q": "slow"})
    b.chat("res-summary", "researcher", 24.0, 25.0, tokens=800)
    return b


def test_cascade_root_cause_is_the_hung_search() -> None:
    findings = DETECTOR.detect(_cascade_trace().build())
    cascades = [f for f in findings if f.kind == "timeout_cascade"]
    assert len(cascades) == 1
    c = cascades[0]
    assert c.origin_span_id == sid("search-slow")
    assert c.span_ids[0] == c.origin_span_id
    assert {sid("orch"), sid("call-researcher"), sid("researcher"), sid("res-summary")} <= set(c.span_ids)
    assert set(c.agents) == {"orchestrator", "researcher"}
    assert c.severity == "critical"  # it took the whole request down
    assert c.evidence["root_cause"]["reason"] == "baseline"
    assert c.evidence["critical_path"][0] == sid("orch") and c.evidence["critical_path"][-1] == sid(
        "search-slow"
    )
    wasted = c.evidence["wasted"]
    assert wasted["tokens"] == 800  # the summary the researcher wrote after its caller gave up
    assert abs(wasted["seconds"] - 14.0) < 0.01  # 11 s (caller gave up) → 25 s (researcher done)
    assert "FM-3.1" in c.mast
    assert [f.kind for f in findings] == ["timeout_cascade"]


def test_cascade_finding_id_is_stable() -> None:
    a = DETECTOR.detect(_cascade_trace().build())
    b = DETECTOR.detect(_cascade_trace().build())
    assert [f.id for f in a] == [f.id for f in b]


def test_cascade_through_an_openinference_style_chain_without_agents() -> None:
    """Plain services, no agents, timeouts only in status messages and HTTP codes."""
    b = TraceBuilder("services")
    b.span(
        "gateway",
        None,
        0.0,
        5.0,
        status=2,
        status_message="upstream request timeout",
        http_status_code=504,
        service="gateway",
    )
    b.span(
        "orders", "gateway", 0.01, 5.0, status=2, status_message="context deadline exceeded", service="orders"
    )
    b.span("orders-db", "orders", 0.02, 0.05, service="orders", db_system="postgresql")
    b.span("inventory", "orders", 0.06, 9.0, service="inventory")
    b.span("inventory-lock", "inventory", 0.07, 8.9, service="inventory")
    findings = DETECTOR.detect(b.build())
    (c,) = [f for f in findings if f.kind == "timeout_cascade"]
    assert c.origin_span_id == sid("inventory-lock")
    assert c.agents == ()


def test_single_handled_timeout_is_clean() -> None:
    """A search times out (seen by the tool span and its HTTP child); the agent retries with a
    back-off and succeeds."""
    b = TraceBuilder("handled")
    b.agent("agent", None, 0.0, 16.0, "researcher", status=1)
    b.chat("plan", "agent", 0.0, 1.0)
    b.tool(
        "search-1",
        "agent",
        1.0,
        11.0,
        "web_search",
        {"q": "x"},
        result=None,
        status=2,
        error_type="TimeoutError",
    )
    b.span("search-1-http", "search-1", 1.01, 11.0, status=2, http_status_code=504, service="agents")
    b.tool("search-2", "agent", 12.0, 13.0, "web_search", {"q": "x"})
    b.chat("answer", "agent", 13.0, 16.0, status=1)
    assert DETECTOR.detect(b.build()) == []


def test_slow_successful_calls_are_clean() -> None:
    b = TraceBuilder("slow")
    b.agent("agent", None, 0.0, 70.0, "analyst", status=1)
    b.tool("crunch", "agent", 0.5, 30.01, "crunch_numbers", {"n": 1})
    b.tool("crunch-2", "agent", 30.1, 60.005, "crunch_numbers", {"n": 2})
    b.chat("answer", "agent", 60.1, 70.0)
    assert DETECTOR.detect(b.build()) == []


def test_timeout_inversion_configured_deadline_beyond_the_callers() -> None:
    b = TraceBuilder("inversion")
    b.agent("agent", None, 0.0, 30.0, "analyst", status=2, error_type="TimeoutError")
    b.tool("report", "agent", 0.5, 45.0, "build_report", {"timeout": 60, "period": "Q3"})
    findings = DETECTOR.detect(b.build())
    assert _kinds(findings) == ["timeout_inversion"]
    inv = findings[0]
    assert inv.origin_span_id == sid("report")
    assert inv.span_ids == (sid("report"), sid("agent"))
    assert inv.evidence["callee_deadline_ms"] == 60_000.0
    assert inv.evidence["caller_deadline_ms"] == 30_000.0


def test_timeout_inversion_observed_callee_times_out_after_caller() -> None:
    b = TraceBuilder("inversion-observed")
    b.agent("agent", None, 0.0, 10.0, "planner", status=2, error_type="DEADLINE_EXCEEDED")
    b.tool(
        "fetch",
        "agent",
        0.2,
        30.2,
        "fetch_doc",
        {"url": "u"},
        result=None,
        status=2,
        error_type="ReadTimeout",
    )
    findings = DETECTOR.detect(b.build())
    assert "timeout_inversion" in _kinds(findings)
    (inv,) = [f for f in findings if f.kind == "timeout_inversion"]
    assert inv.origin_span_id == sid("fetch") and inv.evidence["how"] == "observed"


def test_callee_deadline_within_callers_is_clean() -> None:
    b = TraceBuilder("no-inversion")
    b.agent("agent", None, 0.0, 30.0, "analyst", status=2, error_type="TimeoutError")
    b.tool(
        "report",
        "agent",
        0.5,
        20.5,
        "build_report",
        {"timeout": 20},
        result=None,
        status=2,
        error_type="TimeoutError",
    )
    kinds = _kinds(DETECTOR.detect(b.build()))
    assert "timeout_inversion" not in kinds


def test_cascade_within_one_agent() -> None:
    """The agent's tool times out and the agent, not handling it, times out too."""
    b = TraceBuilder("one-agent")
    b.agent("agent", None, 0.0, 31.0, "analyst", status=2, error_type="TimeoutError")
    b.chat("plan", "agent", 0.0, 0.8)
    b.tool(
        "fetch",
        "agent",
        0.8,
        30.81,
        "fetch_prices",
        {"q": 1},
        result=None,
        status=2,
        error_type="ReadTimeout",
    )
    b.span("fetch-http", "fetch", 0.81, 30.8, status=2, http_status_code=504)
    (f,) = DETECTOR.detect(b.build())
    assert f.kind == "timeout_cascade" and f.evidence["distinct_calls"] == 2  # the HTTP span is the same call
    assert f.origin_span_id == sid("fetch-http")  # the deepest span holding the time


def test_cascade_across_a_link_without_context_propagation() -> None:
    """The worker runs as its own root in another service, linked to the call that started it."""
    b = TraceBuilder("linked")
    b.agent("orch", None, 0.0, 20.0, "orchestrator", status=2, error_type="TimeoutError")
    b.tool(
        "dispatch",
        "orch",
        0.5,
        20.0,
        "dispatch_job",
        {"job": 7},
        result=None,
        status=2,
        error_type="DEADLINE_EXCEEDED",
    )
    b.agent("worker", None, 0.6, 45.0, "worker", service="jobs")
    b.link("worker", "dispatch")
    b.chat("work-plan", "worker", 0.7, 1.5)
    b.tool("crawl", "worker", 1.5, 44.0, "crawl_site", {"url": "x"})
    b.chat("work-report", "worker", 44.0, 45.0, tokens=1200)
    (f,) = DETECTOR.detect(b.build())
    assert f.kind == "timeout_cascade"
    assert f.origin_span_id == sid("crawl")
    assert set(f.agents) == {"orchestrator", "worker"}
    assert f.evidence["wasted"]["tokens"] == 1200
