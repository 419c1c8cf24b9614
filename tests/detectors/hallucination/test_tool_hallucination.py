"""Tool hallucination: ``undeclared_tool`` (a call to a tool the agent was never given) and
``not_found_entity`` (an argument the agent made up, which the tool reports does not exist), with
their near-misses: namespaced declarations, agents without declarations, user-supplied entities
that happen not to exist, long results that merely mention "unknown"."""

from __future__ import annotations

from analysis.detectors.hallucination import HallucinationPropagation
from analysis.detectors.hallucination.propagation import is_side_effecting
from analysis.model import Finding

from .tracebuild import TraceBuilder, sid

DETECTOR = HallucinationPropagation()


def _kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def _ops_trace(declared: list[str], called: str, name: str) -> TraceBuilder:
    ask = "The docs site is slow. Find out why."
    b = TraceBuilder(name)
    b.agent("root", None, 0, 5, "ops", input=ask, output="I restarted the cluster.")
    b.chat(
        "c1",
        "root",
        0.1,
        0.5,
        input=[("user", ask)],
        tools=declared,
        tool_calls=[(called, {"cluster": "docs"})],
    )
    b.tool("t1", "root", 0.6, 1.0, called, {"cluster": "docs"}, {"ok": True})
    b.chat(
        "c2",
        "root",
        1.1,
        1.5,
        input=[("user", ask), ("tool", '{"ok": true}')],
        output="I restarted the cluster.",
    )
    return b


def test_call_to_an_undeclared_tool() -> None:
    trace = _ops_trace(["search_docs", "get_status"], "restart_cluster", "undeclared").build()
    (f,) = _kind(DETECTOR.detect(trace), "undeclared_tool")
    # the model span that emitted the call is the origin (the first emission, SPEC §5.1); the
    # tool span that ran it stays in the finding
    assert f.origin_span_id == sid("c1")
    assert f.span_ids == (sid("c1"), sid("t1"))
    assert f.evidence["emitted_by"] == sid("c1") and f.evidence["executed_by"] == [sid("t1")]
    assert f.evidence["tool"] == "restart_cluster" and f.evidence["declared_tools"] == [
        "get_status",
        "search_docs",
    ]
    assert f.agents == ("ops",) and f.severity == "high" and f.mast == ("FM-1.1",)


def test_undeclared_call_that_never_ran_starts_at_the_model_span() -> None:
    ask = "The docs site is slow. Find out why."
    b = TraceBuilder("undeclared-unexecuted")
    b.agent("root", None, 0, 5, "ops", input=ask, output="I cannot restart the cluster.")
    b.chat(
        "c1",
        "root",
        0.1,
        0.5,
        input=[("user", ask)],
        tools=["search_docs", "get_status"],
        tool_calls=[("restart_cluster", {"cluster": "docs"})],
    )
    b.chat(
        "c2",
        "root",
        1.1,
        1.5,
        input=[("user", ask), ("tool", "unknown tool restart_cluster")],
        output="I cannot restart the cluster.",
    )
    (f,) = _kind(DETECTOR.detect(b.build()), "undeclared_tool")
    assert f.origin_span_id == sid("c1") and f.span_ids == (sid("c1"),)
    assert f.evidence["emitted_by"] == sid("c1") and f.evidence["executed_by"] == []


def test_namespaced_declarations_and_undeclared_agents_are_clean() -> None:
    namespaced = _ops_trace(
        ["functions.get_status", "mcp__ops__restart_cluster"], "restart_cluster", "ns"
    ).build()
    assert _kind(DETECTOR.detect(namespaced), "undeclared_tool") == []
    nothing_declared = _ops_trace([], "restart_cluster", "no-defs").build()
    assert _kind(DETECTOR.detect(nothing_declared), "undeclared_tool") == []


def _lookup_trace(ask: str, customer: str, result: str, name: str) -> TraceBuilder:
    b = TraceBuilder(name)
    b.agent("root", None, 0, 5, "support", input=ask, output="I could not find your account.")
    b.chat(
        "c1",
        "root",
        0.1,
        0.5,
        input=[("user", ask)],
        tools=["get_customer"],
        tool_calls=[("get_customer", {"customer_id": customer})],
    )
    b.tool("t1", "root", 0.6, 1.0, "get_customer", {"customer_id": customer}, result, status=2)
    b.chat(
        "c2",
        "root",
        1.1,
        1.5,
        input=[("user", ask), ("tool", result)],
        output="I could not find your account.",
    )
    return b


def test_made_up_entity_that_the_tool_cannot_find() -> None:
    ask = "Why was I charged twice this month? My email is jane@example.com."
    trace = _lookup_trace(ask, "CUST-40417", '{"error": "Customer CUST-40417 not found"}', "nf").build()
    findings = DETECTOR.detect(trace)
    (f,) = _kind(findings, "not_found_entity")
    # c1 made the entity up (the origin); t1 ran the call and reported it missing
    assert f.origin_span_id == sid("c1") and f.span_ids == (sid("c1"), sid("t1"))
    assert f.evidence["emitted_by"] == sid("c1") and f.evidence["entity_origin_span_id"] == sid("c1")
    assert f.evidence["entity"] == "CUST-40417" and f.evidence["not_found"] == "not found"
    assert f.mast == ("FM-3.2",) and f.agents == ("support",)
    assert _kind(findings, "ungrounded_claim") == []  # reported once, as the tool hallucination


def test_retried_made_up_entity_is_one_finding_at_the_first_call() -> None:
    ask = "Why was I charged twice this month? My email is jane@example.com."
    result = '{"error": "Customer CUST-40417 not found"}'
    b = _lookup_trace(ask, "CUST-40417", result, "nf-retry")
    b.tool("t2", "root", 1.6, 1.9, "get_customer", {"customer_id": "CUST-40417"}, result, status=2)
    (f,) = _kind(DETECTOR.detect(b.build()), "not_found_entity")
    assert f.origin_span_id == sid("c1") and f.span_ids == (sid("c1"), sid("t1"), sid("t2"))
    assert f.evidence["tool_span_ids"] == [sid("t1"), sid("t2")]


def test_user_supplied_entity_that_does_not_exist_is_clean() -> None:
    ask = "Look up customer CUST-40417 for me, please."
    trace = _lookup_trace(ask, "CUST-40417", '{"error": "Customer CUST-40417 not found"}', "nf-user").build()
    assert DETECTOR.detect(trace) == []


def test_long_result_that_mentions_unknown_is_not_a_not_found() -> None:
    ask = "Why was I charged twice this month?"
    rows = ", ".join(f'{{"id": {i}, "memo": "charge {i}"}}' for i in range(40))
    result = f'{{"customer": "CUST-40417", "charges": [{rows}], "note": "merchant category unknown"}}'
    trace = _lookup_trace(ask, "CUST-40417", result, "nf-long").build()
    assert _kind(DETECTOR.detect(trace), "not_found_entity") == []


def test_side_effect_vocabulary() -> None:
    assert (
        is_side_effecting("send_email")
        and is_side_effecting("refundOrder")
        and is_side_effecting("book_flight")
    )
    assert not is_side_effecting("get_sent_emails") and not is_side_effecting("search_orders")
    assert not is_side_effecting("transfer_to_billing")  # a hand-off, not an action on the world


def test_search_with_no_results_is_not_a_made_up_entity() -> None:
    ask = "Find recent coverage of Northwind's Q3 results."
    b = TraceBuilder("no-results")
    b.agent("root", None, 0, 5, "researcher", input=ask, output="I found no coverage.")
    query = {"query": "northwind q3 2025 earnings call analyst commentary"}
    b.chat(
        "c1",
        "root",
        0.1,
        0.5,
        input=[("user", ask)],
        tools=["search_news"],
        tool_calls=[("search_news", query)],
    )
    b.tool("t1", "root", 0.6, 1.0, "search_news", query, '{"results": [], "message": "No results"}')
    b.chat(
        "c2", "root", 1.1, 1.5, input=[("user", ask), ("tool", "No results")], output="I found no coverage."
    )
    assert DETECTOR.detect(b.build()) == []


def test_handoff_to_a_real_agent_is_not_an_undeclared_tool() -> None:
    b = _ops_trace(["search_docs"], "transfer_to_billing", "handoff")
    b.agent("billing", None, 2, 3, "billing", input="The customer asks about an invoice.")
    assert _kind(DETECTOR.detect(b.build()), "undeclared_tool") == []
    invented = _ops_trace(["search_docs"], "transfer_to_legal_team", "handoff-nowhere").build()
    assert [f.evidence["tool"] for f in _kind(DETECTOR.detect(invented), "undeclared_tool")] == [
        "transfer_to_legal_team"
    ]
